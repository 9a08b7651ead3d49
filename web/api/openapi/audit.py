"""The audit trail's events, as auditors and supervisors page through them."""

from __future__ import annotations

from workflow.trail import API_MAX_LIMIT as AUDIT_MAX
from workflow.trail import INT_MAX as AUDIT_SEQ_MAX

from .common import json_response, ref, responses


def schemas() -> dict:
    """An event (workflow.trail.event_data; the hash rule: workflow.audit) and a page."""
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
                "events": {"type": "array", "items": ref("AuditEvent")},
                "next_after": {**sequence, "description": "Pass as `after` next time: the "
                                                         "last event returned, or the head "
                                                         "when every event up to it was read."},
                "head": {**sequence, "description": "The trail's newest event (all scopes)."}}},
    }


def paths() -> dict:
    """GET the events after a sequence number."""
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
        "responses": responses({"200": json_response("AuditEventPage", "Events in seq order.")},
                               401, 403, 422)}}}
