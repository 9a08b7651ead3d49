"""The supervisors' corrections of the business calendar (``CalendarDay``), per state.

The ``holidays`` library knows national and state holidays; a municipal holiday
the ISP's office keeps, or a holiday it worked, is a correction here. Deadlines
read them (``deadlines.corrections_for``) from the moment they are added; every
addition and removal is a ``calendar:changed`` audit event with its diff.
"""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from models import CalendarDay, db

from . import audit
from .audit import Actor, Tag
from .deadlines import NATIONAL, UFS, library_business_day
from .errors import Conflict, InvalidInput, NotFound
from .text import clean_text

NOTE_MAX = 200
# A correction far from today is a typing mistake (2062 for 2026), not a calendar.
FIRST_YEAR, LAST_YEAR = 2000, 2100


def corrections(uf: str | None = None) -> list[CalendarDay]:
    """Every correction (or those of ``uf``), by date, then state."""
    query = select(CalendarDay).order_by(CalendarDay.day, CalendarDay.uf)
    if uf:
        query = query.where(CalendarDay.uf == uf)
    return list(db.session.scalars(query))


def scope(uf: str | None) -> str:
    """A state, or BR for every state; anything else is refused."""
    uf = (uf or "").strip().upper()
    if uf != NATIONAL and uf not in UFS:
        raise InvalidInput(_l("Escolha um estado (UF) ou \u201cBR\u201d para todo o país."),
                           field="uf")
    return uf


def add_correction(*, uf: str, day: date | None, business_day: bool, note: str | None,
                   actor: Actor) -> CalendarDay:
    """Close a business day (a local holiday) or open a holiday (it was worked) in ``uf``."""
    uf = scope(uf)
    _check_day(day, uf, business_day)
    note = clean_text(note, field="note").strip()
    if not note:
        raise InvalidInput(_l("Diga o motivo (por exemplo, o nome do feriado)."), field="note")
    if len(note) > NOTE_MAX:
        raise InvalidInput(_l("O motivo deve ter até %(max)d caracteres.", max=NOTE_MAX),
                           field="note")
    if db.session.get(CalendarDay, (uf, day)) is not None:
        raise Conflict(_l("Já existe uma correção para %(day)s em %(uf)s; remova-a antes de "
                          "registrar outra.", day=day.strftime("%d/%m/%Y"), uf=uf), field="day")
    row = CalendarDay(uf=uf, day=day, business_day=business_day, note=note)
    db.session.add(row)
    db.session.flush()
    _audit(row, actor, before={}, after=_values(row))
    return row


def remove_correction(*, uf: str, day: date, actor: Actor) -> None:
    """Drop a correction: the library's calendar applies to that day again."""
    row = db.session.get(CalendarDay, ((uf or "").strip().upper(), day))
    if row is None:
        raise NotFound(_l("Correção não encontrada."))
    before = _values(row)
    db.session.delete(row)
    db.session.flush()
    _audit(row, actor, before=before, after={})


def _check_day(day: date | None, uf: str, business_day: bool) -> None:
    """A date within reason, and one the correction really changes."""
    if day is None:
        raise InvalidInput(_l("Informe a data (dd/mm/aaaa)."), field="day")
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise InvalidInput(_l("Informe uma data entre %(first)d e %(last)d.",
                              first=FIRST_YEAR, last=LAST_YEAR), field="day")
    if business_day and day.weekday() >= 5:
        raise InvalidInput(_l("Sábados e domingos não são dias úteis; só um feriado em dia de "
                              "semana pode ser marcado como trabalhado."), field="day")
    if all(now == business_day for now in _as_now(day, uf)):
        shown = day.strftime("%d/%m/%Y")
        raise InvalidInput(
            _l("Nada a corrigir: %(day)s já é dia útil.", day=shown) if business_day
            else _l("Nada a corrigir: %(day)s já não é dia útil.", day=shown), field="day")


def _as_now(day: date, uf: str) -> list[bool]:
    """Whether ``day`` is a business day now, without a correction of its own: in every
    state for a national correction (the library differs by state), else in ``uf``, where
    a national correction may already apply."""
    if uf == NATIONAL:
        return [library_business_day(day, state) for state in UFS]
    national = db.session.get(CalendarDay, (NATIONAL, day))
    return [national.business_day if national else library_business_day(day, uf)]


def _values(row: CalendarDay) -> dict:
    return {"business_day": row.business_day, "note": row.note}


def _audit(row: CalendarDay, actor: Actor, *, before: dict, after: dict) -> None:
    audit.record(Tag.CALENDAR_CHANGED, actor, object_type="calendar",
                 object_id=f"{row.uf}/{row.day.isoformat()}",
                 uf=None if row.uf == NATIONAL else row.uf,
                 details={"changes": audit.diff(before, after)})
