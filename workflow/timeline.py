"""The story of a case as its customer or the staff see it, built from the audit
trail (every change) and the messages that came with each change."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from models import AuditEvent, Case, Message, MessageKind, User, db

from .audit import Tag

# Events of the staff's own work, and the regulators' reveals (the customer's history
# statement lists those), that the customer's story leaves out.
STAFF_ONLY = frozenset({Tag.CASE_EVIDENCE_REQUESTED.value,
                        Tag.CASE_PERSONAL_DATA_REVEALED.value})


@dataclass(frozen=True)
class Entry:
    at: datetime
    action: str  # audit tag, e.g. case:approved
    status: str | None  # status after the event, when it changed one
    author: str  # who, as the viewer may know it
    body: str | None
    internal: bool


def timeline(case: Case, *, for_staff: bool) -> list[Entry]:
    """Events of ``case`` in order; customers never see internal notes or staff names."""
    events = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.object_type == "case", AuditEvent.object_id == case.protocol)
        .order_by(AuditEvent.seq)
    ).all()
    messages = {m.id: m for m in case.messages}
    entries = []
    for event in events:
        if event.action in STAFF_ONLY and not for_staff:
            continue
        details = json.loads(event.details)
        message = messages.get(details.get("message_id"))
        internal = message is not None and message.kind is MessageKind.INTERNAL
        if internal and not for_staff:
            continue
        entries.append(Entry(at=event.occurred_at, action=event.action, status=details.get("to"),
                             author=_author(event, for_staff),
                             body=message.body if message else None, internal=internal))
    return entries


def _author(event: AuditEvent, for_staff: bool) -> str:
    if event.actor_id is None:
        return "system"
    if event.actor_role == "customer":
        return "customer"
    if not for_staff:
        return "staff"
    user = db.session.get(User, event.actor_id)
    return user.name if user else "staff"


def public_messages(case: Case) -> list[Message]:
    """Messages the customer may read."""
    return [m for m in case.messages if m.kind is MessageKind.PUBLIC]
