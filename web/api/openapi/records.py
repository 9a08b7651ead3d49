"""Records: a case's issued PDFs, listed, and one served by its code."""

from __future__ import annotations

from models import RecordKind

from .common import MOMENT, json_response, nullable, ref, responses

CODE_PATTERN = "^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$"


def _record() -> dict:
    """A record as GET /cases/{protocol}/records lists it (representations.record_json)."""
    text, code = {"type": "string"}, {"type": "string", "pattern": CODE_PATTERN}
    return {
        "type": "object", "additionalProperties": False,
        "required": ["code", "kind", "issued_at", "sha256", "size", "language", "signer",
                     "supersedes", "superseded_by", "verify_url", "url"],
        "properties": {
            "code": {**code, "description": "Verification code, as printed on the PDF.",
                     "examples": ["7KQ2-M9XD-4TNV-8HCE"]},
            "kind": {**text, "enum": [k.value for k in RecordKind]},
            "issued_at": MOMENT,
            "sha256": {**text, "pattern": "^[0-9a-f]{64}$",
                       "description": "Of the PDF's bytes: a file is this record only if "
                                      "its SHA-256 is this one."},
            "size": {"type": "integer", "minimum": 1, "description": "Bytes."},
            "language": {**text, "examples": ["pt-BR", "en"]},
            "signer": {**nullable(text), "description": "Subject of the certificate of the "
                                                       "PAdES signature; null: not signed."},
            "supersedes": {**nullable(code), "description": "The earlier version it replaces."},
            "superseded_by": {**nullable(code), "description": "The newer version, if any."},
            "verify_url": {**text, "description": "The public page that confirms it (its QR)."},
            "url": {**text, "description": "The PDF: GET /api/v1/records/{code}."},
        },
    }


def schemas() -> dict:
    """A record and a case's list of them."""
    return {
        "Record": _record(),
        "RecordList": {
            "type": "object", "required": ["records"], "additionalProperties": False,
            "properties": {"records": {"type": "array", "items": ref("Record")}}},
    }


def paths() -> dict:
    """A case's records and one record's PDF."""
    pdf = {"description": "The PDF, byte for byte as issued; the download is audited.",
           "headers": {"Content-Disposition": {"required": True, "schema": {"type": "string"}}},
           "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}}
    return {
        "/api/v1/cases/{protocol}/records": {
            "parameters": [{"$ref": "#/components/parameters/protocol"}],
            "get": {"operationId": "listCaseRecords",
                    "summary": "The case's records you may read, newest first.",
                    "description": "Receipts, decision notices and, for staff and auditors, "
                                   "dossiers. Records being prepared are not listed yet.",
                    "responses": responses({"200": json_response("RecordList", "The records.")},
                                           401, 403, 404)}},
        "/api/v1/records/{code}": {
            "parameters": [{"$ref": "#/components/parameters/code"}],
            "get": {"operationId": "getRecord", "summary": "One record's PDF.",
                    "responses": responses({"200": pdf}, 401, 403, 404)}},
    }
