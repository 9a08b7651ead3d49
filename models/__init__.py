"""Typed SQLAlchemy models, one module per aggregate."""

from .audit import AuditEvent, AuditHead
from .base import Base, db, iso_utc, utcnow
from .case import (
    OPEN_STATUSES,
    Case,
    CaseStatus,
    Category,
    Message,
    MessageKind,
    ProtocolCounter,
    ReasonCode,
    SendingKind,
)
from .enforcement import (
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    EventType,
    OutboxEvent,
    StreamCounter,
    WebhookEndpoint,
)
from .notification import Notification
from .record import Record, RecordKind, RecordRequest
from .user import STAFF_ROLES, ApiToken, Role, TokenScope, User

__all__ = [
    "OPEN_STATUSES",
    "STAFF_ROLES",
    "ApiToken",
    "AuditEvent",
    "AuditHead",
    "Base",
    "Case",
    "Delivery",
    "DeliveryAttempt",
    "DeliveryStatus",
    "EventType",
    "OutboxEvent",
    "StreamCounter",
    "TokenScope",
    "WebhookEndpoint",
    "CaseStatus",
    "Category",
    "Message",
    "Notification",
    "MessageKind",
    "ProtocolCounter",
    "ReasonCode",
    "Record",
    "RecordKind",
    "RecordRequest",
    "Role",
    "SendingKind",
    "User",
    "db",
    "iso_utc",
    "utcnow",
]
