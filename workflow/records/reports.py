"""Period reports (DESIGN §8): asking for the PDF, exporting the CSV, listing them.

Every rule about the period and the scope is checked here, before anything is
stored, so the desk's form, its CSV link and any later client refuse the same
things with the same words. A PROCON auditor reports on their own UF only;
Anatel (a national auditor) and the staff on any scope.
"""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from models import Record, RecordKind, RecordRequest, Role, User, db

from .. import audit
from ..audit import Actor, Tag
from ..deadlines import UFS
from ..errors import InvalidInput, NotFound
from ..text import typed_date
from . import report_data
from .access import visible_records
from .issue import request_record
from .report_data import NATIONAL, ReportScope

MAX_DAYS = 366
REPORT_ROLES = frozenset({Role.OPERATOR, Role.SUPERVISOR, Role.AUDITOR})


def parse_scope(*, start: str | None, end: str | None, scope: str | None, user: User,
                today: date) -> ReportScope:
    """The period and scope asked for, or the first problem with them (nothing stored)."""
    first = _date(start, field="start", missing=_l("Informe a data inicial do período."))
    last = _date(end, field="end", missing=_l("Informe a data final do período."))
    if first > today:
        raise InvalidInput(_l("A data inicial está no futuro: o relatório só conta pedidos "
                              "já registrados."), field="start")
    if last < first:
        raise InvalidInput(_l("A data final é anterior à data inicial."), field="end")
    if (last - first).days + 1 > MAX_DAYS:
        raise InvalidInput(_l("O período pode ter no máximo %(days)d dias.", days=MAX_DAYS),
                           field="end")
    uf = _uf(scope)
    _check_jurisdiction(user, uf)
    return ReportScope(first, last, uf)


def _date(text: str | None, *, field: str, missing) -> date:
    day = typed_date(text, field=field)
    if day is None:
        raise InvalidInput(missing, field=field)
    return day


def _uf(scope: str | None) -> str | None:
    value = (scope or "").strip().upper()
    if value == NATIONAL:
        return None
    if value not in UFS:
        raise InvalidInput(_l("Abrangência desconhecida: “%(scope)s”. Escolha “Nacional” ou "
                              "uma das 27 UFs.", scope=(scope or "").strip()[:40]),
                           field="scope")
    return value


def _check_jurisdiction(user: User, uf: str | None) -> None:
    """Outside the person's jurisdiction is NotFound, as any object out of scope."""
    if user.role not in REPORT_ROLES:
        raise NotFound(_l("Relatório não encontrado."))
    if user.role is Role.AUDITOR and user.uf and uf != user.uf:
        raise NotFound(_l("Relatório não encontrado: a sua abrangência é %(uf)s.", uf=user.uf))


def local_today(now: datetime) -> date:
    """The day it is in the report's time zone."""
    return now.astimezone(report_data.zone()).date()


def request_report(*, actor: Actor, start: str | None, end: str | None, scope: str | None,
                   language: str, now: datetime) -> RecordRequest:
    """Ask for the PDF of a period report; the worker issues it after commit."""
    period = parse_scope(start=start, end=end, scope=scope, user=actor.user,
                         today=local_today(now))
    return request_record(RecordKind.REPORT, language=language, requested_by=actor.user,
                          uf=period.uf, period=(period.start, period.end), now=now)


def export_csv(*, actor: Actor, start: str | None, end: str | None, scope: str | None,
               now: datetime) -> tuple[ReportScope, bytes]:
    """The report's figures as CSV, computed now; the export is audited (commit, then serve)."""
    period = parse_scope(start=start, end=end, scope=scope, user=actor.user,
                         today=local_today(now))
    report = report_data.data(period, report_data.figures(period, now), now)
    audit.record(Tag.RECORD_REPORT_EXPORTED, actor, object_type="report",
                 object_id=f"{period.scope}:{period.start}:{period.end}", uf=period.uf,
                 details={"period_start": period.start.isoformat(),
                          "period_end": period.end.isoformat(), "scope": period.scope})
    return period, report_data.csv_bytes(report)


def scopes_for(user: User) -> tuple[str, ...]:
    """The scopes ``user`` may report on: their UF for a PROCON auditor, else all."""
    if user.role is Role.AUDITOR and user.uf:
        return (user.uf,)
    return (NATIONAL, *UFS)


def issued_reports(user: User, limit: int = 50) -> list[Record]:
    """The reports ``user`` may read, newest first."""
    return list(db.session.scalars(visible_records(user).where(Record.kind == RecordKind.REPORT)
                                   .order_by(Record.id.desc()).limit(limit)))


def waiting_reports(user: User) -> list[RecordRequest]:
    """The reports ``user`` asked for that are not issued yet."""
    return list(db.session.scalars(select(RecordRequest).where(
        RecordRequest.kind == RecordKind.REPORT, RecordRequest.requested_by_id == user.id,
        RecordRequest.done_at.is_(None)).order_by(RecordRequest.id)))
