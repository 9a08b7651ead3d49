"""Free text from people: trimmed, and refused when it holds characters that no
one types and that PostgreSQL cannot store (NUL, other control characters,
lone surrogates)."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l

from .errors import InvalidInput

_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def clean_text(value: str | None, *, field: str) -> str:
    """``value`` trimmed; InvalidInput naming ``field`` if it holds control characters."""
    text = (value or "").strip()
    if _FORBIDDEN.search(text):
        raise InvalidInput(_l("O texto contém caracteres de controle não permitidos."),
                           field=field)
    return text
