"""Verification codes printed on records: 16 characters of Crockford's base32 (80 bits).

Random, so that a code cannot be guessed from another; shown in groups of four
(``7KQ2-M9XD-…``); read back forgivingly: case, spaces and hyphens do not matter,
and the letters people confuse with digits (O, I, L) count as those digits.
"""

from __future__ import annotations

import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 16
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_code() -> str:
    """A fresh random code, as stored (no hyphens)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def display(code: str) -> str:
    """``7KQ2M9XD…`` → ``7KQ2-M9XD-…``, as printed and typed."""
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def normalise(text: str) -> str | None:
    """The stored form of a code someone typed, or None when it cannot be one."""
    code = "".join(text.split()).replace("-", "").upper().translate(_READ_AS)
    if len(code) != LENGTH or any(c not in ALPHABET for c in code):
        return None
    return code
