"""Cases: filing one, reading, listing and acting on them."""

from __future__ import annotations

from flask import Flask

from models import CaseStatus, Category, SendingKind
from workflow.cases import JUSTIFICATION_MAX, JUSTIFICATION_MIN, MESSAGE_MAX, MESSAGES_PER_DAY_MAX
from workflow.deadlines import UFS
from workflow.states import USER_ACTIONS

from .common import MOMENT, PROTOCOL_PATTERN, TEXT, json_response, nullable, ref, responses

MAX_PAGE = 100
VERSION_MAX = 2**31 - 1


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
            "sending_profile": ref("SendingProfile"),
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
            "execution_due_at": MOMENT, "sla_due_at": nullable(MOMENT),
            "valid_from": nullable(MOMENT), "valid_until": nullable(MOMENT),
            "reason_code": nullable(text), "version": {"type": "integer"},
            "assignee": {"type": ["integer", "null"],
                         "description": "Id of the assigned analyst."},
            "links": ref("CaseLinks"),
        },
    }


def schemas(app: Flask) -> dict:
    """The cases' request and response bodies."""
    text = {"type": "string"}
    return {
        **_request_schemas(app),
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
        "CaseList": {
            "type": "object", "required": ["cases", "next_cursor"],
            "additionalProperties": False,
            "properties": {"cases": {"type": "array", "items": ref("Case")},
                           "next_cursor": nullable(text)},
        },
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


def paths() -> dict:
    """/cases, one case and its actions."""
    case_ok = json_response("Case", "The case.")
    created = json_response("Case", "Case filed; Location points at it.",
                            headers={"Location": {"required": True, "schema": {"type": "string"}}})
    return {
        "/api/v1/cases": {
            "post": {
                "operationId": "createCase", "summary": "File an exception request.",
                "requestBody": {"required": True, "content": {
                    "application/json": {"schema": ref("CaseCreate")}}},
                "responses": responses({"201": created}, 400, 401, 403, 409, 413, 422)},
            "get": {
                "operationId": "listCases", "summary": "Visible cases, nearest deadline "
                                                       "first, cursor-paginated.",
                "parameters": _list_query(),
                "responses": responses({"200": json_response("CaseList", "One page.")},
                                       401, 422)},
        },
        "/api/v1/cases/{protocol}": {
            "parameters": [{"$ref": "#/components/parameters/protocol"}],
            "get": {"operationId": "getCase", "summary": "One case.",
                    "responses": responses({"200": case_ok}, 401, 404)},
        },
        "/api/v1/cases/{protocol}/actions/{action}": {
            "parameters": [{"$ref": "#/components/parameters/protocol"},
                           {"$ref": "#/components/parameters/action"}],
            "post": {
                "operationId": "performAction", "summary": "Take an action on the case.",
                "requestBody": {"required": False, "content": {
                    "application/json": {"schema": ref("ActionRequest")}}},
                "responses": responses({"200": case_ok}, 400, 401, 403, 404, 409, 413, 422)},
        },
    }
