"""`flask audit export`: a period's events (optionally one state's) with the signed
checkpoints that cover them, as JSON Lines a regulator recomputes without the app
(verifier/porta25_verify.py; the format is described there and in the README).

Format ``porta25-audit-export/v1``, one JSON object per line, in this order:

- ``header``: origin (AUDIT_KEY_NAME), the period as asked (``from``, ``to``,
  ``timezone``) and as UTC instants (``period_start`` ≤ occurred_at <
  ``period_end``), ``uf`` (null: every state), ``first_seq``/``last_seq`` (the
  period's events; null when none), ``checkpoint_seq``, ``exported_at``.
- ``checkpoint``: every checkpoint from ``first_seq`` up to the first one at or after
  ``last_seq`` (``checkpoint_seq``): seq, hash (hex), signed_at, the signed note.
- one line per event, in seq order, from ``first_seq`` to ``checkpoint_seq``: ``event``
  (seq, prev_hash, hash, body = the canonical JSON the chain hashes) for the period's
  events in scope; ``withheld`` (seq, prev_hash, hash, event_hash = SHA-256(body))
  for events of another state or none, and for those after the period up to the
  checkpoint — the chain still recomputes, their content stays undisclosed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import BinaryIO
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from models import AuditCheckpoint, AuditEvent, db, iso_utc

from . import audit
from .audit import Actor, Tag
from .config import setting
from .deadlines import UFS
from .errors import InvalidInput
from .snapshot import open_snapshot

FORMAT = "porta25-audit-export/v1"
BATCH = 5000


@dataclass(frozen=True)
class Period:
    """Local days ``start``…``end`` (inclusive) in DISPLAY_TIMEZONE, and a state or None."""

    start: date
    end: date
    uf: str | None
    timezone: str
    start_utc: datetime
    end_utc: datetime  # exclusive


def period(*, start: date, end: date, uf: str | None) -> Period:
    """Check and resolve an export's period and scope; InvalidInput names the bad field."""
    if start > end:
        raise InvalidInput(_l("A data inicial deve ser anterior ou igual à data final."),
                           field="from")
    uf = uf.strip().upper() if uf else None
    if uf is not None and uf not in UFS:
        raise InvalidInput(_l("UF desconhecida: %(uf)s.", uf=uf), field="uf")
    zone_name = setting("DISPLAY_TIMEZONE")
    zone = ZoneInfo(zone_name)

    def instant(day: date) -> datetime:
        return datetime.combine(day, time(), zone).astimezone(UTC)

    return Period(start, end, uf, zone_name, instant(start), instant(end + timedelta(days=1)))


def span(p: Period) -> tuple[int, int] | None:
    """(first, last) seq of the events that occurred in the period, or None."""
    return _span(db.session.connection(), p)


@dataclass(frozen=True)
class Summary:
    """What an export holds, for the audit event and the operator."""

    period: Period
    first_seq: int | None
    last_seq: int | None
    checkpoint_seq: int | None
    revealed: int
    withheld: int
    sha256: str
    size: int


def write(out: BinaryIO, p: Period, now: datetime) -> Summary:
    """Write the export to ``out`` from one read-only snapshot; the caller records it."""
    digest, size = hashlib.sha256(), 0

    def emit(line: dict) -> None:
        nonlocal size
        data = json.dumps(line, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
        digest.update(data)
        size += len(data)
        out.write(data)

    with open_snapshot(db.engine) as connection:
        bounds = _span(connection, p)
        first, last = bounds or (None, None)
        marks = _checkpoints(connection, first, last) if bounds else []
        covering = marks[-1].seq if marks and marks[-1].seq >= last else None
        emit(_header(p, first, last, covering, now))
        for mark in marks:
            emit({"type": "checkpoint", "seq": mark.seq, "hash": mark.hash.hex(),
                  "signed_at": iso_utc(mark.signed_at), "note": mark.note})
        counts = {"event": 0, "withheld": 0}
        if bounds:
            for line in _event_lines(connection, p, first, last, covering or last):
                counts[line["type"]] += 1
                emit(line)
    return Summary(p, first, last, covering, counts["event"], counts["withheld"],
                   digest.hexdigest(), size)


def _span(connection: Connection, p: Period) -> tuple[int, int] | None:
    first, last = connection.execute(
        select(func.min(AuditEvent.seq), func.max(AuditEvent.seq))
        .where(AuditEvent.occurred_at >= p.start_utc, AuditEvent.occurred_at < p.end_utc)).one()
    return None if first is None else (first, last)


def _checkpoints(connection: Connection, first: int, last: int) -> list:
    """Checkpoints from ``first`` to the first one at or after ``last`` (if any)."""
    table = AuditCheckpoint.__table__
    covering = connection.execute(
        select(func.min(table.c.seq)).where(table.c.seq >= last)).scalar()
    upper = covering if covering is not None else last
    return connection.execute(
        select(table).where(table.c.seq >= first, table.c.seq <= upper)
        .order_by(table.c.seq)).all()


def _header(p: Period, first, last, covering, now: datetime) -> dict:
    return {"type": "header", "format": FORMAT, "origin": setting("AUDIT_KEY_NAME"),
            "from": p.start.isoformat(), "to": p.end.isoformat(), "timezone": p.timezone,
            "period_start": iso_utc(p.start_utc), "period_end": iso_utc(p.end_utc),
            "uf": p.uf, "first_seq": first, "last_seq": last, "checkpoint_seq": covering,
            "exported_at": iso_utc(now)}


def _event_lines(connection: Connection, p: Period, first: int, last: int, upper: int):
    """Each event first…upper as an ``event`` line (in the period and scope) or ``withheld``."""
    table, after = AuditEvent.__table__, first - 1
    while after < upper:
        rows = connection.execute(
            select(table).where(table.c.seq > after, table.c.seq <= upper)
            .order_by(table.c.seq).limit(BATCH)).all()
        if not rows:
            return
        for row in rows:
            body = audit.canonical(audit.event_body(row))
            line = {"seq": row.seq, "prev_hash": row.prev_hash.hex(), "hash": row.hash.hex()}
            if row.seq <= last and (p.uf is None or row.uf == p.uf):
                yield {"type": "event", **line, "body": body.decode()}
            else:
                yield {"type": "withheld", **line,
                       "event_hash": hashlib.sha256(body).hexdigest()}
        after = rows[-1].seq


def record_export(summary: Summary, *, actor: Actor):
    """The export as an audit event (call last in the transaction)."""
    p = summary.period
    return audit.record(
        Tag.AUDIT_EXPORTED, actor, object_type="audit_export", uf=p.uf,
        details={"from": p.start.isoformat(), "to": p.end.isoformat(), "uf": p.uf,
                 "first_seq": summary.first_seq, "last_seq": summary.last_seq,
                 "checkpoint_seq": summary.checkpoint_seq, "events": summary.revealed,
                 "withheld": summary.withheld, "sha256": summary.sha256})
