"""Protocol numbers: YYYY + 8-digit yearly sequence + a CPF-style check digit (DESIGN §3)."""

from __future__ import annotations

import re

from sqlalchemy import select, update

from models import ProtocolCounter, db

_PROTOCOL = re.compile(r"[0-9]{13}")


def check_digit(twelve_digits: str) -> str:
    """Weights 2, 3, …, 13 from the right; r = sum mod 11; 0 when r < 2, else 11 - r."""
    total = sum(int(d) * w for d, w in zip(reversed(twelve_digits), range(2, 14), strict=True))
    r = total % 11
    return "0" if r < 2 else str(11 - r)


def format_protocol(year: int, sequence: int) -> str:
    """The 13-digit protocol for a year's ``sequence``-th request."""
    body = f"{year:04d}{sequence:08d}"
    return body + check_digit(body)


def is_valid(protocol: str) -> bool:
    """True when ``protocol`` has 13 digits and a matching check digit."""
    # ASCII digits only: str.isdigit() also accepts "¹" or "٣", which int() then refuses.
    return _PROTOCOL.fullmatch(protocol) is not None and check_digit(protocol[:12]) == protocol[12]


def next_protocol(year: int) -> str:
    """Issue the next protocol of ``year`` inside the caller's transaction.

    The UPDATE takes the counter row's lock, so concurrent submissions queue
    behind each other and never share or skip a number that is committed.
    """
    _ensure_counter(year)
    counter = db.session.execute(
        update(ProtocolCounter)
        .where(ProtocolCounter.year == year)
        .values(last=ProtocolCounter.last + 1)
        .returning(ProtocolCounter.last)
    ).scalar_one()
    return format_protocol(year, counter)


def _ensure_counter(year: int) -> None:
    exists = db.session.execute(
        select(ProtocolCounter.year).where(ProtocolCounter.year == year)
    ).first()
    if exists is None:
        dialect = db.session.get_bind().dialect.name
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        db.session.execute(
            insert(ProtocolCounter).values(year=year, last=0).on_conflict_do_nothing()
        )
