"""One consistent, read-only view of the enforcement stream and the cases.

PostgreSQL: a REPEATABLE READ, READ ONLY transaction — its snapshot is taken at
the first statement and every later statement (however long the export) sees
the database as of that moment. SQLite: a deferred ``BEGIN`` (database.py) — the
first SELECT opens a WAL read snapshot that writers committing meanwhile do not
disturb, and that takes no lock a writer would wait for.

The connection is the caller's to close: the allow-list hands it to a streamed
response, which closes it when the last byte is sent (or the client goes away).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine

from models import StreamCounter


def open_snapshot(engine: Engine) -> Connection:
    """A new connection whose (not yet begun) transaction will be a read-only snapshot."""
    connection = engine.connect()
    if engine.dialect.name == "postgresql":
        # Reset by SQLAlchemy when the connection goes back to the pool.
        return connection.execution_options(isolation_level="REPEATABLE READ",
                                            postgresql_readonly=True)
    return connection.execution_options(read_only_snapshot=True)


def stream_head(connection: Connection) -> int:
    """The last sequence of the stream, as of the connection's snapshot."""
    return connection.execute(
        select(StreamCounter.sequence).where(StreamCounter.id == 1)).scalar_one()
