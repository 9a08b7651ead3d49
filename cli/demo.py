"""`flask demo`: demo accounts and cases in every interesting state, then the logins."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from models import EventType, Role, TokenScope, User, db
from workflow import accounts, cases, checkpoints, endpoints
from workflow.audit import Actor
from workflow.states import Action

PASSWORD = "porta25-demo"
RECEIVER_URL = "http://127.0.0.1:8025/"
# Secret and token of the demo receiver (`make run` starts it with them); never committed.
ENFORCER_ENV = "enforcer-demo.env"
# A development key for the audit checkpoints (`make run` loads it); never committed.
AUDIT_ENV = "audit-demo.env"

# (e-mail, role, name, uf, CPF/CNPJ, subscriber id)
PEOPLE = [
    ("cliente@exemplo.com.br", Role.CUSTOMER, "Maria Souza", "SP", "52998224725", "CTR-0042"),
    ("empresa@exemplo.com.br", Role.CUSTOMER, "Padaria Rio Ltda", "RJ", "11222333000181",
     "CTR-0777"),
    ("operador@exemplo.com.br", Role.OPERATOR, "Otávio Operador", None, None, None),
    ("supervisora@exemplo.com.br", Role.SUPERVISOR, "Sueli Supervisora", None, None, None),
    ("supervisor2@exemplo.com.br", Role.SUPERVISOR, "Sérgio Supervisor", None, None, None),
    ("anatel@exemplo.com.br", Role.AUDITOR, "Auditor Anatel", None, None, None),
    ("procon-sp@exemplo.com.br", Role.AUDITOR, "Auditora PROCON-SP", "SP", None, None),
    ("provedor@exemplo.com.br", Role.PROVIDER, "Provedor de E-mail", None, None, None),
]

JUSTIFICATION = ("Mantemos o servidor de e-mail da empresa neste IP fixo, com SPF, DKIM e "
                 "DMARC publicados e PTR configurado para {host}.")

# (customer index, target, category, actions as (person index, action, kwargs))
CASES = [
    (0, "203.0.113.10", "own_mail_server", []),
    (0, "203.0.113.11", "smtp_application", [(2, Action.CLAIM, {})]),
    (1, "198.51.100.20", "own_mail_server",
     [(2, Action.CLAIM, {}), (2, Action.REQUEST_INFO,
                              {"message": "Envie o registro SPF do domínio, por favor."})]),
    (1, "198.51.100.21", "own_mail_server",
     [(2, Action.CLAIM, {}), (2, Action.APPROVE, {"valid_days": 365})]),
    (0, "203.0.113.12", "other",
     [(2, Action.CLAIM, {}), (2, Action.REJECT, {"reason_code": "insufficient_justification",
                                                 "message": "A justificativa não explica por "
                                                            "que a porta 587 não atende."})]),
    (0, "203.0.113.16/29", "own_mail_server",
     [(3, Action.CLAIM, {}), (3, Action.APPROVE, {"valid_days": 365})]),
]


@click.command("demo")
@with_appcontext
def cli():
    """Create demo users and cases (once) and print their logins."""
    if accounts.user_by_email(PEOPLE[0][0]) is None:
        people = _create()
        secret, token = _demo_receiver(people[3])
        db.session.commit()
        _write_receiver_env(secret, token)
    _write_audit_key()
    click.echo(f"Demo logins (password for all: {PASSWORD}):")
    for email, role, name, uf, *_ in PEOPLE:
        scope = f" [{uf}]" if uf else ""
        click.echo(f"  {role.value:<11} {email:<30} {name}{scope}")
    click.echo("Staff and auditors enrol a TOTP app (FreeOTP, Aegis, Google Authenticator…) "
               "at their first sign-in: scan the QR code shown, type its code, keep the "
               "recovery codes.")


def _create() -> list[User]:
    system = Actor.system("demo")
    people = [
        accounts.create_user(email=email, password=PASSWORD, role=role, name=name, uf=uf,
                             cpf_cnpj=doc, subscriber_id=sub, phone="+55 11 4000-0000" if doc
                             else None, actor=system)
        for email, role, name, uf, doc, sub in PEOPLE
    ]
    for who, target, category, steps in CASES:
        customer: User = people[who]
        host = f"mail{target.split('.')[-1].split('/')[0]}.exemplo.com.br"
        case = cases.submit(
            cases.Request(target=target, subscriber_id=customer.subscriber_id,
                          category=category, justification=JUSTIFICATION.format(host=host),
                          mail_hostname=host, terms_version=_terms_version()),
            customer=customer, actor=Actor(customer, source_ip="127.0.0.1"))
        for person, action, kwargs in steps:
            cases.perform(case, action, actor=Actor(people[person], source_ip="127.0.0.1"),
                          **kwargs)
    return people


def _demo_receiver(supervisor: User) -> tuple[str, str]:
    """A webhook endpoint for the demo receiver, and the token it reads the allow-list with."""
    system = Actor.system("demo")
    _endpoint, secret = endpoints.create_endpoint(
        url=RECEIVER_URL, event_types=[t.value for t in EventType],
        description="Receptor de demonstração (make run)", actor=system)
    token = accounts.create_token(supervisor, "demo enforcer", actor=system,
                                  scope=TokenScope.ENFORCEMENT)
    return secret, token


def _write_receiver_env(secret: str, token: str) -> None:
    path = Path(current_app.instance_path) / ENFORCER_ENV
    path.write_text(f"ENFORCER_SECRETS={secret}\nENFORCER_TOKEN={token}\n")
    path.chmod(0o600)


def _write_audit_key() -> None:
    """A development signing key for the checkpoints, unless one is set or already made."""
    path = Path(current_app.instance_path) / AUDIT_ENV
    if current_app.config["AUDIT_SIGNING_KEY"] or path.exists():
        return
    seed, verifier = checkpoints.new_key(current_app.config["AUDIT_KEY_NAME"])
    path.write_text(f"AUDIT_SIGNING_KEY={seed}\n")
    path.chmod(0o600)
    click.echo(f"Audit checkpoints: development key in instance/{AUDIT_ENV} ({verifier})")


def _terms_version() -> str:
    from workflow.config import setting

    return setting("TERMS_VERSION")
