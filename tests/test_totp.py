"""The second factor at sign-in: staff and auditors give a TOTP code (or a recovery code)
after their password; customers and providers do not. Enrolment from scratch through the
QR page, replays, the rate limit and the half-way session that grants nothing."""

from __future__ import annotations

import hashlib
import re
import time

import pyotp
import pytest
import segno
from sqlalchemy import select

from models import AuditEvent, RecoveryCode, User, db
from tests.api_support import Api
from tests.factories import PASSWORD, TOTP_SECRET, make_user
from tests.helpers import Browser, authenticator_code

STAFF_ROLES = ["operator", "supervisor", "auditor"]
WRONG_CODE = "Código incorreto ou já usado."
SECRET_FIELD = re.compile(r'id="totp-secret" type="text" readonly value="([A-Z2-7 ]+)"')
RECOVERY = re.compile(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>")


def half_signed_in(app, person, *, address: str | None = None) -> Browser:
    """A browser that gave ``person``'s password and stands at the second step."""
    browser = Browser(app.test_client())
    if address:
        browser.client.environ_base["REMOTE_ADDR"] = address
    response = browser.submit("/login", {"email": person.email, "password": PASSWORD},
                              follow=False, second_factor=False)
    assert response.status_code == 302, response.status_code
    return browser


def type_code(browser: Browser, code: str, *, follow: bool = True):
    return browser.submit("/login/code", {"code": code}, follow=follow, page="/login")


def wrong_code(secret: str) -> str:
    """Six digits that no step in the accepted window gives."""
    totp, now = pyotp.TOTP(secret), time.time()
    window = {totp.at(now + 30 * offset) for offset in (-1, 0, 1)}
    return next(f"{n:06d}" for n in range(1, 10) if f"{n:06d}" not in window)


def actions(app) -> list[tuple[str, dict]]:
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
        return [(e.action, e.details) for e in events]


def events_of(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                    .order_by(AuditEvent.seq)).all()
        for event in events:
            db.session.expunge(event)
        return events


def enrol(app, browser: Browser) -> list[str]:
    """Enrol at the QR page as a person does (reading the key off it); the recovery codes."""
    page = browser.text("/login/enrol")
    secret = SECRET_FIELD.search(page).group(1).replace(" ", "")
    response = browser.submit("/login/enrol", {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 200
    return RECOVERY.findall(response.get_data(as_text=True))


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_a_password_alone_signs_no_staff_member_in(app, role):
    person = make_user(app, role)
    browser = half_signed_in(app, person)
    assert browser.get("/login/code").status_code == 200
    for url in ("/desk/", "/desk/enforcement/", "/portal/"):
        response = browser.get(url)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert "Sair" not in browser.text("/")
    assert "user:logged_in" not in [action for action, _ in actions(app)]


def test_the_api_keeps_its_tokens_without_a_second_factor(app):
    operator = make_user(app, "operator")
    assert Api(app, operator).get("/api/v1/cases").status_code == 200


@pytest.mark.parametrize(("role", "home"), [("customer", "/portal/"), ("provider", "/")])
def test_customers_and_providers_sign_in_with_the_password_alone(app, browser, role, home):
    person = make_user(app, role)
    response = browser.submit("/login", {"email": person.email, "password": PASSWORD},
                              second_factor=False)
    assert response.request.path == home
    assert actions(app)[-1] == ("user:logged_in", '{"factor":"password"}')


@pytest.mark.parametrize(("role", "home"), [("operator", "/desk/"), ("auditor", "/regulador/")])
def test_the_right_code_signs_in_and_the_event_names_the_factor(app, role, home):
    person = make_user(app, role)
    browser = half_signed_in(app, person)
    page = browser.text("/login/code")
    assert "Verificação em duas etapas" in page and "aplicativo autenticador" in page
    response = type_code(browser, authenticator_code(app, person.email))
    assert response.request.path == home
    assert actions(app)[-1] == ("user:logged_in", '{"factor":"totp"}')


def test_the_page_asked_for_first_opens_after_the_code(app):
    operator = make_user(app, "operator")
    browser = Browser(app.test_client())
    token = browser.csrf_token("/login")
    browser.client.post("/login?next=/desk/?status=submitted",
                        data={"csrf_token": token, "email": operator.email, "password": PASSWORD})
    response = type_code(browser, authenticator_code(app, operator.email), follow=False)
    assert response.headers["Location"] == "/desk/?status=submitted"


def test_a_wrong_code_is_refused_audited_and_signs_nobody_in(app):
    operator = make_user(app, "operator")
    browser = half_signed_in(app, operator)
    response = type_code(browser, wrong_code(TOTP_SECRET))
    assert response.status_code == 422
    assert WRONG_CODE in response.get_data(as_text=True)
    assert browser.get("/desk/").status_code == 302
    [failed] = events_of(app, "user:totp_failed")
    assert (failed.actor_id, failed.object_id) == (None, str(operator.id))
    assert failed.details == '{"stage":"sign_in"}'


def test_a_code_already_used_is_refused(app):
    operator = make_user(app, "operator")
    code = authenticator_code(app, operator.email)
    first = half_signed_in(app, operator)
    assert type_code(first, code).request.path == "/desk/"

    second = half_signed_in(app, operator)
    response = type_code(second, code)
    assert response.status_code == 422 and WRONG_CODE in response.get_data(as_text=True)
    assert second.get("/desk/").status_code == 302
    assert len(events_of(app, "user:totp_failed")) == 1


def test_a_code_from_the_steps_next_to_now_is_accepted_but_not_two_away(app):
    operator = make_user(app, "operator")
    totp, now = pyotp.TOTP(TOTP_SECRET), time.time()
    browser = half_signed_in(app, operator)
    assert type_code(browser, totp.at(now - 90)).status_code == 422
    assert type_code(browser, totp.at(now - 30)).request.path == "/desk/"


def test_enrolment_from_scratch_through_the_qr_page(app):
    operator = make_user(app, "operator", enrolled=False)
    browser = Browser(app.test_client())
    response = browser.submit("/login", {"email": operator.email, "password": PASSWORD})
    assert response.request.path == "/login/enrol"
    page = response.get_data(as_text=True)
    assert "Ative a verificação em duas etapas" in page
    secret = SECRET_FIELD.search(page).group(1).replace(" ", "")
    assert len(secret) == 32
    # The QR code is the otpauth:// URI of this key, issued in the ISP's name, inline SVG.
    uri = pyotp.TOTP(secret).provisioning_uri(name=operator.email,
                                              issuer_name="Provedor Exemplo Telecom Ltda")
    drawn = re.search(r'<svg [^>]*class="qr".*?</svg>', page).group(0)
    assert drawn == segno.make(uri, error="m").svg_inline(
        scale=4, border=4, dark="#000", light="#fff", svgclass="qr")
    assert "style=" not in drawn and "<script" not in page
    assert response.headers["Cache-Control"] == "no-store"
    assert SECRET_FIELD.search(browser.text("/login/enrol")).group(1).replace(" ", "") == secret
    assert browser.get("/desk/").status_code == 302  # not signed in before the first code

    wrong = browser.submit("/login/enrol", {"code": wrong_code(secret)})
    assert wrong.status_code == 422 and WRONG_CODE in wrong.get_data(as_text=True)

    done = browser.submit("/login/enrol", {"code": pyotp.TOTP(secret).now()})
    codes = RECOVERY.findall(done.get_data(as_text=True))
    assert len(set(codes)) == 10
    assert "não serão mostrados de novo" in done.get_data(as_text=True)
    assert done.headers["Cache-Control"] == "no-store"
    assert browser.get("/desk/").status_code == 200
    assert [a for a, _ in actions(app)][-3:] == ["user:totp_failed", "user:totp_enrolled",
                                                  "user:logged_in"]
    # Only hashes are kept, and the codes are never shown again.
    with app.app_context():
        stored = set(db.session.scalars(select(RecoveryCode.code_hash)
                                        .where(RecoveryCode.user_id == operator.id)))
        assert db.session.get(User, operator.id).totp_secret == secret
    assert stored == {hashlib.sha256(c.replace("-", "").encode()).hexdigest() for c in codes}
    again = browser.get("/login/enrol", follow_redirects=True).get_data(as_text=True)
    assert not any(code in again for code in codes)
    browser.logout()
    assert browser.login(operator.email).request.path == "/desk/"  # the code step, typed


def test_a_recovery_code_works_once(app):
    operator = make_user(app, "operator", enrolled=False)
    browser = Browser(app.test_client())
    browser.submit("/login", {"email": operator.email, "password": PASSWORD})
    codes = enrol(app, browser)
    browser.logout()

    browser = half_signed_in(app, operator)
    response = type_code(browser, codes[3].upper().replace("-", " "))
    assert response.request.path == "/desk/"
    assert "Código de recuperação aceito" in response.get_data(as_text=True)
    assert "Restam 9." in response.get_data(as_text=True)
    used = events_of(app, "user:recovery_code_used")
    assert [e.details for e in used] == ['{"remaining":9}']
    assert actions(app)[-1] == ("user:logged_in", '{"factor":"recovery_code"}')
    browser.logout()

    browser = half_signed_in(app, operator)
    response = type_code(browser, codes[3])
    assert response.status_code == 422 and WRONG_CODE in response.get_data(as_text=True)
    assert browser.get("/desk/").status_code == 302


def test_the_code_step_is_rate_limited_per_address_and_per_account(app_factory):
    app = app_factory(LOGIN_RATE_LIMIT="3 per minute")
    operator = make_user(app, "operator")
    browser = half_signed_in(app, operator)
    for _ in range(3):
        assert type_code(browser, wrong_code(TOTP_SECRET)).status_code == 422
    response = type_code(browser, authenticator_code(app, operator.email))
    assert response.status_code == 429
    assert "Muitas tentativas" in response.get_data(as_text=True)
    assert len(events_of(app, "user:totp_failed")) == 3
    # Another address does not buy the same account more guesses.
    elsewhere = half_signed_in(app, operator, address="192.0.2.44")
    assert type_code(elsewhere, authenticator_code(app, operator.email)).status_code == 429


def test_a_half_way_sign_in_expires(app):
    operator = make_user(app, "operator")
    browser = half_signed_in(app, operator)
    with browser.client.session_transaction() as session:  # five minutes and a second later
        session["second_factor"] = {**session["second_factor"],
                                    "since": session["second_factor"]["since"] - 301}
    response = browser.get("/login/code", follow_redirects=True)
    assert response.request.path == "/login"
    assert "A verificação expirou. Entre de novo." in response.get_data(as_text=True)
    assert type_code(browser, authenticator_code(app, operator.email),
                     follow=False).headers["Location"] == "/login"


def test_a_new_password_attempt_restarts_the_second_step(app):
    operator = make_user(app, "operator")
    browser = half_signed_in(app, operator)
    browser.submit("/login", {"email": operator.email, "password": "errada-123456"})
    response = browser.get("/login/code")
    assert response.status_code == 302 and response.headers["Location"] == "/login"


def test_the_code_page_in_english(app):
    from tests.test_i18n import _catalogue, assert_english, in_english

    portuguese_only = {e.id for e in _catalogue() if isinstance(e.id, str) and e.string
                       and e.string != e.id}
    operator = make_user(app, "operator")
    browser = half_signed_in(app, operator)
    page = in_english(browser, "/login/code").get_data(as_text=True)
    assert_english(page, portuguese_only, "Two-step verification", "authenticator app")
    wrong = type_code(browser, wrong_code(TOTP_SECRET)).get_data(as_text=True)
    assert_english(wrong, portuguese_only, "Wrong or already used code")

    newcomer = half_signed_in(app, make_user(app, "auditor", enrolled=False))
    page = in_english(newcomer, "/login/enrol").get_data(as_text=True)
    assert_english(page, portuguese_only, "Turn on two-step verification", "Activate")
