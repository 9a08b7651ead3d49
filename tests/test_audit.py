"""The audit trail of DESIGN §9: a hash chain the database keeps append-only, that
`flask audit verify` checks, and that a failed transition never half-writes."""

from __future__ import annotations

import hashlib
import json

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import DBAPIError, NoResultFound

from models import AuditEvent, Case, Message, ProtocolCounter, db
from tests.factories import (
    QUESTION,
    act,
    case_in,
    make_case,
    make_people,
    snapshot,
)
from workflow.audit import verify_chain

# The triggers of the initial migration that refuse UPDATE and DELETE.
TRIGGERS = {"sqlite": ["audit_event_no_update", "audit_event_no_delete"],
            "postgresql": ["audit_event_no_change"]}


@pytest.fixture
def history(app):
    """A fresh database holding a few cases that went through several transitions."""
    people = make_people(app, "customer", "operator")
    for status in ("approved", "rejected", "awaiting_customer"):
        case_in(app, status, people)
    return people


def dialect(app) -> str:
    with app.app_context():
        return db.engine.dialect.name


def execute(app, sql: str, **params) -> None:
    with app.app_context():
        db.session.execute(text(sql), params)
        db.session.commit()


def row(app, seq: int):
    with app.app_context():
        return db.session.execute(
            select(AuditEvent.__table__).where(AuditEvent.seq == seq)).one_or_none()


def drop_protection(app) -> None:
    """What an administrator with the owner's rights could do; the chain must tell."""
    for trigger in TRIGGERS[dialect(app)]:
        on = " ON audit_event" if dialect(app) == "postgresql" else ""
        execute(app, f"DROP TRIGGER {trigger}{on}")


def test_the_chain_of_a_busy_history_verifies(app, history, runner):
    with app.app_context():
        result = verify_chain()
        total = db.session.scalar(select(func.count()).select_from(AuditEvent))
    assert result.ok and result.checked == total > 10
    outcome = runner.invoke(args=["audit", "verify"])
    assert outcome.exit_code == 0
    assert f"{total} events verified" in outcome.output


def test_each_hash_follows_the_documented_rule(app, history):
    """Recomputed here from the module docstring, as a regulator would."""
    prev = bytes(32)
    with app.app_context():
        for event in db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq)):
            body = {"seq": event.seq,
                    "occurred_at": event.occurred_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                    "actor_id": event.actor_id, "actor_role": event.actor_role,
                    "source_ip": event.source_ip, "action": event.action,
                    "object_type": event.object_type, "object_id": event.object_id,
                    "uf": event.uf, "details": json.loads(event.details)}
            canonical = json.dumps(body, sort_keys=True, separators=(",", ":"),
                                   ensure_ascii=False).encode()
            expected = hashlib.sha256(b"\x00porta25-audit/v1" + event.seq.to_bytes(8, "big")
                                      + prev + hashlib.sha256(canonical).digest()).digest()
            assert event.prev_hash == prev and event.hash == expected
            prev = event.hash


@pytest.mark.parametrize("statement", [
    "UPDATE audit_event SET details = '{}' WHERE seq = 2",
    "UPDATE audit_event SET actor_id = NULL",
    "DELETE FROM audit_event WHERE seq = 2",
    "DELETE FROM audit_event",
])
def test_the_database_refuses_to_change_or_delete_an_event(app, history, statement):
    before = row(app, 2)
    with pytest.raises(DBAPIError, match="append-only"):
        execute(app, statement)
    assert row(app, 2) == before
    with app.app_context():
        assert verify_chain().ok


def test_postgresql_also_refuses_truncate(app, history):
    if dialect(app) != "postgresql":
        pytest.skip("SQLite has no TRUNCATE")
    with pytest.raises(DBAPIError, match="append-only"):
        execute(app, "TRUNCATE audit_event")
    with app.app_context():
        assert verify_chain().ok


TAMPERING = [
    ("UPDATE audit_event SET details = :v WHERE seq = 5", {"v": '{"from":"x","to":"y"}'},
     "content altered"),
    ("UPDATE audit_event SET actor_id = 999 WHERE seq = 5", {}, "content altered"),
    ("UPDATE audit_event SET hash = :v WHERE seq = 5", {"v": bytes(32)}, "content altered"),
    ("DELETE FROM audit_event WHERE seq = 5", {}, "missing event"),
]


@pytest.mark.parametrize(("statement", "params", "problem"), TAMPERING,
                         ids=["details", "actor", "hash", "deleted"])
def test_verify_names_the_first_event_that_was_tampered_with(app, history, runner, statement,
                                                             params, problem):
    drop_protection(app)
    execute(app, statement, **params)
    outcome = runner.invoke(args=["audit", "verify"])
    assert outcome.exit_code == 1
    assert f"BROKEN at event 5: {problem}" in outcome.output


def test_events_with_awkward_text_verify(app, runner):
    """Quotes, backslashes, accents, control characters, nulls and nesting in every field."""
    from workflow.audit import Actor, Tag, record

    awkward = 'Jo\u00e3o "Z\u00e9" \\ \u00e7\u00e3o\n\t\u0001 \u2028 \U0001f600'
    with app.app_context():
        record(Tag.CASE_NOTE_ADDED, Actor.system(awkward), object_type="case",
               object_id=awkward[:60], uf="SP",
               details={"text": awkward, "nested": {"list": [1, None, True, awkward]}})
        record(Tag.SETTINGS_CHANGED, Actor(user=None, source_ip="2001:db8::1"))
        db.session.commit()
    outcome = runner.invoke(args=["audit", "verify"])
    assert outcome.exit_code == 0 and "2 events verified" in outcome.output, outcome.output


def test_details_stored_with_other_spacing_but_the_same_content_still_verify(app, history,
                                                                               runner):
    """The rule hashes the parsed details: whitespace in the stored text changes nothing."""
    drop_protection(app)
    with app.app_context():
        stored = db.session.scalar(select(AuditEvent.details).where(AuditEvent.seq == 5))
    spaced = json.dumps(json.loads(stored), indent=2)
    assert spaced != stored
    execute(app, "UPDATE audit_event SET details = :d WHERE seq = 5", d=spaced)
    outcome = runner.invoke(args=["audit", "verify"])
    assert outcome.exit_code == 0, outcome.output


def test_verify_notices_the_newest_event_deleted(app, history, runner):
    drop_protection(app)
    with app.app_context():
        newest = db.session.scalar(select(func.max(AuditEvent.seq)))
    execute(app, "DELETE FROM audit_event WHERE seq = :seq", seq=newest)
    outcome = runner.invoke(args=["audit", "verify"])
    assert outcome.exit_code == 1
    assert f"BROKEN at event {newest}: head does not match" in outcome.output


def test_verify_notices_an_event_slipped_in_beyond_the_head(app, history, runner):
    """Inserts are allowed (appends need them); one that bypasses the head is caught."""
    columns = ", ".join(c.name for c in AuditEvent.__table__.columns if c.name != "seq")
    with app.app_context():
        newest = db.session.scalar(select(func.max(AuditEvent.seq)))
    execute(app, f"INSERT INTO audit_event (seq, {columns}) "
                 f"SELECT seq + 1, {columns} FROM audit_event WHERE seq = :seq", seq=newest)
    outcome = runner.invoke(args=["audit", "verify"])
    assert outcome.exit_code == 1
    assert f"BROKEN at event {newest + 1}: event beyond the head" in outcome.output


def test_verify_notices_a_missing_head(app, history, runner):
    break_the_head(app)
    outcome = runner.invoke(args=["audit", "verify"])
    assert outcome.exit_code == 1 and "head missing" in outcome.output


def test_a_committed_event_is_seen_from_another_connection(app, history):
    """Each append commits with its transition (no stray savepoint left open)."""
    protocol = case_in(app, "in_review", history)
    act(app, protocol, "request_info", history.operator, message=QUESTION)
    outsider = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        with outsider.connect() as connection:
            newest = connection.execute(
                text("SELECT action, object_id FROM audit_event ORDER BY seq DESC")).first()
    finally:
        outsider.dispose()
    assert tuple(newest) == ("case:info_requested", protocol)


def break_the_head(app) -> None:
    """Remove the chain's head row: the next append cannot find where to attach."""
    execute(app, "DELETE FROM audit_head")


def test_a_transition_whose_audit_append_fails_leaves_nothing_behind(app, history):
    protocol = case_in(app, "in_review", history)
    before = snapshot(app, protocol)
    with app.app_context():
        messages = db.session.scalar(select(func.count()).select_from(Message))
    break_the_head(app)

    with pytest.raises(NoResultFound):
        act(app, protocol, "request_info", history.operator, message=QUESTION)

    with app.app_context():
        case = db.session.scalars(select(Case).where(Case.protocol == protocol)).one()
        assert (case.status.value, case.version) == (before.status, before.version)
        assert case.paused_at is None and case.sla_due_at is not None  # clocks untouched
        assert db.session.scalar(select(func.count()).select_from(Message)) == messages
        assert db.session.scalar(select(func.max(AuditEvent.seq))) == before.audit_seq


def test_a_submission_whose_audit_append_fails_stores_no_case_and_no_number(app, history):
    with app.app_context():
        cases_before = db.session.scalar(select(func.count()).select_from(Case))
        counters = db.session.execute(select(ProtocolCounter.year, ProtocolCounter.last)).all()
    break_the_head(app)

    with pytest.raises(NoResultFound):
        make_case(app, history.customer)

    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Case)) == cases_before
        assert db.session.execute(
            select(ProtocolCounter.year, ProtocolCounter.last)).all() == counters
