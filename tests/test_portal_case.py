"""The customer's case page: deadlines, story, and only the actions allowed now.

The module shares one database (people are made once); each test drives its
own cases, on targets nobody else uses.
"""

from __future__ import annotations

import pytest

from tests.factories import (
    QUESTION,
    act,
    case_in,
    make_case,
    make_people,
    status_of,
    unique_target,
)
from tests.helpers import Browser
from tests.portal_support import add_note, load, offered_actions, stored, version_in


@pytest.fixture
def app(module_app):
    return module_app


@pytest.fixture(scope="module")
def people(module_app):
    return make_people(module_app)


@pytest.fixture
def cast(people, browser):
    """Everyone, with the customer signed in."""
    browser.login(people.customer.email)
    return people


def url(protocol: str, action: str | None = None) -> str:
    return f"/portal/cases/{protocol}" + (f"/{action}" if action else "")


def send(browser, protocol: str, action: str, message: str = "", *, version=None):
    """Fill ``action``'s form on the case page and press its button."""
    version = version or version_in(browser.text(url(protocol)), action)
    return browser.submit(url(protocol, action),
                          {f"{action}-message": message, f"{action}-version": version},
                          page=url(protocol))


OFFERED = {
    "submitted": {"cancel"},
    "in_review": {"cancel"},
    "awaiting_customer": {"reply", "cancel"},
    "pending_second_approval": set(),
    "approved": {"revoke"},
    "active": {"revoke"},
    "rejected": {"appeal"},
    "appealed": set(),
    "cancelled": set(),
    "revoked": set(),
    "expired": set(),
}


@pytest.mark.parametrize(("status", "actions"), OFFERED.items(), ids=list(OFFERED))
def test_the_page_offers_only_what_the_customer_may_do_now(app, cast, browser, status,
                                                           actions):
    protocol = case_in(app, status, cast)

    page = browser.text(url(protocol))

    assert offered_actions(page) == actions
    assert f'<span class="protocol">{protocol}</span>' in page
    assert "Resposta (7 dias corridos)" in page and "Execução (10 dias úteis)" in page


def test_the_page_shows_everything_the_customer_sent(app, cast, browser):
    target = unique_target()
    protocol = make_case(app, cast.customer, target=target, messages_per_day=2500,
                         sending_kind="bulk", mail_hostname="smtp.loja.com.br")
    page = browser.text(url(protocol))
    for text in (f"{target}/128", "CTR-0042", "smtp.loja.com.br", "2.500",
                 "Em massa", "Servidor de e-mail próprio", "versão 2026-11",
                 "Servidor de e-mail próprio da empresa, com SPF, DKIM e DMARC."):
        assert text in page


def test_a_question_from_the_team_is_shown_above_the_reply_form(app, cast, browser):
    protocol = case_in(app, "awaiting_customer", cast)
    page = browser.text(url(protocol))
    assert "A equipe precisa de mais informações" in page
    assert page.index(QUESTION) < page.index('name="reply-message"')
    assert "pausado (aguardando o cliente)" in page


ACTIONS = [
    ("awaiting_customer", "reply", "O SPF é v=spf1 ip4:203.0.113.10 -all.", "in_review",
     "Resposta enviada."),
    ("submitted", "cancel", "", "cancelled", "Pedido cancelado."),
    ("awaiting_customer", "cancel", "Não preciso mais.", "cancelled", "Pedido cancelado."),
    ("rejected", "appeal", "O servidor já tem SPF e DNS reverso.", "appealed",
     "Recurso registrado."),
    ("approved", "revoke", "", "revoked", "Exceção devolvida."),
    ("active", "revoke", "Mudamos de provedor.", "revoked", "Exceção devolvida."),
]


@pytest.mark.parametrize(("status", "action", "message", "after", "flash"), ACTIONS,
                         ids=[f"{a}-from-{s}" for s, a, *_ in ACTIONS])
def test_the_customers_actions_change_the_status(app, cast, browser, status, action, message,
                                                 after, flash):
    protocol = case_in(app, status, cast)

    response = send(browser, protocol, action, message)

    page = response.get_data(as_text=True)
    assert response.request.path == url(protocol)  # post/redirect/get
    assert flash in page
    assert status_of(app, protocol) == after
    if message:
        assert message in page  # now in the timeline, signed "Você"
    assert "Você" in page


@pytest.mark.parametrize(("status", "action"), [("awaiting_customer", "reply"),
                                                ("rejected", "appeal")])
def test_a_reply_or_appeal_needs_a_message(app, cast, browser, status, action):
    protocol = case_in(app, status, cast)

    response = send(browser, protocol, action, "   ")

    assert response.status_code == 422
    assert f'id="{action}-message-error"' in response.get_data(as_text=True)
    assert "Escreva a mensagem." in response.get_data(as_text=True)
    assert status_of(app, protocol) == status


def test_the_rejection_reason_is_in_plain_words_with_the_appeal_deadline(app, cast, browser):
    protocol = case_in(app, "in_review", cast)
    act(app, protocol, "reject", cast.operator, reason_code="insufficient_justification",
        message="Faltou explicar quem recebe as mensagens.")
    page = browser.text(url(protocol))
    assert "Motivo: <strong>Justificativa insuficiente</strong>" in page
    assert "Faltou explicar quem recebe as mensagens." in page
    assert "você pode recorrer uma vez, até" in page
    assert "recurso possível até" in browser.text("/portal/")

    browser.submit("/language", {"locale": "en", "next": url(protocol)}, page=url(protocol))
    assert "Insufficient justification" in browser.text(url(protocol))


def test_an_appeal_is_not_offered_after_the_window(app_factory):
    app = app_factory(APPEAL_WINDOW_DAYS=0)
    cast = make_people(app)
    browser = Browser(app.test_client())
    browser.login(cast.customer.email)
    protocol = case_in(app, "rejected", cast)
    page = browser.text(url(protocol))
    assert offered_actions(page) == set()

    response = send(browser, protocol, "appeal", "Peço revisão.",
                    version=str(load(app, protocol)["version"]))

    assert response.status_code == 409
    assert "O prazo de 0 dias para recorrer terminou." in response.get_data(as_text=True)
    assert status_of(app, protocol) == "rejected"


def test_an_appeal_is_offered_only_once(app, cast, browser):
    protocol = case_in(app, "appealed", cast)
    act(app, protocol, "claim", cast.colleague)
    act(app, protocol, "reject", cast.colleague, reason_code="abuse_history")

    page = browser.text(url(protocol))

    assert offered_actions(page) == set()
    assert "Histórico de abuso" in page
    assert "já passou por recurso" in page


def test_internal_notes_never_reach_the_customer(app, cast, browser):
    protocol = case_in(app, "in_review", cast)
    add_note(app, protocol, cast.operator, "Nota interna: conferir o histórico de spam.")
    add_note(app, protocol, cast.operator, "Estamos verificando o DNS reverso.", public=True)

    page = browser.text(url(protocol))

    assert "Nota interna" not in page and "histórico de spam" not in page
    assert "Estamos verificando o DNS reverso." in page
    assert "Equipe do provedor" in page
    assert "Operator" not in page  # staff are never named to the customer


@pytest.mark.parametrize("path", ["", "/reply", "/cancel", "/appeal", "/revoke", "/claim",
                                  "/approve"])
def test_another_customers_case_is_not_found(app, cast, browser, path):
    theirs = make_case(app, cast.stranger, target=unique_target())
    before = stored(app)
    if path:
        response = browser.submit(url(theirs) + path, {"cancel-version": "1"}, page="/portal/")
    else:
        response = browser.get(url(theirs))
    assert response.status_code == 404
    assert "Caso não encontrado." in response.get_data(as_text=True)
    assert stored(app) == before


@pytest.mark.parametrize("protocol", ["2026000000011", "123", "abc"])
def test_a_mistyped_protocol_is_not_found(cast, browser, protocol):
    assert browser.get(url(protocol)).status_code == 404


@pytest.mark.parametrize("action", ["claim", "approve", "reject", "request_info", "nope"])
def test_staff_actions_are_not_on_the_portal(app, cast, browser, action):
    protocol = make_case(app, cast.customer, target=unique_target())
    response = browser.submit(url(protocol, action), {f"{action}-version": "1"},
                              page=url(protocol))
    assert response.status_code == 404
    assert status_of(app, protocol) == "submitted"


def test_a_stale_page_gives_a_conflict_and_changes_nothing(app, cast, browser):
    protocol = make_case(app, cast.customer, target=unique_target())
    seen = version_in(browser.text(url(protocol)), "cancel")
    act(app, protocol, "claim", cast.operator)  # meanwhile the team takes the case
    before = stored(app)

    response = send(browser, protocol, "cancel", "Desisti.", version=seen)

    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "O caso foi alterado por outra pessoa enquanto você o via." in page
    assert status_of(app, protocol) == "in_review"
    assert stored(app) == before
    assert "Desisti." in page  # the text typed is kept …
    assert version_in(page, "cancel") != seen  # … in a form that now carries the new version


def test_a_form_without_its_version_is_refused(app, cast, browser):
    protocol = make_case(app, cast.customer, target=unique_target())
    response = browser.submit(url(protocol, "cancel"), {"cancel-message": "x"},
                              page=url(protocol))
    assert response.status_code == 400
    assert status_of(app, protocol) == "submitted"
