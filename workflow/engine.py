"""Applies one row of the transition table to a case: the only place a status is set."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm.exc import StaleDataError

from models import Case, CaseStatus, Message, MessageKind, RecordKind, Role, db

from . import audit, outbox, records
from .audit import Actor, Tag
from .errors import Conflict, Forbidden
from .states import TRANSITIONS, Action, Guard, Transition, transitions_for

STATUS_LABELS = {
    CaseStatus.SUBMITTED: _l("Recebido"),
    CaseStatus.IN_REVIEW: _l("Em análise"),
    CaseStatus.AWAITING_CUSTOMER: _l("Aguardando o cliente"),
    CaseStatus.PENDING_SECOND_APPROVAL: _l("Aguardando segunda aprovação"),
    CaseStatus.APPROVED: _l("Aprovado"),
    CaseStatus.ACTIVE: _l("Ativo"),
    CaseStatus.REJECTED: _l("Indeferido"),
    CaseStatus.APPEALED: _l("Em recurso"),
    CaseStatus.CANCELLED: _l("Cancelado"),
    CaseStatus.REVOKED: _l("Revogado"),
    CaseStatus.EXPIRED: _l("Expirado"),
}

# Which new status calls for which decision notice to the customer (DESIGN §8).
NOTICE_FOR_STATUS = {
    CaseStatus.APPROVED: RecordKind.APPROVAL,
    CaseStatus.REJECTED: RecordKind.REJECTION,
    CaseStatus.REVOKED: RecordKind.REVOCATION,
    CaseStatus.EXPIRED: RecordKind.EXPIRY,
}

ACTION_LABELS = {
    Action.CLAIM: _l("assumir"),
    Action.REQUEST_INFO: _l("pedir informações sobre"),
    Action.REPLY: _l("responder"),
    Action.APPROVE: _l("aprovar"),
    Action.REJECT: _l("indeferir"),
    Action.APPEAL: _l("recorrer de"),
    Action.CANCEL: _l("cancelar"),
    Action.REVOKE: _l("revogar"),
    Action.ACTIVATE: _l("ativar"),
    Action.EXPIRE: _l("expirar"),
    Action.ABANDON: _l("encerrar por falta de resposta"),
}


def authorise(case: Case, action: Action, actor: Actor) -> Transition:
    """The table row that lets ``actor`` take ``action`` now, or the reason why not.

    A role that may never take the action gets Forbidden (403); a role that may,
    but not from the current status, gets Conflict (409).
    """
    role = actor.user.role if actor.user else None
    if role is not None and not any(t.action == action and role in t.roles for t in TRANSITIONS):
        raise Forbidden(_l("Seu perfil não permite %(action)s casos.",
                           action=ACTION_LABELS[action]))
    rows = [t for t in transitions_for(action, case.status) if _role_matches(t, actor)]
    if not rows:
        raise Conflict(
            _l("Não é possível %(action)s um caso com status “%(status)s”.",
               action=ACTION_LABELS[action], status=STATUS_LABELS[case.status])
        )
    refusals = [_guard_refusal(t.guard, case, actor) for t in rows]
    for row, refusal in zip(rows, refusals, strict=True):
        if refusal is None:
            return row
    raise Forbidden(refusals[0])


def _role_matches(t: Transition, actor: Actor) -> bool:
    if actor.user is None:
        return t.guard is Guard.SYSTEM
    return actor.user.role in t.roles


def _guard_refusal(guard: Guard, case: Case, actor: Actor):
    """None when the guard lets ``actor`` through, else the message saying why not."""
    user = actor.user
    if guard in (Guard.ANY, Guard.SYSTEM):
        return None
    if guard is Guard.OWNER:
        return None if case.customer_id == user.id else _l("Este caso não é seu.")
    if guard is Guard.ASSIGNEE or (guard is Guard.ASSIGNEE_OR_SUPERVISOR
                                   and user.role is not Role.SUPERVISOR):
        return None if case.assignee_id == user.id else _l(
            "Somente o analista responsável pelo caso pode fazer isso; assuma o caso antes.")
    if guard is Guard.ASSIGNEE_OR_SUPERVISOR:
        return None
    if guard is Guard.NOT_REJECTER:
        return None if case.rejected_by_id != user.id else _l(
            "O recurso deve ser analisado por outra pessoa, não por quem indeferiu o pedido.")
    if guard is Guard.SECOND_APPROVER:
        return None if case.first_approver_id != user.id else _l(
            "A segunda aprovação deve ser de outro supervisor.")
    raise AssertionError(guard)


def check_version(case: Case, expected_version: int | None) -> None:
    """Refuse a change made from a stale copy of the case."""
    if expected_version is not None and expected_version != case.version:
        raise Conflict(_l("O caso foi alterado por outra pessoa enquanto você o via. "
                          "Recarregue a página e tente de novo."))


def apply(
    case: Case,
    transition: Transition,
    actor: Actor,
    *,
    tag: Tag,
    target: CaseStatus | None = None,
    message: str | None = None,
    message_kind: MessageKind = MessageKind.PUBLIC,
    details: dict | None = None,
) -> audit.AuditEvent:
    """Set the new status, keep the message, flush (version check) and audit, in that order.

    A new status may put an event on the enforcement stream and call for a decision
    notice; the notice's builder finds this audit event later (it is written last).
    """
    source = case.status
    case.status = target or transition.target
    details = {"from": source.value, "to": case.status.value, **(details or {})}
    note = add_message(case, actor, message, message_kind, transition.action) if message else None
    flush_case()
    if note is not None:
        details["message_id"] = note.id
    event_type = outbox.EVENT_FOR_STATUS.get(case.status)
    if event_type is not None and case.status is not source:
        details["sequence"] = outbox.emit(case, event_type).sequence
    notice = NOTICE_FOR_STATUS.get(case.status)
    if notice is not None and case.status is not source:
        records.request_record(notice, case=case, language=records.language_of(case.customer))
    return audit.record(tag, actor, object_type="case", object_id=case.protocol,
                        uf=case.uf, details=details)


def add_message(case: Case, actor: Actor, body: str, kind: MessageKind,
                action: Action | None = None) -> Message:
    """Attach a message to the case (flushed, so that it has an id)."""
    note = Message(case=case, author_id=actor.user.id if actor.user else None, kind=kind,
                   action=action.value if action else None, body=body)
    db.session.add(note)
    flush_case()
    return note


def flush_case() -> None:
    """Flush; a concurrent change of the same case becomes a Conflict."""
    try:
        db.session.flush()
    except StaleDataError:
        raise Conflict(_l("O caso foi alterado por outra pessoa ao mesmo tempo. "
                          "Recarregue a página e tente de novo.")) from None
