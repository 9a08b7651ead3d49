"""Engine behaviour that the audit chain and the counters rely on.

SQLite (pysqlite) gets SQLAlchemy's documented recipe: the driver's own
transaction handling is turned off and every transaction begins with
``BEGIN IMMEDIATE``, so writers queue on the database lock instead of failing
with "database is locked" halfway through; WAL lets readers go on meanwhile.
A connection with the execution option ``read_only_snapshot`` begins with a
deferred ``BEGIN`` instead: a long read (the allow-list export) then holds a WAL
snapshot without blocking any writer.
"""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.engine import Engine

BUSY_TIMEOUT_MS = 10_000


def configure_engine(engine: Engine) -> None:
    """Install the SQLite recipe on ``engine``; other databases need nothing."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection):
        if connection.get_execution_options().get("read_only_snapshot"):
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
