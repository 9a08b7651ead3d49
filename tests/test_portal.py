"""The customer portal's guide, request form and list of cases (DESIGN §4).

The module shares one database (people are made once); each test files its own
cases on targets nobody else uses and compares what was stored before and after.
"""

from __future__ import annotations

import re

import pytest

from models import Role
from tests.factories import make_case, make_people, make_user, unique_target
from tests.portal_support import load, stored

NEW = "/portal/cases/new"


def valid_form(**overrides) -> dict:
    """A request as the browser posts it once the customer has filled the form."""
    fields = {
        "target": unique_target(),
        "subscriber_id": "CTR-0042",
        "category": "own_mail_server",
        "justification": "Servidor de e-mail da empresa, com SPF, DKIM e DMARC configurados.",
        "mail_hostname": "mail.exemplo.com.br",
        "messages_per_day": "1.500",
        "sending_kind": "transactional",
        "terms_version": "2026-11",
        "accept_terms": "y",
    }
    fields.update(overrides)
    return {k: v for k, v in fields.items() if v is not None}


@pytest.fixture
def app(module_app):
    return module_app


@pytest.fixture(scope="module")
def people(module_app):
    return make_people(module_app)


@pytest.fixture(scope="module")
def filer(module_app):
    """The customer who fills the form in this module."""
    return make_user(module_app, subscriber_id="CTR-7788")


@pytest.fixture
def customer(filer, browser):
    browser.login(filer.email)
    return filer


def test_guide_sends_a_mail_client_user_to_the_submission_ports(customer, browser):
    guide = browser.text("/portal/guide")
    link = re.search(r'href="(/portal/guide\?need=mail_client[^"]*)"', guide)
    assert link, "the guide offers the mail-client answer"

    answer = browser.text(link.group(1).replace("&amp;", "&"))

    assert "Você não precisa de exceção" in answer
    assert "587" in answer and "STARTTLS" in answer and "465" in answer
    assert "autenticação" in answer
    assert NEW not in answer  # nothing here leads to the request form


@pytest.mark.parametrize("category", ["own_mail_server", "smtp_application", "other"])
def test_guide_sends_servers_and_applications_to_the_form_with_their_need_chosen(
        customer, browser, category):
    assert f'href="{NEW}?category={category}"' in browser.text("/portal/guide")

    form = browser.text(f"{NEW}?category={category}")

    assert re.search(rf'<input[^>]* checked [^>]*value="{category}">', form)


def test_form_is_prefilled_and_shows_the_terms_in_force(customer, browser):
    form = browser.text(NEW)
    assert 'value="CTR-7788"' in form  # the subscriber id of the account
    assert "Termos de uso" in form and "versão 2026-11" in form
    assert "relay aberto" in form and "12 meses" in form and "revogar" in form
    assert 'name="terms_version" type="hidden" value="2026-11"' in form
    assert "Entre 30 e 4.000 caracteres" in form


def test_a_valid_request_shows_its_protocol_and_stores_the_accepted_terms(app, customer,
                                                                           browser):
    before = stored(app)
    response = browser.submit(NEW, valid_form(target="2001:db8:77::25"))

    page = response.get_data(as_text=True)
    protocol = re.search(r"/portal/cases/(\d{13})$", response.request.path).group(1)
    assert f'Pedido registrado. Protocolo nº <strong class="protocol">{protocol}</strong>' in page
    assert f'<span class="protocol">{protocol}</span>' in page
    case = load(app, protocol)
    assert case["customer_id"] == customer.id
    assert (case["target"], case["status"]) == ("2001:db8:77::25/128", "submitted")
    assert (case["terms_version"], case["terms_accepted_from"]) == ("2026-11", "127.0.0.1")
    assert case["terms_accepted_at"] is not None
    assert (case["messages_per_day"], case["sending_kind"]) == (1500, "transactional")
    assert stored(app)[0] == before[0] + 1


def test_the_sending_profile_is_optional(app, customer, browser):
    response = browser.submit(NEW, valid_form(messages_per_day="", sending_kind=""))
    protocol = response.request.path.rsplit("/", 1)[1]
    case = load(app, protocol)
    assert (case["messages_per_day"], case["sending_kind"]) == (None, None)
    assert "não informado" in response.get_data(as_text=True)


BAD_INPUT = [
    ({"target": ""}, "target", "Informe o endereço IP ou prefixo."),
    ({"target": "203.0.113"}, "target", "não é um endereço IPv4/IPv6 ou prefixo válido"),
    ({"target": "10.0.0.5"}, "target", "10.0.0.5/32 é um endereço privado"),
    ({"target": "127.0.0.1"}, "target", "127.0.0.1/32 é um endereço de loopback"),
    ({"target": "224.0.0.1"}, "target", "224.0.0.1/32 é um endereço multicast"),
    ({"target": "8.8.8.8"}, "target", "8.8.8.8/32 não pertence à rede deste provedor."),
    ({"target": "203.0.113.0/28"}, "target", "no máximo 8 endereços (/29)"),
    ({"target": "2001:db8:1::/48"}, "target", "Prefixos IPv6 devem estar entre /64 e /128"),
    ({"target": "203.0.113.5/29"}, "target", "Você quis dizer 203.0.113.0/29?"),
    ({"subscriber_id": ""}, "subscriber_id", "Informe o código do contrato/assinante"),
    ({"category": None}, "category", "Escolha a finalidade do pedido."),
    ({"justification": "Preciso."}, "justification",
     "A justificativa deve ter entre 30 e 4000 caracteres (tem 8)."),
    ({"justification": "x" * 4001}, "justification", "(tem 4001)"),
    ({"mail_hostname": "servidor_de_email"}, "mail_hostname",
     "Informe o nome completo do servidor de e-mail"),
    ({"messages_per_day": "muitas"}, "messages_per_day", "Informe um número inteiro"),
    ({"sending_kind": "spam"}, "messages_per_day", "O tipo de envio deve ser"),
    ({"accept_terms": None}, "accept_terms", "É preciso aceitar a versão vigente dos termos"),
    ({"terms_version": "2025-01"}, "accept_terms", "versão vigente dos termos de uso (2026-11)"),
]


@pytest.mark.parametrize(("overrides", "field", "message"), BAD_INPUT,
                         ids=[f"{f}:{next(iter(o.values()))!s:.20}" for o, f, _ in BAD_INPUT])
def test_bad_input_is_explained_next_to_its_field_and_stores_nothing(
        app, customer, browser, overrides, field, message):
    before = stored(app)

    response = browser.submit(NEW, valid_form(**overrides))

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    error = re.search(rf'<small id="{field}-error" class="field-error">([^<]*)</small>', page)
    assert error and message in error.group(1), page
    assert stored(app) == before


@pytest.mark.parametrize(("owner", "message"), [
    ("customer", "Você já tem o pedido {protocol} aberto ou ativo para {target}/128"),
    ("stranger", "Já existe um pedido aberto ou uma exceção ativa que cobre {target}/128"),
], ids=["own", "someone-elses"])
def test_a_target_with_an_open_case_is_refused_and_stores_nothing(app, people, customer,
                                                                  browser, owner, message):
    target = unique_target()
    protocol = make_case(app, customer if owner == "customer" else people.stranger,
                         target=target)
    before = stored(app)

    response = browser.submit(NEW, valid_form(target=target))

    assert response.status_code == 422
    assert message.format(protocol=protocol, target=target) in \
        response.get_data(as_text=True)
    assert stored(app) == before


def test_a_refused_form_keeps_what_the_customer_typed(customer, browser):
    text = "Servidor Postfix que envia as notas fiscais aos nossos clientes."
    page = browser.submit(NEW, valid_form(target="8.8.8.8", justification=text)) \
        .get_data(as_text=True)
    assert text in page and 'value="8.8.8.8"' in page


def test_the_list_shows_only_the_customers_own_cases_newest_first(app, people, browser):
    browser.login(people.customer.email)
    older = make_case(app, people.customer, target="2001:db8:50::1")
    newer = make_case(app, people.customer, target="2001:db8:50::2")
    someone_else = make_case(app, people.stranger, target="2001:db8:50::3")

    page = browser.text("/portal/")

    assert page.index(newer) < page.index(older)
    assert someone_else not in page and "2001:db8:50::3" not in page
    assert "2001:db8:50::1/128" in page and "Recebido" in page


def test_an_empty_list_leads_to_the_guide(app, browser):
    browser.login(make_user(app).email)
    page = browser.text("/portal/")
    assert "Você ainda não fez nenhum pedido" in page
    assert 'href="/portal/guide" role="button"' in page


PAGES = ["/portal/", "/portal/guide", NEW]


@pytest.mark.parametrize("role", [r.value for r in Role if r is not Role.CUSTOMER])
@pytest.mark.parametrize("url", PAGES)
def test_the_portal_is_for_customers_only(people, browser, role, url):
    person = people.of_role(role)
    # Not browser.login(): it follows the redirect home, and a provider's home is elsewhere.
    browser.submit("/login", {"email": person.email, "password": person.password}, follow=False)
    assert browser.get(url).status_code == 403


@pytest.mark.parametrize("url", PAGES)
def test_a_visitor_is_asked_to_sign_in(browser, url):
    response = browser.get(url)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
