"""The period report: figures for a period and a scope, with charts (DESIGN §8)."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import format_date, format_decimal
from flask_babel import gettext as _

from models import CaseStatus, Category, utcnow

from ... import labels
from ...config import setting
from .. import report_data
from ..report_data import ReportScope
from ..statistics import Figures, Rate
from .base import Document, Pending
from .common import checkpoint_data, checkpoint_note
from .history import latest_event


@dataclass(frozen=True)
class Bar:
    """One bar of a chart: its label, its length (in the chart's unit) and its text."""

    label: str
    value: float
    text: str


def percent(value: float | None) -> str:
    """66.7 → "66,7 %" (in the reader's locale); no value → "—"."""
    return "—" if value is None else f"{format_decimal(value, '0.0')} %"


def rate_text(rate: Rate) -> str:
    """"66,7 % (4 de 6)"."""
    return _("%(percent)s (%(part)s de %(whole)s)", percent=percent(rate.percent),
             part=rate.part, whole=rate.whole)


def duration(seconds: int | None) -> str:
    """A decision time in days and hours, or hours and minutes under a day."""
    if seconds is None:
        return "—"
    days, rest = divmod(seconds, 86400)
    hours, minutes = rest // 3600, rest % 3600 // 60
    if days:
        return _("%(days)s d %(hours)s h", days=days, hours=hours)
    return _("%(hours)s h %(minutes)s min", hours=hours, minutes=minutes)


def _counts(items, label_of) -> list[Bar]:
    return [Bar(str(label_of(key)), n, str(n)) for key, n in items]


def charts(f: Figures) -> dict[str, list[Bar]]:
    """The bars of every chart of the report."""
    from ...engine import STATUS_LABELS  # here: the engine imports records (it asks for notices)

    deadlines = [(labels.deadline_name("answer"), f.answer_deadline.rate),
                 (labels.deadline_name("execution"), f.execution_deadline.rate)]
    return {
        "status": _counts(f.by_status.items(), lambda s: STATUS_LABELS[CaseStatus(s)]),
        "category": _counts(f.by_category.items(),
                            lambda c: labels.SHORT_CATEGORY_LABELS[Category(c)]),
        "uf": _counts(f.by_uf.items(), str),
        "outcome": _counts(f.outcomes.items(), labels.OUTCOME_LABELS.__getitem__),
        "deadlines": [Bar(name, rate.percent or 0, rate_text(rate)) for name, rate in deadlines],
        "appeals": _counts([(k, getattr(f.appeals, k)) for k in labels.APPEAL_OUTCOME_LABELS],
                           labels.APPEAL_OUTCOME_LABELS.__getitem__),
    }


def build(pending: Pending) -> Document:
    """The figures of the cases submitted in the period within the scope, judged now."""
    scope = ReportScope(pending.period_start, pending.period_end, pending.uf)
    now = utcnow()
    result = report_data.figures(scope, now)
    scope_label = scope.uf or _("Nacional")
    start, end = format_date(scope.start, "dd/MM/yyyy"), format_date(scope.end, "dd/MM/yyyy")
    # The figures are the trail's state up to its newest event: that is what a checkpoint covers.
    anchor = latest_event()
    checkpoint = checkpoint_note(anchor.seq if anchor else 0)
    return Document(
        template="records/report.html",
        title=_("Relatório do período %(start)s a %(end)s — %(scope)s", start=start, end=end,
                scope=scope_label),
        description=_("Pedidos de exceção ao bloqueio da porta 25: situação, finalidade, UF, "
                      "decisões, prazos e recursos"),
        keywords=(scope.scope, scope.start.isoformat(), scope.end.isoformat()),
        anchor=anchor, data={**report_data.data(scope, result, now),
                             "audit_checkpoint": checkpoint_data(checkpoint)},
        context={"scope": scope, "scope_label": scope_label, "figures": result, "as_of": now,
                 "charts": charts(result), "time_zone": setting("DISPLAY_TIMEZONE"),
                 "percent": percent, "rate_text": rate_text, "duration": duration,
                 "deadline_labels": labels.DEADLINE_STATE_LABELS, "checkpoint": checkpoint,
                 "checkpoint_data": checkpoint_data(checkpoint)},
    )
