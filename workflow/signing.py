"""Standard Webhooks signatures (DESIGN §5), made by the `standardwebhooks` library.

The library reads a datetime's wall clock as UTC whatever its zone (``replace``,
not ``astimezone``), so a naive or non-UTC time would sign the wrong second: every
time is converted to aware UTC here, and the header's timestamp comes from that
same value.
"""

from __future__ import annotations

from datetime import UTC, datetime
from math import floor

from standardwebhooks.webhooks import Webhook

from models import WebhookEndpoint


def utc(moment: datetime) -> datetime:
    """``moment`` as an aware UTC datetime; a naive one is refused (its zone is unknown)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: the signing time must carry its zone")
    return moment.astimezone(UTC)


def sign(secret: str, msg_id: str, moment: datetime, body: str) -> str:
    """``v1,<base64 HMAC-SHA256>`` over ``id.timestamp.body`` with one secret."""
    return Webhook(secret).sign(msg_id=msg_id, timestamp=utc(moment), data=body)


def signing_secrets(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    """The secrets that sign now: the current one, and the previous during a rotation."""
    chosen = [endpoint.secret]
    until = endpoint.previous_secret_until
    if endpoint.previous_secret and until is not None and utc(now) < until:
        chosen.append(endpoint.previous_secret)
    return chosen


def headers(endpoint: WebhookEndpoint, event_id: str, body: str, now: datetime) -> dict:
    """The headers of one attempt: id, timestamp and one signature per secret in force."""
    return headers_for(signing_secrets(endpoint, now), event_id, body, now)


def headers_for(secrets: list[str] | tuple[str, ...], event_id: str, body: str,
                now: datetime) -> dict:
    """As ``headers``, from the secrets themselves (the worker holds no endpoint row)."""
    moment = utc(now)
    signatures = " ".join(sign(s, event_id, moment, body) for s in secrets)
    return {"content-type": "application/json", "webhook-id": event_id,
            "webhook-timestamp": str(floor(moment.timestamp())),
            "webhook-signature": signatures}
