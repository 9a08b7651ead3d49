"""The work queue: cases a user may see, nearest deadline first, keyset-paginated.

Shared by the operator desk and ``GET /api/v1/cases``. The order is
(``sla_due_at`` ascending with NULLs last, ``id``): decided cases have no
running deadline and come after every open one. Pages are cut with a cursor
that encodes the (``sla_due_at``, ``id``) of the last row returned, never with
OFFSET, so a page costs the same wherever it is and rows that move between
requests are neither repeated nor skipped by position.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
from collections.abc import Iterable
from datetime import UTC, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, func, or_
from sqlalchemy.orm import contains_eager, selectinload

from models import Case, CaseStatus, Category, Role, User, db

from .access import visible_cases
from .config import setting
from .errors import InvalidInput
from .targets import Network, Target

MAX_LIMIT = 200
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"

StatusFilter = str | CaseStatus | Iterable[str | CaseStatus] | None


def queue(user: User, *, status: StatusFilter = None, uf: str | None = None,
          category: str | None = None, q: str | None = None, after: str | None = None,
          limit: int | None = None) -> tuple[list[Case], str | None]:
    """One page of the cases ``user`` may see and the cursor of the next page (or None).

    ``status`` is one status, several, or None for every status; ``after`` is
    the cursor returned with the previous page; ``limit`` defaults to PAGE_SIZE.
    Bad filter values raise InvalidInput naming the parameter.
    """
    limit = _limit(limit)
    query = matching(user, status=status, uf=uf, category=category, q=q).options(
        contains_eager(Case.customer), selectinload(Case.assignee))
    if after:
        query = query.where(_after(*decode_cursor(after)))
    query = query.order_by(Case.sla_due_at.asc().nulls_last(), Case.id.asc()).limit(limit + 1)
    rows = list(db.session.scalars(query).unique())
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode_cursor(rows[-1])


def matching(user: User, *, status: StatusFilter = None, uf: str | None = None,
             category: str | None = None, q: str | None = None) -> Select[tuple[Case]]:
    """The cases ``user`` may see that match the filters, unordered (the queue, exports)."""
    query = visible_cases(user).join(User, Case.customer_id == User.id)
    return _filtered(query, statuses=_statuses(status), uf=uf, category=category, q=q,
                     personal=user.role is not Role.AUDITOR)


def _filtered(query: Select, *, statuses: list[CaseStatus] | None, uf: str | None,
              category: str | None, q: str | None, personal: bool) -> Select:
    if statuses is not None:
        query = query.where(Case.status.in_(statuses))
    if uf:
        query = query.where(Case.uf == uf.strip().upper())
    if category:
        try:
            query = query.where(Case.category == Category(category))
        except ValueError:
            raise InvalidInput(_l("Finalidade desconhecida: %(value)s.", value=category[:40]),
                               field="category") from None
    if q and q.strip():
        query = query.where(_search(q.strip(), personal=personal))
    return query


def _search(text: str, *, personal: bool):
    """An IP address: the cases whose target contains it; a network (CIDR): those whose
    target overlaps it; anything else: protocol (exact or prefix), target (substring),
    customer name or e-mail.

    Auditors see personal data masked (DESIGN §9), so for them a name or an
    e-mail matches nothing: otherwise a search would reveal who has a case.
    """
    network = _network(text)
    if network is not None:
        # On the range index, bounded as the overlap check of a new case (workflow.cases).
        wanted = Target(network)
        return and_(Case.net_lo.between(wanted.overlap_floor, wanted.hi),
                    Case.net_hi >= wanted.lo)
    needle = text.lower()
    conditions = [func.lower(Case.target).contains(needle, autoescape=True)]
    if personal:
        conditions += [func.lower(User.name).contains(needle, autoescape=True),
                       func.lower(User.email).contains(needle, autoescape=True)]
    if text.isdigit():
        conditions.append(Case.protocol.startswith(text, autoescape=True))
    return or_(*conditions)


def _network(text: str) -> Network | None:
    """``text`` as an address (a /32 or /128) or a network, host bits allowed; else None."""
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def _statuses(status: StatusFilter) -> list[CaseStatus] | None:
    if status is None:
        return None
    values = [status] if isinstance(status, str) else list(status)
    try:
        return [CaseStatus(value) for value in values]
    except ValueError:
        raise InvalidInput(_l("Status desconhecido."), field="status") from None


def _limit(limit: int | None) -> int:
    if limit is None:
        return setting("PAGE_SIZE")
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(_l("O limite deve ser de 1 a %(max)d.", max=MAX_LIMIT),
                           field="limit")
    return limit


def _after(due: datetime | None, case_id: int):
    """Rows that come after (due, case_id) in the queue's order (NULLs last)."""
    if due is None:
        return and_(Case.sla_due_at.is_(None), Case.id > case_id)
    return or_(
        Case.sla_due_at > due,
        and_(Case.sla_due_at == due, Case.id > case_id),
        Case.sla_due_at.is_(None),
    )


def encode_cursor(case: Case) -> str:
    """The opaque cursor that points just after ``case``."""
    due = case.sla_due_at.astimezone(UTC).strftime(_TIME_FORMAT) if case.sla_due_at else None
    raw = json.dumps([due, case.id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime | None, int]:
    """(sla_due_at, id) from a cursor made by ``encode_cursor``; InvalidInput if garbled."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        due, case_id = json.loads(raw)
        when = None if due is None else datetime.strptime(due, _TIME_FORMAT).replace(tzinfo=UTC)
        if not isinstance(case_id, int) or isinstance(case_id, bool):
            raise ValueError(case_id)
        return when, case_id
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise InvalidInput(_l("Cursor de paginação inválido."), field="after") from None
