"""The documents of DESIGN §8: one builder per kind of record.

A builder reads what its document needs (in the worker's read transaction) and
returns a ``Document``: the template, what it reads, and the record's metadata.
"""

from __future__ import annotations

from collections.abc import Callable

from models import RecordKind

from . import dossier, history, notices, receipt, report
from .base import Document, Pending

BUILDERS: dict[RecordKind, Callable[[Pending], Document]] = {
    RecordKind.RECEIPT: receipt.build,
    RecordKind.APPROVAL: notices.build,
    RecordKind.REJECTION: notices.build,
    RecordKind.REVOCATION: notices.build,
    RecordKind.EXPIRY: notices.build,
    RecordKind.DOSSIER: dossier.build,
    RecordKind.HISTORY: history.build,
    RecordKind.REPORT: report.build,
}


def build(pending: Pending) -> Document:
    """The document ``pending`` asks for."""
    return BUILDERS[pending.kind](pending)
