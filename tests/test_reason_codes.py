"""The reason-code catalogue on the supervisors' desk: labels in both languages, on and off,
new codes; every change audited with its diff, and what analysts can choose follows it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import AuditEvent, ReasonCode, db
from tests.desk_support import Cast, case_url, signed_in
from tests.factories import act, make_case, status_of, unique_target
from tests.lgpd_support import count, events, last_event

PAGE = "/desk/reason-codes/"
OTHER = f"{PAGE}reject/other"


@pytest.fixture
def people(app):
    return Cast(app, customer=("customer", {}), operator=("operator", {}),
                supervisor=("supervisor", {}), auditor=("auditor", {}))


@pytest.fixture
def supervisor(app, people):
    return signed_in(app, people["supervisor"])


def catalogue(app) -> dict[tuple[str, str], tuple[str, str, bool]]:
    with app.app_context():
        return {(r.action, r.code): (r.label_pt, r.label_en, r.active)
                for r in db.session.scalars(select(ReasonCode))}


def case_in_review(app, people) -> str:
    protocol = make_case(app, people["customer"], target=unique_target())
    act(app, protocol, "claim", people["operator"])
    return protocol


def test_a_supervisor_relabels_and_switches_off_a_code_and_the_diff_is_audited(
        app, people, supervisor):
    response = supervisor.submit(OTHER, {"label_pt": "Outro motivo (explique na mensagem)",
                                         "label_en": "Other reason", "active": ""})

    assert "Motivo other alterado." in response.get_data(as_text=True)
    assert catalogue(app)[("reject", "other")] == (
        "Outro motivo (explique na mensagem)", "Other reason", False)
    event = last_event(app, "reason_code:changed")
    assert (event["actor_id"], event["object_type"], event["object_id"]) == (
        people["supervisor"].id, "reason_code", "reject/other")
    assert event["details"] == {"changes": {
        "active": [True, False],
        "label_pt": ["Outro motivo", "Outro motivo (explique na mensagem)"]}}

    # Analysts no longer find it among the reasons to refuse.
    protocol = case_in_review(app, people)
    page = signed_in(app, people["operator"]).text(case_url(protocol))
    assert 'value="insufficient_justification"' in page
    assert 'value="other"' not in page


def test_a_new_code_is_audited_and_analysts_can_choose_it_at_once(app, people, supervisor):
    response = supervisor.submit(PAGE, {"action": "reject", "code": "Open_Relay ",
                                        "label_pt": "Relay aberto", "label_en": "Open relay"})

    assert "Motivo open_relay incluído." in response.get_data(as_text=True)
    assert catalogue(app)[("reject", "open_relay")] == ("Relay aberto", "Open relay", True)
    event = last_event(app, "reason_code:created")
    assert (event["object_id"], event["details"]) == ("reject/open_relay", {"changes": {
        "active": [None, True], "label_en": [None, "Open relay"],
        "label_pt": [None, "Relay aberto"]}})

    protocol = case_in_review(app, people)
    act(app, protocol, "reject", people["operator"], reason_code="open_relay")
    assert status_of(app, protocol) == "rejected"
    customer_page = signed_in(app, people["customer"]).text(f"/portal/cases/{protocol}")
    assert "Relay aberto" in customer_page


def test_saving_without_a_change_records_nothing(app, supervisor):
    before = count(app, AuditEvent)
    response = supervisor.submit(OTHER, {"label_pt": "Outro motivo", "label_en": "Other reason",
                                         "active": "y"})
    assert "Nada foi alterado." in response.get_data(as_text=True)
    assert count(app, AuditEvent) == before


NEW_BAD = [
    ({"action": ""}, 422, "Escolha a ação: indeferir ou revogar."),
    ({"action": "approve"}, 422, "Escolha a ação: indeferir ou revogar."),
    ({"code": ""}, 422, "O código deve ter de 2 a 64 caracteres"),
    ({"code": "com espaço"}, 422, "O código deve ter de 2 a 64 caracteres"),
    ({"code": "1abc"}, 422, "O código deve ter de 2 a 64 caracteres"),
    ({"code": "x" * 65}, 422, "O código deve ter de 2 a 64 caracteres"),
    ({"code": "other"}, 409, "O código other já existe para esta ação."),
    ({"label_pt": " "}, 422, "Informe o texto em português."),
    ({"label_en": ""}, 422, "Informe o texto em inglês."),
    ({"label_pt": "x" * 201}, 422, "O texto deve ter até 200 caracteres."),
    ({"label_en": "a\x07b"}, 422, "O texto contém caracteres de controle não permitidos."),
]


@pytest.mark.parametrize(("fields", "status", "message"), NEW_BAD,
                         ids=[m[:28] for *_, m in NEW_BAD])
def test_a_bad_new_code_is_refused_with_a_clear_message(app, supervisor, fields, status,
                                                        message):
    before = (catalogue(app), count(app, AuditEvent))
    data = {"action": "reject", "code": "open_relay", "label_pt": "Relay aberto",
            "label_en": "Open relay", **fields}

    response = supervisor.submit(PAGE, data)

    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    assert (catalogue(app), count(app, AuditEvent)) == before


EDIT_BAD = [
    (OTHER, {"label_pt": ""}, 422, "Informe o texto em português."),
    (OTHER, {"label_en": "x" * 201}, 422, "O texto deve ter até 200 caracteres."),
    (f"{PAGE}revoke/customer_request", {"active": ""}, 409,
     "é o que o cliente registra ao devolver a exceção"),
]


@pytest.mark.parametrize(("url", "fields", "status", "message"), EDIT_BAD,
                         ids=[m[:28] for *_, m in EDIT_BAD])
def test_a_bad_change_is_refused_with_a_clear_message(app, supervisor, url, fields, status,
                                                      message):
    before = (catalogue(app), count(app, AuditEvent))
    data = {"label_pt": "Texto", "label_en": "Text", "active": "y", **fields}

    response = supervisor.submit(url, data)

    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    assert (catalogue(app), count(app, AuditEvent)) == before


def test_the_last_active_code_of_an_action_stays_on(app, supervisor):
    for code in ("insufficient_justification", "address_not_eligible", "abuse_history"):
        supervisor.submit(f"{PAGE}reject/{code}", {"label_pt": "x", "label_en": "x"})
    before = (catalogue(app), count(app, AuditEvent))

    response = supervisor.submit(OTHER, {"label_pt": "Outro motivo", "label_en": "Other"})

    assert response.status_code == 409
    assert "É preciso manter pelo menos um motivo ativo" in response.get_data(as_text=True)
    assert (catalogue(app), count(app, AuditEvent)) == before


def test_an_unknown_code_is_404(app, supervisor):
    assert supervisor.get(f"{PAGE}reject/nonexistent").status_code == 404
    assert supervisor.get(f"{PAGE}approve/other").status_code == 404


@pytest.mark.parametrize("role", ["operator", "auditor", "customer"])
def test_only_supervisors_reach_the_catalogue(app, people, role):
    browser = signed_in(app, people[role])
    before = (catalogue(app), count(app, AuditEvent))

    pages = [browser.get(url).status_code for url in (PAGE, OTHER)]
    posts = [browser.submit(url, {"action": "reject", "code": "x_y", "label_pt": "a",
                                  "label_en": "b"}, page="/login", follow=False).status_code
             for url in (PAGE, OTHER)]

    assert (pages, posts) == ([403, 403], [403, 403])
    assert (catalogue(app), count(app, AuditEvent)) == before
    assert events(app, "reason_code:changed") == []
