"""Issuing records in tests (the worker's step, run in the test) and reading the PDFs."""

from __future__ import annotations

import io
from dataclasses import dataclass

import pypdf
from sqlalchemy import select

from cli.worker import issue_records
from models import Case, Record, RecordKind, RecordRequest, db, utcnow


def issue_pending(app, clock=utcnow) -> int:
    """Render and store every record due now, as the worker does; returns how many."""
    with app.app_context():
        return issue_records(clock, limit=10_000)


@dataclass(frozen=True)
class Issued:
    code: str
    kind: str
    sha256: str
    content: bytes
    supersedes_id: int | None
    id: int


def records_of(app, protocol: str | None = None, kind: RecordKind | str | None = None
               ) -> list[Issued]:
    """The issued records (of a case, of a kind), oldest first."""
    with app.app_context():
        query = select(Record).order_by(Record.id)
        if protocol is not None:
            query = query.join(Case, Case.id == Record.case_id).where(Case.protocol == protocol)
        if kind is not None:
            query = query.where(Record.kind == RecordKind(kind))
        return [Issued(r.code, r.kind.value, r.sha256, r.content, r.supersedes_id, r.id)
                for r in db.session.scalars(query)]


def requests_waiting(app) -> int:
    with app.app_context():
        return len(db.session.scalars(
            select(RecordRequest).where(RecordRequest.done_at.is_(None))).all())


def pdf_text(content: bytes) -> str:
    """All the text of a PDF, pages joined, whitespace collapsed."""
    reader = pypdf.PdfReader(io.BytesIO(content))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def pdf_info(content: bytes) -> dict:
    """The document information dictionary (title, keywords, custom entries)."""
    return dict(pypdf.PdfReader(io.BytesIO(content)).metadata)


def pdf_xmp(content: bytes) -> str:
    """The XMP metadata packet, as text (holds the PDF/A identification)."""
    reader = pypdf.PdfReader(io.BytesIO(content))
    return reader.xmp_metadata.stream.get_data().decode()


def pdf_attachments(content: bytes) -> dict[str, bytes]:
    """Embedded files by name."""
    reader = pypdf.PdfReader(io.BytesIO(content))
    return {name: data[0] for name, data in reader.attachments.items()}


def pdf_language(content: bytes) -> str | None:
    """The document's natural language (/Lang of the catalogue)."""
    root = pypdf.PdfReader(io.BytesIO(content)).trailer["/Root"]
    return root.get("/Lang")


def pdf_fonts(content: bytes) -> set[str]:
    """The base names of the fonts the pages use."""
    names = set()
    for page in pypdf.PdfReader(io.BytesIO(content)).pages:
        for font in page["/Resources"].get("/Font", {}).values():
            names.add(str(font.get_object()["/BaseFont"]))
    return names


def pdf_a_structure(content: bytes) -> dict:
    """What a PDF/A validator checks first, read with pypdf (veraPDF is neither on PyPI
    nor in Debian): the output intent, embedded fonts, no encryption, a file ID."""
    reader = pypdf.PdfReader(io.BytesIO(content))
    root = reader.trailer["/Root"]
    intents = [i.get_object() for i in root.get("/OutputIntents", [])]
    fonts_embedded = []
    for page in reader.pages:
        for font in page["/Resources"].get("/Font", {}).values():
            font = font.get_object()
            if "/DescendantFonts" in font:
                font = font["/DescendantFonts"][0].get_object()
            descriptor = font["/FontDescriptor"].get_object()
            fonts_embedded.append(any(k in descriptor for k in ("/FontFile", "/FontFile2",
                                                                 "/FontFile3")))
    return {
        "output_intent": [str(i["/S"]) for i in intents],
        "has_profile": all("/DestOutputProfile" in i for i in intents) and bool(intents),
        "fonts_embedded": bool(fonts_embedded) and all(fonts_embedded),
        "encrypted": reader.is_encrypted,
        "has_id": "/ID" in reader.trailer,
        "has_xmp": "/Metadata" in root,
    }
