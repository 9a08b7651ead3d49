"""The worker delivers the stream to real HTTP receivers (DESIGN §5), in process.

Time is driven through the database (a retry made due, a first attempt moved back),
never by waiting or by mocking our code.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from cli.worker import run_once
from models import AuditEvent, Delivery, DeliveryAttempt, db, utcnow
from tests.factories import REVOKE_REASON, act, case_in, make_people, status_of
from tests.webhook_support import (
    Receiver,
    add_endpoint,
    deliveries,
    endpoint_row,
    make_due,
    stream_ids,
)
from workflow import endpoints
from workflow.audit import Actor


@pytest.fixture
def people(app):
    return make_people(app, "customer", "operator")


@pytest.fixture
def receiver():
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


def work(app) -> int:
    """One `flask worker --once` cycle, in process."""
    with app.app_context():
        return run_once()


def tags(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))


def test_events_arrive_in_sequence_order_with_their_stable_ids(app, people, receiver):
    endpoint = add_endpoint(app, receiver)
    first = case_in(app, "approved", people)
    case_in(app, "approved", people)
    act(app, first, "revoke", people.operator, reason_code=REVOKE_REASON)
    assert work(app) == 3
    assert [(r.sequence, r.event_id) for r in receiver.accepted()] == stream_ids(app)
    assert [r.type for r in receiver.accepted()] == [
        "exception.activated", "exception.activated", "exception.revoked"]
    assert deliveries(app, endpoint) == [(1, "delivered", 1), (2, "delivered", 1),
                                         (3, "delivered", 1)]
    row = endpoint_row(app, endpoint)
    assert row["position"] == 3 and row["last_success_at"] and row["lease_owner"] is None
    assert status_of(app, first) == "revoked"
    assert work(app) == 0  # nothing due any more


def test_a_5xx_is_retried_after_about_five_seconds_with_the_same_id(app, people, receiver):
    endpoint = add_endpoint(app, receiver)
    receiver.script = [(500, {}), (503, {})]
    protocol = case_in(app, "approved", people)
    before = utcnow()
    work(app)
    row = endpoint_row(app, endpoint)
    assert deliveries(app, endpoint) == [(1, "pending", 1)] and row["failures_in_row"] == 1
    wait = (row["next_attempt_at"] - before).total_seconds()
    assert 4.0 <= wait <= 7.0  # 5 s ± 15 % jitter
    assert work(app) == 0  # not due yet: the queue waits
    make_due(app, endpoint)
    work(app)
    second = (endpoint_row(app, endpoint)["next_attempt_at"] - utcnow()).total_seconds()
    assert 24 <= second <= 35  # the schedule's 30 s
    make_due(app, endpoint)
    work(app)
    assert deliveries(app, endpoint) == [(1, "delivered", 3)]
    assert len({r.event_id for r in receiver.received}) == 1 and len(receiver.received) == 3
    assert endpoint_row(app, endpoint)["failures_in_row"] == 0
    assert status_of(app, protocol) == "active"
    with app.app_context():
        attempts = db.session.scalars(select(DeliveryAttempt).order_by(DeliveryAttempt.id)).all()
        assert [a.status_code for a in attempts] == [500, 503, 204]
        assert attempts[0].error.startswith("HTTP 500") and attempts[2].error is None


@pytest.mark.parametrize("status", [400, 302, 301, 422])
def test_a_permanent_refusal_goes_dead_and_the_stream_moves_on(app, people, receiver, status):
    endpoint = add_endpoint(app, receiver)
    receiver.script = [(status, {"location": receiver.url + "/elsewhere"})]
    first = case_in(app, "approved", people)
    case_in(app, "approved", people)
    work(app)
    assert deliveries(app, endpoint) == [(1, "dead", 1), (2, "delivered", 1)]
    assert len(receiver.received) == 2  # the redirect was not followed
    assert status_of(app, first) == "approved"  # this endpoint never applied it
    assert "delivery:dead" in tags(app) and endpoint_row(app, endpoint)["active"]


def test_410_disables_the_endpoint(app, people, receiver):
    endpoint = add_endpoint(app, receiver)
    receiver.script = [(410, {})]
    case_in(app, "approved", people)
    case_in(app, "approved", people)
    work(app)
    row = endpoint_row(app, endpoint)
    assert not row["active"] and row["disabled_reason"] == endpoints.DISABLED_GONE
    assert deliveries(app, endpoint) == [(1, "dead", 1)]
    assert tags(app)[-2:] == ["delivery:dead", "endpoint:disabled_by_receiver"]


@pytest.mark.parametrize("retry_after", ["120", "HTTP-DATE"])
def test_429_waits_for_retry_after(app, people, receiver, retry_after):
    endpoint = add_endpoint(app, receiver)
    if retry_after == "HTTP-DATE":
        retry_after = (utcnow() + timedelta(seconds=125)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    receiver.script = [(429, {"retry-after": retry_after})]
    case_in(app, "approved", people)
    before = utcnow()
    work(app)
    wait = (endpoint_row(app, endpoint)["next_attempt_at"] - before).total_seconds()
    assert wait >= 118 and deliveries(app, endpoint) == [(1, "pending", 1)]


def test_a_case_is_active_only_once_every_subscribed_endpoint_acknowledged(app, people):
    first, second, other = Receiver().start(), Receiver().start(), Receiver().start()
    try:
        one, two = add_endpoint(app, first), add_endpoint(app, second, "exception.activated")
        add_endpoint(app, other, "exception.revoked")  # does not take activations
        second.script = [(500, {})]
        protocol = case_in(app, "approved", people)
        work(app)
        assert deliveries(app, one) == [(1, "delivered", 1)]
        assert status_of(app, protocol) == "approved"
        make_due(app, two)
        work(app)
        assert status_of(app, protocol) == "active"
        assert other.received == []
        assert tags(app)[-1] == "case:activated"
    finally:
        for r in (first, second, other):
            r.stop()


def test_with_no_endpoint_an_approval_stays_approved(app, people):
    protocol = case_in(app, "approved", people)
    assert work(app) == 0
    assert status_of(app, protocol) == "approved"


def test_a_revoke_right_after_an_approve_arrives_after_it(app, people, receiver):
    add_endpoint(app, receiver)
    protocol = case_in(app, "approved", people)
    act(app, protocol, "revoke", people.operator, reason_code=REVOKE_REASON)
    work(app)
    assert [r.type for r in receiver.accepted()] == ["exception.activated",
                                                     "exception.revoked"]
    assert status_of(app, protocol) == "revoked"


def test_the_receiver_down_then_up_gets_every_event_once_in_order(app, people):
    receiver = Receiver().start()
    port = receiver.server.server_address[1]
    endpoint = add_endpoint(app, receiver)
    receiver.stop()  # down: connections are refused
    try:
        for _ in range(3):
            case_in(app, "approved", people)
        work(app)
        assert deliveries(app, endpoint) == [(1, "pending", 1)]
        with app.app_context():
            error = db.session.scalars(select(DeliveryAttempt.error)).one()
        assert "Connection" in error or "refused" in error
        receiver.start(port)
        make_due(app, endpoint)
        work(app)
        assert [(r.sequence, r.event_id) for r in receiver.accepted()] == stream_ids(app)
    finally:
        receiver.stop()


def test_after_72_hours_of_failures_the_delivery_goes_dead(app, people, receiver):
    endpoint = add_endpoint(app, receiver)
    receiver.script = [(500, {}), (500, {})]
    case_in(app, "approved", people)
    case_in(app, "approved", people)
    work(app)
    with app.app_context():
        delivery = db.session.scalars(select(Delivery)).one()
        delivery.first_attempt_at -= timedelta(hours=72)
        db.session.commit()
    make_due(app, endpoint)
    work(app)
    assert deliveries(app, endpoint) == [(1, "dead", 2), (2, "delivered", 1)]


def test_a_replayed_dead_delivery_is_sent_again_before_the_head(app, people, receiver):
    endpoint = add_endpoint(app, receiver)
    receiver.script = [(400, {})]
    protocol = case_in(app, "approved", people)
    work(app)
    with app.app_context():
        delivery = db.session.scalars(select(Delivery)).one()
        endpoints.replay(delivery, actor=Actor.system("tests"))
        db.session.commit()
    case_in(app, "approved", people)
    work(app)
    assert [r.sequence for r in receiver.received] == [1, 1, 2]
    assert deliveries(app, endpoint) == [(1, "delivered", 2), (2, "delivered", 1)]
    assert status_of(app, protocol) == "active"
    assert "delivery:replayed" in tags(app)


def test_a_destination_leaving_the_allowed_networks_is_not_called(app, people, receiver):
    endpoint = add_endpoint(app, receiver)
    case_in(app, "approved", people)
    with app.app_context():
        from models import WebhookEndpoint
        db.session.get(WebhookEndpoint, endpoint).url = "http://192.0.2.1/hook"
        db.session.commit()
    work(app)
    assert receiver.received == [] and deliveries(app, endpoint) == [(1, "pending", 1)]
    with app.app_context():
        error = db.session.scalars(select(DeliveryAttempt.error)).one()
    assert "fora das redes permitidas" in error


def test_the_body_sent_is_the_stored_bytes(app, people, receiver):
    add_endpoint(app, receiver)
    case_in(app, "approved", people)
    work(app)
    with app.app_context():
        from models import OutboxEvent
        stored = db.session.scalars(select(OutboxEvent.body)).one()
    assert receiver.accepted()[0].body == stored.encode()
    assert json.loads(stored)["data"]["sequence"] == 1


def test_disabling_the_last_awaited_endpoint_lets_the_case_become_active(app, people):
    first, second = Receiver().start(), Receiver().start()
    try:
        add_endpoint(app, first)
        two = add_endpoint(app, second)
        second.script = [(500, {})]
        protocol = case_in(app, "approved", people)
        work(app)
        assert status_of(app, protocol) == "approved"
        with app.app_context():
            from models import WebhookEndpoint
            endpoint = db.session.get(WebhookEndpoint, two)
            endpoints.set_active(endpoint, False, actor=Actor.system("tests"))
            db.session.commit()
        work(app)
        assert status_of(app, protocol) == "active"
    finally:
        first.stop()
        second.stop()
