"""Regulators' exports (DESIGN §9): cases and audit events in scope, as CSV or JSON Lines.

Each export reads one snapshot (workflow.snapshot) and is streamed in batches,
so the whole trail costs a few batches of memory. The snapshot is taken first:
the export's audit event (``case:list_exported``, ``audit:events_exported``,
written in the caller's transaction, which commits it before the first byte is
sent) then states exactly how many rows the file holds and, for events, up to
which one the trail was read. Cases carry references, never personal data nor
free text (justification, messages): those stay on the case page.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select
from sqlalchemy.engine import Connection, Row

from models import AuditEvent, AuditHead, Case, User, db, iso_utc

from . import audit, trail
from .audit import Actor, Tag
from .errors import Forbidden
from .queue import StatusFilter, matching
from .snapshot import open_snapshot
from .trail import TrailFilter

FORMATS = ("csv", "jsonl")
BATCH = 1000
CASE_COLUMNS = (
    "protocol", "status", "uf", "category", "target", "customer_id", "submitted_at",
    "answer_due_at", "execution_due_at", "sla_due_at", "paused_at", "decided_at", "reason_code",
    "appealed_at", "valid_days", "valid_from", "valid_until",
)
EVENT_COLUMNS = ("seq", "occurred_at", "actor_role", "actor_id", "source_ip", "action",
                 "object_type", "object_id", "uf", "details", "prev_hash", "hash")


class Export:
    """An open snapshot and the query to stream from it; ``chunks()`` closes it at the end."""

    def __init__(self, connection: Connection, query: Select, fmt: str,
                 columns: tuple[str, ...], line: Callable[[Row], dict]) -> None:
        self.connection, self.query, self.fmt = connection, query, fmt
        self.columns, self.line = columns, line
        self.rows = 0
        self.up_to: int | None = None

    def chunks(self) -> Iterator[str]:
        """The file, one chunk per batch of rows (CSV with a BOM for spreadsheets)."""
        try:
            if self.fmt == "csv":
                yield "\ufeff" + _csv([self.columns])
            query = self.query.execution_options(yield_per=BATCH)
            with self.connection.execute(query) as result:
                for batch in result.partitions():
                    lines = [self.line(row) for row in batch]
                    yield (_csv([[_cell(item[c]) for c in self.columns] for item in lines])
                           if self.fmt == "csv" else
                           "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in lines))
        finally:
            self.close()

    def close(self) -> None:
        """End the read transaction (idempotent)."""
        self.connection.close()


def export_cases(*, actor: Actor, fmt: str, status: StatusFilter = None, uf: str | None = None,
                 category: str | None = None, q: str | None = None) -> Export:
    """The cases the actor may see that match the list's filters; audited."""
    user = _reader(actor)
    query = (matching(user, status=status, uf=uf, category=category, q=q)
             .with_only_columns(*(getattr(Case, c) for c in CASE_COLUMNS)).order_by(Case.id))
    export = _open(query, fmt, CASE_COLUMNS, _case_line)
    # The search text stays out of the trail (it may be a name or a CPF, and the chain
    # keeps what it holds for ever): only that there was one.
    filters = {k: v for k, v in {"status": status, "uf": uf, "category": category,
                                 "search": bool(q and q.strip())}.items() if v}
    if filters.get("status") and not isinstance(filters["status"], str):
        filters["status"] = sorted(str(s) for s in filters["status"])
    audit.record(Tag.CASE_LIST_EXPORTED, actor, object_type="export", uf=user.uf,
                 details={"format": fmt, "filters": filters, "rows": export.rows})
    return export


def export_events(*, actor: Actor, fmt: str, filters: TrailFilter) -> Export:
    """The audit events the actor may read that match the trail's filters; audited."""
    user = _reader(actor)
    query = trail.matching(user, filters)
    export = _open(query.with_only_columns(*AuditEvent.__table__.c).order_by(AuditEvent.seq),
                   fmt, EVENT_COLUMNS, trail.event_data, events=True)
    audit.record(Tag.AUDIT_EVENTS_EXPORTED, actor, object_type="export", uf=user.uf,
                 details={"format": fmt, "filters": filters.as_dict(), "rows": export.rows,
                          "up_to_seq": export.up_to})
    return export


def _reader(actor: Actor) -> User:
    if actor.user is None:
        raise Forbidden(_l("Entre com uma conta de auditoria para exportar."))
    trail.require_reader(actor.user)
    return actor.user


def _open(query: Select, fmt: str, columns: tuple[str, ...], line: Callable[[Row], dict], *,
          events: bool = False) -> Export:
    """Open the snapshot, fix what it holds (the head, the count) and hand it over."""
    if fmt not in FORMATS:
        raise ValueError(fmt)
    connection = open_snapshot(db.engine)
    try:
        export = Export(connection, query, fmt, columns, line)
        if events:  # the first statement fixes the snapshot: events up to this head
            export.up_to = connection.scalar(select(AuditHead.seq).where(AuditHead.id == 1))
            export.query = query.where(AuditEvent.seq <= export.up_to)
        counted = export.query.order_by(None).subquery()
        export.rows = connection.scalar(select(func.count()).select_from(counted))
        return export
    except BaseException:
        connection.close()
        raise


def _plain(value):
    if hasattr(value, "tzinfo"):
        return iso_utc(value)
    return value.value if hasattr(value, "value") else value


def _case_line(row: Row) -> dict:
    return {name: _plain(value) for name, value in zip(CASE_COLUMNS, row, strict=True)}


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        return audit.canonical(value).decode()
    return str(value)


def _csv(rows) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue()
