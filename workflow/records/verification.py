"""The public check of a record (``/verify``): what it is, and whether a file is it.

It tells what the record is, when it was issued, its hash, whether a newer
version exists and what its signature says — never whom it is about. A file
sent to be compared is hashed in memory and forgotten: nothing of it is kept.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from models import AuditCheckpoint, Record, db

from ..checkpoints import covering_checkpoint
from ..errors import InvalidInput
from . import codes, signature
from .signature import SignatureCheck


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


@dataclass(frozen=True)
class Facts:
    """Everything the public page says about one record."""

    record: Record
    newest: Record | None  # a later version of the same document
    replaced_by: Record | None  # the version that directly replaced it
    signature: SignatureCheck | None  # None: not signed (or its file was erased)
    checkpoint: AuditCheckpoint | None  # the signed head covering the record's issue event


def facts(record: Record) -> Facts:
    """What the verification page shows about ``record``."""
    return Facts(record, newest_of_series(record), superseded_by(record),
                 signature.check(record), covering_checkpoint(record.audit_seq))


@dataclass(frozen=True)
class Upload:
    """A file someone sent to be compared: only its hash and size, never its bytes."""

    sha256: str
    size: int


def _hashed(content: bytes | None) -> Upload:
    if not content:
        raise InvalidInput(_l("O arquivo enviado está vazio. Escolha o PDF que você recebeu."),
                           field="file")
    return Upload(hashlib.sha256(content).hexdigest(), len(content))


@dataclass(frozen=True)
class Comparison:
    """A file sent, and the record it is byte for byte (None: no record of ours)."""

    upload: Upload
    record: Record | None

    @property
    def identical(self) -> bool:
        return self.record is not None


def compare(record: Record, content: bytes | None) -> Comparison:
    """Whether the file sent is byte for byte ``record`` (one changed byte is not)."""
    upload = _hashed(content)
    same = hmac.compare_digest(upload.sha256, record.sha256)
    return Comparison(upload, record if same else None)


def identify(content: bytes | None) -> Comparison:
    """The record whose bytes these are, found by their SHA-256, or None: not ours."""
    upload = _hashed(content)
    record = db.session.scalars(select(Record).where(Record.sha256 == upload.sha256)
                                .order_by(Record.id).limit(1)).first()
    return Comparison(upload, record)


def code_from(text: str | None) -> str:
    """A code typed by hand in its printed form (``7KQ2-M9XD-…``), or InvalidInput."""
    code = codes.normalise(text or "")
    if code is None:
        raise InvalidInput(_l("Este não é um código de verificação: são 16 letras e números "
                              "em grupos de quatro, como 7KQ2-M9XD-4TNV-8HCE."), field="code")
    return codes.display(code)


def series_links(records: list[Record]) -> dict[int, tuple[str | None, str | None]]:
    """For each record, the codes of the record it supersedes and of the one superseding it."""
    series = {record.series for record in records}
    if not series:
        return {}
    rows = db.session.execute(select(Record.id, Record.code, Record.supersedes_id)
                              .where(Record.series.in_(series))).all()
    code_of = {row.id: row.code for row in rows}
    successor = {row.supersedes_id: row.code for row in rows if row.supersedes_id is not None}
    return {record.id: (code_of.get(record.supersedes_id), successor.get(record.id))
            for record in records}
