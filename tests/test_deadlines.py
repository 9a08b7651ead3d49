"""The two clocks of DESIGN §3: answer (7 calendar days) and execution (10 business days
of the customer's state, national and state holidays from the ``holidays`` library),
both paused while the case waits for the customer."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from models import Case, User, db, utcnow
from tests.desk_support import signed_in
from tests.factories import (
    act,
    case_in,
    make_case,
    make_people,
    make_user,
    system_act,
    unique_target,
)
from workflow import deadlines
from workflow.deadlines import clocks, initial_deadlines
from workflow.records import report_data, reports
from workflow.records.report_data import ReportScope

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


def deadline_table(browser, protocol: str) -> dict[str, str]:
    """The case page's deadline table as the customer reads it: row label → state."""
    page = browser.text(f"/portal/cases/{protocol}")
    return {unescape(label): unescape(state) for label, state in CLOCK_ROW.findall(page)}


CLOCK_ROW = re.compile(
    r'<th scope="row">([^<]*)</th>\s*<td>[^<]*</td>\s*<td class="clock-\w+">([^<]*)</td>')
ANSWER, EXECUTION = "Resposta (7 dias corridos)", "Execução (10 dias úteis)"


@pytest.fixture(scope="module")
def portal(module_app, people):
    return signed_in(module_app, people.customer)


def move(app, protocol: str, **due: timedelta) -> None:
    """Move a case's deadlines by ``due`` (test setup: as if it had come in earlier)."""
    with app.app_context():
        case = load(protocol)
        for name, delta in due.items():
            setattr(case, f"{name}_due_at", getattr(case, f"{name}_due_at") + delta)
        db.session.commit()


MONTH_AGO = {"answer": -timedelta(days=30), "execution": -timedelta(days=30)}


@pytest.mark.parametrize(("status", "moved", "answer", "execution"), [
    ("submitted", {}, "correndo", "correndo"),
    ("in_review", MONTH_AGO, "vencido", "vencido"),  # nobody answered for a month
    ("awaiting_customer", MONTH_AGO, *["pausado (aguardando o cliente)"] * 2),
    # Granted but not yet applied in the network: execution is not done until activation.
    ("approved", {}, "cumprido", "correndo"),
    ("approved", {"execution": -timedelta(days=30)}, "cumprido", "vencido"),
    ("active", {}, "cumprido", "cumprido"),  # applied in time
    # A refusal is done when decided; the page says so, lest "cumprido" read as "applied".
    ("rejected", {}, "cumprido", "cumprido (pedido indeferido)"),
    ("cancelled", {}, "não se aplica", "não se aplica"),
    ("revoked", {}, "cumprido", "não se aplica"),  # revoked before it was ever applied
])
def test_the_case_page_says_where_each_deadline_stands(module_app, people, portal, status,
                                                       moved, answer, execution):
    protocol = case_in(module_app, status, people)
    move(module_app, protocol, **moved)
    assert deadline_table(portal, protocol) == {ANSWER: answer, EXECUTION: execution}


def test_an_activation_after_the_execution_deadline_is_shown_as_missed(module_app, people,
                                                                         portal):
    protocol = case_in(module_app, "approved", people)
    move(module_app, protocol, execution=-timedelta(days=30))
    system_act(module_app, protocol, "activate")
    assert deadline_table(portal, protocol) == {ANSWER: "cumprido", EXECUTION: "vencido"}


def test_the_deadline_rows_name_the_lengths_in_the_settings(app_factory):
    app = app_factory(ANSWER_DEADLINE_DAYS=5, EXECUTION_DEADLINE_BUSINESS_DAYS=8)
    people = make_people(app, "customer")
    protocol = make_case(app, people.customer, target=unique_target())
    table = deadline_table(signed_in(app, people.customer), protocol)
    assert table == {"Resposta (5 dias corridos)": "correndo",
                     "Execução (8 dias úteis)": "correndo"}
    form = signed_in(app, people.customer).text("/portal/cases/new")
    assert "A resposta vem em até 5 dias e a execução em até 8 dias úteis." in form


# The report counts a running clock and a paused one alike as "open".
REPORT_STATE = {"cumprido": "met", "cumprido (pedido indeferido)": "met",
                "vencido": "missed", "correndo": "open",
                "pausado (aguardando o cliente)": "open", "não se aplica": "not_applicable"}


def test_the_case_pages_and_the_period_report_count_the_deadlines_alike(app):
    people = make_people(app, "customer", "operator")
    protocols = [case_in(app, status, people) for status in (
        "submitted", "in_review", "awaiting_customer", "approved", "approved", "active",
        "rejected", "cancelled", "revoked")]
    move(app, protocols[1], **MONTH_AGO)
    move(app, protocols[4], execution=-timedelta(days=30))
    browser = signed_in(app, people.customer)
    shown = [deadline_table(browser, protocol) for protocol in protocols]

    with app.app_context():
        today = reports.local_today(utcnow())
        figures = report_data.figures(ReportScope(today - timedelta(days=1), today, None),
                                      utcnow())
    for row, counted in ((ANSWER, figures.answer_deadline),
                         (EXECUTION, figures.execution_deadline)):
        states = Counter(REPORT_STATE[table[row]] for table in shown)
        assert states == Counter({"met": counted.met, "missed": counted.missed,
                                  "open": counted.open,
                                  "not_applicable": counted.not_applicable}), row
    assert (figures.execution_deadline.met, figures.execution_deadline.missed) == (2, 2)


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
