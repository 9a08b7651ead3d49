"""What every area of the OpenAPI document shares: refs, text PostgreSQL can
store, timestamps, problem responses and the path parameters."""

from __future__ import annotations

from workflow.states import USER_ACTIONS

from ..problems import PROBLEM_TYPE

PROTOCOL_PATTERN = "^[0-9]{13}$"
# Text the API accepts never holds NUL: PostgreSQL cannot store it in text columns.
NO_NUL = "^[^\\u0000]*$"
TEXT = {"type": "string", "pattern": NO_NUL}
MOMENT = {"type": "string", "format": "date-time"}

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


def nullable(schema: dict) -> dict:
    """``schema`` that also admits null."""
    return {**schema, "type": [schema["type"], "null"]}


def ref(name: str) -> dict:
    """A reference to the component schema ``name``."""
    return {"$ref": f"#/components/schemas/{name}"}


def json_response(schema_name: str, description: str, **extra) -> dict:
    """A JSON response whose body is the component schema ``schema_name``."""
    return {"description": description,
            "content": {"application/json": {"schema": ref(schema_name)}}, **extra}


def responses(success: dict, *problems: int) -> dict:
    """An operation's responses: ``success`` plus the shared problem responses."""
    result = dict(success)
    for status in problems:
        result[str(status)] = {"$ref": f"#/components/responses/Problem{status}"}
    return result


def problem_schema() -> dict:
    """The RFC 9457 body every error response carries."""
    text = {"type": "string"}
    return {
        "type": "object", "required": ["type", "title", "status", "detail"],
        "properties": {"type": text, "title": text, "status": {"type": "integer"},
                       "detail": text,
                       "field": {**text, "description": "The refused field (422)."}},
    }


def problem_responses() -> dict:
    """components/responses: one ``Problem<status>`` per status in MESSAGES."""
    result = {}
    for status, description in MESSAGES.items():
        response = {"description": description,
                    "content": {PROBLEM_TYPE: {"schema": ref("Problem")}}}
        if status == 401:
            response["headers"] = {"WWW-Authenticate": {"required": True,
                                                        "schema": {"type": "string"}}}
        result[f"Problem{status}"] = response
    return result


def parameters() -> dict:
    """components/parameters: the path parameters several paths share."""
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
