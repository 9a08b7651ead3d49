"""Transactions committing out of the order they began in leave no hole for the worker.

B begins first, A approves a case and takes stream sequence N and holds before its
commit; B then approves another case and must wait for A's locks (the stream
counter row, or the audit head, whichever it reaches first), so it can only take
N+1, and only after A commits. A worker running at any moment in between sees a
prefix of the stream with no gap: nothing while A holds, N alone while B holds,
never N+1 before N.

PostgreSQL only: on SQLite every write transaction is ``BEGIN IMMEDIATE`` and runs
alone from its first statement, so two cannot overlap at all (test_concurrency.py
shows that queueing); there is nothing to interleave here.
"""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select, text

from cli.worker import run_once
from models import Case, OutboxEvent, User, db
from tests.factories import case_in, make_people
from tests.webhook_support import Receiver, add_endpoint, deliveries, stream_ids
from workflow import cases
from workflow.audit import Actor

WAIT = 15.0


@pytest.fixture
def postgres(app):
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            pytest.skip("SQLite's BEGIN IMMEDIATE runs whole write transactions one at a time")


def approver(app, people, protocol, began, may_take, took, may_commit):
    """Begin a transaction, approve ``protocol`` once allowed, commit once allowed."""
    def run():
        with app.app_context():
            operator = Actor(db.session.get(User, people.operator.id))  # the transaction begins
            case = db.session.scalars(select(Case).where(Case.protocol == protocol)).one()
            began.set()
            assert may_take.wait(WAIT)
            # The default validity: no expiry reminder is due, so the worker's timed step
            # does not wait for B's audit-head lock before it delivers.
            cases.approve(case, actor=operator)
            took.set()
            assert may_commit.wait(WAIT)
            db.session.commit()
    return threading.Thread(target=run, daemon=True)


def someone_waits_for_a_lock(app) -> bool:
    """A backend of this database is blocked on a lock (polled for a few seconds)."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        with app.app_context():
            waiting = db.session.scalar(text(
                "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE NOT l.granted AND a.datname = current_database()"))
            db.session.rollback()
        if waiting:
            return True
        time.sleep(0.05)
    return False


def received_sequences(receiver: Receiver, count: int) -> list[int]:
    """What the receiver got, once it has at least ``count`` requests (or after a wait)."""
    deadline = time.monotonic() + WAIT
    while len(receiver.received) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    return [r.sequence for r in receiver.received]


def test_reverse_commit_order_never_lets_the_worker_skip_a_sequence(app, postgres):
    people = make_people(app, "customer", "operator")
    first, second = case_in(app, "in_review", people), case_in(app, "in_review", people)
    receiver = Receiver().start()
    try:
        endpoint = add_endpoint(app, receiver)
        head = len(stream_ids(app))
        flags = {name: threading.Event() for name in
                 ("a_began", "a_took", "a_commit", "b_began", "b_took", "b_commit")}
        go = threading.Event()
        go.set()
        a = approver(app, people, first, flags["a_began"], go, flags["a_took"],
                     flags["a_commit"])
        b = approver(app, people, second, flags["b_began"], flags["a_took"], flags["b_took"],
                     flags["b_commit"])
        b.start()
        assert flags["b_began"].wait(WAIT)  # B's transaction is open first
        a.start()
        assert flags["a_took"].wait(WAIT)  # A holds sequence N, uncommitted
        assert someone_waits_for_a_lock(app)  # B, begun first, waits for A's locks
        assert not flags["b_took"].is_set()
        with app.app_context():
            assert run_once() == 0  # the worker sees neither N nor anything after it

        flags["a_commit"].set()
        assert flags["b_took"].wait(WAIT)  # B took N+1 only now; it holds before its commit
        worker = threading.Thread(target=lambda: _work(app), daemon=True)
        worker.start()
        assert received_sequences(receiver, 1) == [head + 1]
        time.sleep(0.3)
        assert [r.sequence for r in receiver.received] == [head + 1]  # never N+1 before N

        flags["b_commit"].set()
        for thread in (a, b, worker):
            thread.join(WAIT)
            assert not thread.is_alive()
        with app.app_context():
            run_once()
    finally:
        receiver.stop()
    assert [r.sequence for r in receiver.accepted()] == [head + 1, head + 2]
    assert [(r.sequence, r.event_id) for r in receiver.accepted()] == stream_ids(app)
    assert deliveries(app, endpoint) == [(head + 1, "delivered", 1), (head + 2, "delivered", 1)]
    with app.app_context():
        by_case = dict(db.session.execute(
            select(Case.protocol, OutboxEvent.sequence)
            .join(OutboxEvent, OutboxEvent.case_id == Case.id)).all())
    assert by_case == {first: head + 1, second: head + 2}  # B began first, numbered second


def _work(app) -> None:
    with app.app_context():
        run_once()
