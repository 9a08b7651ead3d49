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


class ProblemError(Exception):
    """Raised inside /api/v1 for refusals that are not the domain's (malformed body,
    missing token, unknown action); the blueprint answers it with ``problem``."""

    def __init__(self, status: int, detail: str, *, field: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(str(detail))
        self.status, self.detail, self.field = status, detail, field
        self.headers = headers or {}

    def response(self) -> Response:
        """The problem+json response, with any header the status needs (WWW-Authenticate)."""
        response = problem(self.status, self.detail, field=self.field)
        response.headers.update(self.headers)
        return response
