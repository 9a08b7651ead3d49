"""The case page and the staff's decisions, through the real forms (CSRF included)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from models import AuditHead, Case, db
from tests.desk_support import Cast, case_url, decide, signed_in, version_of
from tests.factories import act, make_case, status_of
from workflow import timeline

ACTION_FORM = re.compile(r'action="/desk/cases/\d{13}/actions/(\w+)"')
QUESTION = "Qual é o domínio que envia pela porta 25?"


def offered(page: str) -> list[str]:
    """The decision forms a page offers, in order."""
    return ACTION_FORM.findall(page)


def audit_seq(app) -> int:
    with app.app_context():
        return db.session.get(AuditHead, 1).seq


def assignee_of(app, protocol: str) -> str | None:
    with app.app_context():
        case = db.session.scalars(select(Case).where(Case.protocol == protocol)).one()
        return case.assignee.email if case.assignee else None


@pytest.fixture
def people(app):
    """A customer in SP, two operators, two supervisors (made when first used)."""
    return Cast(
        app,
        customer=("customer", {"name": "Ana Pereira", "uf": "SP"}),
        operator=("operator", {"name": "Olga Operadora"}),
        colleague=("operator", {"name": "Caio Colega"}),
        supervisor=("supervisor", {"name": "Sara Supervisora"}),
        second_supervisor=("supervisor", {"name": "Saulo Supervisor"}),
    )


def test_the_page_shows_everything_the_customer_sent_escaped(app, people):
    justification = "Preciso enviar <script>alert(1)</script> notas fiscais pelo servidor."
    protocol = make_case(app, people["customer"], justification=justification,
                         messages_per_day=500, sending_kind="transactional")
    page = signed_in(app, people["operator"]).text(case_url(protocol))
    for text in (protocol, "203.0.113.", "CTR-0042", "mail.exemplo.com.br", "500 mensagens",
                 "transacional", "versão 2026-11", "127.0.0.1", "Ana Pereira",
                 people["customer"].email, "+55 11 99999-0000", "Servidor de e-mail próprio",
                 "Resposta (7 dias corridos)", "Execução (10 dias úteis)"):
        assert text in page, text
    assert ('<pre class="justification">Preciso enviar &lt;script&gt;alert(1)&lt;/script&gt;'
            in page)


def test_claim_ask_reply_and_approve(app, people):
    protocol = make_case(app, people["customer"])
    browser = signed_in(app, people["operator"])

    page = decide(browser, app, protocol, "claim").get_data(as_text=True)
    assert "Você assumiu o caso." in page and status_of(app, protocol) == "in_review"
    assert offered(page) == ["request_info", "approve", "reject"]

    page = decide(browser, app, protocol, "request_info", message=QUESTION).get_data(as_text=True)
    assert "Pergunta enviada ao cliente" in page and QUESTION in page
    assert status_of(app, protocol) == "awaiting_customer"
    assert "pausado (aguardando o cliente)" in page and offered(page) == []

    act(app, protocol, "reply", people["customer"], message="O domínio é exemplo.com.br.")
    page = decide(browser, app, protocol, "approve", valid_days="365",
                  message="Aprovado; use com responsabilidade.").get_data(as_text=True)
    assert "Pedido aprovado." in page and status_of(app, protocol) == "approved"
    assert "O domínio é exemplo.com.br." in page and "(365 dias)" in page
    assert offered(page) == ["revoke"]


def test_asking_without_a_question_changes_nothing(app, people):
    protocol = make_case(app, people["customer"])
    browser = signed_in(app, people["operator"])
    decide(browser, app, protocol, "claim")
    before = (version_of(app, protocol), audit_seq(app))

    response = decide(browser, app, protocol, "request_info", message="  ")

    assert response.status_code == 422
    assert "Escreva a mensagem." in response.get_data(as_text=True)
    assert (version_of(app, protocol), audit_seq(app)) == before
    assert status_of(app, protocol) == "in_review"


@pytest.mark.parametrize(("target", "valid_days"), [
    ("203.0.113.8/29", ""),  # a prefix, default validity
    ("203.0.113.77", "400"),  # one address, validity above the default
])
def test_four_eyes_approval_needs_another_supervisor(app, people, target, valid_days):
    protocol = make_case(app, people["customer"], target=target)
    first = signed_in(app, people["supervisor"])
    decide(first, app, protocol, "claim")
    page = first.text(case_url(protocol))
    assert "irá para uma segunda aprovação" in page

    page = decide(first, app, protocol, "approve", valid_days=valid_days).get_data(as_text=True)
    assert "aguarda a segunda aprovação" in page
    assert status_of(app, protocol) == "pending_second_approval"
    assert "approve" not in offered(page)

    page = decide(first, app, protocol, "approve").get_data(as_text=True)
    assert "A segunda aprovação deve ser de outro supervisor." in page
    assert status_of(app, protocol) == "pending_second_approval"

    second = signed_in(app, people["second_supervisor"])
    assert offered(second.text(case_url(protocol))) == ["approve", "reject"]
    page = decide(second, app, protocol, "approve").get_data(as_text=True)
    assert "Pedido aprovado." in page and status_of(app, protocol) == "approved"


def test_a_validity_above_the_maximum_is_refused(app, people):
    protocol = make_case(app, people["customer"])
    browser = signed_in(app, people["operator"])
    decide(browser, app, protocol, "claim")
    response = decide(browser, app, protocol, "approve", valid_days="9999")
    assert response.status_code == 422
    assert "A validade deve ser de 1 a 730 dias." in response.get_data(as_text=True)
    assert status_of(app, protocol) == "in_review"


@pytest.mark.parametrize("reason", ["", "no_such_reason"])
def test_rejecting_needs_a_reason_from_the_catalogue(app, people, reason):
    protocol = make_case(app, people["customer"])
    browser = signed_in(app, people["operator"])
    decide(browser, app, protocol, "claim")
    before = (version_of(app, protocol), audit_seq(app))

    response = decide(browser, app, protocol, "reject", reason_code=reason)

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Escolha o motivo." in page or "Motivo desconhecido" in page
    assert 'id="reject-reason_code-error"' in page
    assert (version_of(app, protocol), audit_seq(app)) == before


def test_a_rejection_shows_its_reason_in_the_current_language(app, people):
    protocol = make_case(app, people["customer"])
    browser = signed_in(app, people["operator"])
    decide(browser, app, protocol, "claim")
    page = decide(browser, app, protocol, "reject", reason_code="address_not_eligible",
                  message="O endereço é dinâmico.").get_data(as_text=True)
    assert "Pedido indeferido." in page and "Endereço não elegível" in page
    assert status_of(app, protocol) == "rejected"


def test_an_appeal_is_claimed_by_someone_other_than_the_rejecter(app, people):
    protocol = make_case(app, people["customer"])
    rejecter = signed_in(app, people["operator"])
    decide(rejecter, app, protocol, "claim")
    decide(rejecter, app, protocol, "reject", reason_code="other")
    act(app, protocol, "appeal", people["customer"], message="Peço nova análise.")

    assert offered(rejecter.text(case_url(protocol))) == []
    page = decide(rejecter, app, protocol, "claim").get_data(as_text=True)
    assert "não por quem indeferiu o pedido" in page
    assert status_of(app, protocol) == "appealed"

    colleague = signed_in(app, people["colleague"])
    assert "Recurso: deve ser analisado" in colleague.text(case_url(protocol))
    decide(colleague, app, protocol, "claim")
    assert status_of(app, protocol) == "in_review"
    assert assignee_of(app, protocol) == people["colleague"].email


def test_staff_revoke_an_exception_with_a_reason(app, people):
    protocol = make_case(app, people["customer"])
    act(app, protocol, "claim", people["operator"])
    act(app, protocol, "approve", people["operator"])
    browser = signed_in(app, people["colleague"])
    page = decide(browser, app, protocol, "revoke", reason_code="abuse_confirmed",
                  message="Spam confirmado.").get_data(as_text=True)
    assert "Exceção revogada." in page and status_of(app, protocol) == "revoked"


@pytest.mark.parametrize(("steps", "viewer", "expected"), [
    ([], "operator", ["claim"]),
    ([], "supervisor", ["claim"]),
    ([("claim", "operator")], "operator", ["request_info", "approve", "reject"]),
    ([("claim", "operator")], "colleague", []),
    ([("claim", "operator")], "supervisor", ["reject"]),  # a supervisor may overrule
    ([("claim", "operator"), ("approve", "operator")], "colleague", ["revoke"]),
])
def test_the_page_offers_what_the_workflow_allows_this_person(app, people, steps, viewer,
                                                             expected):
    protocol = make_case(app, people["customer"])
    for action, who in steps:
        act(app, protocol, action, people[who])
    assert offered(signed_in(app, people[viewer]).text(case_url(protocol))) == expected


def test_two_operators_claiming_at_once_get_one_success_and_one_conflict(app, people):
    protocol = make_case(app, people["customer"])
    seen = version_of(app, protocol)  # both loaded the page at this version
    first, second = signed_in(app, people["operator"]), signed_in(app, people["colleague"])

    assert "Você assumiu o caso." in decide(first, app, protocol, "claim",
                                            version=seen).get_data(as_text=True)
    page = decide(second, app, protocol, "claim", version=seen).get_data(as_text=True)

    assert "alterado por outra pessoa" in page
    assert assignee_of(app, protocol) == people["operator"].email


def test_a_stale_page_cannot_decide(app, people):
    protocol = make_case(app, people["customer"])
    browser = signed_in(app, people["operator"])
    stale = version_of(app, protocol)
    decide(browser, app, protocol, "claim")
    page = decide(browser, app, protocol, "reject", version=stale,
                  reason_code="other").get_data(as_text=True)
    assert "alterado por outra pessoa" in page
    assert status_of(app, protocol) == "in_review"


def test_an_unknown_action_is_not_found(app, people):
    protocol = make_case(app, people["customer"])
    browser = signed_in(app, people["operator"])
    for action in ("reply", "cancel", "activate", "explode"):
        response = browser.submit(f"{case_url(protocol)}/actions/{action}",
                                  {f"{action}-version": "1"}, page=case_url(protocol))
        assert response.status_code == 404, action


@pytest.mark.parametrize(("kind", "internal"), [("internal", True), ("public", False)])
def test_notes_appear_on_the_desk_and_internal_ones_are_marked(app, people, kind, internal):
    protocol = make_case(app, people["customer"])
    browser = signed_in(app, people["operator"])
    text = f"Conferi o PTR ({kind})."
    page = browser.submit(f"{case_url(protocol)}/notes?kind={kind}", {f"{kind}-message": text},
                          page=case_url(protocol)).get_data(as_text=True)

    entry = page.split(text)[0].rsplit("<li", 1)[1]
    assert ('class="internal"' in entry and "Nota interna" in entry) is internal
    with app.app_context():
        case = db.session.scalars(select(Case).where(Case.protocol == protocol)).one()
        customer_sees = [e.body for e in timeline.timeline(case, for_staff=False)]
    assert (text in customer_sees) is not internal


def test_an_empty_note_is_refused(app, people):
    protocol = make_case(app, people["customer"])
    browser = signed_in(app, people["operator"])
    before = audit_seq(app)
    response = browser.submit(f"{case_url(protocol)}/notes?kind=internal",
                              {"internal-message": ""}, page=case_url(protocol))
    assert response.status_code == 422 and "Escreva a mensagem." in response.get_data(as_text=True)
    assert audit_seq(app) == before


def test_staff_see_who_is_working_the_case(app, people):
    protocol = make_case(app, people["customer"])
    act(app, protocol, "claim", people["operator"])
    page = signed_in(app, people["colleague"]).text(case_url(protocol))
    assert "Olga Operadora" in page.split('id="h-decision"')[1].split("</section>")[0]
