"""Small factories with keyword overrides. Each opens its own app context and
returns plain values (ids, e-mails, protocols), never session-bound objects."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from models import Case, Role, User, db
from workflow import accounts, cases
from workflow.audit import Actor

PASSWORD = "senha-forte-123"
_n = itertools.count(1)

# Valid CPFs (check digits computed) for test customers.
CPFS = ["52998224725", "11144477735", "39053344705", "15350946056", "86288366757",
        "71428793860", "04253708064", "31287346060"]


@dataclass(frozen=True)
class Person:
    id: int
    email: str
    role: str
    uf: str | None
    password: str = PASSWORD


def make_user(app, role: Role | str = Role.CUSTOMER, **overrides) -> Person:
    """Create a user of ``role``; customers get a valid CPF and UF SP by default."""
    role = Role(role)
    n = next(_n)
    fields = {
        "email": f"{role.value}{n}@example.com.br",
        "password": PASSWORD,
        "name": f"{role.value.title()} {n}",
        "uf": "SP" if role is Role.CUSTOMER else None,
        "cpf_cnpj": CPFS[n % len(CPFS)] if role is Role.CUSTOMER else None,
        "phone": "+55 11 99999-0000" if role is Role.CUSTOMER else None,
        "subscriber_id": f"CTR-{n:04d}" if role is Role.CUSTOMER else None,
    }
    fields.update(overrides)
    with app.app_context():
        user = accounts.create_user(role=role, actor=Actor.system("tests"), **fields)
        db.session.commit()
        return Person(user.id, user.email, role.value, user.uf)


def request_fields(**overrides) -> dict:
    """A valid request (DESIGN §4) as form/API fields."""
    n = next(_n)
    fields = {
        "target": f"203.0.113.{n % 250 + 1}",
        "subscriber_id": "CTR-0042",
        "category": "own_mail_server",
        "justification": "Servidor de e-mail próprio da empresa, com SPF, DKIM e DMARC.",
        "mail_hostname": "mail.exemplo.com.br",
        "terms_version": "2026-11",
    }
    fields.update(overrides)
    return fields


def make_case(app, customer: Person, **overrides) -> str:
    """File a case for ``customer`` through the workflow; returns its protocol."""
    with app.app_context():
        user = db.session.get(User, customer.id)
        case = cases.submit(cases.Request(**request_fields(**overrides)), customer=user,
                            actor=Actor(user, source_ip="127.0.0.1"))
        db.session.commit()
        return case.protocol


def act(app, protocol: str, action: str, person: Person, **kwargs) -> str:
    """Take ``action`` on a case as ``person``; returns the new status."""
    from sqlalchemy import select

    from workflow.states import Action

    with app.app_context():
        user = db.session.get(User, person.id)
        case = db.session.scalars(select(Case).where(Case.protocol == protocol)).one()
        cases.perform(case, Action(action), actor=Actor(user, source_ip="127.0.0.1"), **kwargs)
        db.session.commit()
        return case.status.value


def status_of(app, protocol: str) -> str:
    from sqlalchemy import select

    with app.app_context():
        return db.session.scalars(select(Case.status).where(Case.protocol == protocol)).one()
