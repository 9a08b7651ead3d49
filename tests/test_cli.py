"""`flask users create` and `flask tokens create` (DESIGN §7): what they store, what they
refuse, and that a printed token really authenticates."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import func, select

from models import ApiToken, AuditEvent, Role, User, db
from tests.factories import PASSWORD, make_user
from workflow import accounts
from workflow.audit import Actor

CUSTOMER = ["--role", "customer", "--uf", "RJ", "--cpf-cnpj", "529.982.247-25",
            "--name", "Maria Souza"]


def create_user(runner, email: str, *options: str):
    return runner.invoke(args=["users", "create", "--email", email, "--password", PASSWORD,
                               *options])


def stored(app, email: str) -> User | None:
    with app.app_context():
        user = db.session.scalars(select(User).where(User.email == email)).first()
        if user is not None:
            db.session.expunge(user)
        return user


def user_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User))


def test_a_customer_is_created_with_their_document_and_state(app, runner):
    result = create_user(runner, "Maria@Exemplo.com.br", *CUSTOMER)
    assert result.exit_code == 0, result.output
    user = stored(app, "maria@exemplo.com.br")  # e-mails are kept in lower case
    assert (user.role.value, user.uf, user.cpf_cnpj, user.name) == (
        "customer", "RJ", "52998224725", "Maria Souza")
    assert PASSWORD not in user.password_hash and user.password_hash.startswith("$argon2id$")
    assert f"id {user.id}" in result.output
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
        assert (event.action, event.actor_role, event.object_id) == (
            "user:created", "system:cli", str(user.id))


@pytest.mark.parametrize(("actor", "tag"), [
    (Actor(None, source_ip="192.0.2.1"), "user:registered"),  # signed up on the portal
    (Actor.system("cli"), "user:created"),
])
def test_the_audit_tells_a_sign_up_from_an_account_made_for_someone(app, actor, tag):
    with app.app_context():
        user = accounts.create_user(email="novo@exemplo.com.br", password=PASSWORD,
                                    role=Role.CUSTOMER, name="Novo", uf="SP",
                                    cpf_cnpj="52998224725", actor=actor)
        db.session.commit()
        event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
        assert (event.action, event.object_id) == (tag, str(user.id))


@pytest.mark.parametrize(("role", "uf", "stored_uf"), [
    ("operator", None, None),
    ("supervisor", None, None),
    ("provider", None, None),
    ("auditor", None, None),  # Anatel: national scope
    ("auditor", "sp", "SP"),  # a PROCON: one state
])
def test_staff_and_auditors_are_created_with_their_scope(app, runner, role, uf, stored_uf):
    email = f"{role}-{uf or 'br'}@exemplo.com.br".lower()
    result = create_user(runner, email, "--role", role, *(["--uf", uf] if uf else []))
    assert result.exit_code == 0, result.output
    user = stored(app, email)
    assert (user.role.value, user.uf, user.cpf_cnpj) == (role, stored_uf, None)


@pytest.mark.parametrize(("email", "options", "message"), [
    ("a@exemplo.com.br", ["--role", "customer", "--uf", "SP"], "CPF ou CNPJ inválido"),
    ("a@exemplo.com.br", ["--role", "customer", "--uf", "SP", "--cpf-cnpj", "52998224724"],
     "CPF ou CNPJ inválido"),
    ("a@exemplo.com.br", ["--role", "customer", "--cpf-cnpj", "52998224725"],
     "Escolha um estado (UF) válido."),
    ("a@exemplo.com.br", ["--role", "auditor", "--uf", "XX"], "Escolha um estado (UF) válido."),
    ("sem-arroba.exemplo.com.br", ["--role", "operator"], "Informe um e-mail válido."),
    ("a@exemplo.com.br", ["--role", "admin"], "Invalid value for '--role'"),
    ("a@exemplo.com.br", ["--role", "operator", "--password", "curta"],
     "A senha deve ter pelo menos 10 caracteres."),
])
def test_bad_input_is_refused_clearly_and_stores_nothing(app, runner, email, options, message):
    before = user_count(app)
    result = create_user(runner, email, *options)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert user_count(app) == before


def test_an_e_mail_already_in_use_is_refused(app, runner):
    existing = make_user(app, "operator")
    result = create_user(runner, existing.email.upper(), "--role", "supervisor")
    assert result.exit_code == 1
    assert "Já existe uma conta com este e-mail." in result.output
    assert stored(app, existing.email).role.value == "operator"


def test_a_printed_token_authenticates_and_only_its_hash_is_stored(app, runner):
    owner = make_user(app, "operator")
    result = runner.invoke(args=["tokens", "create", "--email", owner.email, "--name", "crm"])
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    assert token.startswith("p25_") and len(token) > 40
    with app.app_context():
        assert accounts.user_for_token(token).id == owner.id
        assert accounts.user_for_token(token[:-1] + "x") is None
        row = db.session.scalars(select(ApiToken)).one()
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert token not in (row.token_hash, row.prefix, row.name)
        assert row.prefix == token[:12] and row.name == "crm"


def test_a_token_stops_working_when_revoked_or_its_owner_is_deactivated(app, runner):
    owner = make_user(app, "operator")
    tokens = [runner.invoke(args=["tokens", "create", "--email", owner.email, "--name", n])
              .output.strip() for n in ("a", "b")]
    with app.app_context():
        first = db.session.scalars(select(ApiToken).where(ApiToken.name == "a")).one()
        first.revoked_at = first.created_at
        db.session.commit()
        assert accounts.user_for_token(tokens[0]) is None
        assert accounts.user_for_token(tokens[1]).id == owner.id
        db.session.get(User, owner.id).is_active = False
        db.session.commit()
        assert accounts.user_for_token(tokens[1]) is None


def test_a_token_for_an_unknown_e_mail_is_refused(app, runner):
    result = runner.invoke(args=["tokens", "create", "--email", "ninguem@exemplo.com.br",
                                 "--name", "crm"])
    assert result.exit_code == 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 0
