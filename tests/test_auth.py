import pytest
from sqlalchemy import func, select

from models import AuditEvent, Role, User, db
from tests.factories import PASSWORD, make_user
from tests.helpers import Browser


def test_login_page_is_portuguese_and_has_a_csrf_token(client):
    page = client.get("/login").get_data(as_text=True)
    assert "Entrar" in page and 'name="csrf_token"' in page


def test_a_customer_signs_in_and_lands_on_their_cases(app, browser):
    customer = make_user(app)
    response = browser.login(customer.email)
    assert response.request.path == "/portal/"


def test_wrong_password_is_refused_in_portuguese(app, browser):
    customer = make_user(app)
    page = browser.submit("/login", {"email": customer.email, "password": "errada-123456"})
    assert "E-mail ou senha incorretos." in page.get_data(as_text=True)


def test_post_without_csrf_token_is_refused(app, client):
    customer = make_user(app)
    response = client.post("/login", data={"email": customer.email, "password": "x"})
    assert response.status_code == 400
    assert "O formulário expirou" in response.get_data(as_text=True)


def test_every_page_carries_a_strict_csp(client):
    csp = client.get("/").headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp


def test_sign_in_is_rate_limited_per_address(app_factory):
    app = app_factory(LOGIN_RATE_LIMIT="3 per minute")
    customer = make_user(app)
    browser = Browser(app.test_client())
    for _ in range(3):
        browser.submit("/login", {"email": customer.email, "password": "errada-123456"})
    response = browser.submit("/login", {"email": customer.email, "password": PASSWORD})
    assert response.status_code == 429
    assert "Muitas tentativas" in response.get_data(as_text=True)


def test_session_cookie_is_secure_httponly_and_samesite(app, browser):
    customer = make_user(app)
    token = browser.csrf_token("/login")
    response = browser.client.post("/login", data={"csrf_token": token, "email": customer.email,
                                                   "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_password_is_stored_as_argon2id(app):
    customer = make_user(app)
    with app.app_context():
        stored = db.session.get(User, customer.id).password_hash
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


VALID_REGISTRATION = {
    "name": "Joana Lima", "email": "joana@example.com.br", "cpf_cnpj": "529.982.247-25",
    "phone": "+55 21 98888-7777", "subscriber_id": "CTR-9001", "uf": "RJ",
    "password": "uma-senha-longa", "confirm": "uma-senha-longa",
}


def test_a_customer_registers_with_a_valid_cpf(app, browser):
    page = browser.submit("/register", VALID_REGISTRATION)
    assert page.request.path == "/portal/guide"
    with app.app_context():
        user = db.session.scalars(select(User).where(User.email == "joana@example.com.br")).one()
        assert (user.role, user.uf, user.cpf_cnpj) == (Role.CUSTOMER, "RJ", "52998224725")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("cpf_cnpj", "529.982.247-24", "CPF ou CNPJ inválido"),
        ("cpf_cnpj", "11.222.333/0001-80", "CPF ou CNPJ inválido"),
        ("cpf_cnpj", "123", "CPF ou CNPJ inválido"),
        ("email", "joana-sem-arroba", "e-mail válido"),
        ("password", "curta", "pelo menos 10 caracteres"),
        ("uf", "", "Campo obrigatório."),
    ],
)
def test_registration_refuses_bad_input_and_stores_nothing(app, browser, field, value, message):
    data = {**VALID_REGISTRATION, field: value}
    if field == "password":
        data["confirm"] = value
    page = browser.submit("/register", data).get_data(as_text=True)
    assert message in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_registration_with_a_taken_email_is_refused(app, browser):
    existing = make_user(app)
    page = browser.submit("/register", {**VALID_REGISTRATION, "email": existing.email})
    assert "Já existe uma conta com este e-mail." in page.get_data(as_text=True)


def test_the_language_switch_keeps_the_choice(browser):
    browser.submit("/language", {"locale": "en", "next": "/login"}, page="/login")
    page = browser.text("/login")
    assert 'lang="en"' in page


def test_next_never_leaves_the_site(app, browser):
    customer = make_user(app)
    token = browser.csrf_token("/login")
    response = browser.client.post("/login?next=https://evil.example/", data={
        "csrf_token": token, "email": customer.email, "password": PASSWORD})
    assert response.headers["Location"] == "/portal/"


@pytest.mark.parametrize(("role", "home"), [("customer", "/portal/"), ("operator", "/desk/"),
                                            ("supervisor", "/desk/"), ("auditor", "/regulador/"),
                                            ("provider", "/")])
def test_each_role_lands_on_its_home_page(app, browser, role, home):
    person = make_user(app, role)
    response = browser.login(person.email)
    assert response.request.path == home


def test_signing_out_ends_the_session_and_is_audited(app, browser):
    customer = make_user(app)
    browser.login(customer.email)
    assert "Você saiu." in browser.logout().get_data(as_text=True)
    assert browser.get("/portal/").status_code == 302
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)).all()
    assert actions[-2:] == ["user:logged_in", "user:logged_out"]
