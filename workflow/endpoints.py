"""Webhook endpoints of the enforcement stream (DESIGN §5), managed by supervisors.

A new endpoint starts at the current stream head: it receives the events written
from then on, and gets the state before that from the allow-list, which every
receiver reads on start (``GET /api/v1/enforcement/allowlist``). Sending it the
whole history instead would replay years of stale events.

Replay of a dead delivery: the delivery itself goes back to ``pending`` with a
fresh 72-hour window. The worker sends an endpoint's replays (pending deliveries
at or below its position) before its head, one at a time like everything else;
the event keeps its id and sequence, so a receiver that applied something newer
for that target ignores it, and one that did not applies it. The position never
moves back, so nothing later is sent twice.
"""

from __future__ import annotations

import base64
import ipaddress
import secrets
import socket
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from models import (
    Delivery,
    DeliveryStatus,
    EventType,
    StreamCounter,
    WebhookEndpoint,
    db,
    utcnow,
)

from . import audit
from .audit import Actor, Tag
from .config import setting
from .errors import Conflict, InvalidInput

URL_MAX, DESCRIPTION_MAX = 2000, 200
SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
OVERLAP_HOURS_MAX = 24 * 7
# WebhookEndpoint.disabled_reason: who turned it off (the pages word it).
DISABLED_MANUALLY, DISABLED_GONE = "manual", "http_410"


@dataclass(frozen=True)
class Destination:
    """A checked URL: where to connect (every address the name resolves to is allowed)."""

    scheme: str
    host: str
    port: int
    addresses: tuple[str, ...]


def check_destination(url: str) -> Destination:
    """Parse ``url`` and refuse it unless each address of its host is in the allowed networks.

    Called at creation and again before every delivery (DNS answers change).
    """
    parts = urlsplit((url or "").strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(_l("Informe um endereço http:// ou https:// completo."), field="url")
    if parts.username or parts.password:
        raise InvalidInput(_l("O endereço não pode conter usuário ou senha."), field="url")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise InvalidInput(_l("A porta do endereço é inválida."), field="url") from None
    addresses = _resolve(parts.hostname, port)
    allowed = setting("WEBHOOK_ALLOWED_NETWORKS")
    outside = [a for a in addresses if not any(ipaddress.ip_address(a) in n for n in allowed)]
    if outside:
        raise InvalidInput(_l("O destino %(address)s está fora das redes permitidas para "
                              "webhooks.", address=outside[0]), field="url")
    return Destination(parts.scheme, parts.hostname, port, addresses)


def _resolve(host: str, port: int) -> tuple[str, ...]:
    try:
        return (str(ipaddress.ip_address(host)),)
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise InvalidInput(_l("Não foi possível resolver o nome %(host)s.", host=host[:100]),
                           field="url") from None
    # Scope ids (fe80::1%eth0) are dropped: the address decides the network.
    return tuple(dict.fromkeys(info[4][0].split("%")[0] for info in infos))


def _event_types(event_types) -> str:
    chosen = list(dict.fromkeys(t.strip() for t in (event_types or []) if t.strip()))
    if not chosen:
        return " ".join(t.value for t in EventType)
    known = {t.value for t in EventType}
    unknown = [t for t in chosen if t not in known]
    if unknown:
        raise InvalidInput(_l("Tipo de evento desconhecido: %(type)s. Use %(known)s.",
                              type=unknown[0][:64], known=", ".join(sorted(known))),
                           field="event_types")
    return " ".join(chosen)


def new_secret() -> str:
    """A signing secret: ``whsec_`` + base64 of 32 random bytes (Standard Webhooks)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def create_endpoint(*, url: str, event_types, description: str = "",
                    actor: Actor) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint starting at the stream head; returns it and its secret (once)."""
    url = (url or "").strip()
    if len(url) > URL_MAX:
        raise InvalidInput(_l("O endereço pode ter até %(max)d caracteres.", max=URL_MAX),
                           field="url")
    check_destination(url)
    types = _event_types(event_types)
    description = (description or "").strip()
    if len(description) > DESCRIPTION_MAX:
        raise InvalidInput(_l("A descrição pode ter até %(max)d caracteres.",
                              max=DESCRIPTION_MAX), field="description")
    head = db.session.scalar(select(StreamCounter.sequence).where(StreamCounter.id == 1))
    secret = new_secret()
    endpoint = WebhookEndpoint(url=url, event_types=types, description=description,
                               secret=secret, position=head or 0, active=True)
    db.session.add(endpoint)
    db.session.flush()
    _audit(Tag.ENDPOINT_CREATED, endpoint, actor,
           {"url": url, "event_types": types.split(), "position": endpoint.position})
    return endpoint, secret


def rotate_secret(endpoint: WebhookEndpoint, *, actor: Actor, overlap_hours: int = 24) -> str:
    """Issue a new secret; the old one keeps signing too for ``overlap_hours``."""
    if not 0 <= overlap_hours <= OVERLAP_HOURS_MAX:
        raise InvalidInput(_l("A sobreposição deve ser de 0 a %(max)d horas.",
                              max=OVERLAP_HOURS_MAX), field="overlap_hours")
    secret = new_secret()
    endpoint.previous_secret = endpoint.secret if overlap_hours else None
    endpoint.previous_secret_until = (utcnow() + timedelta(hours=overlap_hours)
                                      if overlap_hours else None)
    endpoint.secret = secret
    db.session.flush()
    _audit(Tag.ENDPOINT_SECRET_ROTATED, endpoint, actor, {"overlap_hours": overlap_hours})
    return secret


def set_active(endpoint: WebhookEndpoint, active: bool, *, actor: Actor) -> WebhookEndpoint:
    """Turn an endpoint on (its queue is tried at once) or off (nothing is sent to it)."""
    if endpoint.active == active:
        return endpoint
    endpoint.active = active
    if active:
        endpoint.disabled_reason, endpoint.next_attempt_at = None, None
        endpoint.failures_in_row = 0
    else:
        endpoint.disabled_reason = DISABLED_MANUALLY
    db.session.flush()
    _audit(Tag.ENDPOINT_ENABLED if active else Tag.ENDPOINT_DISABLED, endpoint, actor, {})
    return endpoint


def replay(delivery: Delivery, *, actor: Actor) -> Delivery:
    """Send a dead delivery again, before the endpoint's head (see the module docstring)."""
    if delivery.status is not DeliveryStatus.DEAD:
        raise Conflict(_l("Somente entregas que falharam definitivamente podem ser "
                          "reenviadas."))
    delivery.status = DeliveryStatus.PENDING
    delivery.first_attempt_at, delivery.finished_at = None, None
    delivery.endpoint.next_attempt_at = None
    db.session.flush()
    audit.record(Tag.DELIVERY_REPLAYED, actor, object_type="delivery",
                 object_id=str(delivery.id),
                 details={"endpoint_id": delivery.endpoint_id, "sequence": delivery.sequence})
    return delivery


def endpoint_by_id(endpoint_id: int) -> WebhookEndpoint | None:
    """The endpoint with this id, or None."""
    return db.session.get(WebhookEndpoint, endpoint_id)


def all_endpoints() -> list[WebhookEndpoint]:
    """Every endpoint, oldest first."""
    return list(db.session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)))


def _audit(tag: Tag, endpoint: WebhookEndpoint, actor: Actor, details: dict) -> None:
    audit.record(tag, actor, object_type="endpoint", object_id=str(endpoint.id),
                 details=details)
