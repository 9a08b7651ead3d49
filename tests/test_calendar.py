"""The business calendar's corrections (a local holiday the library lacks, a holiday that
was worked): kept by supervisors on the desk, audited with their diff, and followed by
every deadline counted after them."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from models import AuditEvent, CalendarDay, Case, db
from tests.desk_support import Cast, signed_in
from tests.factories import make_case
from tests.lgpd_support import count, events, last_event
from tests.test_deadlines import end_of
from workflow import calendar_days, deadlines
from workflow.audit import Actor

PAGE = "/desk/calendar/"
# Wed 1 July 2026 in São Paulo: 10 business days end on Thu 16 July (the 9th is a state
# holiday; see test_deadlines).
SUBMITTED = datetime(2026, 7, 1, 15, 0, tzinfo=UTC)


@pytest.fixture
def people(app):
    return Cast(app, customer=("customer", {}), operator=("operator", {}),
                supervisor=("supervisor", {}), auditor=("auditor", {}))


def correct(app, uf: str, day: date, business_day: bool, note: str = "Ajuste") -> None:
    with app.app_context():
        calendar_days.add_correction(uf=uf, day=day, business_day=business_day, note=note,
                                     actor=Actor.system("tests"))
        db.session.commit()


def execution_due(app, uf: str) -> datetime:
    with app.app_context():
        return deadlines.initial_deadlines(SUBMITTED, uf, 7, 10,
                                           deadlines.corrections_for(uf))[1]


@pytest.mark.parametrize(("uf", "day", "business_day", "due"), [
    ("SP", date(2026, 7, 6), False, date(2026, 7, 17)),  # a municipal holiday: one day later
    ("SP", date(2026, 7, 9), True, date(2026, 7, 15)),  # the state holiday was worked
    ("BR", date(2026, 7, 6), False, date(2026, 7, 17)),  # a national correction counts too
    ("RJ", date(2026, 7, 6), False, date(2026, 7, 16)),  # another state's does not
])
def test_a_correction_moves_the_execution_deadline(app, uf, day, business_day, due):
    assert execution_due(app, "SP") == end_of(date(2026, 7, 16))

    correct(app, uf, day, business_day)

    assert execution_due(app, "SP") == end_of(due)


def test_a_states_correction_wins_over_a_national_one(app):
    correct(app, "BR", date(2026, 7, 9), True, "Expediente normal no país")
    correct(app, "SP", date(2026, 7, 9), False, "Revolução Constitucionalista")
    assert execution_due(app, "SP") == end_of(date(2026, 7, 16))
    assert execution_due(app, "MG") == end_of(date(2026, 7, 15))


def test_a_request_submitted_after_a_correction_gets_the_later_deadline(app, people):
    with app.app_context():
        today = datetime.now(deadlines.zone_of("SP")).date()
        library_due = deadlines.add_business_days(today, 10, "SP")
        closed = deadlines.add_business_days(today, 3, "SP")
    browser = signed_in(app, people["supervisor"])
    response = browser.submit(PAGE, {"uf": "SP", "day": closed.isoformat(), "kind": "closed",
                                     "note": "Aniversário da cidade"})
    assert response.status_code == 200
    assert "Correção registrada" in response.get_data(as_text=True)

    protocol = make_case(app, people["customer"])

    with app.app_context():
        case = db.session.scalars(select(Case).where(Case.protocol == protocol)).one()
        due = case.execution_due_at.astimezone(deadlines.zone_of("SP")).date()
    assert due == deadlines.add_business_days(library_due, 1, "SP") > library_due


def test_adding_and_removing_are_audited_with_their_diff(app, people):
    browser = signed_in(app, people["supervisor"])
    page = browser.submit(PAGE, {"uf": "SP", "day": "06/07/2026", "kind": "closed",
                                 "note": "Feriado municipal"}).get_data(as_text=True)
    assert "06/07/2026" in page and "Feriado municipal" in page

    added = last_event(app, "calendar:changed")
    assert (added["actor_id"], added["actor_role"], added["object_type"], added["object_id"],
            added["uf"]) == (people["supervisor"].id, "supervisor", "calendar", "SP/2026-07-06",
                             "SP")
    assert added["details"] == {"changes": {"business_day": [None, False],
                                            "note": [None, "Feriado municipal"]}}

    response = browser.submit(f"{PAGE}SP/2026-07-06/remove", page=PAGE)
    assert "Correção removida" in response.get_data(as_text=True)
    assert count(app, CalendarDay) == 0
    removed = last_event(app, "calendar:changed")
    assert removed["details"] == {"changes": {"business_day": [False, None],
                                              "note": ["Feriado municipal", None]}}


BAD = [
    ({"uf": "", "day": "2026-07-06"}, "Escolha um estado (UF) ou “BR” para todo o país."),
    ({"uf": "XX", "day": "2026-07-06"}, "Escolha um estado (UF) ou “BR” para todo o país."),
    ({"day": ""}, "Informe a data (dd/mm/aaaa)."),
    ({"day": "31/02/2026"}, "Data inválida: “31/02/2026”. Use o formato dd/mm/aaaa."),
    ({"day": "amanhã"}, "Data inválida: “amanhã”. Use o formato dd/mm/aaaa."),
    ({"day": "2206-07-06"}, "Informe uma data entre 2000 e 2100."),
    ({"day": "2026-07-04", "kind": "worked"},  # a Saturday
     "Sábados e domingos não são dias úteis"),
    ({"day": "2026-07-04"}, "Nada a corrigir: 04/07/2026 já não é dia útil."),
    ({"day": "2026-07-09"}, "Nada a corrigir: 09/07/2026 já não é dia útil."),  # SP holiday
    ({"day": "2026-07-06", "kind": "worked"}, "Nada a corrigir: 06/07/2026 já é dia útil."),
    ({"note": "  "}, "Diga o motivo (por exemplo, o nome do feriado)."),
    ({"note": "x" * 201}, "O motivo deve ter até 200 caracteres."),
    ({"note": "linha\x00nula"}, "O texto contém caracteres de controle não permitidos."),
]


@pytest.mark.parametrize(("fields", "message"), BAD, ids=[m[:30] for _, m in BAD])
def test_a_bad_correction_is_refused_with_a_clear_message(app, people, fields, message):
    browser = signed_in(app, people["supervisor"])
    before = count(app, AuditEvent)
    data = {"uf": "SP", "day": "2026-07-06", "kind": "closed", "note": "Feriado", **fields}

    response = browser.submit(PAGE, data)

    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert count(app, CalendarDay) == 0 and count(app, AuditEvent) == before


def test_a_second_correction_of_the_same_day_is_refused(app, people):
    correct(app, "SP", date(2026, 7, 6), False, "Primeira")
    browser = signed_in(app, people["supervisor"])
    before = count(app, AuditEvent)

    response = browser.submit(PAGE, {"uf": "SP", "day": "2026-07-06", "kind": "closed",
                                     "note": "Segunda"})

    assert response.status_code == 409
    assert "Já existe uma correção para 06/07/2026 em SP" in response.get_data(as_text=True)
    assert count(app, CalendarDay) == 1 and count(app, AuditEvent) == before


def test_removing_a_correction_that_does_not_exist_is_404(app, people):
    browser = signed_in(app, people["supervisor"])
    for url in (f"{PAGE}SP/2026-07-06/remove", f"{PAGE}SP/not-a-date/remove"):
        assert browser.submit(url, page=PAGE, follow=False).status_code == 404
    assert events(app, "calendar:changed") == []


@pytest.mark.parametrize("role", ["operator", "auditor", "customer"])
def test_only_supervisors_reach_the_calendar(app, people, role):
    correct(app, "SP", date(2026, 7, 6), False)
    browser = signed_in(app, people[role])
    before = count(app, AuditEvent)

    page = browser.get(PAGE).status_code
    posts = [browser.submit(url, {"uf": "SP", "day": "2026-07-07", "kind": "closed",
                                  "note": "x"}, page="/login", follow=False).status_code
             for url in (PAGE, f"{PAGE}SP/2026-07-06/remove")]

    assert (page, posts) == (403, [403, 403])
    assert count(app, CalendarDay) == 1 and count(app, AuditEvent) == before
