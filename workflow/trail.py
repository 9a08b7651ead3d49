"""The audit trail as its readers see it (DESIGN §2, §6, §9): in scope, filtered, by seq.

Who reads it: auditors within their jurisdiction — a PROCON the events whose
``uf`` is its state, Anatel (no UF) every event — and supervisors, who
administer the system and answer to the regulators for it, every event.
Operators, customers and providers do not (Forbidden): the trail holds every
colleague's sign-ins and the supervisors' administration, beyond a case queue.

Pages are cut by ``seq`` (keyset), never by OFFSET: the trail's pages go from
the newest back (``before``), the API reads forwards (``after``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select

from models import AuditEvent, AuditHead, Role, User, db

from .access import case_for
from .audit import Tag, event_body
from .config import setting
from .deadlines import UFS
from .errors import Forbidden, InvalidInput
from .records.documents.dossier import about
from .text import typed_date

READERS = frozenset({Role.AUDITOR, Role.SUPERVISOR})
API_MAX_LIMIT = 1000
INT_MAX = 2**31 - 1  # seq and user ids are 32-bit integer columns: nothing lies beyond
# What the actor filter takes besides a user's number (workflow.audit.Actor.role_label).
ACTOR_ROLES = (*(role.value for role in Role), "anonymous")


def require_reader(user: User) -> None:
    """Refuse anyone who does not read the trail (see the module docstring)."""
    if user.role not in READERS:
        raise Forbidden(_l("Apenas auditores e supervisores leem a trilha de auditoria."))


def visible_events(user: User) -> Select[tuple[AuditEvent]]:
    """A query of the events ``user`` may read: a PROCON's are its state's."""
    require_reader(user)
    query = select(AuditEvent)
    if user.role is Role.AUDITOR and user.uf:
        query = query.where(AuditEvent.uf == user.uf)
    return query


@dataclass(frozen=True)
class TrailFilter:
    """What the trail page and its exports filter by (every field optional)."""

    start: date | None = None
    end: date | None = None
    actor: str | None = None  # a role ("operator", "system:worker") or a user's number
    action: str | None = None
    protocol: str | None = None
    uf: str | None = None

    def as_dict(self) -> dict:
        """The filters given, as JSON values (for an export's audit event)."""
        return {k: (v.isoformat() if isinstance(v, date) else v)
                for k, v in asdict(self).items() if v}


def parse_filter(*, start: str | None = None, end: str | None = None, actor: str | None = None,
                 action: str | None = None, protocol: str | None = None,
                 uf: str | None = None) -> TrailFilter:
    """The filters as typed, checked; InvalidInput names the first bad field."""
    first, last = typed_date(start, field="start"), typed_date(end, field="end")
    if first and last and last < first:
        raise InvalidInput(_l("A data final é anterior à data inicial."), field="end")
    who = (actor or "").strip().lower() or None
    number = who is not None and who.isdigit() and len(who) <= 10 and int(who) <= INT_MAX
    if who and not (number or who in ACTOR_ROLES or who.startswith("system")):
        raise InvalidInput(_l("Informe um perfil (customer, operator, supervisor, auditor, "
                              "provider, system, anonymous) ou o número de um usuário."),
                           field="actor")
    tag = (action or "").strip() or None
    if tag and tag not in {t.value for t in Tag}:
        raise InvalidInput(_l("Ação desconhecida: %(action)s.", action=tag[:64]), field="action")
    state = (uf or "").strip().upper() or None
    if state and state not in UFS:
        raise InvalidInput(_l("UF desconhecida: %(uf)s.", uf=state[:8]), field="uf")
    return TrailFilter(first, last, who, tag, (protocol or "").strip() or None, state)


def matching(user: User, f: TrailFilter) -> Select[tuple[AuditEvent]]:
    """The events ``user`` may read that match ``f``, unordered.

    A protocol names a case: one out of the reader's view is NotFound (case_for),
    the same answer as on every page about it.
    """
    query = visible_events(user)
    zone = ZoneInfo(setting("DISPLAY_TIMEZONE"))
    if f.start:
        query = query.where(AuditEvent.occurred_at >= datetime.combine(f.start, time(), zone))
    if f.end:
        query = query.where(AuditEvent.occurred_at
                            < datetime.combine(f.end + timedelta(days=1), time(), zone))
    if f.actor and f.actor.isdigit():
        query = query.where(AuditEvent.actor_id == int(f.actor))
    elif f.actor == "system":
        query = query.where(AuditEvent.actor_role.startswith("system:"))
    elif f.actor:
        query = query.where(AuditEvent.actor_role == f.actor)
    if f.action:
        query = query.where(AuditEvent.action == f.action)
    if f.uf:
        query = query.where(AuditEvent.uf == f.uf)
    if f.protocol:
        query = query.where(about(case_for(user, f.protocol)))
    return query


def page(user: User, f: TrailFilter, *, before: int | None = None,
         limit: int | None = None) -> tuple[list[AuditEvent], int | None]:
    """One page of matching events, newest first, and the ``before`` of the next (or None)."""
    limit = limit or setting("PAGE_SIZE")
    query = matching(user, f)
    if before is not None and before <= INT_MAX:  # beyond: every event comes before it
        query = query.where(AuditEvent.seq < before)
    rows = list(db.session.scalars(query.order_by(AuditEvent.seq.desc()).limit(limit + 1)))
    if len(rows) <= limit:
        return rows, None
    return rows[:limit], rows[limit - 1].seq


def event_data(event) -> dict:
    """An event as its readers get it (API, JSON Lines): the fields its hash covers, and
    its hashes, so that each one can be recomputed from the previous (workflow.audit)."""
    return {**event_body(event), "prev_hash": event.prev_hash.hex(), "hash": event.hash.hex()}


@dataclass(frozen=True)
class Feed:
    """GET /api/v1/audit/events: events after ``after``, where to go on, and the head."""

    events: list[AuditEvent]
    next_after: int
    head: int


def events_after(user: User, *, after: int = 0, limit: int = 100) -> Feed:
    """Up to ``limit`` events with seq > ``after`` in the reader's scope, in seq order.

    The head is read first and only events up to it are returned, so a page never
    skips an event committed meanwhile. When fewer than ``limit`` come back, every
    event up to the head has been looked at: ``next_after`` is the head, so a
    PROCON's client does not scan other states' events again.
    """
    if not 1 <= limit <= API_MAX_LIMIT:
        raise InvalidInput(_l("O limite deve ser de 1 a %(max)d.", max=API_MAX_LIMIT),
                           field="limit")
    query = visible_events(user)
    head = db.session.scalar(select(AuditHead.seq).where(AuditHead.id == 1)) or 0
    rows = list(db.session.scalars(
        query.where(AuditEvent.seq > min(after, INT_MAX), AuditEvent.seq <= head)
        .order_by(AuditEvent.seq).limit(limit)))
    next_after = rows[-1].seq if len(rows) == limit else max(after, head)
    return Feed(rows, next_after, head)
