"""Allow-list export (GET /api/v1/enforcement/allowlist) at a million entries.

Time: the full export through the app (token, snapshot, streamed JSON, consumed by
the test client chunk by chunk) against a raw DBAPI read of the same rows with the
same query, fetched in the same batches and thrown away. Memory: peak traced Python
memory (tracemalloc) of the export at 1,000,000 entries against the same export at
10,000; constant memory means a ratio near 1 while the body grows 100 times.

Rows are synthetic: plain rows bulk-inserted into ``case`` (executemany), half of
them IPv6, all approved or active with a validity in the future.
"""

from __future__ import annotations

import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import insert

from app import create_app
from models import Case, Role, db
from workflow import accounts
from workflow.audit import Actor

CHUNK = 50_000
LARGE, SMALL = 1_000_000, 10_000
URL = "/api/v1/enforcement/allowlist"


def _target(n: int) -> tuple[str, str]:
    """A distinct /32 or /128 for ``n`` and its 32-hex-digit first address."""
    if n % 2:
        address = 0x0A000000 + n  # 10.0.0.0/8
        dotted = ".".join(str(address >> s & 255) for s in (24, 16, 8, 0))
        return f"{dotted}/32", f"{0xFFFF00000000 + address:032x}"
    address = 0x20010DB8_00FF_0000_0000_0000_0000_0000 + n
    groups = f"{address:032x}"
    text = ":".join(groups[i:i + 4].lstrip("0") or "0" for i in range(0, 32, 4))
    return f"{text}/128", groups


def _row(n: int, customer_id: int, now: datetime) -> dict:
    target, lo = _target(n)
    return {"protocol": f"9{n:012d}", "customer_id": customer_id,
            "status": "active" if n % 3 else "approved", "version": 1, "target": target,
            "net_lo": lo, "net_hi": lo, "subscriber_id": f"CTR-{n:07d}", "uf": "SP",
            "category": "own_mail_server", "justification": "bench", "mail_hostname":
            "mail.example.com.br", "terms_version": "2026-11", "terms_accepted_at": now,
            "submitted_at": now, "answer_due_at": now, "execution_due_at": now,
            "valid_from": now, "valid_until": now + timedelta(days=365), "updated_at": now}


def insert_synthetic_cases(count: int, customer_id: int, start: int = 1) -> None:
    """Bulk-insert ``count`` allowed cases (inside an app context; commits)."""
    now = datetime.now(UTC)
    for first in range(start, start + count, CHUNK):
        last = min(first + CHUNK, start + count)
        db.session.execute(insert(Case), [_row(n, customer_id, now) for n in range(first, last)])
        db.session.commit()


def prepare(url: str, count: int):
    """A migrated app with ``count`` allowed cases and a supervisor's token."""
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "TESTING": True,
                      "PASSWORD_HASH_PROFILE": "CHEAPEST"})
    with app.app_context():
        upgrade()
        actor = Actor.system("bench")
        customer = accounts.create_user(email="c@example.com.br", password="bench-password",
                                        role=Role.CUSTOMER, name="C", uf="SP",
                                        cpf_cnpj="52998224725", actor=actor)
        staff = accounts.create_user(email="s@example.com.br", password="bench-password",
                                     role=Role.SUPERVISOR, name="S", actor=actor)
        db.session.commit()
        token = accounts.create_token(staff, "bench", actor=actor)
        db.session.commit()
        insert_synthetic_cases(count, customer.id)
    return app, token


def export(app, token: str) -> int:
    """Stream the JSON allow-list through the app, keeping no chunk; returns its size."""
    response = app.test_client().get(URL, headers={"Authorization": f"Bearer {token}"},
                                     buffered=False)
    size = 0
    try:
        for chunk in response.response:
            size += len(chunk)
    finally:
        response.close()
    return size


RAW_SQL = ("SELECT target, protocol, subscriber_id, valid_until FROM \"case\" "
           "WHERE status IN ('approved', 'active') AND valid_until > {p} ORDER BY target")


def raw_read(app) -> int:
    """The same rows with the same query through the bare DBAPI cursor, same batches."""
    from workflow.allowlist import BATCH

    with app.app_context():
        now = datetime.now(UTC).replace(tzinfo=None)
        postgres = db.engine.dialect.name == "postgresql"
        raw = db.engine.raw_connection()
        try:
            # PostgreSQL: a named (server-side) cursor, as the export uses.
            cursor = raw.cursor(name="bench") if postgres else raw.cursor()
            sql = RAW_SQL.format(p="%s" if postgres else "?")
            cursor.execute(sql, (now if postgres else now.strftime("%Y-%m-%d %H:%M:%S.%f"),))
            rows = 0
            while batch := cursor.fetchmany(BATCH):
                rows += len(batch)
            cursor.close()
            raw.rollback()
            return rows
        finally:
            raw.close()


def _timed(function, *args) -> tuple[float, object]:
    began = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - began, result


def _peak(function, *args) -> int:
    tracemalloc.start()
    try:
        function(*args)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def run(url: str | None, count: int = LARGE, small: int = SMALL, rounds: int = 3) -> dict:
    """Time ratio export/raw at ``count`` (medians), and peak memory at ``count``/``small``."""
    with tempfile.TemporaryDirectory() as folder:
        results = {}
        for label, n in (("small", small), ("large", count)):
            db_url = url or f"sqlite:///{Path(folder) / f'allowlist-{n}.db'}"
            if url:  # one PostgreSQL database, maybe left full by another benchmark
                _drop_all(create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"}))
            app, token = prepare(db_url, n)
            export(app, token)  # warm-up: imports, compiled queries, validators, page cache
            results[f"{label}_peak"] = _peak(export, app, token)
            if label == "large":
                exports, raws = [], []
                for _ in range(rounds):
                    seconds, size = _timed(export, app, token)
                    exports.append(seconds)
                    seconds, rows = _timed(raw_read, app)
                    raws.append(seconds)
                    assert rows == n, rows
                results.update(export_s=sorted(exports)[rounds // 2],
                               raw_s=sorted(raws)[rounds // 2], bytes=size)
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
    results["ratio"] = results["export_s"] / results["raw_s"]
    results["memory_ratio"] = results["large_peak"] / results["small_peak"]
    return results


def _drop_all(app) -> None:
    """Empty the PostgreSQL database: tables, and the audit trigger functions with them."""
    with app.app_context():
        db.session.execute(db.text("DROP SCHEMA public CASCADE"))
        db.session.execute(db.text("CREATE SCHEMA public"))
        db.session.commit()
        db.engine.dispose()


if __name__ == "__main__":
    print(run(None, int(sys.argv[1]) if len(sys.argv) > 1 else LARGE))
