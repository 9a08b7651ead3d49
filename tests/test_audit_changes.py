"""Changes made outside the case workflow are audit events too: token revocation, account
changes (with their diff, personal values withheld) and the settings a worker starts with."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from models import ApiToken, AuditEvent, User, db
from tests.api_support import Api
from tests.desk_support import signed_in
from tests.factories import PASSWORD, make_user
from tests.helpers import Browser
from tests.lgpd_support import count, events, last_event
from workflow import settings_audit
from workflow.audit import WITHHELD

# --- tokens -------------------------------------------------------------------------------


def create_token(runner, email: str, name: str = "crm") -> str:
    result = runner.invoke(args=["tokens", "create", "--email", email, "--name", name])
    assert result.exit_code == 0, result.output
    return result.output.strip()


def token_row(app, raw: str) -> dict:
    with app.app_context():
        row = db.session.scalars(select(ApiToken).where(ApiToken.prefix == raw[:12])).one()
        return {"id": row.id, "prefix": row.prefix, "revoked": row.revoked_at is not None}


@pytest.mark.parametrize("by", ["id", "prefix"])
def test_a_revoked_token_is_refused_at_once_and_the_revocation_is_audited(app, runner, by):
    owner = make_user(app, "operator")
    raw = create_token(runner, owner.email)
    created = last_event(app, "token:created")
    assert (created["actor_role"], created["object_id"], created["details"]["prefix"]) == (
        "system:cli", str(owner.id), raw[:12])
    api = Api(app, token=raw)
    assert api.get("/api/v1/cases").status_code == 200
    row = token_row(app, raw)

    option = ["--id", str(row["id"])] if by == "id" else ["--prefix", raw[:10]]
    result = runner.invoke(args=["tokens", "revoke", *option])

    assert result.exit_code == 0, result.output
    assert f"revoked token {row['id']} ({raw[:12]}) of {owner.email}" in result.output
    assert api.get("/api/v1/cases").status_code == 401
    event = last_event(app, "token:revoked")
    assert (event["actor_role"], event["object_type"], event["object_id"]) == (
        "system:cli", "user", str(owner.id))
    assert event["details"] == {"token_id": row["id"], "prefix": raw[:12], "scope": "full"}
    listed = runner.invoke(args=["tokens", "list", "--email", owner.email]).output
    assert raw[:12] in listed and "revoked" in listed and raw not in listed


@pytest.mark.parametrize(("options", "message", "code"), [
    (["--id", "9999"], "no such token", 1),
    (["--prefix", "p25_zzzzzzzz"], "no such token", 1),
    (["--prefix", "p25_"], "2 tokens start with p25_", 1),
    ([], "give exactly one of --id and --prefix", 2),
    (["--id", "1", "--prefix", "p25_"], "give exactly one of --id and --prefix", 2),
    (["--id", "um"], "Invalid value for '--id'", 2),
])
def test_a_revocation_that_names_no_single_token_revokes_nothing(app, runner, options,
                                                                  message, code):
    owner = make_user(app, "operator")
    for name in ("a", "b"):
        create_token(runner, owner.email, name)
    before = count(app, AuditEvent)

    result = runner.invoke(args=["tokens", "revoke", *options])

    assert (result.exit_code, message in result.output) == (code, True), result.output
    assert count(app, AuditEvent) == before
    with app.app_context():
        assert db.session.scalars(select(ApiToken.revoked_at)).all() == [None, None]


def test_revoking_twice_says_so_and_records_it_once(app, runner):
    owner = make_user(app, "operator")
    row = token_row(app, create_token(runner, owner.email))
    assert runner.invoke(args=["tokens", "revoke", "--id", str(row["id"])]).exit_code == 0

    again = runner.invoke(args=["tokens", "revoke", "--id", str(row["id"])])

    assert again.exit_code == 1 and "Este token já foi revogado." in again.output
    assert len(events(app, "token:revoked")) == 1


# --- accounts -----------------------------------------------------------------------------


def update(runner, email: str, *options: str):
    return runner.invoke(args=["users", "update", "--email", email, *options])


def account(app, user_id: int) -> tuple:
    with app.app_context():
        user = db.session.get(User, user_id)
        return user.role.value, user.uf, user.name, user.is_active


def test_an_account_change_is_audited_as_a_diff_without_the_name(app, runner):
    person = make_user(app, "operator", name="Ana Lima")

    result = update(runner, person.email, "--role", "auditor", "--uf", "rj",
                    "--name", "Ana Lima Souza", "--inactive")

    assert result.exit_code == 0, result.output
    assert "updated auditor" in result.output and "active, name, role, uf" in result.output
    assert account(app, person.id) == ("auditor", "RJ", "Ana Lima Souza", False)
    event = last_event(app, "user:changed")
    assert (event["actor_role"], event["object_type"], event["object_id"], event["uf"]) == (
        "system:cli", "user", str(person.id), "RJ")
    assert event["details"] == {"changes": {
        "active": [True, False], "name": [WITHHELD, WITHHELD], "role": ["operator", "auditor"],
        "uf": [None, "RJ"]}}
    assert "Ana" not in json.dumps(event, ensure_ascii=False)
    # An inactive account can no longer sign in.
    response = Browser(app.test_client()).submit(
        "/login", {"email": person.email, "password": PASSWORD}, second_factor=False)
    assert response.request.path == "/login" and "Sair" not in response.get_data(as_text=True)


def test_an_auditor_becomes_national_and_back_to_a_state(app, runner):
    person = make_user(app, "auditor", uf="SP")
    assert update(runner, person.email, "--uf", "").exit_code == 0
    assert account(app, person.id)[1] is None
    assert update(runner, person.email, "--uf", "BA", "--active").exit_code == 0
    assert [e["details"]["changes"] for e in events(app, "user:changed")] == [
        {"uf": ["SP", None]}, {"uf": [None, "BA"]}]


def test_an_update_that_changes_nothing_records_nothing(app, runner):
    person = make_user(app, "operator")
    before = count(app, AuditEvent)
    result = update(runner, person.email, "--role", "operator", "--active")
    assert result.exit_code == 0 and "nothing to change" in result.output
    assert count(app, AuditEvent) == before


@pytest.mark.parametrize(("role", "options", "message"), [
    ("customer", ["--role", "operator"], "Uma conta de cliente não muda de papel"),
    ("operator", ["--role", "customer"], "Uma conta de cliente não muda de papel"),
    ("customer", ["--uf", ""], "Escolha um estado (UF) válido."),
    ("auditor", ["--uf", "XX"], "Escolha um estado (UF) válido."),
    ("operator", ["--name", "  "], "Informe o nome."),
    ("operator", ["--name", "a\x1bb"], "O texto contém caracteres de controle não permitidos."),
    ("operator", ["--role", "admin"], "Invalid value for '--role'"),
])
def test_a_bad_account_change_is_refused_clearly_and_stores_nothing(app, runner, role,
                                                                    options, message):
    person = make_user(app, role)
    before = (account(app, person.id), count(app, AuditEvent))

    result = update(runner, person.email, *options)

    assert result.exit_code != 0 and message in result.output, result.output
    assert "Traceback" not in result.output
    assert (account(app, person.id), count(app, AuditEvent)) == before


def test_updating_an_unknown_account_says_so(app, runner):
    result = update(runner, "ninguem@exemplo.com.br", "--inactive")
    assert result.exit_code == 1 and "no account with e-mail" in result.output


# --- settings -----------------------------------------------------------------------------

def start_worker(app) -> None:
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output


def test_the_first_worker_start_records_every_setting_but_the_secrets(app_factory):
    app = app_factory(SMTP_PASSWORD="senha-do-smtp", AUDIT_SIGNING_KEY="")

    start_worker(app)

    [event] = events(app, "settings:changed")
    assert (event["actor_role"], event["object_type"]) == ("system:worker", "settings")
    recorded = event["details"]["settings"]
    assert recorded["PAGE_SIZE"] == 25 and recorded["TERMS_VERSION"] == "2026-11"
    assert recorded["ISP_PREFIXES"] == ["203.0.113.0/24", "198.51.100.0/24", "2001:db8::/32"]
    assert recorded["EVIDENCE_TIMEOUT_SECONDS"] == "3.0" and recorded["RETENTION_YEARS"] == 5
    assert event["details"]["changes"]["PAGE_SIZE"] == [None, 25]
    for secret in settings_audit.SECRET_SETTINGS:
        assert secret not in recorded and secret not in event["details"]["changes"]
    text = json.dumps(event)
    assert "test-secret-key" not in text and "senha-do-smtp" not in text


def test_a_later_start_records_only_what_changed(app, app_factory):
    start_worker(app)
    start_worker(app)
    assert len(events(app, "settings:changed")) == 1  # the same settings: nothing new

    changed = app_factory(DATABASE_URL=app.config["DATABASE_URL"], PAGE_SIZE=50,
                          SECRET_KEY="another-secret")
    start_worker(changed)

    first, second = events(app, "settings:changed")
    assert second["details"]["changes"] == {"PAGE_SIZE": [25, 50]}  # a new secret is no change
    assert second["details"]["settings"]["PAGE_SIZE"] == 50


def test_every_setting_named_like_a_secret_is_classified():
    import re

    import settings
    looks_secret = {name for name in settings.SETTINGS
                    if re.search(r"KEY|PASSWORD|SECRET|TOKEN", name)}
    assert looks_secret <= settings_audit.SECRET_SETTINGS | settings_audit.PUBLIC_DESPITE_NAME


def test_a_url_is_recorded_without_its_password(app):
    with app.app_context():
        app.config["DATABASE_URL"] = "postgresql+psycopg://porta25:s3gredo@db.internal/porta25"
        assert settings_audit.snapshot()["DATABASE_URL"] == (
            "postgresql+psycopg://porta25:***@db.internal/porta25")


def test_the_supervisors_menu_leads_to_the_reason_codes_and_the_calendar(app):
    person = make_user(app, "supervisor")
    page = signed_in(app, person).text("/desk/")
    assert "Motivos" in page and "Calendário" in page
