"""The audit trail at a million events: `flask audit verify` against plain hashlib, and
appends by 8 concurrent writers against 1.

Verify: the real command (CLI runner, in process) over the whole trail — the chain
recomputed from the database, then the one checkpoint at its end — against the same
two SHA-256 per event over the same canonical bytes, held in memory (no database, no
JSON). Appends: ``workflow.audit.record`` and a commit per event, from 1 thread and
from 8 (each its own app context and connection), for ``seconds`` each, alternating.
Medians of the rounds.

The trail is built fast: rows computed here with the real rule (``event_body``,
``chain_hash``) and bulk-inserted with executemany in chunks, then the head set and
one checkpoint signed at the end.
"""

from __future__ import annotations

import base64
import hashlib
import statistics
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask_migrate import upgrade
from sqlalchemy import insert, update

from app import create_app
from bench.allowlist import _drop_all
from models import AuditCheckpoint, AuditEvent, AuditHead, db, utcnow
from workflow import audit, signed_note
from workflow.audit import DOMAIN_TAG, GENESIS, Actor, Tag

EVENTS = 1_000_000
CHUNK = 20_000
WRITERS = 8
KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="  # a bench key (bytes 0…31)
NAME = "bench.example/audit"
ACTIONS = ("case:submitted", "case:claimed", "case:approved", "case:activated",
           "user:logged_in", "record:issued")


def _event(seq: int, start) -> SimpleNamespace:
    """A plausible event: references only, like the real ones."""
    return SimpleNamespace(
        seq=seq, occurred_at=start + timedelta(microseconds=seq * 997),
        actor_id=seq % 500 or None, actor_role="operator" if seq % 3 else "customer",
        source_ip="203.0.113.7", action=ACTIONS[seq % len(ACTIONS)], object_type="case",
        object_id=f"2026{seq:09d}", uf=("SP", "RJ", "MG", None)[seq % 4],
        details=audit.canonical({"to": "approved", "customer_id": seq % 9973, "version": 3})
        .decode())


def build(count: int) -> tuple[list[bytes], bytes]:
    """Insert ``count`` chained events (inside an app context; commits); their canonical
    bodies in order and the last hash."""
    start, prev, bodies = utcnow() - timedelta(days=30), GENESIS, []
    for first in range(1, count + 1, CHUNK):
        rows = []
        for seq in range(first, min(first + CHUNK, count + 1)):
            event = _event(seq, start)
            body = audit.event_body(event)
            bodies.append(audit.canonical(body))
            event.prev_hash, event.hash = prev, audit.chain_hash(seq, prev, body)
            prev = event.hash
            rows.append(vars(event))
        db.session.execute(insert(AuditEvent), rows)
        db.session.commit()
    db.session.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=count, hash=prev))
    db.session.commit()
    return bodies, prev


def sign_head(count: int, head_hash: bytes) -> None:
    """One checkpoint of the head, as the worker would sign it (inside an app context)."""
    key, name = Ed25519PrivateKey.from_private_bytes(base64.b64decode(KEY)), NAME
    now = utcnow().replace(microsecond=0)
    note = signed_note.sign(signed_note.checkpoint_text(name, count, head_hash, now), name, key)
    db.session.add(AuditCheckpoint(seq=count, hash=head_hash, signed_at=now, note=note,
                                   key_id=signed_note.key_id(name, key.public_key()).hex()))
    db.session.commit()


def plain_hashlib(bodies: list[bytes]) -> bytes:
    """The baseline: the chain's two SHA-256 per event over bytes already in memory."""
    prev, sha256 = GENESIS, hashlib.sha256
    for seq, body in enumerate(bodies, 1):
        prev = sha256(DOMAIN_TAG + seq.to_bytes(8, "big") + prev + sha256(body).digest()).digest()
    return prev


def verify_command(app) -> None:
    outcome = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert outcome.exit_code == 0 and "checkpoints intact: 1" in outcome.output, outcome.output


def append_rate(app, writers: int, seconds: float) -> float:
    """Appends per second by ``writers`` threads, each committing one event at a time."""
    deadline, counts = time.perf_counter() + seconds, [0] * writers
    barrier = threading.Barrier(writers)

    def write(i: int) -> None:
        barrier.wait()
        while time.perf_counter() < deadline:
            with app.app_context():
                audit.record(Tag.USER_LOGGED_IN, Actor.system("bench"), object_type="user",
                             object_id=str(i), details={"writer": i})
                db.session.commit()
            counts[i] += 1

    began = time.perf_counter()
    threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.perf_counter() - began)


def _timed(function, *args) -> float:
    began = time.perf_counter()
    function(*args)
    return time.perf_counter() - began


def run(url: str | None, count: int = EVENTS, rounds: int = 3, seconds: float = 2.0) -> dict:
    """Rates and ratios on a ``count``-event trail; ``url``: PostgreSQL, else SQLite."""
    with tempfile.TemporaryDirectory() as folder:
        db_url = url or f"sqlite:///{Path(folder) / 'audit.db'}"
        config = {"DATABASE_URL": db_url, "SECRET_KEY": "bench", "TESTING": True,
                  "AUDIT_VERIFIER_KEYS": (), "AUDIT_KEY_NAME": NAME,
                  "AUDIT_SIGNING_KEY": KEY}
        if url:
            _drop_all(create_app(config))
        app = create_app(config)
        with app.app_context():
            upgrade()
            build_s = time.perf_counter()
            bodies, head_hash = build(count)
            build_s = time.perf_counter() - build_s
            sign_head(count, head_hash)
        assert plain_hashlib(bodies) == head_hash
        verify, plain = [], []
        for _ in range(rounds):
            verify.append(_timed(verify_command, app))
            plain.append(_timed(plain_hashlib, bodies))
        del bodies
        one, many = [], []
        for _ in range(rounds):
            one.append(append_rate(app, 1, seconds))
            many.append(append_rate(app, WRITERS, seconds))
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    verify_s, plain_s = statistics.median(verify), statistics.median(plain)
    return {"events": count, "build_s": build_s, "verify_per_s": count / verify_s,
            "hashlib_per_s": count / plain_s, "verify_ratio": plain_s / verify_s,
            "append_1_per_s": statistics.median(one),
            "append_8_per_s": statistics.median(many),
            "append_ratio": statistics.median(many) / statistics.median(one)}


def report(result: dict) -> None:
    """Print the figures as `make bench` shows them."""
    n = result["events"]
    print(f"audit trail of {n:,} events built (bulk insert) in {result['build_s']:.1f} s")
    print(f"flask audit verify, {n:,} events + checkpoint: {result['verify_per_s']:10.0f}/s")
    print(f"baseline, plain hashlib over the same bytes:   {result['hashlib_per_s']:10.0f}/s")
    print(f"ratio verify/hashlib:                          {result['verify_ratio']:10.3f}")
    print(f"audit appends, {WRITERS} concurrent writers:         "
          f"{result['append_8_per_s']:10.1f}/s")
    print(f"baseline, 1 writer:                            {result['append_1_per_s']:10.1f}/s")
    print(f"ratio {WRITERS} writers/1:                              "
          f"{result['append_ratio']:10.3f}")


if __name__ == "__main__":
    import os

    report(run(os.environ.get("BENCH_DATABASE_URL"),
               int(sys.argv[1]) if len(sys.argv) > 1 else EVENTS))
