"""A delivery has a wall-clock deadline (DESIGN §5: connect 5 s, total 15 s).

A real receiver that answers a little at a time, a byte every quarter second, never
lets a single socket read time out; only the total deadline ends the attempt. The
test shrinks the limits to connect 1 s / total 2 s through the Sender's arguments.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from cli.worker import run_once
from models import DeliveryAttempt, db, utcnow
from tests.factories import case_in, make_people
from tests.webhook_support import add_endpoint, deliveries, endpoint_row
from workflow.sender import CONNECT_TIMEOUT, TOTAL_TIMEOUT, Sender

DRIP_EVERY = 0.25


@dataclass
class DrippingReceiver:
    """Reads the request, then sends its answer (headers or body) one byte at a time."""

    part: str  # "headers": the header block never ends; "body": the body never ends
    secrets: list[str] = field(default_factory=list)
    stop_event: threading.Event = field(default_factory=threading.Event)
    server: ThreadingHTTPServer | None = None

    def start(self) -> DrippingReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                self.rfile.read(int(self.headers["content-length"]))
                receiver.drip(self)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def drip(self, request: BaseHTTPRequestHandler) -> None:
        if self.part == "headers":
            request.wfile.write(b"HTTP/1.1 204 No Content\r\nx-slow: ")
        else:
            request.wfile.write(b"HTTP/1.1 200 OK\r\ncontent-length: 100000\r\n\r\n")
        try:
            while not self.stop_event.wait(DRIP_EVERY):
                request.wfile.write(b"x")
        except OSError:
            pass  # the sender hung up at its deadline

    def stop(self) -> None:
        self.stop_event.set()
        self.server.shutdown()
        self.server.server_close()


def test_the_default_limits_are_the_contracts():
    sender = Sender()
    assert (sender.connect_timeout, sender.total_timeout) == (CONNECT_TIMEOUT, TOTAL_TIMEOUT)
    assert (CONNECT_TIMEOUT, TOTAL_TIMEOUT) == (5.0, 15.0)


@pytest.mark.parametrize("part", ["headers", "body"])
def test_a_dripping_receiver_is_cut_off_at_the_total_deadline_and_retried(app, part):
    people = make_people(app, "customer", "operator")
    receiver = DrippingReceiver(part).start()
    try:
        endpoint = add_endpoint(app, receiver)
        case_in(app, "approved", people)
        sender = Sender(connect_timeout=1.0, total_timeout=2.0)
        began = time.monotonic()
        with app.app_context():
            assert run_once(sender=sender) == 1
        elapsed = time.monotonic() - began
        sender.close()
    finally:
        receiver.stop()
    assert 2.0 <= elapsed < 4.0  # the deadline, not a per-read timeout (never reached)
    with app.app_context():
        attempt = db.session.scalars(select(DeliveryAttempt)).one()
        assert attempt.status_code is None
        assert attempt.error.startswith("TimeoutError") and "2 s" in attempt.error
        assert 2000 <= attempt.duration_ms < 3500
    assert deliveries(app, endpoint) == [(1, "pending", 1)]  # a network error: retried
    row = endpoint_row(app, endpoint)
    assert row["failures_in_row"] == 1 and row["next_attempt_at"] > utcnow()
