"""The enforcement stream (DESIGN §5): the outbox, webhook endpoints, deliveries."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import db, str_enum, utcnow


class EventType(enum.StrEnum):
    ACTIVATED = "exception.activated"
    REVOKED = "exception.revoked"
    EXPIRED = "exception.expired"


class StreamCounter(db.Model):
    """The single row numbering the stream; its row lock orders commits like sequences."""

    __tablename__ = "stream_counter"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    sequence: Mapped[int]


class OutboxEvent(db.Model):
    """One event of the stream, written in the transaction of the transition causing it.

    ``body`` holds the exact bytes every delivery sends (UTF-8 JSON), so retries and
    replays are byte-identical and the signature covers what was stored.
    """

    __tablename__ = "outbox_event"

    sequence: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    event_id: Mapped[str] = mapped_column(String(40), unique=True, comment="webhook-id")
    type: Mapped[EventType] = mapped_column(str_enum(EventType))
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    target: Mapped[str] = mapped_column(String(43), index=True)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookEndpoint(db.Model):
    """An enforcement system that receives the stream, one delivery at a time."""

    __tablename__ = "webhook_endpoint"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(String(200), default="")
    event_types: Mapped[str] = mapped_column(String(200), comment="space-separated EventType")
    active: Mapped[bool] = mapped_column(default=True)
    secret: Mapped[str] = mapped_column(String(120), comment="whsec_…, signs every delivery")
    previous_secret: Mapped[str | None] = mapped_column(
        String(120), comment="also signs until previous_secret_until (rotation)")
    previous_secret_until: Mapped[datetime | None]
    position: Mapped[int] = mapped_column(
        default=0, comment="last sequence handled (delivered, dead or not subscribed)")
    next_attempt_at: Mapped[datetime | None] = mapped_column(
        comment="the head event's next try; NULL = now")
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    failures_in_row: Mapped[int] = mapped_column(default=0)
    last_success_at: Mapped[datetime | None]
    disabled_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    deliveries: Mapped[list[Delivery]] = relationship(back_populates="endpoint")

    @property
    def types(self) -> frozenset[EventType]:
        return frozenset(EventType(t) for t in self.event_types.split())


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"  # being tried; holds the endpoint's queue
    DELIVERED = "delivered"  # 2xx
    DEAD = "dead"  # a permanent refusal, or 72 h of failures


class Delivery(db.Model):
    """One event to one endpoint, with every attempt."""

    __tablename__ = "delivery"
    __table_args__ = (UniqueConstraint("endpoint_id", "sequence"),
                      Index("ix_delivery_status", "status", "endpoint_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoint.id"))
    sequence: Mapped[int] = mapped_column(ForeignKey("outbox_event.sequence"), index=True)
    status: Mapped[DeliveryStatus] = mapped_column(str_enum(DeliveryStatus))
    attempts: Mapped[int] = mapped_column(default=0)
    first_attempt_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    endpoint: Mapped[WebhookEndpoint] = relationship(back_populates="deliveries")
    event: Mapped[OutboxEvent] = relationship()
    attempt_log: Mapped[list[DeliveryAttempt]] = relationship(
        back_populates="delivery", order_by="DeliveryAttempt.id")


class DeliveryAttempt(db.Model):
    __tablename__ = "delivery_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("delivery.id"), index=True)
    attempted_at: Mapped[datetime]
    status_code: Mapped[int | None] = mapped_column(comment="NULL: no HTTP answer")
    duration_ms: Mapped[int]
    error: Mapped[str | None] = mapped_column(String(500), comment="excerpt, never secrets")

    delivery: Mapped[Delivery] = relationship(back_populates="attempt_log")
