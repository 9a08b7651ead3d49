from tests.factories import make_user


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
