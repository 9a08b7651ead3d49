"""The transactional outbox of the enforcement stream (DESIGN §5).

An event is written in the transaction of the transition that causes it, numbered
from a one-row counter: the counter's row lock is held until commit, so events
commit in sequence order and the stream has no holes. A database sequence would
give neither (numbers are taken at call time and lost on rollback).
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime

from sqlalchemy import update

from models import Case, CaseStatus, EventType, OutboxEvent, StreamCounter, db, utcnow

# Which new status puts which event on the stream.
EVENT_FOR_STATUS = {
    CaseStatus.APPROVED: EventType.ACTIVATED,
    CaseStatus.REVOKED: EventType.REVOKED,
    CaseStatus.EXPIRED: EventType.EXPIRED,
}


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z, to the second, as in the contract's examples."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def next_sequence() -> int:
    """Take the next stream number, locking the counter row until commit."""
    return db.session.execute(
        update(StreamCounter).where(StreamCounter.id == 1)
        .values(sequence=StreamCounter.sequence + 1).returning(StreamCounter.sequence)
    ).scalar_one()


def emit(case: Case, event_type: EventType) -> OutboxEvent:
    """Write the event carrying the full desired state of the case's target."""
    now = utcnow()
    sequence = next_sequence()
    allowed = event_type is EventType.ACTIVATED
    valid_until = case.valid_until if allowed else min(case.valid_until or now, now)
    body = {"type": event_type.value, "timestamp": iso(now),
            "data": {"protocol": case.protocol, "target": case.target,
                     "subscriber_id": case.subscriber_id, "valid_from": iso(case.valid_from),
                     "valid_until": iso(valid_until), "sequence": sequence}}
    event = OutboxEvent(sequence=sequence, event_id=f"evt_{uuid.uuid4().hex}", type=event_type,
                        case_id=case.id, target=case.target, body=json.dumps(body),
                        created_at=now)
    db.session.add(event)
    return event
