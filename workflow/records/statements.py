"""A customer's own documents: asking for the history statement, its JSON, the lists.

The statement itself is ``history``; this module holds the verbs the portal calls.
"""

from __future__ import annotations

import json
from datetime import datetime

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from models import Case, Record, RecordKind, RecordRequest, Role, User, db

from .. import audit
from ..audit import Actor, Tag
from ..errors import NotFound
from . import history
from .access import CUSTOMER_KINDS, visible_records, waiting
from .issue import request_record


def _customer(actor: Actor) -> User:
    """Only a customer has a history; anyone else asking finds nothing."""
    if actor.user is None or actor.user.role is not Role.CUSTOMER:
        raise NotFound(_l("Documento não encontrado."))
    return actor.user


def request_statement(*, actor: Actor, language: str) -> RecordRequest:
    """The customer asks for their history as a PDF; the worker issues it after commit."""
    customer = _customer(actor)
    return request_record(RecordKind.HISTORY, customer=customer, uf=customer.uf,
                          language=language, requested_by=customer)


def export_statement(*, actor: Actor, language: str, now: datetime) -> bytes:
    """The customer's history as JSON, at once; audited (commit before serving)."""
    customer = _customer(actor)
    with force_locale(language):
        data = history.as_data(history.statement(customer, now))
    audit.record(Tag.RECORD_HISTORY_EXPORTED, actor, object_type="customer",
                 object_id=str(customer.id), uf=customer.uf,
                 details={"requests": len(data["requests"])})
    return json.dumps(data, ensure_ascii=False, indent=1).encode()


def history_records(customer: User) -> tuple[list[Record], list[RecordRequest]]:
    """The customer's issued history statements (newest first) and those in preparation."""
    issued = db.session.scalars(visible_records(customer).where(
        Record.kind == RecordKind.HISTORY).order_by(Record.id.desc())).all()
    return list(issued), waiting(customer_id=customer.id, kinds=frozenset({RecordKind.HISTORY}))


def case_records(customer: User) -> list[tuple[Case, list[Record], list[RecordRequest]]]:
    """Each of the customer's cases (newest first) with its records and those being prepared."""
    kinds = CUSTOMER_KINDS - {RecordKind.HISTORY}
    records = db.session.scalars(visible_records(customer).where(
        Record.case_id.is_not(None)).order_by(Record.id.desc())).all()
    pending = waiting(customer_id=customer.id, kinds=kinds)
    cases = db.session.scalars(select(Case).where(Case.customer_id == customer.id)
                               .order_by(Case.submitted_at.desc(), Case.id.desc())).all()
    return [(case, [r for r in records if r.case_id == case.id],
             [p for p in pending if p.case_id == case.id]) for case in cases]
