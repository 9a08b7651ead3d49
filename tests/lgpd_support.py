"""Helpers of the audit-trail and LGPD tests: the events of one tag, what a refusal leaves."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from models import AuditEvent, db


def events(app, action: str) -> list[dict]:
    """Every event of ``action``, oldest first, as plain values with parsed details."""
    with app.app_context():
        rows = db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                  .order_by(AuditEvent.seq)).all()
        return [{"seq": e.seq, "actor_id": e.actor_id, "actor_role": e.actor_role,
                 "object_type": e.object_type, "object_id": e.object_id, "uf": e.uf,
                 "details": json.loads(e.details)} for e in rows]


def last_event(app, action: str) -> dict:
    found = events(app, action)
    assert found, f"no {action} event"
    return found[-1]


def count(app, model) -> int:
    """Rows of ``model``: what a refused request must leave as it was."""
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))
