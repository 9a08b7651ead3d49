"""An exception request (a "case"), its messages and the reason-code catalogue."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import db, str_enum, utcnow
from .user import User


class CaseStatus(enum.StrEnum):
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    AWAITING_CUSTOMER = "awaiting_customer"
    PENDING_SECOND_APPROVAL = "pending_second_approval"
    APPROVED = "approved"
    ACTIVE = "active"
    REJECTED = "rejected"
    APPEALED = "appealed"
    CANCELLED = "cancelled"
    REVOKED = "revoked"
    EXPIRED = "expired"


# A target may have at most one case in these statuses (a unique partial index).
OPEN_STATUSES = frozenset(
    {
        CaseStatus.SUBMITTED,
        CaseStatus.IN_REVIEW,
        CaseStatus.AWAITING_CUSTOMER,
        CaseStatus.PENDING_SECOND_APPROVAL,
        CaseStatus.APPROVED,
        CaseStatus.ACTIVE,
        CaseStatus.APPEALED,
    }
)
_OPEN_SQL = "status IN ({})".format(", ".join(f"'{s.value}'" for s in sorted(OPEN_STATUSES)))


class Category(enum.StrEnum):
    OWN_MAIL_SERVER = "own_mail_server"
    SMTP_APPLICATION = "smtp_application"
    OTHER = "other"


class SendingKind(enum.StrEnum):
    TRANSACTIONAL = "transactional"
    BULK = "bulk"


class Case(db.Model):
    __tablename__ = "case"
    __table_args__ = (
        Index(
            "uq_case_open_target",
            "target",
            unique=True,
            sqlite_where=db.text(_OPEN_SQL),
            postgresql_where=db.text(_OPEN_SQL),
        ),
        Index("ix_case_queue", "sla_due_at", "id"),
        Index("ix_case_range", "net_lo", "net_hi"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    protocol: Mapped[str] = mapped_column(String(13), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    status: Mapped[CaseStatus] = mapped_column(
        str_enum(CaseStatus), server_default=CaseStatus.SUBMITTED.value, index=True
    )
    version: Mapped[int] = mapped_column(comment="optimistic lock, bumped on every change")

    target: Mapped[str] = mapped_column(String(43), comment="normalised prefix, e.g. x.x.x.x/32")
    net_lo: Mapped[str] = mapped_column(String(32), comment="first address, 32 hex digits")
    net_hi: Mapped[str] = mapped_column(String(32), comment="last address, 32 hex digits")
    subscriber_id: Mapped[str] = mapped_column(String(64))
    uf: Mapped[str] = mapped_column(String(2), index=True)
    category: Mapped[Category] = mapped_column(str_enum(Category))
    justification: Mapped[str] = mapped_column(Text)
    mail_hostname: Mapped[str] = mapped_column(String(253))
    messages_per_day: Mapped[int | None]
    sending_kind: Mapped[SendingKind | None] = mapped_column(str_enum(SendingKind))

    terms_version: Mapped[str] = mapped_column(String(32))
    terms_accepted_at: Mapped[datetime]
    terms_accepted_from: Mapped[str | None] = mapped_column(String(45))

    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    answer_due_at: Mapped[datetime]
    execution_due_at: Mapped[datetime]
    sla_due_at: Mapped[datetime | None] = mapped_column(
        comment="nearest running deadline; NULL once decided (orders the queue)"
    )
    paused_at: Mapped[datetime | None] = mapped_column(comment="set while awaiting the customer")
    decided_at: Mapped[datetime | None]

    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    first_approver_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    rejected_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    reason_code: Mapped[str | None] = mapped_column(String(64))
    appealed_at: Mapped[datetime | None]
    valid_days: Mapped[int | None]
    valid_from: Mapped[datetime | None]
    valid_until: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    anonymised_at: Mapped[datetime | None] = mapped_column(
        comment="personal data erased under the retention rules (LGPD)")

    customer: Mapped[User] = relationship(foreign_keys=[customer_id])
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    messages: Mapped[list[Message]] = relationship(
        back_populates="case", order_by="Message.id", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def __repr__(self) -> str:
        return f"<Case {self.protocol} {self.status}>"


class MessageKind(enum.StrEnum):
    PUBLIC = "public"  # seen by the customer and staff
    INTERNAL = "internal"  # staff notes, never shown to the customer


class Message(db.Model):
    __tablename__ = "case_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    kind: Mapped[MessageKind] = mapped_column(str_enum(MessageKind))
    action: Mapped[str | None] = mapped_column(String(32), comment="the action it came with")
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship(back_populates="messages")
    author: Mapped[User | None] = relationship()


class ReasonCode(db.Model):
    """The catalogue of reasons for reject and revoke; supervisors edit it."""

    __tablename__ = "reason_code"

    action: Mapped[str] = mapped_column(String(16), primary_key=True)
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    label_pt: Mapped[str] = mapped_column(String(200))
    label_en: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)


class ProtocolCounter(db.Model):
    """Last protocol sequence issued in a year; its row lock serialises issuance."""

    __tablename__ = "protocol_counter"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(default=0)
