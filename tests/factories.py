"""Small factories with keyword overrides. Each opens its own app context and
returns plain values (ids, e-mails, protocols), never session-bound objects."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from models import AuditEvent, AuditHead, Case, Role, User, db, utcnow
from workflow import accounts, cases, second_factor
from workflow.audit import Actor
from workflow.errors import DomainError

PASSWORD = "senha-forte-123"
# The authenticator app of every staff and auditor account made here (base32, 160 bits):
# tests/helpers.Browser types its codes at the second sign-in step.
TOTP_SECRET = "PORTA25TESTSECRETSTAFFANDAUDITOR"
_n = itertools.count(1)



def cpf(n: int) -> str:
    """A valid CPF built from ``n``: nine digits and their two check digits."""
    digits = [int(d) for d in f"{n % 10**9:09d}"]
    if len(set(digits)) == 1:
        digits[0] = (digits[0] + 1) % 10
    for length in (9, 10):
        total = sum(d * w for d, w in zip(digits, range(length + 1, 1, -1), strict=True))
        digits.append(0 if total % 11 < 2 else 11 - total % 11)
    return "".join(map(str, digits))


@dataclass(frozen=True)
class Person:
    id: int
    email: str
    role: str
    uf: str | None
    password: str = PASSWORD
    totp_secret: str | None = None  # staff and auditors: their enrolled second factor


def make_user(app, role: Role | str = Role.CUSTOMER, *, enrolled: bool = True,
              **overrides) -> Person:
    """Create a user of ``role``; customers get a valid CPF and UF SP by default.

    Staff and auditors come with TOTP_SECRET already enrolled (no audit event, no
    recovery codes: as if they had enrolled long ago); ``enrolled=False`` leaves them
    to enrol at their first sign-in.
    """
    role = Role(role)
    n = next(_n)
    fields = {
        "email": f"{role.value}{n}@example.com.br",
        "password": PASSWORD,
        "name": f"{role.value.title()} {n}",
        "uf": "SP" if role is Role.CUSTOMER else None,
        "cpf_cnpj": cpf(123456789 + n) if role is Role.CUSTOMER else None,
        "phone": "+55 11 99999-0000" if role is Role.CUSTOMER else None,
        "subscriber_id": f"CTR-{n:04d}" if role is Role.CUSTOMER else None,
    }
    fields.update(overrides)
    with app.app_context():
        user = accounts.create_user(role=role, actor=Actor.system("tests"), **fields)
        if enrolled and second_factor.required_for(user):
            user.totp_secret, user.totp_confirmed_at = TOTP_SECRET, utcnow()
        db.session.commit()
        return Person(user.id, user.email, role.value, user.uf, totp_secret=user.totp_secret)


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
    from workflow.states import Action

    with app.app_context():
        user = db.session.get(User, person.id)
        case = db.session.scalars(select(Case).where(Case.protocol == protocol)).one()
        cases.perform(case, Action(action), actor=Actor(user, source_ip="127.0.0.1"), **kwargs)
        db.session.commit()
        return case.status.value


def status_of(app, protocol: str) -> str:
    with app.app_context():
        return db.session.scalars(select(Case.status).where(Case.protocol == protocol)).one()


@dataclass(frozen=True)
class People:
    """Everyone a case meets: its customer, two of each analyst role, a stranger, readers.

    Whoever a test did not ask for is None (each account costs an argon2 hash).
    """

    customer: Person | None = None
    stranger: Person | None = None  # another customer
    operator: Person | None = None
    colleague: Person | None = None  # a second operator
    supervisor: Person | None = None
    second_supervisor: Person | None = None
    auditor: Person | None = None
    provider: Person | None = None

    def of_role(self, role: str) -> Person:
        return getattr(self, role)


_ROLE_OF = {"customer": Role.CUSTOMER, "stranger": Role.CUSTOMER, "operator": Role.OPERATOR,
            "colleague": Role.OPERATOR, "supervisor": Role.SUPERVISOR,
            "second_supervisor": Role.SUPERVISOR, "auditor": Role.AUDITOR,
            "provider": Role.PROVIDER}


def make_people(app, *who: str) -> People:
    """The people named in ``who`` (default: all of them, one account each)."""
    return People(**{name: make_user(app, _ROLE_OF[name]) for name in who or _ROLE_OF})


_v6 = itertools.count(1)
REJECT_REASON, REVOKE_REASON = "insufficient_justification", "abuse_confirmed"
QUESTION = "Envie o registro SPF do domínio, por favor."

# status -> (the status before it, the action that leads here, who takes it, arguments).
# "analyst" is whoever case_in is told claims the case; None is the system (the worker).
# A validity above the default (400 > 365 days) makes the approval need four eyes.
PATH = {
    "in_review": ("submitted", "claim", "analyst", {}),
    "awaiting_customer": ("in_review", "request_info", "analyst", {"message": QUESTION}),
    "pending_second_approval": ("in_review", "approve", "analyst", {"valid_days": 400}),
    "approved": ("in_review", "approve", "analyst", {}),
    "active": ("approved", "activate", None, {}),
    "expired": ("active", "expire", None, {}),
    "revoked": ("approved", "revoke", "analyst", {"reason_code": REVOKE_REASON}),
    "rejected": ("in_review", "reject", "analyst", {"reason_code": REJECT_REASON}),
    "appealed": ("rejected", "appeal", "customer", {"message": "Peço nova análise, por favor."}),
    "cancelled": ("submitted", "cancel", "customer", {}),
}


def unique_target() -> str:
    """A single IPv6 address of the ISP (2001:db8::/32) that no other case uses."""
    return f"2001:db8:25::{next(_v6):x}"


def system_act(app, protocol: str, action: str) -> str:
    """Take a system transition (activate, expire, abandon) as the worker would."""
    with app.app_context():
        case = db.session.scalars(select(Case).where(Case.protocol == protocol)).one()
        getattr(cases, action)(case, actor=Actor.system("tests"))
        db.session.commit()
        return case.status.value


def case_in(app, status: str, people: People, *, analyst: Person | None = None,
            **request) -> str:
    """A case of ``people.customer`` driven through the verbs into ``status``.

    ``analyst`` (default: the operator) claims it and takes every staff step on
    the way: the first of four-eyed approvals, the rejection before an appeal.
    """
    who = {"analyst": analyst or people.operator, "customer": people.customer, None: None}
    request.setdefault("target", unique_target())
    protocol = make_case(app, people.customer, **request)
    for action, person, kwargs in _steps_to(status):
        if who[person] is None:
            system_act(app, protocol, action)
        else:
            act(app, protocol, action, who[person], **kwargs)
    assert status_of(app, protocol) == status
    return protocol


def _steps_to(status: str) -> list[tuple]:
    if status == "submitted":
        return []
    before, *step = PATH[status]
    return _steps_to(before) + [tuple(step)]


@dataclass(frozen=True)
class Snapshot:
    """What a transition may change: the case's status and version, the audit head."""

    status: str
    version: int
    audit_seq: int


def snapshot(app, protocol: str) -> Snapshot:
    with app.app_context():
        case = db.session.scalars(select(Case).where(Case.protocol == protocol)).one()
        head = db.session.get(AuditHead, 1)
        return Snapshot(case.status.value, case.version, head.seq)


def events_after(app, seq: int) -> list[dict]:
    """The audit events appended after ``seq``, as plain dicts (details parsed)."""
    with app.app_context():
        rows = db.session.scalars(
            select(AuditEvent).where(AuditEvent.seq > seq).order_by(AuditEvent.seq)).all()
        return [{"seq": e.seq, "action": e.action, "actor_id": e.actor_id,
                 "object_id": e.object_id, "details": json.loads(e.details)} for e in rows]


def refusal(app, protocol: str, action: str, person: Person, **kwargs) -> DomainError:
    """Ask for ``action`` expecting a refusal; check that it changed nothing at all."""
    before = snapshot(app, protocol)
    with pytest.raises(DomainError) as refused:
        act(app, protocol, action, person, **kwargs)
    assert snapshot(app, protocol) == before, "a refused action changed the case or the audit"
    return refused.value


def last_event(app) -> dict:
    """The newest audit event."""
    with app.app_context():
        seq = db.session.get(AuditHead, 1).seq
    return events_after(app, seq - 1)[0]
