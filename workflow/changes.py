"""The change feed of the enforcement stream (DESIGN §5) and its retention.

``changes(after, limit)`` returns the stored webhook bodies after a sequence, read in
one snapshot with the stream's head. Because every event takes its sequence from the
counter row inside its transaction (workflow.outbox), events become visible in
sequence order: a reader never sees N+1 before N, so ``next_after`` never skips.

Retention (``prune_stream``): events are kept STREAM_RETENTION_DAYS. Only a prefix of
the stream is ever deleted, so "what is kept" is always the range
``first_kept..head`` and a poller is told to resync (410) exactly when the events it
needs are gone. An event is pruned only when it is older than the retention AND
every active endpoint has passed it AND no delivery of it (or of anything before it)
is still pending. Its deliveries and their attempts are deleted with it (they
reference it): they are finished — delivered or dead — and a dead delivery that old
is not worth replaying, since its receiver has long since resynced from the
allow-list. Inactive (disabled) endpoints do not hold the stream back: otherwise one
forgotten endpoint would keep every event for ever; if one is re-enabled after its
events were pruned, the worker must move its position forward, which the receiver
sees as a jump and answers with a resync.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select
from sqlalchemy.engine import Engine

from models import Delivery, DeliveryAttempt, DeliveryStatus, OutboxEvent, WebhookEndpoint, db

from .config import setting
from .errors import DomainError
from .snapshot import open_snapshot, stream_head

MAX_LIMIT = 1000


class StreamGone(DomainError):
    """The events after ``after`` are no longer kept (or never were): resync."""

    status = 410


@dataclass(frozen=True)
class Page:
    bodies: list[str]  # the exact JSON text of each webhook, in sequence order
    next_after: int  # the last sequence returned (``after`` when none)
    head: int  # the stream's last sequence when the page was read


def changes(engine: Engine, after: int, limit: int) -> Page:
    """Up to ``limit`` events after sequence ``after``, read in one snapshot."""
    limit = max(1, min(limit, MAX_LIMIT))
    with open_snapshot(engine) as connection:
        head = stream_head(connection)
        first_kept = connection.execute(select(func.min(OutboxEvent.sequence))).scalar()
        floor = head if first_kept is None else first_kept - 1
        if after < floor or after > head:
            # A future ``after`` means the receiver followed another stream (a restored
            # database, another installation): its state is as unknown as a stale one.
            raise StreamGone(_l("Os eventos seguintes a %(after)d não estão mais "
                                "disponíveis (mantidos: após %(floor)d até %(head)d). "
                                "Ressincronize pela lista de liberações.",
                                after=after, floor=floor, head=head))
        rows = connection.execute(
            select(OutboxEvent.sequence, OutboxEvent.body)
            .where(OutboxEvent.sequence > after)
            .order_by(OutboxEvent.sequence).limit(limit)).all()
    next_after = rows[-1].sequence if rows else after
    return Page([row.body for row in rows], next_after, head)


def prunable_through(now: datetime, retention_days: int) -> int:
    """The last sequence that may go: the bound of the prefix ``prune_stream`` deletes."""
    cutoff = now - timedelta(days=retention_days)
    bounds = [
        select(func.max(OutboxEvent.sequence)).where(OutboxEvent.created_at < cutoff),
        select(func.min(WebhookEndpoint.position)).where(WebhookEndpoint.active.is_(True)),
        select(func.min(Delivery.sequence) - 1)
        .where(Delivery.status == DeliveryStatus.PENDING),
    ]
    values = [db.session.execute(query).scalar() for query in bounds]
    if values[0] is None:
        return 0
    return min(v for v in values if v is not None)


def prune_stream(now: datetime, retention_days: int | None = None) -> int:
    """Delete the prefix of the stream past retention; returns how many events went.

    The caller commits (the worker, periodically). Deliveries and attempts of the
    pruned events go first: they reference the events.
    """
    days = setting("STREAM_RETENTION_DAYS") if retention_days is None else retention_days
    through = prunable_through(now, days)
    if through <= 0:
        return 0
    deliveries = select(Delivery.id).where(Delivery.sequence <= through)
    db.session.execute(delete(DeliveryAttempt)
                       .where(DeliveryAttempt.delivery_id.in_(deliveries)))
    db.session.execute(delete(Delivery).where(Delivery.sequence <= through))
    result = db.session.execute(delete(OutboxEvent).where(OutboxEvent.sequence <= through))
    return result.rowcount
