"""Several people at once, on the real database (SQLite, or PostgreSQL when
TEST_DATABASE_URL is set): one approval wins, protocols never repeat, a target
is granted once, and the audit chain stays one chain.

Each thread has its own app context, hence its own session and connection. A
barrier makes them really overlap. Where it stands depends on the engine:
SQLite runs write transactions one at a time from their first statement
(BEGIN IMMEDIATE), so the threads meet before touching the database and queue
on its lock; PostgreSQL lets both read the case first, the worst case for a
lost update, so there they meet after reading it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from models import OPEN_STATUSES, Case, User, db, utcnow
from tests.factories import case_in, events_after, make_people, make_user, request_fields
from workflow import cases
from workflow.audit import Actor, verify_chain
from workflow.errors import Conflict, DomainError
from workflow.protocol import format_protocol, is_valid

THREADS = 8


def run_together(count: int, work: Callable[[int, threading.Barrier], object]) -> list:
    """Run ``work(i, barrier)`` in ``count`` threads; each result or the exception raised."""
    barrier = threading.Barrier(count, timeout=30)
    results: list = [None] * count

    def run(i):
        try:
            results[i] = work(i, barrier)
        except Exception as error:  # noqa: BLE001 - the test inspects it
            results[i] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    return results


def reads_before_meeting(app) -> bool:
    with app.app_context():
        return db.engine.dialect.name != "sqlite"


def chain_holds(app) -> bool:
    with app.app_context():
        return verify_chain().ok


@pytest.mark.parametrize(("status", "approvers"), [
    ("in_review", ["operator", "operator"]),  # the assignee, in two tabs
    ("pending_second_approval", ["supervisor", "second_supervisor"]),
])
def test_two_people_approving_at_once_give_one_approval(app, status, approvers):
    people = make_people(app, "customer", *set(approvers) | {"operator"})
    protocol = case_in(app, status, people, analyst=people.operator)
    seq_before = events_after(app, 0)[-1]["seq"]
    read_first = reads_before_meeting(app)

    def approve(i, barrier):
        with app.app_context():
            if not read_first:
                barrier.wait()
            user = db.session.get(User, getattr(people, approvers[i]).id)
            case = db.session.scalars(select(Case).where(Case.protocol == protocol)).one()
            if read_first:
                barrier.wait()  # both now hold the same version of the case
            cases.approve(case, actor=Actor(user))
            db.session.commit()
            return case.status.value

    results = run_together(2, approve)

    conflicts = [r for r in results if isinstance(r, Conflict)]
    assert results.count("approved") == 1 and len(conflicts) == 1, results
    assert conflicts[0].status == 409
    events = events_after(app, seq_before)
    assert [e["action"] for e in events] == ["case:approved"]
    assert chain_holds(app)


def test_concurrent_submissions_get_distinct_dense_valid_protocols(app):
    customers = [make_user(app), make_user(app)]
    per_thread = 5

    def submit_several(i, barrier):
        barrier.wait()
        issued = []
        for n in range(per_thread):
            with app.app_context():
                user = db.session.get(User, customers[i % 2].id)
                fields = request_fields(target=f"2001:db8:c0:{i:x}::{n + 1:x}")
                case = cases.submit(cases.Request(**fields), customer=user, actor=Actor(user))
                db.session.commit()
                issued.append(case.protocol)
        return issued

    results = run_together(THREADS, submit_several)

    assert not [r for r in results if isinstance(r, Exception)], results
    protocols = [p for issued in results for p in issued]
    year = utcnow().year
    assert sorted(protocols) == [format_protocol(year, n)
                                 for n in range(1, THREADS * per_thread + 1)]
    assert all(is_valid(p) for p in protocols)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Case)) == len(protocols)
    assert chain_holds(app)


@pytest.mark.parametrize("targets", [
    ["203.0.113.40"] * THREADS,  # the very same address
    # nested prefixes, all holding 2001:db8:40::: distinct texts, so no unique index helps
    [f"2001:db8:40::/{bits}" for bits in (64, 80, 96, 112, 120, 124, 126, 128)],
], ids=["same-address", "nested-prefixes"])
def test_concurrent_requests_for_one_target_open_one_case(app, targets):
    customers = [make_user(app), make_user(app)]

    def submit(i, barrier):
        barrier.wait()
        with app.app_context():
            user = db.session.get(User, customers[i % 2].id)
            case = cases.submit(cases.Request(**request_fields(target=targets[i])),
                                customer=user, actor=Actor(user))
            db.session.commit()
            return case.protocol

    results = run_together(THREADS, submit)

    granted = [r for r in results if isinstance(r, str)]
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(granted) == 1, results
    assert len(refused) == THREADS - 1 and all(
        isinstance(r, Conflict) and r.field == "target" for r in refused), results
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Case)) == 1
    assert granted[0] == format_protocol(utcnow().year, 1)  # refusals used up no number
    assert chain_holds(app)


def test_an_appeal_and_a_new_request_for_its_target_at_once_open_one_case(app):
    people = make_people(app, "customer", "stranger", "operator")
    rejected = case_in(app, "rejected", people, target="2001:db8:a99e::40")
    read_first = reads_before_meeting(app)

    def appeal(barrier):
        with app.app_context():
            if not read_first:
                barrier.wait()
            user = db.session.get(User, people.customer.id)
            case = db.session.scalars(select(Case).where(Case.protocol == rejected)).one()
            if read_first:
                barrier.wait()
            cases.appeal(case, actor=Actor(user), message="Peço nova análise.")
            db.session.commit()
            return case.status.value

    def submit(barrier):
        barrier.wait()
        with app.app_context():
            user = db.session.get(User, people.stranger.id)
            fields = request_fields(target="2001:db8:a99e::40/126")
            case = cases.submit(cases.Request(**fields), customer=user, actor=Actor(user))
            db.session.commit()
            return case.status.value

    results = run_together(2, lambda i, barrier: (appeal, submit)[i](barrier))

    assert sorted(r if isinstance(r, str) else type(r).__name__ for r in results) in (
        ["Conflict", "appealed"], ["Conflict", "submitted"]), results
    with app.app_context():
        open_cases = db.session.scalar(
            select(func.count()).select_from(Case).where(Case.status.in_(OPEN_STATUSES)))
    assert open_cases == 1
    assert chain_holds(app)


def test_the_chain_verifies_while_others_keep_appending(app):
    """`flask audit verify` runs on a live system: new events must not look like tampering."""
    customer = make_user(app)
    writers, rounds = 3, 15

    def work(i, barrier):
        barrier.wait()
        if i == writers:  # the verifier
            return [_verify(app) for _ in range(rounds)]
        for n in range(rounds):
            with app.app_context():
                user = db.session.get(User, customer.id)
                fields = request_fields(target=f"2001:db8:7e:{i:x}::{n + 1:x}")
                cases.submit(cases.Request(**fields), customer=user, actor=Actor(user))
                db.session.commit()
        return "written"

    results = run_together(writers + 1, work)

    assert results[:writers] == ["written"] * writers, results
    assert all(v.ok for v in results[writers]), [v for v in results[writers] if not v.ok]
    assert chain_holds(app)


def _verify(app):
    with app.app_context():
        return verify_chain(batch=7)  # small batches: many statements, many snapshots
