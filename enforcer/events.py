"""The webhook body of DESIGN §5, checked strictly before anything is applied."""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass
from datetime import UTC, datetime

ACTIVATED = "exception.activated"
BLOCKING = ("exception.revoked", "exception.expired")
TYPES = (ACTIVATED, *BLOCKING)


class MalformedEvent(ValueError):
    """The body is not an event of the contract (answered 400)."""


@dataclass(frozen=True)
class Event:
    type: str
    target: str  # normalised prefix, e.g. "203.0.113.7/32"
    sequence: int
    protocol: str | None
    subscriber_id: str | None
    valid_until: datetime | None

    @property
    def allows(self) -> bool:
        return self.type == ACTIVATED


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z, like the contract's examples."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_time(value: object, field: str) -> datetime:
    """An ISO 8601 instant with a time zone (a naive time would be a guess)."""
    if not isinstance(value, str):
        raise MalformedEvent(f"{field} must be an ISO 8601 string")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise MalformedEvent(f"{field} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise MalformedEvent(f"{field} has no time zone")
    return moment.astimezone(UTC)


def normalise_target(value: object) -> str:
    """The prefix in its canonical text, so one target has one key."""
    if not isinstance(value, str):
        raise MalformedEvent("target must be a string")
    try:
        return str(ipaddress.ip_network(value.strip(), strict=False))
    except ValueError:
        raise MalformedEvent("target is not an IP prefix") from None


def optional_text(value: object, field: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise MalformedEvent(f"{field} must be a string")
    return value


def parse_event(body: str | dict) -> Event:
    """Parse and check a verified body; raises MalformedEvent."""
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            raise MalformedEvent("body is not JSON") from None
    if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
        raise MalformedEvent("body must be an object with a data object")
    kind, data = body.get("type"), body["data"]
    if kind not in TYPES:
        raise MalformedEvent(f"unknown event type {str(kind)[:40]!r}")
    sequence = data.get("sequence")
    if type(sequence) is not int or sequence < 1:
        raise MalformedEvent("sequence must be a positive integer")
    valid_until = data.get("valid_until")
    if kind == ACTIVATED or valid_until is not None:
        valid_until = parse_time(valid_until, "valid_until")
    return Event(type=kind, target=normalise_target(data.get("target")), sequence=sequence,
                 protocol=optional_text(data.get("protocol"), "protocol"),
                 subscriber_id=optional_text(data.get("subscriber_id"), "subscriber_id"),
                 valid_until=valid_until)
