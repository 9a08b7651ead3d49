"""Consumer-protection records (DESIGN §8): what was asked for, and what was issued.

A ``RecordRequest`` is written in the transaction that calls for a document (a
submission, a decision, a click on "issue dossier"); the worker renders it outside
any transaction and stores a ``Record``. Records are insert-only: the database
refuses UPDATE and DELETE, so a re-issue is a new record that supersedes the old.
The bytes live apart, in ``RecordFile``, which may only be deleted: retention
(LGPD) can erase a document about a person while its code and hash stay verifiable.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import db, str_enum, utcnow
from .case import Case


class RecordKind(enum.StrEnum):
    RECEIPT = "receipt"  # comprovante de protocolo, at submission
    APPROVAL = "approval"  # decision notices
    REJECTION = "rejection"
    REVOCATION = "revocation"
    EXPIRY = "expiry"
    DOSSIER = "dossier"  # everything about one case, for staff and regulators
    HISTORY = "history"  # all of a customer's requests
    REPORT = "report"  # figures for a period and a scope (national or one UF)


class RecordRequest(db.Model):
    """A document asked for; the worker renders it and stores a Record."""

    __tablename__ = "record_request"
    __table_args__ = (Index("ix_record_request_due", "done_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[RecordKind] = mapped_column(str_enum(RecordKind))
    code: Mapped[str] = mapped_column(String(16), unique=True,
                                      comment="verification code, printed before hashing")
    series: Mapped[str] = mapped_column(String(120), index=True,
                                        comment="records of one series supersede each other")
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    uf: Mapped[str | None] = mapped_column(String(2), comment="jurisdiction; NULL = national")
    period_start: Mapped[date | None]
    period_end: Mapped[date | None]
    language: Mapped[str] = mapped_column(String(8))
    requested_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id"), comment="NULL: issued by the system")
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(
        comment="the next try; NULL once done or given up")
    last_error: Mapped[str | None] = mapped_column(String(500))
    done_at: Mapped[datetime | None]


class Record(db.Model):
    """One issued document, stored once and never changed."""

    __tablename__ = "record"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("record_request.id"), unique=True)
    kind: Mapped[RecordKind] = mapped_column(str_enum(RecordKind))
    series: Mapped[str] = mapped_column(String(120), index=True)
    supersedes_id: Mapped[int | None] = mapped_column(
        ForeignKey("record.id"), unique=True, comment="the previous record of the series")
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    uf: Mapped[str | None] = mapped_column(String(2))
    period_start: Mapped[date | None]
    period_end: Mapped[date | None]
    language: Mapped[str] = mapped_column(String(8))
    sha256: Mapped[str] = mapped_column(String(64), index=True, comment="hex, of the bytes")
    size: Mapped[int]
    signer: Mapped[str | None] = mapped_column(String(300), comment="PAdES signer, if signed")
    issued_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id"), comment="who asked; NULL: the system")
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    audit_seq: Mapped[int] = mapped_column(comment="the record:issued audit event")

    case: Mapped[Case | None] = relationship()
    file: Mapped[RecordFile | None] = relationship(lazy="select")

    @property
    def content(self) -> bytes | None:
        """The PDF; None once erased under the retention rules."""
        return self.file.content if self.file is not None else None


class RecordFile(db.Model):
    """The bytes of one record; never changed, deleted only by retention."""

    __tablename__ = "record_file"

    record_id: Mapped[int] = mapped_column(ForeignKey("record.id"), primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)
