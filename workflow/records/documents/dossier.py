"""The case dossier: every fact of one case, for staff and regulators (DESIGN §8, §9).

What was asked, by whom (masked for auditors), the latest automated DNS checks,
the public messages, the decision and its reason, the enforcement deliveries
with every attempt, and the audit trail of the case with each event's hash, the
chain head that covers them and the signed checkpoint that covers them (or,
until one is signed, the head the next checkpoint will cover). The same facts go
into the PDF as JSON, each audit event with the fields its hash covers, so that
a regulator can recompute the hashes without our software.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import selectinload

from models import (
    AuditEvent,
    AuditHead,
    Case,
    Delivery,
    Message,
    MessageKind,
    OutboxEvent,
    RecordRequest,
    Role,
    User,
    db,
    iso_utc,
)

from ... import audit, evidence, labels, privacy, trail_labels
from ...audit import Tag
from ...config import setting
from .base import Document, Pending
from .common import checkpoint_data, checkpoint_note

STAFF_ROLES = frozenset({Role.OPERATOR, Role.SUPERVISOR})
DELIVERY_STATE_LABELS = {"delivered": _l("entregue"), "pending": _l("em tentativa"),
                         "dead": _l("morta")}


@dataclass(frozen=True)
class Identity:
    """The customer as this dossier's reader may know them."""

    name: str
    document: str
    email: str
    phone: str
    subscriber_id: str
    terms_accepted_from: str | None
    masked: bool


def build(pending: Pending) -> Document:
    """The dossier of ``pending``'s case, masked when an auditor asked for it."""
    case = db.session.get(Case, pending.case_id)
    requester = db.session.get(User, pending.requested_by_id) if pending.requested_by_id else None
    identity = identity_of(case, masked=is_masked(requester))
    messages = public_messages(case)
    deliveries = deliveries_of(case)
    events = audit_events(case)
    head = db.session.get(AuditHead, 1)
    # The case's last event is what the dossier attests; a checkpoint at or after it covers all.
    checkpoint = checkpoint_note(events[-1].seq if events else head.seq)
    return Document(
        template="records/dossier.html",
        title=_("Dossiê do caso %(protocol)s", protocol=case.protocol),
        description=_("Fatos, mensagens, decisão, entregas aos equipamentos e trilha de "
                      "auditoria de um pedido de exceção ao bloqueio da porta 25"),
        protocol=case.protocol, keywords=(case.protocol, case.target, "dossier"),
        anchor=db.session.get(AuditEvent, head.seq),
        context={
            "case": case, "customer": identity, "messages": messages,
            "deliveries": deliveries, "events": events, "head": head,
            "checkpoint": checkpoint, "checkpoint_data": checkpoint_data(checkpoint),
            "evidence": evidence.summary(case),
            "requester_role": requester.role.value if requester else None,
            "category": labels.CATEGORY_LABELS[case.category],
            "sending_kind": labels.SENDING_KIND_LABELS.get(case.sending_kind),
            "reason": labels.reason_label(case), "event_label": trail_labels.action_label,
            "actor_label": trail_labels.actor_label,
            "object_label": trail_labels.object_label, "reveal_note": reveal_note,
            "delivery_states": DELIVERY_STATE_LABELS, "exact": _exact,
            "zone": setting("DISPLAY_TIMEZONE"),
        },
        data={**data_of(case, identity, messages, deliveries, events, head),
              "audit_checkpoint": checkpoint_data(checkpoint)},
    )


def is_masked(requester: User | None) -> bool:
    """Whether a dossier asked for by ``requester`` hides the customer's personal data."""
    return requester is None or requester.role not in STAFF_ROLES


def identity_of(case: Case, *, masked: bool) -> Identity:
    """Who filed the case, their contract and the address they accepted the terms from;
    masked with workflow.privacy for auditors."""
    customer, accepted_from = case.customer, case.terms_accepted_from
    if masked:
        return Identity(privacy.mask_name(customer.name), privacy.mask_document(customer.cpf_cnpj),
                        privacy.mask_email(customer.email), privacy.mask_phone(customer.phone),
                        privacy.mask_reference(case.subscriber_id),
                        accepted_from and privacy.mask_address(accepted_from), True)
    return Identity(customer.name, customer.cpf_cnpj or "—", customer.email,
                    customer.phone or "—", case.subscriber_id, accepted_from, False)


def public_messages(case: Case) -> list[Message]:
    """The messages the customer and the staff exchanged (internal notes stay out)."""
    return [m for m in case.messages if m.kind is MessageKind.PUBLIC]


def deliveries_of(case: Case) -> list[Delivery]:
    """Every delivery of the case's enforcement events, with its attempts, in stream order."""
    return list(db.session.scalars(
        select(Delivery).join(OutboxEvent, OutboxEvent.sequence == Delivery.sequence)
        .where(OutboxEvent.case_id == case.id)
        .options(selectinload(Delivery.attempt_log), selectinload(Delivery.endpoint),
                 selectinload(Delivery.event))
        .order_by(Delivery.sequence, Delivery.endpoint_id)))


def audit_events(case: Case) -> list[AuditEvent]:
    """The case's own events, its records' (asked, issued, downloaded) and its deliveries'."""
    return list(db.session.scalars(
        select(AuditEvent).where(about(case)).order_by(AuditEvent.seq)))


def about(case: Case):
    """The condition on AuditEvent that picks the events of the case, its records and
    deliveries (the dossier's trail; the regulators' trail filtered by protocol)."""
    codes = select(RecordRequest.code).where(RecordRequest.case_id == case.id)
    delivery_ids = [str(i) for i in db.session.scalars(
        select(Delivery.id).join(OutboxEvent, OutboxEvent.sequence == Delivery.sequence)
        .where(OutboxEvent.case_id == case.id))]
    return or_(
        and_(AuditEvent.object_type == "case", AuditEvent.object_id == case.protocol),
        and_(AuditEvent.object_type == "record", AuditEvent.object_id.in_(codes)),
        and_(AuditEvent.object_type == "delivery", AuditEvent.object_id.in_(delivery_ids)),
    )


def reveal_note(event: AuditEvent) -> str | None:
    """Why and until when an auditor saw the personal data, for a reveal's row; else None."""
    if event.action != Tag.CASE_PERSONAL_DATA_REVEALED:
        return None
    details = json.loads(event.details)
    until = datetime.fromisoformat(details["expires_at"])
    return _("Motivo declarado: %(reason)s; acesso até %(until)s.",
             reason=details["reason"], until=_exact(until))


def _exact(moment) -> str:
    """A time to the second, in the display time zone (the audit trail's precision)."""
    return format_datetime(moment, "dd/MM/yyyy HH:mm:ss") if moment else "—"


CASE_FIELDS = (
    "protocol", "status", "target", "subscriber_id", "uf", "category", "justification",
    "mail_hostname", "messages_per_day", "sending_kind", "terms_version", "terms_accepted_at",
    "terms_accepted_from", "submitted_at", "answer_due_at", "execution_due_at", "sla_due_at",
    "paused_at", "decided_at", "assignee_id", "first_approver_id", "rejected_by_id",
    "reason_code", "appealed_at", "valid_days", "valid_from", "valid_until", "updated_at",
    "version",
)


def _plain(value):
    if hasattr(value, "tzinfo"):
        return iso_utc(value)
    return value.value if hasattr(value, "value") else value


def data_of(case: Case, identity: Identity, messages: list[Message],
            deliveries: list[Delivery], events: list[AuditEvent], head: AuditHead) -> dict:
    """The dossier's facts as JSON for machines (embedded in the PDF)."""
    return {
        "protocol": case.protocol, "status": case.status.value,
        "case": {**{name: _plain(getattr(case, name)) for name in CASE_FIELDS},
                 "subscriber_id": identity.subscriber_id,
                 "terms_accepted_from": identity.terms_accepted_from},
        "customer": {"name": identity.name, "document": identity.document,
                     "email": identity.email, "phone": identity.phone,
                     "masked": identity.masked},
        "messages": [{"id": m.id, "at": iso_utc(m.created_at), "author_id": m.author_id,
                      "action": m.action, "body": m.body} for m in messages],
        "evidence": evidence.as_data(case),
        "deliveries": [_delivery_data(d) for d in deliveries],
        "audit_events": [{**audit.event_body(e), "prev_hash": e.prev_hash.hex(),
                          "hash": e.hash.hex()} for e in events],
        "audit_head": {"seq": head.seq, "hash": head.hash.hex()},
    }


def _delivery_data(delivery: Delivery) -> dict:
    return {
        "sequence": delivery.sequence, "event_id": delivery.event.event_id,
        "type": delivery.event.type.value, "endpoint_id": delivery.endpoint_id,
        "endpoint_url": delivery.endpoint.url, "status": delivery.status.value,
        "attempts": delivery.attempts,
        "acknowledged_at": iso_utc(delivery.finished_at)
        if delivery.status.value == "delivered" else None,
        "attempt_log": [{"at": iso_utc(a.attempted_at), "status_code": a.status_code,
                         "duration_ms": a.duration_ms, "error": a.error}
                        for a in delivery.attempt_log],
    }
