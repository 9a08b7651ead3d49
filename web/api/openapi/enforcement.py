"""Enforcement: the allow-list and the change feed an enforcement system
reads (DESIGN §5)."""

from __future__ import annotations

from models import EventType
from workflow.changes import MAX_LIMIT as CHANGES_MAX

from .common import MOMENT, PROTOCOL_PATTERN, json_response, nullable, ref, responses

SEQUENCE_MAX = 2**62


def schemas() -> dict:
    """The allow-list, a stream event (the webhook body) and a page of them."""
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
                                        "valid_from": nullable(MOMENT),
                                        "valid_until": nullable(MOMENT),
                                        "sequence": sequence}}}},
        "ChangeFeed": {
            "type": "object", "required": ["events", "next_after", "sequence"],
            "additionalProperties": False,
            "properties": {
                "events": {"type": "array", "items": ref("StreamEvent")},
                "next_after": {**sequence, "description": "Pass as `after` next time."},
                "sequence": {**sequence, "description": "The stream's head."}}},
    }


def paths() -> dict:
    """GET the allow-list and the changes after a sequence."""
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
            "responses": responses({
                "200": {"description": "The allow-list.", "headers": etag, "content": {
                    "application/json": {"schema": ref("AllowList")},
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
            "responses": responses(
                {"200": json_response("ChangeFeed", "Events in sequence order.")},
                401, 403, 410, 422)}},
    }
