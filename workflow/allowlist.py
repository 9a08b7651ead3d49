"""The allow-list (DESIGN §5): every target allowed now, with the stream sequence it
corresponds to, read in one snapshot (workflow.snapshot) and streamed in batches.

Who may read it: staff (operators and supervisors), like every other national view
of the cases. An enforcement system reads it with a token that a supervisor issues
for a dedicated operator account (``flask users create --role operator``, then
``flask tokens create``); no new role exists for it. Customers, auditors (even
national ones: the list is operational data, not case facts) and providers may not.

Entries come in ``target`` order: on PostgreSQL the unique partial index on open
targets serves that order without a sort, and a server-side cursor fetches
``BATCH`` rows at a time, so memory does not grow with the list.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import DateTime, Row, select, type_coerce
from sqlalchemy.engine import Connection, Engine

from models import Case, CaseStatus, Role, User

from .errors import Forbidden
from .snapshot import open_snapshot, stream_head

ALLOWED_STATUSES = (CaseStatus.APPROVED, CaseStatus.ACTIVE)
READERS = frozenset({Role.OPERATOR, Role.SUPERVISOR})
BATCH = 500  # rows per fetch and per chunk of the response (memory ~ a few of them)


def require_reader(user: User) -> None:
    """Refuse anyone but staff: the allow-list and the change feed span every state."""
    if user.role not in READERS:
        raise Forbidden(_l("Apenas a equipe (operadores e supervisores) lê a lista de "
                           "liberações e o fluxo de mudanças."))


def allowed_now(now: datetime):
    """The SELECT of (target, protocol, subscriber_id, valid_until) allowed at ``now``.

    ``valid_until`` comes back naive (UTC): skipping the aware conversion of a
    million values is a tenth of the export's time.
    """
    until = type_coerce(Case.valid_until, DateTime())
    return (select(Case.target, Case.protocol, Case.subscriber_id, until.label("valid_until"))
            .where(Case.status.in_(ALLOWED_STATUSES), Case.valid_until > now)
            .order_by(Case.target))


class AllowList:
    """An open snapshot: ``sequence`` now, ``batches()`` later, ``close()`` at the end."""

    def __init__(self, engine: Engine, now: datetime) -> None:
        self.now = now
        self.connection: Connection = open_snapshot(engine)
        try:
            # The first statement fixes the snapshot; the rows are read later, in it.
            self.sequence = stream_head(self.connection)
        except BaseException:
            self.connection.close()
            raise

    def batches(self) -> Iterator[list[Row]]:
        """The entries in target order, ``BATCH`` rows at a time, from the same snapshot."""
        query = allowed_now(self.now).execution_options(yield_per=BATCH)
        with self.connection.execute(query) as result:
            yield from result.partitions()

    def close(self) -> None:
        """End the read transaction and give the connection back (idempotent)."""
        self.connection.close()
