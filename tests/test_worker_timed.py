"""The worker's timed transitions: expiry (approved or active), the reminder, abandonment.

Time is injected as the ``now`` of ``run_timed_transitions``.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from cli.worker import run_timed_transitions
from models import AuditHead, Case, Message, OutboxEvent, db, utcnow
from tests.factories import case_in, events_after, make_people, status_of

DAY = timedelta(days=1)


@pytest.fixture
def people(app):
    return make_people(app, "customer", "operator")


def tick(app, now) -> int:
    with app.app_context():
        return run_timed_transitions(now)


def valid_until(app, protocol):
    with app.app_context():
        return db.session.scalars(select(Case.valid_until).where(Case.protocol == protocol)).one()


@pytest.mark.parametrize("status", ["approved", "active"])
def test_a_granted_exception_expires_at_valid_until_and_blocks_again(app, people, status):
    protocol = case_in(app, status, people)
    end = valid_until(app, protocol)
    tick(app, end - timedelta(seconds=1))
    assert status_of(app, protocol) == status
    tick(app, end)
    assert status_of(app, protocol) == "expired"
    with app.app_context():
        last = db.session.scalars(select(OutboxEvent).order_by(OutboxEvent.sequence.desc())).first()
        assert last.type.value == "exception.expired"


def test_the_customer_is_reminded_once_before_the_expiry(app, people):
    protocol = case_in(app, "active", people)
    end = valid_until(app, protocol)
    tick(app, end - 31 * DAY)
    with app.app_context():
        seq = db.session.get(AuditHead, 1).seq
    tick(app, end - 29 * DAY)
    tick(app, end - 28 * DAY)
    [event] = events_after(app, seq)
    assert event["action"] == "case:expiry_reminded" and event["object_id"] == protocol
    with app.app_context():
        [message] = db.session.scalars(select(Message).where(Message.action == "expiry_reminder"))
        assert message.kind.value == "public" and "vale até" in message.body
        assert event["details"]["message_id"] == message.id
    assert status_of(app, protocol) == "active"


def test_a_case_left_awaiting_the_customer_is_abandoned_after_the_window(app, people):
    protocol = case_in(app, "awaiting_customer", people)
    now = utcnow()
    tick(app, now + 29 * DAY)
    assert status_of(app, protocol) == "awaiting_customer"
    tick(app, now + 30 * DAY + timedelta(minutes=1))
    assert status_of(app, protocol) == "cancelled"


def test_the_window_is_a_setting(app_factory):
    app = app_factory(ABANDON_AFTER_DAYS=2)
    people = make_people(app, "customer", "operator")
    protocol = case_in(app, "awaiting_customer", people)
    tick(app, utcnow() + 2 * DAY + timedelta(minutes=1))
    assert status_of(app, protocol) == "cancelled"


def test_cases_in_other_statuses_are_left_alone(app, people):
    protocols = {s: case_in(app, s, people) for s in ("in_review", "revoked", "rejected")}
    assert tick(app, utcnow() + 1000 * DAY) == 0
    assert {s: status_of(app, p) for s, p in protocols.items()} == {
        "in_review": "in_review", "revoked": "revoked", "rejected": "rejected"}
