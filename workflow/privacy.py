"""Masks for personal data shown to auditors (DESIGN §9: masked until revealed).

Regulators see the facts of a case; who the customer is stays hidden. Enough
is kept to tell two customers apart on one screen, not to identify them.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable

HIDDEN = "•"


def mask_name(name: str | None) -> str:
    """Initials only: "Maria da Silva" → "M. d. S."."""
    return " ".join(f"{word[0]}." for word in (name or "").split()) or "—"


def mask_document(digits: str | None) -> str:
    """CPF as ***.982.247-**, CNPJ as **.***.***/0001-** (the usual public masks)."""
    digits = re.sub(r"\D", "", digits or "")
    if len(digits) == 11:
        return f"***.{digits[3:6]}.{digits[6:9]}-**"
    if len(digits) == 14:
        return f"**.***.***/{digits[8:12]}-**"
    return "—" if not digits else HIDDEN * len(digits)


def mask_email(email: str | None) -> str:
    """First letter of the mailbox and the domain's last labels: c•••@•••.com.br."""
    if not email or "@" not in email:
        return "—"
    local, domain = email.rsplit("@", 1)
    labels = domain.split(".")
    suffix = ".".join(labels[1:]) if len(labels) > 1 else ""
    return f"{local[:1]}{HIDDEN * 3}@{HIDDEN * 3}.{suffix}" if suffix else f"{local[:1]}•••@•••"


def mask_phone(phone: str | None) -> str:
    """Every digit but the last two hidden, the layout kept."""
    return _last_two(phone, str.isdigit)


def mask_reference(reference: str | None) -> str:
    """A contract or subscriber code, every letter and digit but the last two hidden:
    CTR-0042 → •••-••42."""
    return _last_two(reference, str.isalnum)


def mask_address(address: str | None) -> str:
    """A customer's IP address with its host part hidden: 198.51.•.•, 2001:db8:•••
    (what is kept names the provider's network, not the customer)."""
    if not address:
        return "—"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return HIDDEN * 3
    if ip.version == 4:
        return ".".join([*str(ip).split(".")[:2], HIDDEN, HIDDEN])
    groups = [f"{int(group, 16):x}" for group in ip.exploded.split(":")[:2]]
    return ":".join([*groups, HIDDEN * 3])


def _last_two(text: str | None, hides: Callable[[str], bool]) -> str:
    """``text`` with the characters ``hides`` picks hidden but its last two; the rest kept."""
    if not text:
        return "—"
    total = sum(hides(ch) for ch in text)
    seen, out = 0, []
    for ch in text:
        if hides(ch):
            seen += 1
            out.append(ch if seen > total - 2 else HIDDEN)
        else:
            out.append(ch)
    return "".join(out)
