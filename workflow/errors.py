"""Domain errors. Each carries a message for the user; the edges map them to HTTP."""

from __future__ import annotations


class DomainError(Exception):
    """A request the domain refuses; ``message`` is shown to the user."""

    status = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        # Kept lazy: rendered by the edge in the reader's language. Rendering here
        # would need a request (the locale) and broke raising in the CLI and worker.
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(DomainError):
    """A field's value is not acceptable; ``field`` names it."""

    status = 422


class NotFound(DomainError):
    """The object does not exist or the actor may not see it (never tell which)."""

    status = 404


class Forbidden(DomainError):
    """The actor may see the object but not do this to it."""

    status = 403


class Conflict(DomainError):
    """The current state forbids the change: wrong status, stale version, duplicate."""

    status = 409
