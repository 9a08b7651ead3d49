"""The public check of a record (``/verify/{code}``): what it is, and whether bytes match.

It tells what the record is, when it was issued, its hash and whether a newer
version exists — never whom it is about.
"""

from __future__ import annotations

import hashlib
import hmac

from sqlalchemy import select

from models import Record, db

from . import codes


def look_up(code_text: str) -> Record | None:
    """The record with this code, whoever asks, or None."""
    code = codes.normalise(code_text or "")
    if code is None:
        return None
    return db.session.scalars(select(Record).where(Record.code == code)).first()


def newest_of_series(record: Record) -> Record | None:
    """The latest record of ``record``'s series when it is not ``record`` itself."""
    latest = db.session.scalars(select(Record).where(Record.series == record.series)
                                .order_by(Record.id.desc()).limit(1)).first()
    return latest if latest is not None and latest.id != record.id else None


def superseded_by(record: Record) -> Record | None:
    """The record that directly replaced ``record``, if any."""
    return db.session.scalars(select(Record).where(Record.supersedes_id == record.id)).first()


def matches(record: Record, content: bytes) -> bool:
    """Whether ``content`` is byte for byte the issued record."""
    return hmac.compare_digest(hashlib.sha256(content).hexdigest(), record.sha256)
