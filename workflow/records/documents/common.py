"""Pieces several documents share: the case's audit events, its link, the contacts, the
signed checkpoint that covers a document's events."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from models import AuditCheckpoint, AuditEvent, AuditHead, Case, db, iso_utc

from ...checkpoints import covering_checkpoint
from ...config import setting
from ...links import public_url


def case_event(case: Case, action: str) -> AuditEvent | None:
    """The latest audit event ``action`` of ``case`` (what a notice attests)."""
    return db.session.scalars(
        select(AuditEvent).where(AuditEvent.object_type == "case",
                                 AuditEvent.object_id == case.protocol,
                                 AuditEvent.action == action)
        .order_by(AuditEvent.seq.desc()).limit(1)).first()


def case_link(case: Case) -> str:
    """Where the customer follows the case in the portal."""
    return public_url("portal.case", protocol=case.protocol)


def contacts() -> dict:
    """The ISP's service channel; the regulators' are in templates/records/_contacts.html."""
    return {"isp": setting("ISP_NAME"), "support": setting("ISP_SUPPORT")}


@dataclass(frozen=True)
class CheckpointNote:
    """The signed checkpoint that covers a document's events, or the head awaiting one.

    ``covers`` is the last event the document relies on; ``checkpoint`` the first
    signed checkpoint at or after it (None: not signed yet, and the next one will
    cover at least up to ``head_seq``, printed with its hash).
    """

    covers: int
    checkpoint: AuditCheckpoint | None
    head_seq: int
    head_hash: bytes


def checkpoint_note(covers: int) -> CheckpointNote:
    """What a document prints about the signed checkpoint of its events (DESIGN §9)."""
    head = db.session.get(AuditHead, 1)
    return CheckpointNote(covers, covering_checkpoint(covers), head.seq, head.hash)


def checkpoint_data(note: CheckpointNote) -> dict:
    """The same as JSON values, for the document's embedded data."""
    mark = note.checkpoint
    return {
        "covers_up_to_seq": note.covers,
        "checkpoint": None if mark is None else {
            "seq": mark.seq, "hash": mark.hash.hex(), "signed_at": iso_utc(mark.signed_at),
            "key_id": mark.key_id, "note": mark.note,
            "url": public_url("transparency.at", seq=mark.seq)},
        "next_checkpoint_covers_up_to": note.head_seq if mark is None else None,
        "head": {"seq": note.head_seq, "hash": note.head_hash.hex()},
        "public_key_url": public_url("transparency.public_key"),
    }
