"""The OpenAPI 3.1 document of /api/v1 (DESIGN §6).

It is the single description of what the API accepts: ``schemas.py`` validates
every request body and query string against the JSON Schemas below, so the
document and the behaviour cannot drift apart. Limits that are settings
(``MAX_VALIDITY_DAYS``) are read when the document is built, once per app.
Descriptions are Portuguese, like the rest of the product; the document is one
contract and is not translated per request.
"""

from __future__ import annotations

from flask import Flask

from models import CaseStatus, Category, EventType, RecordKind, SendingKind
from workflow.cases import JUSTIFICATION_MAX, JUSTIFICATION_MIN, MESSAGE_MAX, MESSAGES_PER_DAY_MAX
from workflow.changes import MAX_LIMIT as CHANGES_MAX
from workflow.deadlines import UFS
from workflow.states import USER_ACTIONS
from workflow.trail import API_MAX_LIMIT as AUDIT_MAX
from workflow.trail import INT_MAX as AUDIT_SEQ_MAX

from .problems import PROBLEM_TYPE

API_VERSION = "1.0.0"
MAX_PAGE = 100
VERSION_MAX = 2**31 - 1
PROTOCOL_PATTERN = "^[0-9]{13}$"
CODE_PATTERN = "^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$"
# Text the API accepts never holds NUL: PostgreSQL cannot store it in text columns.
NO_NUL = "^[^\\u0000]*$"


def _nullable(schema: dict) -> dict:
    return {**schema, "type": [schema["type"], "null"]}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


TEXT = {"type": "string", "pattern": NO_NUL}
MOMENT = {"type": "string", "format": "date-time"}


def _case_create() -> dict:
    """POST /cases: exactly the keys, types and limits the API enforces."""
    return {
        "type": "object", "additionalProperties": False,
        "required": ["target", "category", "justification", "mail_hostname", "subscriber_id"],
        "properties": {
            "target": {**TEXT, "minLength": 1, "maxLength": 64,
                       "description": "IPv4 (up to /29) or IPv6 (/64 to /128) inside the "
                                      "ISP's prefixes; 203.0.113.7 becomes 203.0.113.7/32."},
            "category": {**TEXT, "enum": [c.value for c in Category]},
            "justification": {**TEXT, "minLength": JUSTIFICATION_MIN,
                              "maxLength": JUSTIFICATION_MAX},
            "mail_hostname": {**TEXT, "minLength": 1, "maxLength": 253,
                              "description": "Fully qualified host name of the mail server."},
            "subscriber_id": {**TEXT, "minLength": 1, "maxLength": 64,
                              "description": "Letters, digits, \".\", \"-\", \"/\" or \"_\"."},
            "sending_profile": _ref("SendingProfile"),
            "accepted_terms_version": {
                **TEXT, "minLength": 1, "maxLength": 32,
                "description": "Terms version accepted; absent: the current one, "
                               "accepted by the token's owner."},
            "customer_email": {
                **TEXT, "minLength": 1, "maxLength": 254,
                "description": "Required for staff (filing on a customer's behalf); "
                               "a customer files only for themselves."},
        },
    }


def _request_schemas(app: Flask) -> dict:
    """Request bodies; validity limits that are settings come from ``app``."""
    return {
        "SendingProfile": {
            "type": "object", "additionalProperties": False,
            "required": ["messages_per_day", "kind"],
            "properties": {
                "messages_per_day": {"type": "integer", "minimum": 0,
                                     "maximum": MESSAGES_PER_DAY_MAX},
                "kind": {"type": "string", "enum": [k.value for k in SendingKind]},
            },
        },
        "CaseCreate": _case_create(),
        "ActionRequest": {
            "type": "object", "additionalProperties": False,
            "properties": {
                "message": {**TEXT, "maxLength": MESSAGE_MAX},
                "reason_code": {**TEXT, "minLength": 1, "maxLength": 64},
                "valid_days": {"type": "integer", "minimum": 1,
                               "maximum": app.config["MAX_VALIDITY_DAYS"]},
                "version": {"type": "integer", "minimum": 1, "maximum": VERSION_MAX,
                            "description": "The case version the client saw; another gives 409."},
            },
        },
    }


def _case() -> dict:
    """The case as every operation returns it (representations.case_json)."""
    text = {"type": "string"}
    return {
        "type": "object", "additionalProperties": False,
        "required": ["protocol", "status", "target", "category", "subscriber_id", "uf",
                     "justification", "mail_hostname", "sending_profile", "terms_version",
                     "submitted_at", "answer_due_at", "execution_due_at", "sla_due_at",
                     "valid_from", "valid_until", "reason_code", "version", "assignee",
                     "links"],
        "properties": {
            "protocol": {**text, "pattern": PROTOCOL_PATTERN},
            "status": {**text, "enum": [s.value for s in CaseStatus]},
            "target": text, "category": {**text, "enum": [c.value for c in Category]},
            "subscriber_id": text, "uf": text, "justification": text, "mail_hostname": text,
            "sending_profile": {
                "type": ["object", "null"], "additionalProperties": False,
                "required": ["messages_per_day", "kind"],
                "description": "null when not stated; either field may be given alone.",
                "properties": {"messages_per_day": {"type": ["integer", "null"]},
                               "kind": {"enum": [*(k.value for k in SendingKind), None]}}},
            "terms_version": text, "submitted_at": MOMENT, "answer_due_at": MOMENT,
            "execution_due_at": MOMENT, "sla_due_at": _nullable(MOMENT),
            "valid_from": _nullable(MOMENT), "valid_until": _nullable(MOMENT),
            "reason_code": _nullable(text), "version": {"type": "integer"},
            "assignee": {"type": ["integer", "null"],
                         "description": "Id of the assigned analyst."},
            "links": _ref("CaseLinks"),
        },
    }


def _response_schemas() -> dict:
    text = {"type": "string"}
    return {
        "Problem": {
            "type": "object", "required": ["type", "title", "status", "detail"],
            "properties": {"type": text, "title": text, "status": {"type": "integer"},
                           "detail": text,
                           "field": {**text, "description": "The refused field (422)."}},
        },
        "CaseLinks": {
            "type": "object", "required": ["self", "actions"], "additionalProperties": False,
            "properties": {
                "self": text,
                "actions": {"type": "object", "additionalProperties": text,
                            "propertyNames": {"enum": [a.value for a in USER_ACTIONS]},
                            "description": "Actions the token's owner may take now."},
            },
        },
        "Case": _case(),
        "Record": _record_schema(),
        "RecordList": {
            "type": "object", "required": ["records"], "additionalProperties": False,
            "properties": {"records": {"type": "array", "items": _ref("Record")}}},
        "CaseList": {
            "type": "object", "required": ["cases", "next_cursor"],
            "additionalProperties": False,
            "properties": {"cases": {"type": "array", "items": _ref("Case")},
                           "next_cursor": _nullable(text)},
        },
    }


MESSAGES = {
    400: "Malformed JSON, a body that is not an object, or a Content-Type other than JSON.",
    401: "Missing or invalid token.",
    403: "The token owner's role may not do this.",
    404: "No such case or record within your reach, or an unknown action.",
    409: "Transition not allowed from the current status, stale version, or duplicate target.",
    413: "Body larger than API_MAX_BODY_BYTES.",
    410: "The events after `after` are no longer kept: resync from the allow-list.",
    422: "Invalid field; `field` names it.",
}


def _responses(success: dict, *problems: int) -> dict:
    responses = dict(success)
    for status in problems:
        responses[str(status)] = {"$ref": f"#/components/responses/Problem{status}"}
    return responses


def _problem_responses() -> dict:
    responses = {}
    for status, description in MESSAGES.items():
        response = {"description": description,
                    "content": {PROBLEM_TYPE: {"schema": _ref("Problem")}}}
        if status == 401:
            response["headers"] = {"WWW-Authenticate": {"required": True,
                                                        "schema": {"type": "string"}}}
        responses[f"Problem{status}"] = response
    return responses


def _json(schema_name: str, description: str, **extra) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": _ref(schema_name)}}, **extra}


def _parameters() -> dict:
    return {
        "protocol": {"name": "protocol", "in": "path", "required": True,
                     "description": "13 digits; a malformed protocol gives 404.",
                     "schema": {"type": "string", "pattern": PROTOCOL_PATTERN}},
        "code": {"name": "code", "in": "path", "required": True,
                 "description": "A record's verification code; case, spaces and hyphens do "
                                "not matter. Unknown, someone else's or malformed: 404.",
                 "schema": {"type": "string", "minLength": 1, "maxLength": 40},
                 "examples": {"printed": {"value": "7KQ2-M9XD-4TNV-8HCE"}}},
        "action": {"name": "action", "in": "path", "required": True,
                   "schema": {"type": "string", "enum": [a.value for a in USER_ACTIONS]}},
    }


def _list_query() -> list[dict]:
    statuses = {"type": "string", "enum": [s.value for s in CaseStatus]}
    return [
        {"name": "status", "in": "query", "style": "form", "explode": True,
         "schema": {"type": "array", "items": statuses, "maxItems": len(CaseStatus)}},
        {"name": "uf", "in": "query", "schema": {"type": "string", "enum": list(UFS)}},
        {"name": "q", "in": "query", "description": "Protocol, target, customer name or e-mail.",
         "schema": {**TEXT, "maxLength": 200}},
        {"name": "cursor", "in": "query", "description": "The previous page's next_cursor.",
         "schema": {**TEXT, "minLength": 1, "maxLength": 200}},
        {"name": "limit", "in": "query",
         "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}},
    ]


SEQUENCE_MAX = 2**62


def _enforcement_schemas() -> dict:
    """The allow-list and the change feed (DESIGN §5)."""
    text, sequence = {"type": "string"}, {"type": "integer", "minimum": 0}
    return {
        "AllowList": {
            "type": "object", "required": ["sequence", "entries"], "additionalProperties": False,
            "properties": {
                "sequence": {**sequence, "description": "The stream sequence this list "
                                                        "reflects; also the ETag."},
                "entries": {"type": "array", "items": {
                    "type": "object", "additionalProperties": False,
                    "required": ["target", "protocol", "subscriber_id", "valid_until"],
                    "properties": {"target": text, "protocol": {**text,
                                                                "pattern": PROTOCOL_PATTERN},
                                   "subscriber_id": text, "valid_until": MOMENT}}}}},
        "StreamEvent": {
            "type": "object", "required": ["type", "timestamp", "data"],
            "description": "Exactly the body of the webhook carrying this event.",
            "properties": {
                "type": {"enum": [t.value for t in EventType]},
                "timestamp": MOMENT,
                "data": {"type": "object", "required": ["protocol", "target", "subscriber_id",
                                                        "valid_from", "valid_until", "sequence"],
                         "properties": {"protocol": text, "target": text, "subscriber_id": text,
                                        "valid_from": _nullable(MOMENT),
                                        "valid_until": _nullable(MOMENT),
                                        "sequence": sequence}}}},
        "ChangeFeed": {
            "type": "object", "required": ["events", "next_after", "sequence"],
            "additionalProperties": False,
            "properties": {
                "events": {"type": "array", "items": _ref("StreamEvent")},
                "next_after": {**sequence, "description": "Pass as `after` next time."},
                "sequence": {**sequence, "description": "The stream's head."}}},
    }


def _enforcement_paths() -> dict:
    etag = {"ETag": {"required": True, "description": "The sequence, quoted.",
                     "schema": {"type": "string"}}}
    staff = ("Staff tokens only (operator, supervisor); an enforcement system uses a "
             "token of a dedicated operator account.")
    return {
        "/api/v1/enforcement/allowlist": {"get": {
            "operationId": "getAllowlist",
            "summary": "Every target allowed now, from one consistent snapshot, streamed.",
            "description": staff + " `format=text`: one prefix a line. `format=nft`: an "
                           "nftables script replacing the sets atomically (`nft -f`). "
                           "Send the ETag you hold as If-None-Match: unchanged gives 304.",
            # If-None-Match is described, not declared: schemathesis then takes a
            # request with generated headers for one with generated credentials.
            "parameters": [
                {"name": "format", "in": "query",
                 "schema": {"type": "string", "enum": ["json", "text", "nft"]}}],
            "responses": _responses({
                "200": {"description": "The allow-list.", "headers": etag, "content": {
                    "application/json": {"schema": _ref("AllowList")},
                    "text/plain": {"schema": {"type": "string"}}}},
                "304": {"description": "Unchanged since If-None-Match.", "headers": etag}},
                401, 403, 422)}},
        "/api/v1/enforcement/changes": {"get": {
            "operationId": "getChanges",
            "summary": "The stream's events after a sequence, as the webhooks carry them.",
            "description": staff,
            "parameters": [
                {"name": "after", "in": "query", "description": "Last sequence applied (0).",
                 "schema": {"type": "integer", "minimum": 0, "maximum": SEQUENCE_MAX}},
                {"name": "limit", "in": "query", "description": "At most this many (100).",
                 "schema": {"type": "integer", "minimum": 1, "maximum": CHANGES_MAX}}],
            "responses": _responses({"200": _json("ChangeFeed", "Events in sequence order.")},
                                    401, 403, 410, 422)}},
    }


def _record_schema() -> dict:
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
            "signer": {**_nullable(text), "description": "Subject of the certificate of the "
                                                        "PAdES signature; null: not signed."},
            "supersedes": {**_nullable(code), "description": "The earlier version it replaces."},
            "superseded_by": {**_nullable(code), "description": "The newer version, if any."},
            "verify_url": {**text, "description": "The public page that confirms it (its QR)."},
            "url": {**text, "description": "The PDF: GET /api/v1/records/{code}."},
        },
    }


def _record_paths() -> dict:
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
                    "responses": _responses({"200": _json("RecordList", "The records.")},
                                            401, 403, 404)}},
        "/api/v1/records/{code}": {
            "parameters": [{"$ref": "#/components/parameters/code"}],
            "get": {"operationId": "getRecord", "summary": "One record's PDF.",
                    "responses": _responses({"200": pdf}, 401, 403, 404)}},
    }


def _audit_schemas() -> dict:
    """The audit trail's events (workflow.trail.event_data; the hash rule: workflow.audit)."""
    text, nullable_text = {"type": "string"}, {"type": ["string", "null"]}
    sequence = {"type": "integer", "minimum": 0}
    hex_hash = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
    return {
        "AuditEvent": {
            "type": "object", "additionalProperties": False,
            "required": ["seq", "occurred_at", "actor_id", "actor_role", "source_ip", "action",
                         "object_type", "object_id", "uf", "details", "prev_hash", "hash"],
            "description": "The fields the event's hash covers, and its hashes: hash = "
                           "SHA-256(0x00 || \"porta25-audit/v1\" || seq (8 bytes, big-endian)"
                           " || prev_hash || SHA-256(canonical JSON of the fields)).",
            "properties": {
                "seq": {"type": "integer", "minimum": 1},
                "occurred_at": {**text, "description": "UTC, microseconds, Z."},
                "actor_id": {"type": ["integer", "null"], "description": "null: the system."},
                "actor_role": {**text, "description": "A role, or system:<name>."},
                "source_ip": nullable_text, "action": {**text, "examples": ["case:approved"]},
                "object_type": nullable_text, "object_id": nullable_text,
                "uf": {**nullable_text, "description": "The jurisdiction; a PROCON's token "
                                                       "reads its state's events only."},
                "details": {"type": "object", "description": "References, no personal data."},
                "prev_hash": hex_hash, "hash": hex_hash}},
        "AuditEventPage": {
            "type": "object", "required": ["events", "next_after", "head"],
            "additionalProperties": False,
            "properties": {
                "events": {"type": "array", "items": _ref("AuditEvent")},
                "next_after": {**sequence, "description": "Pass as `after` next time: the "
                                                         "last event returned, or the head "
                                                         "when every event up to it was read."},
                "head": {**sequence, "description": "The trail's newest event (all scopes)."}}},
    }


def _audit_paths() -> dict:
    return {"/api/v1/audit/events": {"get": {
        "operationId": "listAuditEvents",
        "summary": "The audit trail's events after a sequence number, in order.",
        "description": "Auditors read within their scope (a PROCON: its state's events; "
                       "Anatel: all), supervisors every event; other roles get 403.",
        "parameters": [
            {"name": "after", "in": "query", "description": "Last seq already read (0).",
             "schema": {"type": "integer", "minimum": 0, "maximum": AUDIT_SEQ_MAX}},
            {"name": "limit", "in": "query", "description": "At most this many (100).",
             "schema": {"type": "integer", "minimum": 1, "maximum": AUDIT_MAX}}],
        "responses": _responses({"200": _json("AuditEventPage", "Events in seq order.")},
                                401, 403, 422)}}}


def _paths() -> dict:
    case_ok = _json("Case", "The case.")
    created = _json("Case", "Case filed; Location points at it.",
                    headers={"Location": {"required": True, "schema": {"type": "string"}}})
    return {
        "/api/v1/openapi.json": {"get": {
            "operationId": "getOpenapi", "summary": "This document.", "security": [],
            "responses": {"200": {"description": "The OpenAPI document.", "content": {
                "application/json": {"schema": {"type": "object"}}}}}}},
        "/api/v1/cases": {
            "post": {
                "operationId": "createCase", "summary": "File an exception request.",
                "requestBody": {"required": True, "content": {
                    "application/json": {"schema": _ref("CaseCreate")}}},
                "responses": _responses({"201": created}, 400, 401, 403, 409, 413, 422)},
            "get": {
                "operationId": "listCases", "summary": "Visible cases, nearest deadline "
                                                       "first, cursor-paginated.",
                "parameters": _list_query(),
                "responses": _responses({"200": _json("CaseList", "One page.")}, 401, 422)},
        },
        "/api/v1/cases/{protocol}": {
            "parameters": [{"$ref": "#/components/parameters/protocol"}],
            "get": {"operationId": "getCase", "summary": "One case.",
                    "responses": _responses({"200": case_ok}, 401, 404)},
        },
        "/api/v1/cases/{protocol}/actions/{action}": {
            "parameters": [{"$ref": "#/components/parameters/protocol"},
                           {"$ref": "#/components/parameters/action"}],
            "post": {
                "operationId": "performAction", "summary": "Take an action on the case.",
                "requestBody": {"required": False, "content": {
                    "application/json": {"schema": _ref("ActionRequest")}}},
                "responses": _responses({"200": case_ok}, 400, 401, 403, 404, 409, 413, 422)},
        },
        **_record_paths(),
        **_enforcement_paths(),
        **_audit_paths(),
    }


def build_document(app: Flask) -> dict:
    """The whole OpenAPI 3.1 document for ``app``'s settings."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "porta25 — port 25 exception API", "version": API_VERSION,
                 "description": ("Errors are application/problem+json (RFC 9457); "
                                 "details in pt-BR, or English with Accept-Language: en.")},
        "security": [{"bearer": []}],
        "paths": _paths(),
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "flask tokens create"}},
            "schemas": {**_request_schemas(app), **_response_schemas(),
                        **_enforcement_schemas(), **_audit_schemas()},
            "parameters": _parameters(),
            "responses": _problem_responses(),
        },
    }


def document(app: Flask) -> dict:
    """The document, built once per app."""
    cache = app.extensions.setdefault("porta25_api", {})
    if "document" not in cache:
        cache["document"] = build_document(app)
    return cache["document"]
