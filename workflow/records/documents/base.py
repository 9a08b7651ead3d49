"""What a document builder receives and returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from models import AuditEvent, RecordKind


@dataclass(frozen=True)
class Pending:
    """A record request, detached from the session that claimed it."""

    id: int
    kind: RecordKind
    code: str
    series: str
    case_id: int | None
    customer_id: int | None
    uf: str | None
    period_start: date | None
    period_end: date | None
    language: str
    requested_by_id: int | None


@dataclass
class Document:
    """A record about to be rendered: its template, what the template reads, its metadata.

    ``context`` may hold ORM objects: the HTML is rendered inside the read
    transaction, and only the PDF step runs after it has ended.
    """

    template: str
    title: str
    context: dict = field(default_factory=dict)
    protocol: str | None = None
    description: str = ""
    keywords: tuple[str, ...] = ()
    data: dict | None = None  # embedded in the PDF as JSON (relationship Data)
    anchor: AuditEvent | None = None  # the audit event the record attests, printed on it
