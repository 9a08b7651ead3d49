"""The e-mail outbox: rows written in the transaction that decides them, sent by the worker."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import db, utcnow


class Notification(db.Model):
    """One e-mail to one user; ``sent_at`` is NULL until the SMTP server accepted it."""

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_due", "sent_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("case.id"), index=True,
        comment="the case it is about (retention erases it with the case); NULL: none")
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(
        comment="the next try; NULL once sent or given up")
    last_error: Mapped[str | None] = mapped_column(String(500), comment="excerpt, never secrets")
