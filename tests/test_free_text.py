"""Control characters (NUL first: PostgreSQL cannot store it) are refused with a clear
message wherever people type free text, and nothing is stored."""

import pytest
from sqlalchemy import func, select

from models import Case, Message, User, db
from tests.factories import act, make_case, make_user, request_fields

BAD = ["texto com \x00 nulo e mais de trinta caracteres aqui",
       "sino \x07 e também mais de trinta caracteres"]
MESSAGE = "O texto contém caracteres de controle não permitidos."


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("text", BAD)
def test_a_justification_with_control_characters_is_refused(app, browser, text):
    customer = make_user(app)
    browser.login(customer.email)
    fields = request_fields(justification=text)
    page = browser.submit("/portal/cases/new", {**fields, "accept_terms": "y"})
    assert MESSAGE in page.get_data(as_text=True)
    assert count(app, Case) == 0


@pytest.mark.parametrize("text", BAD)
def test_a_reply_with_control_characters_is_refused(app, browser, text):
    customer, operator = make_user(app), make_user(app, "operator")
    protocol = make_case(app, customer)
    act(app, protocol, "claim", operator)
    act(app, protocol, "request_info", operator, message="Qual é o registro SPF?")
    browser.login(customer.email)
    with app.app_context():
        version = db.session.scalar(select(Case.version).where(Case.protocol == protocol))
    page = browser.submit(f"/portal/cases/{protocol}/reply",
                          {"reply-message": text, "reply-version": version},
                          page=f"/portal/cases/{protocol}")
    assert MESSAGE in page.get_data(as_text=True)
    assert count(app, Message) == 1  # only the operator's question


def test_a_name_with_a_nul_is_refused_at_sign_up(app, browser):
    page = browser.submit("/register", {
        "name": "Jo\x00ana", "email": "joana@example.com.br", "cpf_cnpj": "52998224725",
        "phone": "+55 21 98888-7777", "subscriber_id": "CTR-1", "uf": "RJ",
        "password": "uma-senha-longa", "confirm": "uma-senha-longa"})
    assert MESSAGE in page.get_data(as_text=True)
    assert count(app, User) == 0
