"""The enforcement stream is written with the transitions that cause it (DESIGN §5)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from models import OutboxEvent, db
from tests.factories import act, make_case, make_user, system_act
from workflow.errors import Conflict


def stream(app) -> list[dict]:
    with app.app_context():
        rows = db.session.scalars(select(OutboxEvent).order_by(OutboxEvent.sequence)).all()
        return [{"sequence": e.sequence, "type": e.type.value, "event_id": e.event_id,
                 "body": json.loads(e.body)} for e in rows]


@pytest.fixture
def people(app):
    return {"customer": make_user(app), "operator": make_user(app, "operator"),
            "supervisor": make_user(app, "supervisor")}


def approved(app, people, **fields) -> str:
    protocol = make_case(app, people["customer"], **fields)
    act(app, protocol, "claim", people["operator"])
    act(app, protocol, "approve", people["operator"], valid_days=30)
    return protocol


def test_an_approval_writes_one_activation_event_in_the_contract_format(app, people):
    protocol = approved(app, people, target="203.0.113.7", subscriber_id="CTR-0042")
    [event] = stream(app)
    body = event["body"]
    assert event["type"] == body["type"] == "exception.activated"
    assert set(body) == {"type", "timestamp", "data"}
    assert body["data"]["protocol"] == protocol
    assert body["data"]["target"] == "203.0.113.7/32"
    assert body["data"]["subscriber_id"] == "CTR-0042"
    assert body["data"]["sequence"] == event["sequence"] == 1
    assert body["data"]["valid_from"].endswith("Z") and body["data"]["valid_until"].endswith("Z")
    assert event["event_id"].startswith("evt_")


def test_revocation_and_expiry_put_blocking_events_on_the_stream(app, people):
    first = approved(app, people)
    second = approved(app, people)
    act(app, first, "revoke", people["operator"], reason_code="abuse_confirmed")
    system_act(app, second, "activate")
    system_act(app, second, "expire")
    events = stream(app)
    assert [e["type"] for e in events] == ["exception.activated", "exception.activated",
                                           "exception.revoked", "exception.expired"]
    assert [e["sequence"] for e in events] == [1, 2, 3, 4]
    assert [e["body"]["data"]["protocol"] for e in events[2:]] == [first, second]


def test_a_first_of_two_approvals_and_refusals_write_nothing(app, people):
    protocol = make_case(app, people["customer"], target="203.0.113.16/29")
    act(app, protocol, "claim", people["operator"])
    assert act(app, protocol, "approve", people["operator"]) == "pending_second_approval"
    with pytest.raises(Conflict):  # the second approval is a supervisor's
        act(app, protocol, "approve", people["operator"])
    assert stream(app) == []
    assert act(app, protocol, "approve", people["supervisor"]) == "approved"
    assert [e["sequence"] for e in stream(app)] == [1]


def test_the_customer_giving_it_back_blocks_the_target_again(app, people):
    protocol = approved(app, people)
    act(app, protocol, "revoke", people["customer"])
    revoked = stream(app)[-1]["body"]
    assert revoked["type"] == "exception.revoked"
    assert revoked["data"]["valid_until"] <= revoked["timestamp"]
