"""The verbs of a case: submit, claim, request_info, reply, approve, reject, appeal,
cancel, revoke and add_note, and the system's expire and abandon.

Each verb decides through ``engine.authorise``, changes the case through
``engine.apply`` (which also writes the audit event) and leaves the commit to
the caller.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from ipaddress import ip_network

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from models import (
    OPEN_STATUSES,
    Case,
    CaseStatus,
    Category,
    MessageKind,
    ReasonCode,
    RecordKind,
    Role,
    SendingKind,
    User,
    db,
    iso_utc,
    utcnow,
)

from . import audit, deadlines, engine, records
from .audit import Actor, Tag
from .config import setting
from .errors import Conflict, Forbidden, InvalidInput
from .protocol import next_protocol
from .states import Action
from .targets import Target, parse_target
from .text import clean_text

JUSTIFICATION_MIN, JUSTIFICATION_MAX = 30, 4000
MESSAGE_MAX = 4000
MESSAGES_PER_DAY_MAX = 10_000_000
_HOSTNAME = re.compile(r"^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_SUBSCRIBER = re.compile(r"^[A-Za-z0-9._/-]{1,64}$")


@dataclass(frozen=True)
class Request:
    """What a customer asks for (DESIGN §4), as received from a form or the API."""

    target: str
    subscriber_id: str
    category: str
    justification: str
    mail_hostname: str
    terms_version: str
    messages_per_day: int | None = None
    sending_kind: str | None = None


def submit(request: Request, *, customer: User, actor: Actor) -> Case:
    """File a new case for ``customer`` and issue its protocol number."""
    if customer.role is not Role.CUSTOMER:
        raise InvalidInput(_l("Pedidos são feitos em nome de um cliente."),
                           field="customer_email")
    target = parse_target(request.target, setting("ISP_PREFIXES"))
    fields = validated_fields(request)
    _refuse_overlap(target, customer)
    now, uf = utcnow(), customer.uf or "SP"
    answer_due, execution_due = deadlines.initial_deadlines(
        now, uf, setting("ANSWER_DEADLINE_DAYS"), setting("EXECUTION_DEADLINE_BUSINESS_DAYS"),
        deadlines.corrections_for(uf))
    case = Case(
        protocol=next_protocol(now.year), customer=customer, status=CaseStatus.SUBMITTED,
        target=target.text, net_lo=target.lo, net_hi=target.hi, uf=uf, submitted_at=now,
        answer_due_at=answer_due, execution_due_at=execution_due, terms_accepted_at=now,
        terms_accepted_from=actor.source_ip, **fields,
    )
    deadlines.running(case)
    try:
        with db.session.begin_nested():
            db.session.add(case)
    except IntegrityError:
        raise Conflict(_l("Já existe um pedido aberto ou uma exceção ativa para %(target)s.",
                          target=target.text), field="target") from None
    audit.record(Tag.CASE_SUBMITTED, actor, object_type="case", object_id=case.protocol,
                 uf=case.uf, details={"to": case.status.value, "customer_id": customer.id,
                                      "target": case.target, "category": case.category.value,
                                      "terms_version": case.terms_version})
    records.request_record(RecordKind.RECEIPT, case=case, language=records.language_of(customer))
    return case


def validated_fields(request: Request) -> dict:
    """The request's fields other than the target, checked and normalised."""
    subscriber = (request.subscriber_id or "").strip()
    if not _SUBSCRIBER.match(subscriber):
        raise InvalidInput(_l("Informe o código do contrato/assinante (letras, números, "
                              "“.”, “-”, “/” ou “_”, até 64 caracteres)."),
                           field="subscriber_id")
    try:
        category = Category(request.category)
    except ValueError:
        raise InvalidInput(_l("Escolha a finalidade do pedido."), field="category") from None
    justification = clean_text(request.justification, field="justification")
    if not JUSTIFICATION_MIN <= len(justification) <= JUSTIFICATION_MAX:
        raise InvalidInput(_l("A justificativa deve ter entre %(min)d e %(max)d caracteres "
                              "(tem %(n)d).", min=JUSTIFICATION_MIN, max=JUSTIFICATION_MAX,
                              n=len(justification)), field="justification")
    hostname = (request.mail_hostname or "").strip().rstrip(".").lower()
    if not _HOSTNAME.match(hostname):
        raise InvalidInput(_l("Informe o nome completo do servidor de e-mail, como "
                              "mail.exemplo.com.br."), field="mail_hostname")
    if request.terms_version != setting("TERMS_VERSION"):
        raise InvalidInput(_l("É preciso aceitar a versão vigente dos termos de uso (%(v)s).",
                              v=setting("TERMS_VERSION")), field="accepted_terms_version")
    return {
        "subscriber_id": subscriber, "category": category, "justification": justification,
        "mail_hostname": hostname, "terms_version": request.terms_version,
        **_sending_profile(request),
    }


def _sending_profile(request: Request) -> dict:
    volume, kind = request.messages_per_day, request.sending_kind
    if volume is not None and not 0 <= volume <= MESSAGES_PER_DAY_MAX:
        raise InvalidInput(_l("Informe quantas mensagens por dia, entre 0 e 10.000.000."),
                           field="sending_profile")
    try:
        kind = SendingKind(kind) if kind else None
    except ValueError:
        raise InvalidInput(_l("O tipo de envio deve ser transacional ou em massa."),
                           field="sending_profile") from None
    return {"messages_per_day": volume, "sending_kind": kind}


# Any constant: names the transaction-scoped PostgreSQL lock taken by overlap checks.
TARGETS_LOCK = 0x70323554


def _refuse_overlap(target: Target, customer: User, *, other_than: Case | None = None) -> None:
    """One open or active case per address: no overlapping prefixes either.

    The check and the insert (or reopening) that follows must be atomic. SQLite runs
    write transactions one at a time (BEGIN IMMEDIATE); on PostgreSQL the unique index
    only catches the very same prefix, so an overlapping one (a /29 over a /32) could
    pass two concurrent checks: they queue on one advisory lock, held until commit.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(func.pg_advisory_xact_lock(TARGETS_LOCK)))
    query = select(Case).where(Case.status.in_(OPEN_STATUSES),
                               Case.net_lo.between(target.overlap_floor, target.hi),
                               Case.net_hi >= target.lo)
    if other_than is not None:
        query = query.where(Case.id != other_than.id)
    other = db.session.scalars(query.limit(1)).first()
    if other is None:
        return
    if other.customer_id == customer.id:
        raise Conflict(_l("Você já tem o pedido %(protocol)s aberto ou ativo para %(target)s.",
                          protocol=other.protocol, target=other.target), field="target")
    raise Conflict(_l("Já existe um pedido aberto ou uma exceção ativa que cobre %(target)s.",
                      target=target.text), field="target")


def _message(text: str | None, *, required: bool) -> str | None:
    text = clean_text(text, field="message")
    if required and not text:
        raise InvalidInput(_l("Escreva a mensagem."), field="message")
    if len(text) > MESSAGE_MAX:
        raise InvalidInput(_l("A mensagem pode ter até %(max)d caracteres.", max=MESSAGE_MAX),
                           field="message")
    return text or None


def _reason(action: Action, code: str | None) -> ReasonCode:
    if not code:
        raise InvalidInput(_l("Escolha o motivo."), field="reason_code")
    reason = db.session.get(ReasonCode, (action.value, code))
    if reason is None or not reason.active:
        raise InvalidInput(_l("Motivo desconhecido: %(code)s.", code=code[:64]),
                           field="reason_code")
    return reason


def claim(case: Case, *, actor: Actor, expected_version: int | None = None) -> Case:
    """An analyst takes the case (a new one, or an appeal) into review."""
    t = engine.authorise(case, Action.CLAIM, actor)
    engine.check_version(case, expected_version)
    case.assignee_id = actor.user.id
    engine.apply(case, t, actor, tag=Tag.CASE_CLAIMED, details={"assignee_id": actor.user.id})
    return case


def request_info(case: Case, *, actor: Actor, message: str | None,
                 expected_version: int | None = None) -> Case:
    """Ask the customer a question; both clocks pause until the reply."""
    t = engine.authorise(case, Action.REQUEST_INFO, actor)
    engine.check_version(case, expected_version)
    text = _message(message, required=True)
    deadlines.pause(case, utcnow())
    engine.apply(case, t, actor, tag=Tag.CASE_INFO_REQUESTED, message=text)
    return case


def reply(case: Case, *, actor: Actor, message: str | None,
          expected_version: int | None = None) -> Case:
    """The customer answers; the clocks run again."""
    t = engine.authorise(case, Action.REPLY, actor)
    engine.check_version(case, expected_version)
    text = _message(message, required=True)
    deadlines.resume(case, utcnow(), deadlines.corrections_for(case.uf))
    engine.apply(case, t, actor, tag=Tag.CASE_REPLIED, message=text)
    return case


def needs_second_approval(case: Case, valid_days: int) -> bool:
    """Four-eyes rule: a prefix (several addresses) or a validity above the default."""
    addresses = int(case.net_hi, 16) - int(case.net_lo, 16) + 1
    return addresses > 1 or valid_days > setting("DEFAULT_VALIDITY_DAYS")


def approve(case: Case, *, actor: Actor, valid_days: int | None = None,
            message: str | None = None, expected_version: int | None = None) -> Case:
    """Grant the exception, or record the first of two approvals when four eyes are needed."""
    t = engine.authorise(case, Action.APPROVE, actor)
    engine.check_version(case, expected_version)
    text = _message(message, required=False)
    if case.status is CaseStatus.PENDING_SECOND_APPROVAL:
        valid_days = case.valid_days
    else:
        valid_days = _valid_days(valid_days)
        case.valid_days = valid_days
        if needs_second_approval(case, valid_days):
            case.first_approver_id = actor.user.id
            engine.apply(case, t, actor, tag=Tag.CASE_APPROVAL_PROPOSED,
                         target=CaseStatus.PENDING_SECOND_APPROVAL, message=text,
                         details={"valid_days": valid_days})
            return case
    now = utcnow()
    case.valid_from, case.valid_until = now, now + timedelta(days=valid_days)
    case.decided_at = now
    deadlines.stop(case)
    engine.apply(case, t, actor, tag=Tag.CASE_APPROVED, message=text,
                 details={"valid_days": valid_days,
                          "valid_until": iso_utc(case.valid_until)})
    return case


def _valid_days(valid_days: int | None) -> int:
    if valid_days is None:
        return setting("DEFAULT_VALIDITY_DAYS")
    if not 1 <= valid_days <= setting("MAX_VALIDITY_DAYS"):
        raise InvalidInput(_l("A validade deve ser de 1 a %(max)d dias.",
                              max=setting("MAX_VALIDITY_DAYS")), field="valid_days")
    return valid_days


def reject(case: Case, *, actor: Actor, reason_code: str | None, message: str | None = None,
           expected_version: int | None = None) -> Case:
    """Refuse the request with a reason code from the catalogue."""
    t = engine.authorise(case, Action.REJECT, actor)
    engine.check_version(case, expected_version)
    reason = _reason(Action.REJECT, reason_code)
    text = _message(message, required=False)
    case.reason_code, case.rejected_by_id = reason.code, actor.user.id
    case.decided_at = utcnow()
    deadlines.stop(case)
    engine.apply(case, t, actor, tag=Tag.CASE_REJECTED, message=text,
                 details={"reason_code": reason.code})
    return case


def appeal(case: Case, *, actor: Actor, message: str | None,
           expected_version: int | None = None) -> Case:
    """The customer contests a refusal, once, within the appeal window."""
    t = engine.authorise(case, Action.APPEAL, actor)
    engine.check_version(case, expected_version)
    if case.appealed_at is not None:
        raise Conflict(_l("Este pedido já teve um recurso; só é possível recorrer uma vez."))
    deadline, now = deadlines.appeal_deadline(case), utcnow()
    if deadline is None or now > deadline:
        raise Conflict(_l("O prazo de %(days)d dias para recorrer terminou.",
                          days=setting("APPEAL_WINDOW_DAYS")))
    text = _message(message, required=True)
    # The target was free while the case was closed: someone may have asked for it since.
    _refuse_overlap(Target(ip_network(case.target)), case.customer, other_than=case)
    case.appealed_at, case.assignee_id, case.decided_at = now, None, None
    case.answer_due_at, case.execution_due_at = deadlines.initial_deadlines(
        now, case.uf, setting("ANSWER_DEADLINE_DAYS"), setting("EXECUTION_DEADLINE_BUSINESS_DAYS"),
        deadlines.corrections_for(case.uf))
    deadlines.running(case)
    engine.apply(case, t, actor, tag=Tag.CASE_APPEALED, message=text)
    return case


def cancel(case: Case, *, actor: Actor, message: str | None = None,
           expected_version: int | None = None) -> Case:
    """The customer withdraws a request that is not decided yet."""
    t = engine.authorise(case, Action.CANCEL, actor)
    engine.check_version(case, expected_version)
    text = _message(message, required=False)
    deadlines.stop(case)
    engine.apply(case, t, actor, tag=Tag.CASE_CANCELLED, message=text)
    return case


def revoke(case: Case, *, actor: Actor, reason_code: str | None = None,
           message: str | None = None, expected_version: int | None = None) -> Case:
    """End an exception: staff for a reason (abuse, …), or the customer giving it back."""
    t = engine.authorise(case, Action.REVOKE, actor)
    engine.check_version(case, expected_version)
    if actor.user.role is Role.CUSTOMER:
        reason_code = "customer_request"
    reason = _reason(Action.REVOKE, reason_code)
    text = _message(message, required=False)
    case.reason_code = reason.code
    engine.apply(case, t, actor, tag=Tag.CASE_REVOKED, message=text,
                 details={"reason_code": reason.code})
    return case


def add_note(case: Case, *, actor: Actor, message: str | None, public: bool = False) -> Case:
    """Staff write an internal note (never shown to the customer) or a public message."""
    if actor.user is None or not actor.user.is_staff:
        raise Forbidden(_l("Somente a equipe do provedor escreve notas."))
    text = _message(message, required=True)
    kind = MessageKind.PUBLIC if public else MessageKind.INTERNAL
    note = engine.add_message(case, actor, text, kind)
    audit.record(Tag.CASE_NOTE_ADDED, actor, object_type="case", object_id=case.protocol,
                 uf=case.uf, details={"message_id": note.id, "kind": kind.value})
    return case


def activate(case: Case, *, actor: Actor) -> Case:
    """Every enforcement endpoint acknowledged the approval (run by the worker)."""
    t = engine.authorise(case, Action.ACTIVATE, actor)
    engine.apply(case, t, actor, tag=Tag.CASE_ACTIVATED)
    return case


def expire(case: Case, *, actor: Actor) -> Case:
    """The validity ended (run by the worker)."""
    t = engine.authorise(case, Action.EXPIRE, actor)
    engine.apply(case, t, actor, tag=Tag.CASE_EXPIRED)
    return case


def abandon(case: Case, *, actor: Actor) -> Case:
    """No reply within the window: the case is closed (run by the worker)."""
    t = engine.authorise(case, Action.ABANDON, actor)
    deadlines.stop(case)
    engine.apply(case, t, actor, tag=Tag.CASE_ABANDONED)
    return case


# What a person may ask for by name (the API's /actions/{action}, the forms).
VERBS = {
    Action.CLAIM: claim, Action.REQUEST_INFO: request_info, Action.REPLY: reply,
    Action.APPROVE: approve, Action.REJECT: reject, Action.APPEAL: appeal,
    Action.CANCEL: cancel, Action.REVOKE: revoke,
}


def perform(case: Case, action: Action, *, actor: Actor, message: str | None = None,
            reason_code: str | None = None, valid_days: int | None = None,
            expected_version: int | None = None) -> Case:
    """Take ``action`` by name, passing each verb only the arguments it understands."""
    verb = VERBS[action]
    kwargs: dict = {"actor": actor, "expected_version": expected_version}
    if action in (Action.REQUEST_INFO, Action.REPLY, Action.APPROVE, Action.REJECT,
                  Action.APPEAL, Action.CANCEL, Action.REVOKE):
        kwargs["message"] = message
    if action in (Action.REJECT, Action.REVOKE):
        kwargs["reason_code"] = reason_code
    if action is Action.APPROVE:
        kwargs["valid_days"] = valid_days
    return verb(case, **kwargs)
