"""Resetting a second factor: a supervisor on the desk for another staff or auditor account
(never their own), or `flask users reset-totp` when no supervisor can sign in."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from models import AuditEvent, RecoveryCode, User, db
from tests.desk_support import Cast, signed_in
from tests.factories import PASSWORD
from tests.helpers import Browser

USERS = "/desk/users/"


@pytest.fixture
def people(app):
    return Cast(app, operator=("operator", {"name": "Olga Operadora"}),
                supervisor=("supervisor", {"name": "Sueli Supervisora"}),
                second_supervisor=("supervisor", {"name": "Sérgio Supervisor"}),
                auditor=("auditor", {"name": "Ana Auditora", "uf": "SP"}),
                newcomer=("operator", {"name": "Nina Nova", "enrolled": False}),
                customer=("customer", {}))


def reset_url(person) -> str:
    return f"/desk/users/{person.id}/reset-totp"


def second_factor_of(app, person) -> tuple:
    with app.app_context():
        user = db.session.get(User, person.id)
        codes = db.session.scalar(select(func.count()).select_from(RecoveryCode)
                                  .where(RecoveryCode.user_id == person.id))
        return user.totp_secret, user.totp_confirmed_at, codes


def resets(app) -> list[AuditEvent]:
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "user:totp_reset").order_by(AuditEvent.seq)).all()
        for event in events:
            db.session.expunge(event)
        return events


def test_the_page_lists_staff_and_auditors_with_their_second_factor(app, people):
    for name in ("operator", "auditor", "newcomer", "customer", "second_supervisor"):
        people[name]
    page = signed_in(app, people["supervisor"]).text(USERS)
    assert "<h1>Contas da equipe</h1>" in page
    for name in ("Olga Operadora", "Ana Auditora", "Nina Nova", "Sérgio Supervisor"):
        assert name in page
    assert people["customer"].email not in page
    assert "ativa desde" in page and "não cadastrada (cadastra no próximo acesso)" in page
    assert "Você (peça a outro supervisor)" in page
    assert f'action="{reset_url(people["operator"])}"' in page
    assert f'action="{reset_url(people["supervisor"])}"' not in page


def test_a_supervisor_resets_an_operator_who_then_enrols_again(app, people):
    operator = people["operator"]
    supervisor = signed_in(app, people["supervisor"])
    response = supervisor.submit(reset_url(operator), page=USERS)
    assert response.request.path == USERS
    assert "Verificação em duas etapas de Olga Operadora redefinida" in \
        response.get_data(as_text=True)
    assert second_factor_of(app, operator) == (None, None, 0)
    [event] = resets(app)
    assert (event.actor_id, event.actor_role, event.object_id) == (
        people["supervisor"].id, "supervisor", str(operator.id))
    assert event.details == '{"role":"operator","was_enrolled":true}'

    again = Browser(app.test_client()).submit(
        "/login", {"email": operator.email, "password": PASSWORD})
    assert again.request.path == "/login/enrol"


def test_a_supervisor_resets_an_auditor(app, people):
    supervisor = signed_in(app, people["supervisor"])
    supervisor.submit(reset_url(people["auditor"]), page=USERS)
    assert second_factor_of(app, people["auditor"])[0] is None


def test_a_supervisor_cannot_reset_their_own_but_another_supervisor_can(app, people):
    me = people["supervisor"]
    supervisor = signed_in(app, me)
    response = supervisor.submit(reset_url(me), page=USERS)
    assert response.status_code == 403
    assert "Você não pode redefinir a sua própria verificação em duas etapas: peça a outro " \
           "supervisor." in response.get_data(as_text=True)
    assert second_factor_of(app, me)[0] is not None and resets(app) == []

    signed_in(app, people["second_supervisor"]).submit(reset_url(me), page=USERS)
    assert second_factor_of(app, me)[0] is None and len(resets(app)) == 1


def test_a_supervisor_with_only_the_password_resets_nobody(app, people):
    from tests.test_totp import half_signed_in

    browser = half_signed_in(app, people["supervisor"])
    assert browser.get(USERS).status_code == 302
    response = browser.submit(reset_url(people["operator"]), page="/login/code")
    assert response.request.path == "/login" and resets(app) == []


@pytest.mark.parametrize("role", ["operator", "auditor"])
def test_operators_and_auditors_reset_nobody(app, people, role):
    browser = signed_in(app, people[role])
    assert browser.get(USERS).status_code == 403
    target = people["newcomer"] if role == "operator" else people["operator"]
    home = "/desk/" if role == "operator" else "/regulador/"  # auditors read on their portal
    assert browser.submit(reset_url(target), page=home).status_code == 403
    assert resets(app) == []


def test_customers_are_not_on_the_page_and_cannot_be_reset(app, people):
    supervisor = signed_in(app, people["supervisor"])
    assert supervisor.submit(reset_url(people["customer"]), page=USERS).status_code == 404
    assert supervisor.submit("/desk/users/999999/reset-totp", page=USERS).status_code == 404
    assert resets(app) == []


def test_a_reset_without_the_form_token_is_refused(app, people):
    supervisor = signed_in(app, people["supervisor"])
    assert supervisor.client.post(reset_url(people["operator"])).status_code == 400
    assert resets(app) == []


def test_a_reset_forgets_the_recovery_codes_too(app, people):
    newcomer = people["newcomer"]
    browser = Browser(app.test_client())
    browser.submit("/login", {"email": newcomer.email, "password": PASSWORD})
    from tests.test_totp import enrol

    codes = enrol(app, browser)
    assert second_factor_of(app, newcomer)[2] == 10
    signed_in(app, people["supervisor"]).submit(reset_url(newcomer), page=USERS)
    assert second_factor_of(app, newcomer) == (None, None, 0)
    browser = Browser(app.test_client())
    browser.submit("/login", {"email": newcomer.email, "password": PASSWORD})
    page = browser.submit("/login/code", {"code": codes[0]}, page="/login", follow=True)
    assert page.request.path == "/login/enrol"  # no code step left to take a recovery code


def test_the_cli_resets_a_supervisor_as_system_cli(app, runner, people):
    supervisor = people["supervisor"]
    result = runner.invoke(args=["users", "reset-totp", "--email", supervisor.email.upper()])
    assert result.exit_code == 0, result.output
    assert f"second factor reset for supervisor {supervisor.email}" in result.output
    assert second_factor_of(app, supervisor)[0] is None
    [event] = resets(app)
    assert (event.actor_id, event.actor_role) == (None, "system:cli")


@pytest.mark.parametrize(("who", "message"), [("nobody", "no account with e-mail"),
                                               ("customer", "Conta não encontrada.")])
def test_the_cli_refuses_unknown_and_customer_accounts(app, runner, people, who, message):
    email = "ninguem@example.com.br" if who == "nobody" else people[who].email
    result = runner.invoke(args=["users", "reset-totp", "--email", email])
    assert result.exit_code != 0 and message in result.output
    assert resets(app) == []


def test_the_accounts_page_in_english(app, people):
    from tests.test_i18n import _catalogue, assert_english, in_english

    portuguese_only = {e.id for e in _catalogue() if isinstance(e.id, str) and e.string
                       and e.string != e.id}
    people["operator"]
    supervisor = signed_in(app, people["supervisor"])
    page = in_english(supervisor, USERS).get_data(as_text=True)
    assert_english(page, portuguese_only, "<h1>Staff accounts</h1>", "Two-step verification",
                   "on since", "Reset 2FA", "You (ask another supervisor)")


def test_a_reset_ends_the_sessions_the_account_had_open(app, runner, people):
    """Someone holding a stolen session (or the old phone's) is out at once, not at sign-out."""
    operator, auditor = people["operator"], people["auditor"]
    sessions = [signed_in(app, operator), signed_in(app, operator)]
    bystander = signed_in(app, auditor)
    for browser in sessions:
        assert browser.get("/desk/").status_code == 200
    signed_in(app, people["supervisor"]).submit(reset_url(operator), page=USERS)
    for browser in sessions:
        response = browser.get("/desk/")
        assert response.status_code == 302 and response.location.startswith("/login")
    assert bystander.get("/regulador/").status_code == 200

    runner.invoke(args=["users", "reset-totp", "--email", auditor.email])
    assert bystander.get("/regulador/").status_code == 302


@pytest.mark.parametrize("change", [{"role": "supervisor"}, {"uf": "RJ"}])
def test_a_new_role_or_scope_ends_the_sessions_opened_before(app, people, change):
    from models import Role
    from workflow.accounts import update_user
    from workflow.audit import Actor

    auditor = people["auditor"]
    browser = signed_in(app, auditor)
    assert browser.get("/regulador/").status_code == 200
    with app.app_context():
        user = db.session.get(User, auditor.id)
        update_user(user, actor=Actor.system("test"), role=Role(change.get("role", "auditor")),
                    uf=change.get("uf", user.uf))
        db.session.commit()
    assert browser.get("/regulador/").status_code == 302
