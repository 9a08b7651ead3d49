"""RFC 9457 problem details: the only error format of /api/v1."""

from __future__ import annotations

from flask import Response, json
from werkzeug.http import HTTP_STATUS_CODES

PROBLEM_TYPE = "application/problem+json"


def problem(status: int, detail: str, *, field: str | None = None, **extra) -> Response:
    """A problem+json response; ``field`` names the offending input on 422."""
    body = {"type": "about:blank", "title": HTTP_STATUS_CODES.get(status, "Error"),
            "status": status, "detail": str(detail)}
    if field:
        body["field"] = field
    body.update(extra)
    return Response(json.dumps(body), status=status, mimetype=PROBLEM_TYPE)
