"""GET /api/v1/enforcement/changes (DESIGN §5): the webhooks' events for receivers that
poll — the same bytes, in sequence order, never a hole — and the stream's retention."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from models import (
    Case,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    OutboxEvent,
    User,
    WebhookEndpoint,
    db,
    utcnow,
)
from tests.api_support import Api
from tests.factories import act, case_in, make_people, system_act
from workflow import cases
from workflow.audit import Actor
from workflow.changes import changes, prune_stream
from workflow.states import Action

URL = "/api/v1/enforcement/changes"


@pytest.fixture
def people(app):
    return make_people(app, "customer", "operator", "supervisor", "auditor", "provider")


def stored_bodies(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(OutboxEvent.body).order_by(OutboxEvent.sequence)))


@pytest.fixture
def stream(app, people) -> list[str]:
    """Five events: two activations, a revocation, an activation and an expiry."""
    first, second = case_in(app, "approved", people), case_in(app, "active", people)
    act(app, first, "revoke", people.operator, reason_code="abuse_confirmed")
    third = case_in(app, "approved", people)
    system_act(app, second, "expire")
    assert third
    return stored_bodies(app)


def test_the_feed_carries_the_webhook_bodies_byte_for_byte_in_sequence_order(
        app, people, stream):
    response = Api(app, people.supervisor).get(URL)
    assert response.status_code == 200 and response.mimetype == "application/json"
    text = response.get_data(as_text=True)
    assert all(body in text for body in stream)  # spliced in, never re-encoded
    page = response.get_json()
    assert page["events"] == [json.loads(body) for body in stream]
    assert [e["data"]["sequence"] for e in page["events"]] == [1, 2, 3, 4, 5]
    assert [e["type"] for e in page["events"]] == [
        "exception.activated", "exception.activated", "exception.revoked",
        "exception.activated", "exception.expired"]
    assert page["next_after"] == page["sequence"] == 5


@pytest.mark.parametrize(("after", "limit", "sequences", "next_after"), [
    (0, 2, [1, 2], 2), (2, 2, [3, 4], 4), (4, 2, [5], 5), (5, 2, [], 5),
    (1, None, [2, 3, 4, 5], 5)])
def test_pages_follow_next_after(app, people, stream, after, limit, sequences, next_after):
    query = f"{URL}?after={after}" + (f"&limit={limit}" if limit else "")
    page = Api(app, people.operator).get(query).get_json()
    assert [e["data"]["sequence"] for e in page["events"]] == sequences
    assert page["next_after"] == next_after and page["sequence"] == 5


@pytest.mark.parametrize("query", ["after=-1", "after=x", "limit=0", "limit=1001"])
def test_bad_parameters_are_refused_naming_them(app, people, query):
    response = Api(app, people.operator).get(f"{URL}?{query}")
    assert response.status_code == 422
    assert response.get_json()["field"] == query.split("=")[0]


@pytest.mark.parametrize(("who", "status"), [
    (None, 401), ("customer", 403), ("auditor", 403), ("provider", 403),
    ("operator", 200), ("supervisor", 200)])
def test_only_staff_tokens_read_the_feed(app, people, who, status):
    api = Api(app, people.of_role(who)) if who else Api(app)
    assert api.get(URL).status_code == status


def age_events(app, through: int, days: int) -> None:
    with app.app_context():
        db.session.execute(update(OutboxEvent).where(OutboxEvent.sequence <= through)
                           .values(created_at=utcnow() - timedelta(days=days)))
        db.session.commit()


def prune(app) -> int:
    with app.app_context():
        count = prune_stream(utcnow())
        db.session.commit()
        return count


def test_after_pruning_an_older_after_is_410_telling_to_resync(app, people, stream):
    age_events(app, 3, days=31)
    assert prune(app) == 3
    api = Api(app, people.operator)
    gone = api.get(f"{URL}?after=1")
    assert gone.status_code == 410 and gone.mimetype == "application/problem+json"
    assert "Ressincronize" in gone.get_json()["detail"]
    assert api.get(URL).status_code == 410  # after=0: the start is gone too
    kept = api.get(f"{URL}?after=3").get_json()  # the oldest kept event minus one
    assert [e["data"]["sequence"] for e in kept["events"]] == [4, 5]
    assert prune(app) == 0  # the rest is younger than STREAM_RETENTION_DAYS


def test_an_after_beyond_the_head_is_410_too(app, people, stream):
    assert Api(app, people.operator).get(f"{URL}?after=6").status_code == 410


def add_endpoint(app, position: int, *, active: bool = True) -> int:
    with app.app_context():
        endpoint = WebhookEndpoint(url="http://127.0.0.1:9/hook", event_types="exception.activated",
                                   secret="whsec_dGVzdA==", position=position, active=active)
        db.session.add(endpoint)
        db.session.commit()
        return endpoint.id


def add_delivery(app, endpoint_id: int, sequence: int, status: DeliveryStatus) -> None:
    with app.app_context():
        delivery = Delivery(endpoint_id=endpoint_id, sequence=sequence, status=status,
                            attempts=1)
        delivery.attempt_log.append(DeliveryAttempt(attempted_at=utcnow(), status_code=500,
                                                    duration_ms=3, error="boom"))
        db.session.add(delivery)
        db.session.commit()


def test_old_events_stay_while_an_active_endpoint_or_a_pending_delivery_needs_them(
        app, people, stream):
    age_events(app, 5, days=40)
    behind = add_endpoint(app, position=2)
    add_endpoint(app, position=0, active=False)  # a disabled endpoint holds nothing back
    add_delivery(app, behind, 1, DeliveryStatus.DELIVERED)
    add_delivery(app, behind, 2, DeliveryStatus.DEAD)
    add_delivery(app, behind, 3, DeliveryStatus.PENDING)
    assert prune(app) == 2  # 1 and 2: passed by the endpoint; 3 is still being tried
    with app.app_context():
        assert db.session.scalars(select(Delivery.sequence)).all() == [3]
        assert db.session.query(DeliveryAttempt).count() == 1
        db.session.execute(update(Delivery).values(status=DeliveryStatus.DELIVERED))
        db.session.execute(update(WebhookEndpoint).values(position=5))
        db.session.commit()
    assert prune(app) == 3
    assert stored_bodies(app) == []
    page = Api(app, people.operator).get(f"{URL}?after=5").get_json()
    assert page == {"events": [], "next_after": 5, "sequence": 5}


def approve_in_thread(app, protocol, person, *, begun, start, took, go, errors):
    """Approve and commit only when told: ``begun`` once the transaction has started,
    ``took`` once the event (and its sequence) is written."""
    try:
        with app.app_context():
            user = db.session.get(User, person.id)
            case = db.session.scalars(select(Case).where(Case.protocol == protocol)).one()
            begun.set()
            start.wait(30)
            cases.perform(case, Action.APPROVE, actor=Actor(user, source_ip="127.0.0.1"))
            took.set()
            go.wait(30)
            db.session.commit()
    except Exception as error:  # reported by the test, not lost in the thread
        errors.append(error)


def feed(app, after: int) -> tuple[list[int], int]:
    """What a poller sees now: the sequences after ``after``, and the head."""
    with app.app_context():
        page = changes(db.engine, after, 100)
    return [json.loads(body)["data"]["sequence"] for body in page.bodies], page.head


def test_a_poller_never_sees_a_later_sequence_before_an_earlier_one(app, people):
    """B begins first, A takes its number first: commit order is sequence order.

    On PostgreSQL B really is inside its transaction before A; on SQLite B's
    ``BEGIN IMMEDIATE`` already waits for A, which is the same guarantee.
    """
    a, b = (case_in(app, "in_review", people) for _ in range(2))
    base = feed(app, 0)[1]
    postgres = app.config["DATABASE_URL"].startswith("postgresql")
    flags = {name: threading.Event() for name in
             ("a_begun", "a_start", "a_took", "a_go", "b_begun", "b_start", "b_took", "b_go")}
    errors: list[Exception] = []

    def thread(protocol, who):
        kw = {key: flags[f"{who}_{key}"] for key in ("begun", "start", "took", "go")}
        return threading.Thread(target=approve_in_thread,
                                args=(app, protocol, people.operator), kwargs={**kw,
                                                                               "errors": errors})

    first, second = thread(a, "a"), thread(b, "b")
    if postgres:  # B's transaction starts before A's
        second.start()
        assert flags["b_begun"].wait(10)
    first.start()
    flags["a_start"].set()
    assert flags["a_took"].wait(10)  # A holds sequence base+1, uncommitted
    if not postgres:
        second.start()
    flags["b_start"].set()
    assert not flags["b_took"].wait(0.5)  # B waits for A's number to be committed
    assert feed(app, base) == ([], base)
    flags["a_go"].set()
    assert flags["b_took"].wait(10)  # A committed; B now holds base+2, uncommitted
    assert feed(app, base) == ([base + 1], base + 1)
    flags["b_go"].set()
    first.join(10)
    second.join(10)
    assert not errors
    assert feed(app, base) == ([base + 1, base + 2], base + 2)
    with app.app_context():
        numbers = dict(db.session.execute(select(Case.protocol, OutboxEvent.sequence)
                                          .join(OutboxEvent, OutboxEvent.case_id == Case.id))
                       .tuples().all())
    assert numbers == {a: base + 1, b: base + 2}
