"""The two clocks of DESIGN §3: answer (7 calendar days) and execution (10 business days
of the customer's state, national and state holidays from the ``holidays`` library),
both paused while the case waits for the customer."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from models import Case, User, db, utcnow
from tests.factories import act, case_in, make_case, make_people, make_user
from workflow import deadlines
from workflow.deadlines import clocks, initial_deadlines

BRT = ZoneInfo("America/Sao_Paulo")


def end_of(day: date, zone: str = "America/Sao_Paulo") -> datetime:
    return datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=ZoneInfo(zone))


# (submitted, UF, execution due) — counted by hand on the 2026 calendar:
# Wed 1 July: Thu 2, Fri 3, Mon 6, 7, 8, [Thu 9: São Paulo's Revolução Constitucionalista],
#   Fri 10, Mon 13, 14, 15, 16 → SP on the 16th; RJ and MG work the 9th → the 15th.
# Mon 20 April: [21 Tiradentes, national], 22, [Thu 23: São Jorge in RJ], Fri 24, 27, 28, 29,
#   30, [1 May, national], 4, 5, 6, 7 → RJ on 7 May; SP and MG work the 23rd → 6 May.
# Wed 1 July 03:30 UTC is still Tuesday 30 June in Manaus (UTC−4): one day earlier.
EXECUTION = [
    (datetime(2026, 7, 1, 15, 0, tzinfo=UTC), "SP", end_of(date(2026, 7, 16))),
    (datetime(2026, 7, 1, 15, 0, tzinfo=UTC), "RJ", end_of(date(2026, 7, 15))),
    (datetime(2026, 7, 1, 15, 0, tzinfo=UTC), "MG", end_of(date(2026, 7, 15))),
    (datetime(2026, 4, 20, 15, 0, tzinfo=UTC), "RJ", end_of(date(2026, 5, 7))),
    (datetime(2026, 4, 20, 15, 0, tzinfo=UTC), "SP", end_of(date(2026, 5, 6))),
    (datetime(2026, 4, 20, 15, 0, tzinfo=UTC), "MG", end_of(date(2026, 5, 6))),
    (datetime(2026, 7, 1, 3, 30, tzinfo=UTC), "SP", end_of(date(2026, 7, 16))),
    (datetime(2026, 7, 1, 3, 30, tzinfo=UTC), "AM", end_of(date(2026, 7, 14), "America/Manaus")),
    # Fri 18 Dec: 21, 22, 23, 24, [25 Christmas], 28, 29, 30, 31, [1 January], Mon 4, Tue 5
    # (24 and 31 December are optional days off, not holidays): across the new year.
    (datetime(2026, 12, 18, 15, 0, tzinfo=UTC), "SP", end_of(date(2027, 1, 5))),
]


@pytest.mark.parametrize(("submitted", "uf", "due"), EXECUTION,
                         ids=[f"{s:%Y-%m-%dT%H%MZ}-{uf}" for s, uf, _ in EXECUTION])
def test_execution_is_ten_business_days_of_the_customers_state(submitted, uf, due):
    answer, execution = initial_deadlines(submitted, uf, 7, 10)
    assert execution == due
    assert answer == submitted + timedelta(days=7)  # calendar days, whatever the state


def test_a_state_holiday_moves_the_due_date_in_that_state_only():
    submitted = datetime(2026, 7, 1, 15, 0, tzinfo=UTC)
    due = {uf: initial_deadlines(submitted, uf, 7, 10)[1].date() for uf in ("SP", "RJ")}
    assert due == {"SP": date(2026, 7, 16), "RJ": date(2026, 7, 15)}
    assert not deadlines.is_business_day(date(2026, 7, 9), "SP")
    assert deadlines.is_business_day(date(2026, 7, 9), "RJ")


@pytest.mark.parametrize("uf", ["SP", "RJ"])
def test_submission_sets_both_clocks_from_the_customers_state(app, uf):
    customer = make_user(app, uf=uf)
    protocol = make_case(app, customer)
    with app.app_context():
        case = db.session.scalars(select(Case).where(Case.protocol == protocol)).one()
        answer, execution = initial_deadlines(case.submitted_at, uf, 7, 10)
        assert case.uf == uf
        assert case.answer_due_at - case.submitted_at == timedelta(days=7)
        assert (case.answer_due_at, case.execution_due_at) == (answer, execution)
        assert case.sla_due_at == min(answer, execution)


def test_waiting_for_the_customer_pushes_both_deadlines():
    """Worked by hand: submitted Wed 1 July (SP), paused Fri 3 July, resumed Tue 14 July."""
    submitted = datetime(2026, 7, 1, 15, 0, tzinfo=UTC)
    answer, execution = initial_deadlines(submitted, "SP", 7, 10)
    case = Case(uf="SP", answer_due_at=answer, execution_due_at=execution)
    paused = datetime(2026, 7, 3, 10, 0, tzinfo=BRT)
    resumed = datetime(2026, 7, 14, 10, 0, tzinfo=BRT)

    deadlines.pause(case, paused)
    assert case.sla_due_at is None
    deadlines.resume(case, resumed)

    # answer: 8 July 15:00 UTC + the 11 days waited
    assert case.answer_due_at == datetime(2026, 7, 19, 15, 0, tzinfo=UTC)
    # execution: the wait covered Mon 6, 7, 8, 10, 13, 14 (the 9th is a holiday) = 6
    # business days; 16 July + 6 → Fri 17, Mon 20, 21, 22, 23, Fri 24
    assert case.execution_due_at == end_of(date(2026, 7, 24))
    assert case.paused_at is None and case.sla_due_at == case.answer_due_at


@pytest.fixture(scope="module")
def people(module_app):
    return make_people(module_app, "customer", "operator")


def load(protocol):
    return db.session.scalars(select(Case).where(Case.protocol == protocol)).one()


def test_asking_the_customer_pauses_the_clocks_and_the_reply_pushes_them(module_app, people):
    protocol = case_in(module_app, "awaiting_customer", people)
    with module_app.app_context():
        case = load(protocol)
        assert case.paused_at is not None and case.sla_due_at is None
        assert [c["state"] for c in clocks(case, utcnow())] == ["paused", "paused"]
        # Ten days of silence: the pause began ten days earlier.
        case.paused_at -= timedelta(days=10)
        paused_at, answer, execution = case.paused_at, case.answer_due_at, case.execution_due_at
        db.session.commit()

    act(module_app, protocol, "reply", people.customer, message="Segue o registro SPF.")

    with module_app.app_context():
        case = load(protocol)
        waited = case.answer_due_at - answer
        assert timedelta(days=10) <= waited < timedelta(days=10, minutes=1)
        zone = deadlines.zone_of("SP")
        skipped = deadlines.business_days_between(
            paused_at.astimezone(zone).date(), (paused_at + waited).astimezone(zone).date(), "SP")
        assert skipped >= 5  # ten calendar days hold at least five business days
        assert case.execution_due_at.astimezone(zone).date() == deadlines.add_business_days(
            execution.astimezone(zone).date(), skipped, "SP")
        assert case.paused_at is None
        assert case.sla_due_at == min(case.answer_due_at, case.execution_due_at)
        assert [c["state"] for c in clocks(case, utcnow())] == ["running", "running"]


@pytest.mark.parametrize(("status", "days_later", "states"), [
    ("submitted", 0, ["running", "running"]),
    ("in_review", 30, ["missed", "missed"]),  # nobody answered for a month
    ("awaiting_customer", 30, ["paused", "paused"]),  # the customer's silence is not late
    ("approved", 0, ["met", "met"]),
    ("rejected", 30, ["met", "met"]),  # decided in time; later is history
    ("cancelled", 0, ["stopped", "stopped"]),
])
def test_the_clocks_say_where_each_deadline_stands(module_app, people, status, days_later,
                                                   states):
    protocol = case_in(module_app, status, people)
    with module_app.app_context():
        case = load(protocol)
        shown = clocks(case, utcnow() + timedelta(days=days_later))
    assert [c["name"] for c in shown] == ["answer", "execution"]
    assert [c["state"] for c in shown] == states


def test_a_decision_after_the_deadline_is_shown_as_missed(module_app, people):
    protocol = case_in(module_app, "in_review", people)
    with module_app.app_context():  # as if the request had come in three weeks ago
        case = load(protocol)
        case.submitted_at -= timedelta(days=21)
        case.answer_due_at, case.execution_due_at = initial_deadlines(
            case.submitted_at, case.uf, 7, 10)
        db.session.commit()
    act(module_app, protocol, "approve", people.operator)
    with module_app.app_context():
        case = load(protocol)
        assert case.sla_due_at is None  # decided: no longer in the queue's order
        assert [c["state"] for c in clocks(case, utcnow())] == ["missed", "missed"]


def test_an_appeal_starts_both_clocks_again(module_app, people):
    protocol = case_in(module_app, "rejected", people)
    act(module_app, protocol, "appeal", people.customer, message="Peço nova análise.")
    with module_app.app_context():
        case = load(protocol)
        customer = db.session.get(User, people.customer.id)
        assert case.decided_at is None and case.uf == customer.uf
        assert case.answer_due_at - case.appealed_at == timedelta(days=7)
        assert (case.answer_due_at, case.execution_due_at) == initial_deadlines(
            case.appealed_at, case.uf, 7, 10)
        assert [c["state"] for c in clocks(case, utcnow())] == ["running", "running"]
