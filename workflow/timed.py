"""Transitions that time makes (run by the worker): expiry, its reminder, abandonment.

The ``due_*`` queries return case ids; the worker handles each case in a
transaction of its own, through the verbs, which check the status again.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask_babel import force_locale, gettext
from sqlalchemy import exists, select

from models import Case, CaseStatus, Message, MessageKind, db, iso_utc

from . import audit, engine, notifications
from .audit import Actor, Tag
from .config import setting
from .errors import Conflict

REMINDER = "expiry_reminder"  # Message.action of the reminder: it is sent once per case
GRANTED = (CaseStatus.APPROVED, CaseStatus.ACTIVE)


def due_for_expiry(now: datetime) -> list[int]:
    """Approved or active cases whose validity has ended."""
    return list(db.session.scalars(
        select(Case.id).where(Case.status.in_(GRANTED), Case.valid_until <= now)
        .order_by(Case.valid_until)))


def due_for_abandonment(now: datetime) -> list[int]:
    """Cases awaiting the customer for longer than ABANDON_AFTER_DAYS."""
    cutoff = now - timedelta(days=setting("ABANDON_AFTER_DAYS"))
    return list(db.session.scalars(
        select(Case.id).where(Case.status == CaseStatus.AWAITING_CUSTOMER,
                              Case.paused_at <= cutoff).order_by(Case.paused_at)))


def _reminded():
    return exists().where(Message.case_id == Case.id, Message.action == REMINDER)


def due_for_reminder(now: datetime) -> list[int]:
    """Granted cases ending within EXPIRY_REMINDER_DAYS whose customer was not reminded."""
    horizon = now + timedelta(days=setting("EXPIRY_REMINDER_DAYS"))
    return list(db.session.scalars(
        select(Case.id).where(Case.status.in_(GRANTED), Case.valid_until > now,
                              Case.valid_until <= horizon, ~_reminded())
        .order_by(Case.valid_until)))


def remind_expiry(case: Case, *, actor: Actor) -> Message:
    """Tell the customer, once, when the exception ends: a public message and an e-mail."""
    # Only the worker calls this: its refusals go to the log, never to a reader.
    if case.status not in GRANTED or case.valid_until is None:
        raise Conflict("Só uma exceção aprovada ou ativa tem validade a lembrar.")
    if db.session.scalar(select(_reminded().where(Case.id == case.id))):
        raise Conflict("O cliente já foi lembrado do fim desta exceção.")
    local = case.valid_until.astimezone(ZoneInfo(setting("DISPLAY_TIMEZONE")))
    body = (f"A exceção para {case.target} vale até {local:%d/%m/%Y %H:%M}. Depois disso, a "
            "porta 25 volta a ser bloqueada; se ainda precisar dela, faça um novo pedido.")
    note = Message(case=case, author_id=None, kind=MessageKind.PUBLIC, action=REMINDER,
                   body=body)
    db.session.add(note)
    _email_reminder(case, f"{local:%d/%m/%Y %H:%M}")
    engine.flush_case()
    audit.record(Tag.CASE_EXPIRY_REMINDED, actor, object_type="case", object_id=case.protocol,
                 uf=case.uf, details={"message_id": note.id,
                                      "valid_until": iso_utc(case.valid_until)})
    return note


def _email_reminder(case: Case, until: str) -> None:
    """Queue the reminder e-mail in the customer's language (Portuguese by default)."""
    customer = case.customer
    with force_locale(customer.locale or setting("DEFAULT_LOCALE")):
        subject = gettext("Sua exceção da porta 25 (pedido %(protocol)s) termina em %(date)s",
                          protocol=case.protocol, date=until[:10])
        body = gettext(
            "Olá, %(name)s.\n\nA exceção da porta 25 do pedido %(protocol)s, para "
            "%(target)s, vale até %(date)s (fuso %(zone)s). Depois disso, a porta 25 "
            "volta a ser bloqueada para esse endereço.\n\nSe ainda precisar dela, abra um "
            "novo pedido no portal antes dessa data.\n\nEsta mensagem é automática; "
            "não a responda.", name=customer.name, protocol=case.protocol,
            target=case.target, date=until,
            zone=setting("DISPLAY_TIMEZONE"))
    notifications.queue_email(customer, subject, body, case=case)
