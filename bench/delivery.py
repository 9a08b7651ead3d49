"""The worker's delivery rate against a bare keep-alive POST loop, to the same receiver.

A real HTTP/1.1 receiver on 127.0.0.1 answers every POST 204 at once (no checks).
porta25's side is the worker's cycle (``cli.worker.run_once``) on a SQLite (or
BENCH_DATABASE_URL) database holding approved cases' activation events, one
endpoint: per event a claim/next-item transaction, the destination check, signing,
the POST, and the transaction that records the attempt and activates the case.
The baseline posts the same stored bodies to the same receiver through a urllib3
PoolManager (one kept-alive connection, no database). Rounds alternate; medians.
"""

from __future__ import annotations

import itertools
import statistics
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import urllib3
from flask_migrate import upgrade
from sqlalchemy import select

from app import create_app
from cli.worker import run_once
from models import OutboxEvent, Role, User, db
from workflow import accounts, cases, endpoints
from workflow.audit import Actor
from workflow.sender import Sender

SYSTEM = Actor.system("bench")
_addresses = itertools.count(1)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the reference receiver

    def do_POST(self):  # noqa: N802 (http.server's naming)
        self.rfile.read(int(self.headers["content-length"]))
        self.send_response(204)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def start_receiver() -> ThreadingHTTPServer:
    """The fast receiver, serving in a thread of its own."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def prepared_app(url: str, receiver_url: str, count: int):
    """A migrated database with one endpoint and ``count`` approved cases' events."""
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "TESTING": True})
    with app.app_context():
        upgrade()
        customer = accounts.create_user(email="cliente@example.com.br", password="bench-pass",
                                        role=Role.CUSTOMER, name="Bench", uf="SP",
                                        cpf_cnpj="52998224725", actor=SYSTEM)
        operator = accounts.create_user(email="operador@example.com.br", password="bench-pass",
                                        role=Role.OPERATOR, name="Operador", actor=SYSTEM)
        endpoints.create_endpoint(url=receiver_url, event_types=[], actor=SYSTEM)
        db.session.commit()
        for _ in range(count):
            approve_one(customer.id, operator.id)
    return app


def approve_one(customer_id: int, operator_id: int) -> None:
    """Submit, claim and approve one case (one activation event on the stream).

    Its own /48, apart from the submission benchmark's targets on a shared database.
    """
    customer, operator = db.session.get(User, customer_id), db.session.get(User, operator_id)
    request = cases.Request(
        target=f"2001:db8:de1::{next(_addresses):x}", subscriber_id="CTR-0001",
        category="own_mail_server", mail_hostname="mail.exemplo.com.br", terms_version="2026-11",
        justification="Servidor de e-mail próprio com SPF, DKIM e DMARC publicados.")
    case = cases.submit(request, customer=customer, actor=Actor(customer))
    cases.claim(case, actor=Actor(operator))
    cases.approve(case, actor=Actor(operator))
    db.session.commit()


class _StoppingSender(Sender):
    """The real sender, that asks the worker to stop after ``limit`` POSTs (one round)."""

    def __init__(self, stop: threading.Event) -> None:
        super().__init__()
        self.stop, self.limit, self.sent = stop, 0, 0

    def post(self, *args, **kwargs):
        result = super().post(*args, **kwargs)
        self.sent += 1
        if self.sent >= self.limit:
            self.stop.set()
        return result


def worker_round(app, sender: _StoppingSender, events: int) -> float:
    """Events per second delivered by the worker's cycle, for the next ``events``."""
    sender.stop.clear()
    sender.limit, sender.sent = events, 0
    start = time.perf_counter()
    with app.app_context():
        run_once(sender=sender, stop=sender.stop)
    elapsed = time.perf_counter() - start
    assert sender.sent == events, sender.sent
    return events / elapsed


def bare_round(pool: urllib3.PoolManager, url: str, bodies: list[bytes]) -> float:
    """POSTs per second of the same bodies through one kept-alive urllib3 connection."""
    start = time.perf_counter()
    for body in bodies:
        response = pool.request("POST", url, body=body,
                                headers={"content-type": "application/json"})
        assert response.status == 204, response.status
    return len(bodies) / (time.perf_counter() - start)


def run(url: str | None = None, rounds: int = 5, per_round: int = 150) -> dict:
    """Alternate rounds of both; report median rates and their ratio."""
    receiver = start_receiver()
    receiver_url = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
    try:
        with tempfile.TemporaryDirectory() as folder:
            url = url or f"sqlite:///{Path(folder) / 'bench.db'}"
            app = prepared_app(url, receiver_url, rounds * per_round)
            with app.app_context():
                bodies = [b.encode() for b in db.session.scalars(
                    select(OutboxEvent.body).order_by(OutboxEvent.sequence))]
                db.engine.dispose()  # no connection left over from the set-up
            stop, pool = threading.Event(), urllib3.PoolManager(maxsize=1)
            sender = _StoppingSender(stop)
            worker, bare = [], []
            for i in range(rounds):
                worker.append(worker_round(app, sender, per_round))
                bare.append(bare_round(pool, receiver_url,
                                       bodies[i * per_round:(i + 1) * per_round]))
            sender.close()
            pool.clear()
            with app.app_context():
                db.engine.dispose()
    finally:
        receiver.shutdown()
        receiver.server_close()
    worker_rate, bare_rate = statistics.median(worker), statistics.median(bare)
    return {"events": rounds * per_round, "worker_per_s": worker_rate,
            "bare_post_per_s": bare_rate, "ratio": worker_rate / bare_rate}


def report(result: dict) -> None:
    """Print the figures as `make bench` shows them."""
    print(f"webhook delivery, worker cycle ({result['events']} events): "
          f"{result['worker_per_s']:8.1f}/s")
    print(f"baseline, bare keep-alive urllib3 POST loop:  {result['bare_post_per_s']:8.1f}/s")
    print(f"ratio worker/bare:                            {result['ratio']:8.3f}")


if __name__ == "__main__":
    import os

    report(run(os.environ.get("BENCH_DATABASE_URL")))
