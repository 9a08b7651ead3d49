"""The transactional outbox of the enforcement stream (DESIGN §5).

An event is written in the transaction of the transition that causes it, numbered
from a one-row counter: the counter's row lock is held until commit, so events
commit in sequence order and the stream has no holes. A database sequence would
give neither (numbers are taken at call time and lost on rollback).
"""

from __future__ import annotations

import json
import uuid

from sqlalchemy import update

from models import (
    Case,
    CaseStatus,
    EventType,
    OutboxEvent,
    StreamCounter,
    db,
    iso_utc,
    utcnow,
)

# Which new status puts which event on the stream.
EVENT_FOR_STATUS = {
    CaseStatus.APPROVED: EventType.ACTIVATED,
    CaseStatus.REVOKED: EventType.REVOKED,
    CaseStatus.EXPIRED: EventType.EXPIRED,
}


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
    body = {"type": event_type.value, "timestamp": iso_utc(now),
            "data": {"protocol": case.protocol, "target": case.target,
                     "subscriber_id": case.subscriber_id, "valid_from": iso_utc(case.valid_from),
                     "valid_until": iso_utc(valid_until), "sequence": sequence}}
    event = OutboxEvent(sequence=sequence, event_id=f"evt_{uuid.uuid4().hex}", type=event_type,
                        case_id=case.id, target=case.target, body=json.dumps(body),
                        created_at=now)
    db.session.add(event)
    return event
