"""Where enforcement stands (DESIGN §5), read for the desk and, later, the API.

Reads only: endpoints' health, dead deliveries, one event's delivery log and a
case's events per endpoint. Nothing here changes the stream or commits.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from models import (
    Case,
    CaseStatus,
    Delivery,
    DeliveryStatus,
    EventType,
    OutboxEvent,
    StreamCounter,
    WebhookEndpoint,
    db,
)

# Cases whose target has been put on (or taken off) the stream.
ENFORCED_STATUSES = frozenset({CaseStatus.APPROVED, CaseStatus.ACTIVE, CaseStatus.REVOKED,
                               CaseStatus.EXPIRED})

# Where one event stands for one endpoint, beyond the Delivery row's own status:
QUEUED = "queued"  # not yet reached by the endpoint's worker
NOT_SUBSCRIBED = "not_subscribed"  # the endpoint does not take this event type
SKIPPED = "skipped"  # behind the endpoint's position with no delivery (e.g. older than it)


@dataclass(frozen=True)
class EndpointHealth:
    endpoint: WebhookEndpoint
    lag: int  # events of the stream after the endpoint's position
    dead: int  # dead deliveries of this endpoint
    pending: int  # deliveries being tried: the head in retry, or replays waiting


@dataclass(frozen=True)
class EndpointState:
    endpoint: WebhookEndpoint
    delivery: Delivery | None
    state: str  # a DeliveryStatus value, QUEUED, NOT_SUBSCRIBED or SKIPPED


@dataclass(frozen=True)
class EventStates:
    event: OutboxEvent
    endpoints: list[EndpointState]


@dataclass(frozen=True)
class CaseEnforcement:
    applies: bool  # the case has reached the stream (approved, active, revoked, expired)
    unenforced: bool  # approved, and no active endpoint takes exception.activated
    events: list[EventStates]


def stream_head() -> int:
    """The last sequence taken from the stream's counter (0 before the first event)."""
    return db.session.scalar(select(StreamCounter.sequence).where(StreamCounter.id == 1)) or 0


def endpoints_health() -> list[EndpointHealth]:
    """Every endpoint, oldest first, with its lag behind the stream and its dead count."""
    head = stream_head()
    counts = {(endpoint_id, status): n for endpoint_id, status, n in db.session.execute(
        select(Delivery.endpoint_id, Delivery.status, func.count())
        .where(Delivery.status.in_([DeliveryStatus.DEAD, DeliveryStatus.PENDING]))
        .group_by(Delivery.endpoint_id, Delivery.status))}
    endpoints = db.session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id))
    return [EndpointHealth(e, max(head - e.position, 0),
                           counts.get((e.id, DeliveryStatus.DEAD), 0),
                           counts.get((e.id, DeliveryStatus.PENDING), 0)) for e in endpoints]


def nothing_enforces_activations() -> bool:
    """True when no active endpoint takes exception.activated: approvals stay 'approved'."""
    return not any(EventType.ACTIVATED in e.types for e in _active_endpoints())


def dead_deliveries(limit: int = 200) -> list[Delivery]:
    """Dead deliveries across endpoints, newest event first, with event and endpoint."""
    return list(db.session.scalars(
        select(Delivery).where(Delivery.status == DeliveryStatus.DEAD)
        .options(selectinload(Delivery.event), selectinload(Delivery.endpoint))
        .order_by(Delivery.sequence.desc(), Delivery.endpoint_id).limit(limit)))


def event_log(sequence: int) -> EventStates | None:
    """One event and, for every endpoint, its delivery with every attempt (None: no event)."""
    event = db.session.get(OutboxEvent, sequence)
    if event is None:
        return None
    endpoints = db.session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)).all()
    return _states([event], endpoints, with_attempts=True)[0]


def status_for_case(case: Case) -> CaseEnforcement:
    """The case's events on the stream and, per active endpoint, whether each arrived."""
    if case.status not in ENFORCED_STATUSES:
        return CaseEnforcement(applies=False, unenforced=False, events=[])
    endpoints = _active_endpoints()
    events = db.session.scalars(select(OutboxEvent).where(OutboxEvent.case_id == case.id)
                                .order_by(OutboxEvent.sequence)).all()
    unenforced = (case.status is CaseStatus.APPROVED
                  and not any(EventType.ACTIVATED in e.types for e in endpoints))
    return CaseEnforcement(applies=True, unenforced=unenforced,
                           events=_states(events, endpoints))


def _active_endpoints() -> list[WebhookEndpoint]:
    return list(db.session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.active)
                                   .order_by(WebhookEndpoint.id)))


def _states(events, endpoints, *, with_attempts: bool = False) -> list[EventStates]:
    """Pair each event with each endpoint in one query for the deliveries."""
    deliveries = {}
    if events and endpoints:
        query = select(Delivery).where(
            Delivery.sequence.in_([e.sequence for e in events]),
            Delivery.endpoint_id.in_([e.id for e in endpoints]))
        if with_attempts:
            query = query.options(selectinload(Delivery.attempt_log))
        deliveries = {(d.sequence, d.endpoint_id): d for d in db.session.scalars(query)}
    return [EventStates(event, [_state(event, endpoint, deliveries.get((event.sequence,
                                                                        endpoint.id)))
                                for endpoint in endpoints])
            for event in events]


def _state(event: OutboxEvent, endpoint: WebhookEndpoint,
           delivery: Delivery | None) -> EndpointState:
    if delivery is not None:
        state = delivery.status.value
    elif event.type not in endpoint.types:
        state = NOT_SUBSCRIBED
    elif event.sequence > endpoint.position:
        state = QUEUED
    else:
        state = SKIPPED
    return EndpointState(endpoint, delivery, state)
