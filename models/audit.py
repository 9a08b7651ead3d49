"""The append-only, hash-chained audit trail (DESIGN §9)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import db


class AuditEvent(db.Model):
    """One action. The database refuses UPDATE and DELETE on this table."""

    __tablename__ = "audit_event"

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    occurred_at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(comment="user id; NULL for the system")
    actor_role: Mapped[str] = mapped_column(String(32), comment="role, or system:<name>")
    source_ip: Mapped[str | None] = mapped_column(String(45))
    action: Mapped[str] = mapped_column(String(64), index=True, comment="tag, e.g. case:approved")
    object_type: Mapped[str | None] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(String(64), index=True)
    uf: Mapped[str | None] = mapped_column(String(2), comment="jurisdiction, for auditor scope")
    details: Mapped[str] = mapped_column(Text, comment="canonical JSON; references, no PII")
    prev_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class AuditHead(db.Model):
    """The single row holding the chain's head; locking it serialises appends."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    seq: Mapped[int]
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class AuditCheckpoint(db.Model):
    """A signed statement of the chain's head (DESIGN §9): ``seq`` and ``hash`` at ``signed_at``.

    ``note`` is the C2SP signed-note text exactly as signed and published, so a
    regulator can check it with the public key alone. Insert-only (triggers).
    """

    __tablename__ = "audit_checkpoint"

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False,
                                     comment="the last event the checkpoint covers")
    hash: Mapped[bytes] = mapped_column(LargeBinary(32), comment="the chain hash at seq")
    signed_at: Mapped[datetime]
    key_id: Mapped[str] = mapped_column(String(8), comment="hex, C2SP key ID of the signer")
    note: Mapped[str] = mapped_column(Text, comment="the signed note, verbatim")
