"""Where else the personal data of a case or a customer live, and erasing them (LGPD
retention, ``workflow.retention``).

Besides its own row, a case's personal data are copied into: its messages; the
bytes of its records; the facts of its DNS evidence checks (the DNS names, the mail
host's domain, SPF text — the outcome and the detail's key stay; the triggers allow
this one update, once the case is anonymised); the webhook bodies of its
enforcement events (the subscriber id; the target stays) and the receivers' answers
logged with their delivery attempts; the e-mails about it; the errors of its
documents' renders. A customer's: their e-mails, their records' bytes, the names
they gave their API tokens, the errors of their statements' renders.

What is still pending is left alone, so that no contract breaks: an event a delivery
still tries (a disabled endpoint's too) or an active endpoint has not reached yet,
an e-mail not yet sent nor given up, a document not yet rendered. The next run
erases it once finished (``retention:erased``). A dead delivery replayed after its
event was erased sends the erased body (subscriber id ""), with its webhook-id, as a
re-enabled endpoint does; the receiver applies it by target, which stays.

``find_*`` only reads (the dry run counts it); ``erase`` changes exactly what was found.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass, fields
from datetime import datetime

from sqlalchemy import delete, func, or_, select, true, update

from models import (
    ERASED_FACTS,
    ApiToken,
    Case,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    EvidenceCheck,
    Message,
    Notification,
    OutboxEvent,
    Record,
    RecordFile,
    RecordRequest,
    User,
    WebhookEndpoint,
    db,
)


@dataclass(frozen=True)
class Traces:
    """Row ids to erase, by kind; ``counts`` is what the audit event and the dry run say."""

    def counts(self) -> dict[str, int]:
        return {f.name: len(getattr(self, f.name)) for f in fields(self)}

    def __bool__(self) -> bool:
        return any(self.counts().values())


@dataclass(frozen=True)
class CaseTraces(Traces):
    messages: list[int]  # bodies emptied
    record_files: list[int]  # record ids whose bytes are deleted
    evidence_checks: list[int]  # facts set to ERASED_FACTS
    outbox_events: list[int]  # sequences whose body loses the subscriber id
    delivery_attempts: list[int]  # the receiver's answer cut to its HTTP status
    notifications: list[int]  # e-mails deleted
    record_requests: list[int]  # render errors cleared


@dataclass(frozen=True)
class CustomerTraces(Traces):
    record_files: list[int]
    notifications: list[int]
    api_tokens: list[int]  # named "" and revoked
    record_requests: list[int]


def _finished_mail():
    return or_(Notification.sent_at.is_not(None), Notification.next_attempt_at.is_(None))


def _finished_render():
    return or_(RecordRequest.done_at.is_not(None), RecordRequest.next_attempt_at.is_(None))


def _ids(query) -> list[int]:
    return list(db.session.scalars(query))


def find_case(case: Case, *, as_of: datetime) -> CaseTraces:
    """What of ``case``'s personal data is still held outside its row, as of its
    anonymisation ``as_of`` (records asked for later hold only the erased case)."""
    events = erasable_events(case)
    return CaseTraces(
        messages=_ids(select(Message.id).where(
            Message.case_id == case.id, Message.body != "", Message.created_at <= as_of)),
        record_files=_ids(select(Record.id)
                          .join(RecordFile, RecordFile.record_id == Record.id)
                          .join(RecordRequest, RecordRequest.id == Record.request_id)
                          .where(Record.case_id == case.id,
                                 RecordRequest.requested_at <= as_of)),
        evidence_checks=_ids(select(EvidenceCheck.id).where(
            EvidenceCheck.case_id == case.id, EvidenceCheck.facts != ERASED_FACTS)),
        outbox_events=[e.sequence for e in events if _subscriber_of(e) != ""],
        delivery_attempts=[a.id for a in _attempts_of(events) if a.error != _bare(a)],
        notifications=_ids(select(Notification.id).where(
            Notification.case_id == case.id, _finished_mail())),
        record_requests=_ids(select(RecordRequest.id).where(
            RecordRequest.case_id == case.id, RecordRequest.last_error.is_not(None),
            _finished_render())),
    )


def find_customer(user: User, *, cases_due: Collection[int] = ()) -> CustomerTraces:
    """What of ``user``'s personal data is held outside their row. Rows of ``cases_due``
    (the dry run: cases anonymised just before the customer) are counted on the case."""
    def outside(column):
        return or_(column.is_(None), column.not_in(cases_due)) if cases_due else true()

    return CustomerTraces(
        record_files=_ids(select(Record.id).join(RecordFile, RecordFile.record_id == Record.id)
                          .where(Record.customer_id == user.id, outside(Record.case_id))),
        notifications=_ids(select(Notification.id).where(
            Notification.user_id == user.id, outside(Notification.case_id))),
        api_tokens=_ids(select(ApiToken.id).where(
            ApiToken.user_id == user.id,
            or_(ApiToken.name != "", ApiToken.revoked_at.is_(None)))),
        record_requests=_ids(select(RecordRequest.id).where(
            RecordRequest.customer_id == user.id, RecordRequest.last_error.is_not(None),
            _finished_render(), outside(RecordRequest.case_id))),
    )


def erasable_events(case: Case) -> list[OutboxEvent]:
    """The case's stream events nothing will send again: no delivery of one is pending
    and every active endpoint has passed it (a supervisor's replay of a dead one aside)."""
    reached = db.session.scalar(select(func.min(WebhookEndpoint.position))
                                .where(WebhookEndpoint.active.is_(True)))
    pending = select(Delivery.id).where(Delivery.sequence == OutboxEvent.sequence,
                                        Delivery.status == DeliveryStatus.PENDING)
    query = select(OutboxEvent).where(OutboxEvent.case_id == case.id, ~pending.exists())
    if reached is not None:
        query = query.where(OutboxEvent.sequence <= reached)
    return list(db.session.scalars(query.order_by(OutboxEvent.sequence)))


def _subscriber_of(event: OutboxEvent) -> str:
    return json.loads(event.body)["data"].get("subscriber_id") or ""


def _attempts_of(events: list[OutboxEvent]) -> list[DeliveryAttempt]:
    """The attempts of these events that got an HTTP answer (its excerpt may quote data)."""
    if not events:
        return []
    return list(db.session.scalars(
        select(DeliveryAttempt).join(Delivery, Delivery.id == DeliveryAttempt.delivery_id)
        .where(Delivery.sequence.in_([e.sequence for e in events]),
               DeliveryAttempt.status_code.is_not(None), DeliveryAttempt.error.is_not(None))
        .order_by(DeliveryAttempt.id)))


def _bare(attempt: DeliveryAttempt) -> str:
    """An attempt's error without the receiver's words: its HTTP status alone."""
    return f"HTTP {attempt.status_code}"


def erase_case(found: CaseTraces) -> None:
    """Erase what ``find_case`` found (the case must be anonymised already: the evidence
    triggers refuse the erasure of a live case's facts)."""
    _update(Message, Message.id, found.messages, body="")
    _delete_files(found.record_files)
    _update(EvidenceCheck, EvidenceCheck.id, found.evidence_checks, facts=ERASED_FACTS)
    for event in db.session.scalars(select(OutboxEvent).where(
            OutboxEvent.sequence.in_(found.outbox_events))):
        body = json.loads(event.body)
        body["data"]["subscriber_id"] = ""
        event.body = json.dumps(body)  # as workflow.outbox.emit writes it
    for attempt in db.session.scalars(select(DeliveryAttempt).where(
            DeliveryAttempt.id.in_(found.delivery_attempts))):
        attempt.error = _bare(attempt)
    _delete(Notification, Notification.id, found.notifications)
    _update(RecordRequest, RecordRequest.id, found.record_requests, last_error=None)
    db.session.flush()


def erase_customer(found: CustomerTraces, *, now: datetime) -> None:
    """Erase what ``find_customer`` found; the tokens are revoked as well."""
    _delete_files(found.record_files)
    _delete(Notification, Notification.id, found.notifications)
    _update(ApiToken, ApiToken.id, found.api_tokens, name="")
    db.session.execute(update(ApiToken).where(ApiToken.id.in_(found.api_tokens),
                                              ApiToken.revoked_at.is_(None))
                       .values(revoked_at=now).execution_options(synchronize_session=False))
    _update(RecordRequest, RecordRequest.id, found.record_requests, last_error=None)
    db.session.flush()


def _update(model, key, ids: list[int], **values) -> None:
    if ids:
        db.session.execute(update(model).where(key.in_(ids)).values(**values)
                           .execution_options(synchronize_session=False))


def _delete(model, key, ids: list[int]) -> None:
    if ids:
        db.session.execute(delete(model).where(key.in_(ids))
                           .execution_options(synchronize_session=False))


def _delete_files(record_ids: list[int]) -> None:
    """Delete the bytes of these records (record_file rows); their code and hash stay."""
    _delete(RecordFile, RecordFile.record_id, record_ids)


def leftover_candidates() -> list[Case]:
    """Anonymised cases that may still hold something pending at their anonymisation
    (``find_case`` decides): any evidence fact, message, e-mail, render error or stream
    event of theirs left."""
    anonymised = Case.anonymised_at.is_not(None)
    held = or_(
        select(EvidenceCheck.id).where(EvidenceCheck.case_id == Case.id,
                                       EvidenceCheck.facts != ERASED_FACTS).exists(),
        select(Message.id).where(Message.case_id == Case.id, Message.body != "",
                                 Message.created_at <= Case.anonymised_at).exists(),
        select(Notification.id).where(Notification.case_id == Case.id).exists(),
        select(RecordRequest.id).where(RecordRequest.case_id == Case.id,
                                       RecordRequest.last_error.is_not(None)).exists(),
        select(Record.id).join(RecordFile, RecordFile.record_id == Record.id)
        .join(RecordRequest, RecordRequest.id == Record.request_id)
        .where(Record.case_id == Case.id,
               RecordRequest.requested_at <= Case.anonymised_at).exists(),
        select(OutboxEvent.sequence).where(OutboxEvent.case_id == Case.id).exists(),
    )
    return list(db.session.scalars(select(Case).where(anonymised, held).order_by(Case.id)))
