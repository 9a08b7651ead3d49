"""Text typed by people: free text trimmed, and refused when it holds characters that no
one types and that PostgreSQL cannot store (NUL, other control characters, lone
surrogates); dates as the date picker sends them or as Brazilians write them."""

from __future__ import annotations

import re
from datetime import date

from flask_babel import lazy_gettext as _l

from .errors import InvalidInput

_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_BRAZILIAN = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")


def clean_text(value: str | None, *, field: str) -> str:
    """``value`` trimmed; InvalidInput naming ``field`` if it holds control characters."""
    text = (value or "").strip()
    if _FORBIDDEN.search(text):
        raise InvalidInput(_l("O texto contém caracteres de controle não permitidos."),
                           field=field)
    return text


def typed_date(value: str | None, *, field: str) -> date | None:
    """A date typed as 2026-07-09 (the date picker) or 9/7/2026; None when empty;
    InvalidInput naming ``field`` otherwise."""
    text = (value or "").strip()
    if not text:
        return None
    iso, brazilian = _ISO.fullmatch(text), _BRAZILIAN.fullmatch(text)
    try:
        if iso:
            return date(*map(int, iso.groups()))
        if brazilian:
            day, month, year = map(int, brazilian.groups())
            return date(year, month, day)
    except ValueError:
        pass
    raise InvalidInput(_l("Data inválida: “%(text)s”. Use o formato dd/mm/aaaa.",
                          text=text[:40]), field=field)
