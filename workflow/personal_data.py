"""Everything porta25 holds about a customer, as JSON they download at once (LGPD art. 18, 19).

Built on the history statement (``records.history``): its requests, every
document issued about them (dossiers too, with who asked) and reveals, plus the
account, every field of every case, the public messages, the history statements
issued and the audit events about the customer's account, cases and records
(sequence, time, action and who acted by role, in words beside the codes: the
events' details and staff names may concern staff and are theirs to see). The
export is itself an audit event.
"""

from __future__ import annotations

import enum
import json
from datetime import datetime

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_, select

from models import AuditEvent, Case, Message, MessageKind, Record, Role, User, db, iso_utc

from . import audit
from .audit import Actor, Tag
from .errors import NotFound
from .records import codes as record_codes
from .records import history
from .records.access import visible_records
from .trail_labels import action_label, actor_label

FORMAT = "porta25-personal-data/v1"
# Case columns left out: the row's own keys, the target's machine form (net_lo/hi are the
# target again) and staff identities (another person's data, not the customer's).
CASE_COLUMNS_LEFT_OUT = frozenset({"id", "customer_id", "version", "net_lo", "net_hi",
                                   "assignee_id", "first_approver_id", "rejected_by_id"})


def _customer(actor: Actor) -> User:
    """Only a customer downloads their data here; anyone else finds nothing."""
    if actor.user is None or actor.user.role is not Role.CUSTOMER:
        raise NotFound(_l("Página não encontrada."))
    return actor.user


def export(*, actor: Actor, language: str, now: datetime) -> bytes:
    """The actor's own data as JSON bytes; audited (commit before serving)."""
    customer = _customer(actor)
    with force_locale(language):
        data = personal_data(customer, now)
    audit.record(Tag.USER_DATA_EXPORTED, actor, object_type="user", object_id=str(customer.id),
                 uf=customer.uf, details={"requests": len(data["requests"]),
                                          "audit_events": len(data["audit_events"])})
    return json.dumps(data, ensure_ascii=False, indent=1).encode()


def personal_data(customer: User, now: datetime) -> dict:
    """The whole export as JSON values (labels in the current language)."""
    statement = history.statement(customer, now)
    summary = history.as_data(statement)
    cases = [line.case for line in statement.requests]
    messages = _public_messages(cases)
    statements = db.session.scalars(visible_records(customer).where(
        Record.case_id.is_(None)).order_by(Record.id)).all()
    return {
        "format": FORMAT,
        "generated_at": iso_utc(now),
        "account": _account(customer),
        "requests": [{**entry, "case": case_fields(case), "messages": messages.get(case.id, [])}
                     for entry, case in zip(summary["requests"], cases, strict=True)],
        "history_statements": [_record(r) for r in statements],
        "personal_data_reveals": summary["personal_data_reveals"],
        "audit_events": _events(customer, cases),
    }


def _account(user: User) -> dict:
    return {"name": user.name, "email": user.email, "cpf_cnpj": user.cpf_cnpj,
            "phone": user.phone, "subscriber_id": user.subscriber_id, "uf": user.uf,
            "language": user.locale, "created_at": iso_utc(user.created_at),
            "active": user.is_active}


def case_fields(case: Case) -> dict:
    """Every column of the case but those left out (see CASE_COLUMNS_LEFT_OUT), as JSON."""
    return {column.key: _json(getattr(case, column.key)) for column in Case.__table__.columns
            if column.key not in CASE_COLUMNS_LEFT_OUT}


def _json(value):
    if isinstance(value, datetime):
        return iso_utc(value)
    return value.value if isinstance(value, enum.Enum) else value


def _public_messages(cases: list[Case]) -> dict[int, list[dict]]:
    """Each case's public messages, oldest first; internal notes stay the staff's."""
    found: dict[int, list[dict]] = {}
    rows = db.session.scalars(select(Message).where(
        Message.case_id.in_([c.id for c in cases]), Message.kind == MessageKind.PUBLIC)
        .order_by(Message.id))
    owner = {c.id: c.customer_id for c in cases}
    for message in rows:
        author = ("system" if message.author_id is None else
                  "customer" if message.author_id == owner[message.case_id] else "provider")
        found.setdefault(message.case_id, []).append({
            "at": iso_utc(message.created_at), "from": author, "action": message.action,
            "body": message.body})
    return found


def _record(record: Record) -> dict:
    return {"kind": record.kind.value, "code": record.code, "issued_at": iso_utc(
        record.issued_at), "sha256": record.sha256}


def _events(customer: User, cases: list[Case]) -> list[dict]:
    """Every event about the account, its cases, its records: when, what, who by role."""
    codes = db.session.scalars(select(Record.code).where(
        Record.customer_id == customer.id)).all()
    about = or_(
        and_(AuditEvent.object_type == "case",
             AuditEvent.object_id.in_([c.protocol for c in cases])),
        and_(AuditEvent.object_type.in_(("user", "customer")),
             AuditEvent.object_id == str(customer.id)),
        and_(AuditEvent.object_type == "record", AuditEvent.object_id.in_(codes)))
    rows = db.session.execute(select(AuditEvent.seq, AuditEvent.occurred_at, AuditEvent.action,
                                     AuditEvent.actor_role, AuditEvent.object_type,
                                     AuditEvent.object_id)
                              .where(about).order_by(AuditEvent.seq)).all()
    return [_event(r) for r in rows]


def _event(row) -> dict:
    event = {"seq": row.seq, "occurred_at": iso_utc(row.occurred_at), "action": row.action,
             "action_label": action_label(row.action), "actor": actor_label(row.actor_role),
             "object": f"{row.object_type}:{row.object_id}"}
    if row.object_type == "record":  # the code as printed on the document and listed above
        event["code"] = record_codes.display(row.object_id)
    return event
