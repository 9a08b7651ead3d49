"""Asking for a record, and the worker's three steps that issue it.

``request_record`` writes a row in the caller's transaction. The worker then
claims it (one transaction), renders it with no transaction open, and stores the
bytes with their hash and the ``record:issued`` audit event (a second
transaction): a render never holds the audit head's lock (DESIGN §12).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import segno
from flask import render_template
from flask_babel import force_locale, format_datetime
from markupsafe import Markup
from sqlalchemy import select

from models import Case, Record, RecordFile, RecordKind, RecordRequest, User, db, iso_utc, utcnow

from .. import audit
from ..audit import Actor, Tag
from ..config import setting
from ..links import public_url
from . import codes, documents, render, signature
from .documents.base import Document, Pending

RECORDS = Actor.system("records")
# Waits after the 1st, 2nd, … failure; then the request is given up (staff may ask again).
RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30))


def request_record(kind: RecordKind, *, language: str, requested_by: User | None = None,
                   case: Case | None = None, customer: User | None = None,
                   uf: str | None = None, period: tuple[date, date] | None = None,
                   variant: str | None = None, now: datetime | None = None) -> RecordRequest:
    """Ask for a record in the current transaction; the worker issues it after commit.

    A case's record belongs to its customer and its state. The same document
    asked for twice before it is issued is one request. ``variant`` keeps apart
    documents that differ by audience (a dossier with personal data masked).
    """
    if case is not None:
        customer, uf = case.customer, case.uf
    start, end = period or (None, None)
    series = ":".join(str(part) if part is not None else "-" for part in (
        kind.value, case.id if case else None, customer.id if customer else None, uf,
        start, end, language, *((variant,) if variant else ())))
    waiting = db.session.scalars(select(RecordRequest).where(
        RecordRequest.series == series, RecordRequest.done_at.is_(None),
        RecordRequest.next_attempt_at.is_not(None))).first()
    if waiting is not None:
        return waiting
    pending = RecordRequest(
        kind=kind, code=codes.new_code(), series=series, case_id=case.id if case else None,
        customer_id=customer.id if customer else None, uf=uf, period_start=start,
        period_end=end, language=language, attempts=0, next_attempt_at=now or utcnow(),
        requested_by_id=requested_by.id if requested_by else None)
    db.session.add(pending)
    db.session.flush()
    return pending


def language_of(user: User | None) -> str:
    """The language a user reads records in."""
    return (user.locale if user and user.locale else None) or setting("DEFAULT_LOCALE")


def claim_next(now: datetime) -> Pending | None:
    """Take the oldest due request, pushing its next try past one lease (crash safety)."""
    query = (select(RecordRequest)
             .where(RecordRequest.done_at.is_(None), RecordRequest.next_attempt_at <= now)
             .order_by(RecordRequest.next_attempt_at, RecordRequest.id).limit(1))
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    row = db.session.scalars(query).first()
    if row is None:
        return None
    row.attempts += 1
    row.next_attempt_at = now + timedelta(seconds=setting("WORKER_LEASE_SECONDS"))
    return Pending(row.id, row.kind, row.code, row.series, row.case_id, row.customer_id,
                   row.uf, row.period_start, row.period_end, row.language, row.requested_by_id)


@dataclass(frozen=True)
class Rendered:
    pdf: bytes
    signer: str | None


def produce(pending: Pending, now: datetime) -> Rendered:
    """Gather and write the HTML in one read transaction, end it, then make the PDF."""
    html, data = write_html(pending, now)
    content = render.pdf(html, data=data)
    signed = signature.sign(content)
    return Rendered(signed.pdf, signed.signer)


def write_html(pending: Pending, now: datetime) -> tuple[str, bytes | None]:
    """The record's HTML and embedded JSON, read in one transaction that ends here."""
    try:
        with force_locale(pending.language):
            document = documents.build(pending)
            html = render_template(document.template, **document.context,
                                   stamp=_stamp(pending, document, now))
        data = _json_bytes(document.data) if document.data is not None else None
    finally:
        db.session.rollback()  # nothing was written; release the snapshot before the slow part
    return html, data


def _json_bytes(data: dict) -> bytes:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, indent=1, default=str).encode()


@dataclass(frozen=True)
class Stamp:
    """What every page of a record carries (templates/records/base.html)."""

    title: str
    description: str
    keywords: str
    issuer: str
    code: str
    verify_url: str
    qr_svg: Markup
    created_iso: str
    created_local: str
    html_lang: str
    protocol: str | None
    anchor_seq: int | None
    anchor_hash: str | None


def verify_url(code: str) -> str:
    """The public address that confirms the record with ``code``."""
    return public_url("records.verify", code=code)


def _stamp(pending: Pending, document: Document, now: datetime) -> Stamp:
    url = verify_url(codes.display(pending.code))
    qr = segno.make(url, error="m").svg_inline(omitsize=True, border=0, dark="#000")
    anchor = document.anchor
    return Stamp(
        title=str(document.title), description=str(document.description),
        keywords=", ".join(["porta25", pending.kind.value, *document.keywords]),
        issuer=setting("ISP_NAME"), code=codes.display(pending.code), verify_url=url,
        qr_svg=Markup(qr), created_iso=iso_utc(now),
        created_local=format_datetime(now, "dd/MM/yyyy HH:mm"),
        html_lang="en" if pending.language.startswith("en") else "pt-BR",
        protocol=document.protocol, anchor_seq=anchor.seq if anchor else None,
        anchor_hash=anchor.hash.hex() if anchor else None,
    )


def store(pending: Pending, rendered: Rendered, now: datetime) -> Record | None:
    """Keep the bytes once, superseding the series' latest record; audited.

    None when another worker stored this request meanwhile (its lease ran out).
    """
    row = db.session.get(RecordRequest, pending.id, with_for_update=True)
    if row.done_at is not None:
        return None
    previous = db.session.scalars(select(Record).where(Record.series == pending.series)
                                  .order_by(Record.id.desc()).limit(1)).first()
    sha256 = hashlib.sha256(rendered.pdf).hexdigest()
    event = audit.record(Tag.RECORD_ISSUED, RECORDS, object_type="record",
                         object_id=pending.code, uf=pending.uf, details={
                             "kind": pending.kind.value, "sha256": sha256,
                             "case_id": pending.case_id, "requested_by": pending.requested_by_id,
                             "supersedes": previous.code if previous else None})
    record = Record(
        code=pending.code, request_id=pending.id, kind=pending.kind, series=pending.series,
        supersedes_id=previous.id if previous else None, case_id=pending.case_id,
        customer_id=pending.customer_id, uf=pending.uf, period_start=pending.period_start,
        period_end=pending.period_end, language=pending.language, sha256=sha256,
        size=len(rendered.pdf), signer=rendered.signer, issued_by_id=pending.requested_by_id,
        issued_at=now, audit_seq=event.seq, file=RecordFile(content=rendered.pdf))
    db.session.add(record)
    row.done_at, row.next_attempt_at, row.last_error = now, None, None
    db.session.flush()
    return record


def record_failure(pending: Pending, error: str, now: datetime) -> str:
    """Keep why a render failed; "retry" later, or "gave_up" after the last delay."""
    row = db.session.get(RecordRequest, pending.id)
    row.last_error = error[:500]
    if row.attempts > len(RETRY_DELAYS):
        row.next_attempt_at = None
        return "gave_up"
    row.next_attempt_at = now + RETRY_DELAYS[row.attempts - 1]
    return "retry"
