"""Typed SQLAlchemy models, one module per aggregate."""

from .audit import AuditCheckpoint, AuditEvent, AuditHead
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
from .evidence import (
    ERASED_FACTS,
    AddressSource,
    EvidenceCheck,
    EvidenceKind,
    EvidenceOutcome,
    EvidenceRun,
)
from .notification import Notification
from .oversight import CalendarDay, PersonalDataReveal
from .record import Record, RecordFile, RecordKind, RecordRequest
from .user import STAFF_ROLES, ApiToken, RecoveryCode, Role, TokenScope, User

__all__ = [
    "ERASED_FACTS",
    "OPEN_STATUSES",
    "AddressSource",
    "EvidenceCheck",
    "EvidenceKind",
    "EvidenceOutcome",
    "EvidenceRun",
    "STAFF_ROLES",
    "ApiToken",
    "AuditCheckpoint",
    "CalendarDay",
    "PersonalDataReveal",
    "RecoveryCode",
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
    "RecordFile",
    "RecordKind",
    "RecordRequest",
    "Role",
    "SendingKind",
    "User",
    "db",
    "iso_utc",
    "utcnow",
]
