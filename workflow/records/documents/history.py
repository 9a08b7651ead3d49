"""The customer's history statement: all of their requests and their outcomes."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from models import AuditEvent, User, db, utcnow

from ...config import setting
from .. import history
from .base import Document, Pending
from .common import contacts


def latest_event() -> AuditEvent | None:
    """The audit trail's newest event: the statement attests the trail up to it."""
    return db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).first()


def build(pending: Pending) -> Document:
    """Who the customer is, then each request: what, when, the outcome, its records."""
    customer = db.session.get(User, pending.customer_id)
    statement = history.statement(customer, utcnow())
    return Document(
        template="records/history.html",
        title=_("Histórico de pedidos de %(name)s", name=customer.name),
        description=_("Todos os pedidos de exceção ao bloqueio da porta 25 do cliente e os "
                      "seus resultados"),
        keywords=tuple(line.case.protocol for line in statement.requests[:50]),
        anchor=latest_event(), data=history.as_data(statement),
        context={"statement": statement, "contacts": contacts(),
                 "time_zone": setting("DISPLAY_TIMEZONE")},
    )
