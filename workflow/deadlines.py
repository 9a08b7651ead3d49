"""The two clocks of every case (DESIGN §3), both paused while awaiting the customer.

- answer: ANSWER_DEADLINE_DAYS calendar days from submission;
- execution: EXECUTION_DEADLINE_BUSINESS_DAYS business days of the customer's
  state, ending at the close of the last one (national and state holidays from
  the ``holidays`` library, corrected by the supervisors' ``CalendarDay`` rows:
  a local holiday the library lacks, or a holiday that was worked).

A pause shifts the answer clock by its length and the execution clock by the
business days it covered, so the customer's silence never eats the ISP's time.

The counting functions take the state's corrections as an explicit mapping
(``corrections_for(uf)`` reads them), so they stay pure. A correction counts for
every deadline computed after it (a submission, an appeal, a reply that resumes
the clocks); a due date already given to a customer is not rewritten.

Whether a deadline was met is the period report's rule (``records.statistics``):
the case page and the report judge a case alike, execution by its activation.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from types import MappingProxyType
from zoneinfo import ZoneInfo

import holidays
from sqlalchemy import Select, func, select

from models import AuditEvent, CalendarDay, Case, CaseStatus, db

from .audit import Tag
from .config import setting
from .records.statistics import PAUSED, REFUSED, CaseRow, answer_state, execution_state

# Business days are counted on the state's own calendar and clock.
UF_TIMEZONES = {
    "AC": "America/Rio_Branco", "AM": "America/Manaus", "RR": "America/Boa_Vista",
    "RO": "America/Porto_Velho", "MT": "America/Cuiaba", "MS": "America/Campo_Grande",
    "PA": "America/Belem", "AP": "America/Belem", "TO": "America/Araguaina",
    "MA": "America/Fortaleza", "PI": "America/Fortaleza", "CE": "America/Fortaleza",
    "RN": "America/Fortaleza", "PB": "America/Fortaleza", "PE": "America/Recife",
    "AL": "America/Maceio", "SE": "America/Maceio", "BA": "America/Bahia",
}
UFS = (
    "AC", "AL", "AM", "AP", "BA", "CE", "DF", "ES", "GO", "MA", "MG", "MS", "MT", "PA",
    "PB", "PE", "PI", "PR", "RJ", "RN", "RO", "RR", "RS", "SC", "SE", "SP", "TO",
)


def zone_of(uf: str) -> ZoneInfo:
    """The time zone whose calendar counts business days in ``uf``."""
    return ZoneInfo(UF_TIMEZONES.get(uf, "America/Sao_Paulo"))


@lru_cache(maxsize=64)
def _holidays(uf: str, year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("BR", subdiv=uf, years=year)


Corrections = Mapping[date, bool]
NO_CORRECTIONS: Corrections = MappingProxyType({})
NATIONAL = "BR"  # a correction for every state


def corrections_for(uf: str) -> dict[date, bool]:
    """The supervisors' corrections that apply in ``uf``: national ones, then the state's."""
    # No autoflush: a case being changed (an appeal) must reach the database in one
    # UPDATE, its version bumped once, not flushed half-way by this unrelated read.
    with db.session.no_autoflush:
        rows = db.session.execute(
            select(CalendarDay.uf, CalendarDay.day, CalendarDay.business_day)
            .where(CalendarDay.uf.in_((NATIONAL, uf)))).all()
    # The state's own correction wins over a national one for the same day.
    return {row.day: row.business_day for row in sorted(rows, key=lambda r: r.uf != NATIONAL)}


def library_business_day(day: date, uf: str) -> bool:
    """Monday to Friday and not a national or state holiday in ``uf`` (the library alone)."""
    return day.weekday() < 5 and day not in _holidays(uf, day.year)


def is_business_day(day: date, uf: str, corrections: Corrections = NO_CORRECTIONS) -> bool:
    """The library's answer for ``day`` in ``uf``, unless a correction says otherwise."""
    if day in corrections:
        return corrections[day]
    return library_business_day(day, uf)


def add_business_days(start: date, count: int, uf: str,
                      corrections: Corrections = NO_CORRECTIONS) -> date:
    """The ``count``-th business day after ``start`` (``start`` itself not counted)."""
    day = start
    while count > 0:
        day += timedelta(days=1)
        if is_business_day(day, uf, corrections):
            count -= 1
    return day


def business_days_between(first: date, last: date, uf: str,
                          corrections: Corrections = NO_CORRECTIONS) -> int:
    """Business days in the half-open interval (first, last]."""
    count, day = 0, first
    while day < last:
        day += timedelta(days=1)
        count += is_business_day(day, uf, corrections)
    return count


def _end_of_day(day: date, uf: str) -> datetime:
    return datetime.combine(day, time(23, 59, 59), zone_of(uf))


def initial_deadlines(submitted_at: datetime, uf: str, answer_days: int, business_days: int,
                      corrections: Corrections = NO_CORRECTIONS):
    """(answer_due_at, execution_due_at) for a request submitted at ``submitted_at``."""
    local_day = submitted_at.astimezone(zone_of(uf)).date()
    answer = submitted_at + timedelta(days=answer_days)
    execution = _end_of_day(add_business_days(local_day, business_days, uf, corrections), uf)
    return answer, execution


def pause(case: Case, now: datetime) -> None:
    """Stop both clocks (the case now waits for the customer)."""
    case.paused_at = now
    case.sla_due_at = None


def resume(case: Case, now: datetime, corrections: Corrections = NO_CORRECTIONS) -> None:
    """Restart both clocks, pushing each deadline by the time spent waiting."""
    if case.paused_at is None:
        return
    zone = zone_of(case.uf)
    case.answer_due_at += now - case.paused_at
    skipped = business_days_between(
        case.paused_at.astimezone(zone).date(), now.astimezone(zone).date(), case.uf, corrections
    )
    due_day = case.execution_due_at.astimezone(zone).date()
    case.execution_due_at = _end_of_day(
        add_business_days(due_day, skipped, case.uf, corrections), case.uf)
    case.paused_at = None
    running(case)


def running(case: Case) -> None:
    """Order the queue by the nearest of the two deadlines."""
    case.sla_due_at = min(case.answer_due_at, case.execution_due_at)


def stop(case: Case) -> None:
    """The case is decided or closed: its clocks stop."""
    case.paused_at = None
    case.sla_due_at = None


class ClockState:
    """Where a clock stands on the case page: the report's states (``statistics``: met,
    missed, not_applicable), with its "open" told apart as one of these two."""

    RUNNING = "running"
    PAUSED = "paused"


def appeal_deadline(case: Case) -> datetime | None:
    """Until when this refusal may be appealed; None when it may not be appealed at all."""
    if case.status is not CaseStatus.REJECTED or case.appealed_at is not None:
        return None
    if case.decided_at is None:
        return None
    return case.decided_at + timedelta(days=setting("APPEAL_WINDOW_DAYS"))


def activation_query(protocol) -> Select:
    """When a case was first applied in the network: its first case:activated event.

    ``protocol`` is a case's protocol, or ``Case.protocol`` for a correlated subquery.
    """
    return (select(func.min(AuditEvent.occurred_at))
            .where(AuditEvent.action == Tag.CASE_ACTIVATED.value,
                   AuditEvent.object_type == "case", AuditEvent.object_id == protocol))


def clocks(case: Case, now: datetime) -> list[dict]:
    """Both deadlines of ``case`` as shown to customers and staff, judged as the report does."""
    row = CaseRow(uf=case.uf, category=case.category.value, status=case.status.value,
                  submitted_at=case.submitted_at, decided_at=case.decided_at,
                  answer_due_at=case.answer_due_at, execution_due_at=case.execution_due_at,
                  activated_at=db.session.scalar(activation_query(case.protocol)),
                  appealed_at=case.appealed_at)
    return [
        {"name": "answer", "due_at": case.answer_due_at,
         "state": _shown(answer_state(row, now), row), "by_refusal": False},
        # A refusal ends the execution clock too; "met" must not read as "applied".
        {"name": "execution", "due_at": case.execution_due_at,
         "state": _shown(execution_state(row, now), row), "by_refusal": row.status in REFUSED},
    ]


def _shown(state: str, row: CaseRow) -> str:
    # The report counts a clock within its deadline and a paused one alike as "open".
    if state != "open":
        return state
    return ClockState.PAUSED if row.status in PAUSED else ClockState.RUNNING
