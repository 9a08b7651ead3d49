"""What a period report covers, the rows it reads, and its figures as JSON and CSV.

A report covers the cases *submitted* from its first to its last day, both
included, the days taken in the display time zone (America/Sao_Paulo), within
its scope: one UF (the case's) or the whole country. The figures are
``statistics.figures`` of those rows; the PDF embeds ``data(...)`` and the CSV
is the same mapping, one line per figure.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from models import Case, db, iso_utc

from .. import deadlines
from ..config import setting
from . import statistics
from .statistics import CaseRow, Figures

NATIONAL = "BR"  # the scope's value for the whole country (no UF is called BR)


@dataclass(frozen=True)
class ReportScope:
    """A period (inclusive local days) and a jurisdiction (None: national)."""

    start: date
    end: date
    uf: str | None

    @property
    def scope(self) -> str:
        return self.uf or NATIONAL


def zone() -> ZoneInfo:
    """The time zone whose days a period counts."""
    return ZoneInfo(setting("DISPLAY_TIMEZONE"))


def utc_bounds(scope: ReportScope) -> tuple[datetime, datetime]:
    """[first instant, instant after the last day) of the period, aware."""
    tz = zone()
    return (datetime.combine(scope.start, time.min, tz),
            datetime.combine(scope.end + timedelta(days=1), time.min, tz))


def rows(scope: ReportScope) -> list[CaseRow]:
    """The cases the report counts, as plain rows (one query)."""
    activated = deadlines.activation_query(Case.protocol).correlate(Case).scalar_subquery()
    first, after = utc_bounds(scope)
    query = (select(Case.uf, Case.category, Case.status, Case.submitted_at, Case.decided_at,
                    Case.answer_due_at, Case.execution_due_at, activated, Case.appealed_at)
             .where(Case.submitted_at >= first, Case.submitted_at < after)
             .order_by(Case.id))
    if scope.uf:
        query = query.where(Case.uf == scope.uf)
    return [CaseRow(uf, category.value, status.value, *rest)
            for uf, category, status, *rest in db.session.execute(query)]


def figures(scope: ReportScope, as_of: datetime) -> Figures:
    """The report's figures, deadlines judged at ``as_of``."""
    return statistics.figures(rows(scope), as_of)


def data(scope: ReportScope, result: Figures, as_of: datetime) -> dict:
    """Everything the report states, as JSON values (embedded in the PDF; the CSV's lines)."""
    return {
        "report": {"period_start": scope.start.isoformat(), "period_end": scope.end.isoformat(),
                   "time_zone": setting("DISPLAY_TIMEZONE"), "scope": scope.scope,
                   "as_of": iso_utc(as_of)},
        **statistics.as_dict(result),
    }


def csv_lines(report: dict) -> list[tuple[str, str, str]]:
    """(section, item, value) for every figure; a section with one value has no item."""
    lines = []
    for section, value in report.items():
        items = value.items() if isinstance(value, dict) else [("", value)]
        lines.extend((section, str(item), "" if v is None else str(v)) for item, v in items)
    return lines


def csv_bytes(report: dict) -> bytes:
    """The report as CSV (UTF-8 with BOM, so that spreadsheets read the accents)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(("section", "item", "value"))
    writer.writerows(csv_lines(report))
    return out.getvalue().encode("utf-8-sig")
