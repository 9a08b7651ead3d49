"""Standard Webhooks verification, with every secret of a rotation."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from standardwebhooks import Webhook

HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")


class Unverified(Exception):
    """Bad, missing or malformed signature or timestamp (answered 401)."""


def load_webhooks(secrets: Iterable[str]) -> list[Webhook]:
    """One verifier per secret; the error never repeats the secret itself."""
    webhooks = []
    for number, secret in enumerate(secrets, start=1):
        if not secret.startswith("whsec_"):
            raise ValueError(f"secret #{number} does not start with whsec_")
        try:
            webhooks.append(Webhook(secret))
        except Exception:  # binascii.Error, EmptyWebhookSecretError…
            raise ValueError(f"secret #{number} is not a valid whsec_ secret") from None
    if not webhooks:
        raise ValueError("at least one whsec_ secret is needed")
    return webhooks


def verify(webhooks: Iterable[Webhook], body: str, headers: Mapping[str, str]) -> None:
    """Accept the message if any secret verifies it within the library's ±5 minutes.

    The library raises its own error for a bad signature or timestamp, but a
    malformed header raises ValueError or binascii.Error from inside it, so every
    exception counts as a refusal.
    """
    wanted = {name: headers.get(name) or "" for name in HEADERS}
    reason = "no secret configured"
    for webhook in webhooks:
        try:
            webhook.verify(body, wanted, json_parse=False)
            return
        except Exception as exc:  # any failure is a refusal, never a 500
            reason = f"{type(exc).__name__}: {str(exc)[:80]}"
    raise Unverified(reason)
