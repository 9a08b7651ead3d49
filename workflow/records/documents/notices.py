"""Decision notices, issued when a case is approved, rejected, revoked or expires.

Each notice says what was decided, why, what follows and whom to turn to, in the
customer's language, and is anchored to the audit event of its decision. It is
written from the case as it stands at render time and from that event (its
reason code and message), so a notice rendered late still tells its decision.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from flask_babel import gettext as _

from models import Case, Message, MessageKind, ReasonCode, RecordKind, db, iso_utc

from ... import deadlines, labels, privacy
from ...config import setting
from ...links import public_url
from .base import Document, Pending
from .common import case_event, case_link, contacts

# The audit tag of the decision each notice attests.
DECISION_TAGS = {
    RecordKind.APPROVAL: "case:approved",
    RecordKind.REJECTION: "case:rejected",
    RecordKind.REVOCATION: "case:revoked",
    RecordKind.EXPIRY: "case:expired",
}


def build(pending: Pending) -> Document:
    """The notice of ``pending.kind`` for its case."""
    case = db.session.get(Case, pending.case_id)
    event = case_event(case, DECISION_TAGS[pending.kind])
    details = json.loads(event.details) if event else {}
    decided_at = event.occurred_at if event else case.decided_at or case.updated_at
    context = {
        "case": case, "customer_name": case.customer.name,
        "customer_document": privacy.mask_document(case.customer.cpf_cnpj),
        "decided_at": decided_at, "message": _decision_message(case, details),
        "case_url": case_link(case), "new_case_url": public_url("portal.new_case"),
        "contacts": contacts(),
    }
    data = {"protocol": case.protocol, "kind": pending.kind.value, "target": case.target,
            "decided_at": iso_utc(decided_at), "audit_seq": event.seq if event else None}
    title, extra = _SPECIFIC[pending.kind](case, details, decided_at, data)
    context.update(extra)
    return Document(
        template=f"records/{pending.kind.value}.html",
        title=_("%(notice)s — protocolo %(protocol)s",
                notice=labels.RECORD_KIND_LABELS[pending.kind], protocol=case.protocol),
        description=title, protocol=case.protocol, keywords=(case.protocol, case.target),
        anchor=event, data=data, context=context,
    )


def _decision_message(case: Case, details: dict) -> Message | None:
    """The public message sent with the decision (an internal note never reaches a notice)."""
    message = db.session.get(Message, details["message_id"]) if "message_id" in details else None
    if message is None or message.case_id != case.id or message.kind is not MessageKind.PUBLIC:
        return None
    return message


def _reason(action: str, details: dict, case: Case) -> str | None:
    code = details.get("reason_code") or case.reason_code
    if not code:
        return None
    reason = db.session.get(ReasonCode, (action, code))
    return labels.reason_text(reason) if reason else code


def _approval(case: Case, details: dict, decided_at: datetime, data: dict):
    data.update(valid_from=iso_utc(case.valid_from), valid_until=iso_utc(case.valid_until),
                valid_days=case.valid_days)
    return _("Aprovação do pedido de exceção ao bloqueio da porta 25"), {}


def _rejection(case: Case, details: dict, decided_at: datetime, data: dict):
    # An appeal filed before this refusal makes it the final answer; one filed after it
    # (the notice rendered late) is shown as such.
    appealed = case.appealed_at
    final = appealed is not None and appealed <= decided_at
    deadline = None if final else (deadlines.appeal_deadline(case) or decided_at + timedelta(
        days=setting("APPEAL_WINDOW_DAYS")))
    appeal_text = _customer_appeal(case, decided_at) if final else None
    reason = _reason("reject", details, case)
    data.update(reason_code=details.get("reason_code") or case.reason_code,
                appeal_deadline=iso_utc(deadline), final=final)
    return _("Indeferimento do pedido de exceção ao bloqueio da porta 25"), {
        "reason": reason, "final": final, "appeal_deadline": deadline,
        "appealed_after": appealed if appealed and not final else None,
        "appeal_text": appeal_text, "appeal_days": setting("APPEAL_WINDOW_DAYS"),
    }


def _customer_appeal(case: Case, before: datetime) -> str | None:
    """What the customer argued in the appeal this refusal answers."""
    appeals = [m for m in case.messages if m.action == "appeal" and m.created_at <= before]
    return appeals[-1].body if appeals else None


def _revocation(case: Case, details: dict, decided_at: datetime, data: dict):
    code = details.get("reason_code") or case.reason_code
    data.update(reason_code=code, valid_from=iso_utc(case.valid_from))
    return _("Revogação da exceção ao bloqueio da porta 25"), {
        "reason": _reason("revoke", details, case), "given_back": code == "customer_request",
    }


def _expiry(case: Case, details: dict, decided_at: datetime, data: dict):
    data.update(valid_from=iso_utc(case.valid_from), valid_until=iso_utc(case.valid_until))
    return _("Fim da validade da exceção ao bloqueio da porta 25"), {}


_SPECIFIC = {
    RecordKind.APPROVAL: _approval,
    RecordKind.REJECTION: _rejection,
    RecordKind.REVOCATION: _revocation,
    RecordKind.EXPIRY: _expiry,
}

