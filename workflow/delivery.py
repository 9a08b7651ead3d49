"""Delivering the enforcement stream to endpoints (DESIGN §5): the database steps.

The worker (``cli/worker.py``) runs these steps, each in a transaction of its own
that it commits, with the HTTP call between them outside any transaction:

1. ``claim`` one endpoint with work due, under a lease;
2. ``next_item``: its next delivery (a replay first, else the head event after its
   position; events of types it does not take are stepped over), created pending;
3. POST (``sender``), then ``record`` the attempt and apply the outcome;
4. ``release`` the lease when the stream is done or the head waits for a retry.

A worker killed anywhere loses nothing: the pending delivery stays the head, and
the next claim (once the lease has expired) sends it again with the same event id.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

from sqlalchemy import exists, or_, select

from models import (
    Case,
    CaseStatus,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    EventType,
    OutboxEvent,
    StreamCounter,
    WebhookEndpoint,
    db,
)

from . import audit, cases
from .audit import Actor, Tag
from .endpoints import DISABLED_GONE
from .errors import DomainError
from .sender import Result
from .signing import signing_secrets

SCHEDULE = (5, 30, 120, 600, 1800)  # seconds before retries 1-5; then hourly
HOURLY = 3600
JITTER = 0.15  # ±15 %
RETRY_AFTER_MAX = 24 * 3600  # a receiver may not park the queue longer than a day
GIVE_UP_AFTER = timedelta(hours=72)
WORKER = Actor.system("worker")


@dataclass(frozen=True)
class Item:
    """One delivery to attempt, as plain values: no row is touched during the POST."""

    delivery_id: int
    endpoint_id: int
    sequence: int
    event_id: str
    body: str
    url: str
    secrets: tuple[str, ...]


def _head_sequence():
    return select(StreamCounter.sequence).where(StreamCounter.id == 1).scalar_subquery()


def _replay_waiting():
    return exists().where(Delivery.endpoint_id == WebhookEndpoint.id,
                          Delivery.status == DeliveryStatus.PENDING,
                          Delivery.sequence <= WebhookEndpoint.position)


def claim(owner: str, now: datetime, lease_seconds: int) -> int | None:
    """Lease one active endpoint with work due; its id, or None when nothing is due.

    PostgreSQL: ``FOR UPDATE SKIP LOCKED`` lets several workers claim different
    endpoints at once. SQLite runs one write transaction at a time (BEGIN IMMEDIATE).
    """
    query = (select(WebhookEndpoint)
             .where(WebhookEndpoint.active.is_(True),
                    or_(WebhookEndpoint.position < _head_sequence(), _replay_waiting()),
                    or_(WebhookEndpoint.next_attempt_at.is_(None),
                        WebhookEndpoint.next_attempt_at <= now),
                    or_(WebhookEndpoint.lease_until.is_(None),
                        WebhookEndpoint.lease_until < now))
             .order_by(WebhookEndpoint.next_attempt_at.is_not(None),
                       WebhookEndpoint.next_attempt_at, WebhookEndpoint.id)
             .limit(1))
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=WebhookEndpoint)
    endpoint = db.session.scalars(query).first()
    if endpoint is None:
        return None
    endpoint.lease_owner = owner
    endpoint.lease_until = now + timedelta(seconds=lease_seconds)
    return endpoint.id


def release(endpoint_id: int, owner: str) -> None:
    """Give the lease back (only our own: an expired one may be someone else's now)."""
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is not None and endpoint.lease_owner == owner:
        endpoint.lease_owner, endpoint.lease_until = None, None


def next_item(endpoint_id: int, owner: str, now: datetime, lease_seconds: int) -> Item | None:
    """The endpoint's next delivery, created pending; None when done, waiting or not ours."""
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or endpoint.lease_owner != owner or not endpoint.active:
        return None
    if endpoint.next_attempt_at is not None and endpoint.next_attempt_at > now:
        return None
    delivery = db.session.scalars(
        select(Delivery).where(Delivery.endpoint_id == endpoint.id,
                               Delivery.status == DeliveryStatus.PENDING,
                               Delivery.sequence <= endpoint.position)
        .order_by(Delivery.sequence).limit(1)).first()
    if delivery is None:
        delivery = _head_delivery(endpoint)
    if delivery is None:
        return None
    endpoint.lease_until = now + timedelta(seconds=lease_seconds)
    event = delivery.event
    return Item(delivery.id, endpoint.id, event.sequence, event.event_id, event.body,
                endpoint.url, tuple(signing_secrets(endpoint, now)))


def _head_delivery(endpoint: WebhookEndpoint) -> Delivery | None:
    """The pending delivery of the first event after the position it takes, or None."""
    types = endpoint.types
    while True:
        event = db.session.scalars(
            select(OutboxEvent).where(OutboxEvent.sequence > endpoint.position)
            .order_by(OutboxEvent.sequence).limit(1)).first()
        if event is None:
            return None
        if event.type not in types:
            endpoint.position = event.sequence
            continue
        delivery = db.session.scalars(
            select(Delivery).where(Delivery.endpoint_id == endpoint.id,
                                   Delivery.sequence == event.sequence)).first()
        if delivery is None:
            delivery = Delivery(endpoint=endpoint, event=event, status=DeliveryStatus.PENDING,
                                attempts=0)
            db.session.add(delivery)
            db.session.flush()
        if delivery.status is DeliveryStatus.PENDING:
            return delivery
        endpoint.position = event.sequence  # settled already: step over it


def outcome_of(status: int | None) -> str:
    """``delivered``, ``retry`` or ``dead`` for an HTTP status (None: no answer)."""
    if status is None or status >= 500 or status in (408, 429):
        return "retry"
    if 200 <= status < 300:
        return "delivered"
    return "dead"  # redirects (never followed) and every other 4xx


def retry_delay(attempts: int, retry_after: str | None, now: datetime) -> float:
    """Seconds before the next try: the schedule with jitter, or Retry-After if longer."""
    base = SCHEDULE[attempts - 1] if 1 <= attempts <= len(SCHEDULE) else HOURLY
    delay = base * random.uniform(1 - JITTER, 1 + JITTER)
    asked = _retry_after_seconds(retry_after, now)
    return max(delay, min(asked, RETRY_AFTER_MAX)) if asked is not None else delay


def _retry_after_seconds(value: str | None, now: datetime) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        return None
    return max(0.0, (moment - now).total_seconds())


def record(item: Item, result: Result, now: datetime) -> str:
    """Store the attempt and apply its outcome; returns ``delivered``, ``retry`` or ``dead``."""
    delivery = db.session.get(Delivery, item.delivery_id)
    endpoint = delivery.endpoint
    db.session.add(DeliveryAttempt(delivery=delivery, attempted_at=result.started,
                                   status_code=result.status, duration_ms=result.duration_ms,
                                   error=result.error))
    delivery.attempts += 1
    delivery.first_attempt_at = delivery.first_attempt_at or result.started
    if delivery.status is not DeliveryStatus.PENDING:
        return delivery.status.value  # settled meanwhile by a worker whose lease we took
    outcome = outcome_of(result.status)
    if outcome == "retry" and now - delivery.first_attempt_at >= GIVE_UP_AFTER:
        outcome = "dead"
    if outcome == "retry":
        endpoint.failures_in_row += 1
        endpoint.next_attempt_at = now + timedelta(
            seconds=retry_delay(delivery.attempts, result.retry_after, now))
        return outcome
    delivery.finished_at, endpoint.next_attempt_at = now, None
    endpoint.position = max(endpoint.position, delivery.sequence)
    if outcome == "delivered":
        delivery.status = DeliveryStatus.DELIVERED
        endpoint.failures_in_row, endpoint.last_success_at = 0, now
    else:
        delivery.status = DeliveryStatus.DEAD
        endpoint.failures_in_row += 1
    db.session.flush()
    if outcome == "dead":
        _record_dead(delivery, result)
    if delivery.event.type is EventType.ACTIVATED:
        activate_if_acknowledged(delivery.event)
    return outcome


def _record_dead(delivery: Delivery, result: Result) -> None:
    endpoint = delivery.endpoint
    audit.record(Tag.DELIVERY_DEAD, WORKER, object_type="delivery", object_id=str(delivery.id),
                 details={"endpoint_id": endpoint.id, "sequence": delivery.sequence,
                          "status_code": result.status, "attempts": delivery.attempts})
    if result.status == 410 and endpoint.active:
        endpoint.active, endpoint.disabled_reason = False, DISABLED_GONE
        db.session.flush()
        audit.record(Tag.ENDPOINT_DISABLED_BY_RECEIVER, WORKER, object_type="endpoint",
                     object_id=str(endpoint.id), details={"sequence": delivery.sequence})


def activate_if_acknowledged(event: OutboxEvent) -> bool:
    """Activate the approved case once every endpoint it waits for answered 2xx.

    It waits for each active endpoint taking ``exception.activated`` that has the event
    in its stream; one created after the event (position already past it, no
    delivery) got the state from the allow-list and is not waited for. The case row
    is locked first, so two workers finishing two endpoints at once cannot both miss
    the other's acknowledgement.
    """
    query = select(Case).where(Case.id == event.case_id)
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    case = db.session.scalars(query.execution_options(populate_existing=True)).one()
    if case.status is not CaseStatus.APPROVED:
        return False
    subscribed = [e for e in db.session.scalars(
        select(WebhookEndpoint).where(WebhookEndpoint.active.is_(True))
        .execution_options(populate_existing=True)) if EventType.ACTIVATED in e.types]
    statuses = dict(db.session.execute(
        select(Delivery.endpoint_id, Delivery.status).where(Delivery.sequence == event.sequence)
        .execution_options(populate_existing=True)).all())
    waited = [e for e in subscribed if e.id in statuses or e.position < event.sequence]
    if not waited or any(statuses.get(e.id) is not DeliveryStatus.DELIVERED for e in waited):
        return False
    try:
        with db.session.begin_nested():
            cases.activate(case, actor=WORKER)
    except DomainError:
        return False  # changed meanwhile (revoked): nothing to activate
    return True


def partly_acknowledged() -> list[int]:
    """Sequences of activations of still-approved cases that some endpoint acknowledged.

    The worker re-checks them each cycle: an endpoint disabled since (by a supervisor)
    may have been the last one they waited for.
    """
    delivered = exists().where(Delivery.sequence == OutboxEvent.sequence,
                               Delivery.status == DeliveryStatus.DELIVERED)
    return list(db.session.scalars(
        select(OutboxEvent.sequence).join(Case, Case.id == OutboxEvent.case_id)
        .where(OutboxEvent.type == EventType.ACTIVATED, Case.status == CaseStatus.APPROVED,
               delivered).order_by(OutboxEvent.sequence)))
