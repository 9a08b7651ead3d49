"""A real webhook receiver for delivery tests, and helpers to set up a stream.

The receiver is an ``http.server`` on 127.0.0.1 in a thread. It verifies every
message with the standardwebhooks library (401 when that fails) and answers from a
script: the next scripted (status, headers[, body]) per request, then 204. It records what
it accepted, and how many requests ever overlapped (one delivery at a time).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sqlalchemy import select
from standardwebhooks.webhooks import Webhook

from models import Case, Delivery, DeliveryAttempt, OutboxEvent, User, WebhookEndpoint, db
from workflow import cases, endpoints
from workflow.audit import Actor


@dataclass
class Received:
    event_id: str
    sequence: int
    type: str
    body: bytes
    status: int


@dataclass
class Receiver:
    secrets: list[str] = field(default_factory=list)
    script: list[tuple] = field(default_factory=list)  # (status, headers[, body bytes])
    delay: float = 0.0
    received: list[Received] = field(default_factory=list)
    refused: int = 0
    in_flight: int = 0
    most_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    def start(self, port: int = 0) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                receiver.handle(self)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        with self.lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            self._answer(request)
        finally:
            with self.lock:
                self.in_flight -= 1

    def _answer(self, request: BaseHTTPRequestHandler) -> None:
        body = request.rfile.read(int(request.headers["content-length"]))
        headers = {k.lower(): v for k, v in request.headers.items()}
        if not self._verified(body, headers):
            with self.lock:
                self.refused += 1
            return self._reply(request, 401, {})
        time.sleep(self.delay)
        with self.lock:
            status, extra, *answer = self.script.pop(0) if self.script else (204, {})
            data = json.loads(body)
            self.received.append(Received(headers["webhook-id"], data["data"]["sequence"],
                                          data["type"], body, status))
        self._reply(request, status, extra, *answer)

    def _verified(self, body: bytes, headers: dict) -> bool:
        for secret in self.secrets:
            try:
                Webhook(secret).verify(body, headers)
                return True
            except Exception:  # a malformed header raises ValueError, not the library's error
                continue
        return False

    @staticmethod
    def _reply(request, status: int, headers: dict, body: bytes = b"") -> None:
        request.send_response(status)
        for name, value in headers.items():
            request.send_header(name, value)
        request.send_header("content-length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)

    def accepted(self) -> list[Received]:
        """Requests answered 2xx, in arrival order."""
        return [r for r in self.received if 200 <= r.status < 300]


def add_endpoint(app, receiver: Receiver, *types: str) -> int:
    """Register ``receiver`` as an endpoint (at the current head); it learns the secret."""
    with app.app_context():
        endpoint, secret = endpoints.create_endpoint(url=receiver.url, event_types=list(types),
                                                     actor=Actor.system("tests"))
        db.session.commit()
        receiver.secrets.append(secret)
        return endpoint.id


def stream_ids(app) -> list[tuple[int, str]]:
    """(sequence, event id) of every event on the stream, in order."""
    with app.app_context():
        return [tuple(r) for r in db.session.execute(
            select(OutboxEvent.sequence, OutboxEvent.event_id).order_by(OutboxEvent.sequence))]


def deliveries(app, endpoint_id: int) -> list[tuple[int, str, int]]:
    """(sequence, status, attempts) of an endpoint's deliveries."""
    with app.app_context():
        return [(d.sequence, d.status.value, d.attempts) for d in db.session.scalars(
            select(Delivery).where(Delivery.endpoint_id == endpoint_id)
            .order_by(Delivery.sequence))]


def attempt_log(app, endpoint_id: int) -> list[tuple[int, int | None, str | None]]:
    """(sequence, HTTP status, error) of every attempt at an endpoint, in order: for failures."""
    with app.app_context():
        return [tuple(r) for r in db.session.execute(
            select(Delivery.sequence, DeliveryAttempt.status_code, DeliveryAttempt.error)
            .join(DeliveryAttempt.delivery).where(Delivery.endpoint_id == endpoint_id)
            .order_by(DeliveryAttempt.id))]


def endpoint_row(app, endpoint_id: int) -> dict:
    with app.app_context():
        e = db.session.get(WebhookEndpoint, endpoint_id)
        return {"active": e.active, "position": e.position, "next_attempt_at": e.next_attempt_at,
                "failures_in_row": e.failures_in_row, "disabled_reason": e.disabled_reason,
                "last_success_at": e.last_success_at, "lease_owner": e.lease_owner}


def make_due(app, endpoint_id: int) -> None:
    """The endpoint's retry is due now (time driven through the database, not by waiting)."""
    with app.app_context():
        db.session.get(WebhookEndpoint, endpoint_id).next_attempt_at = None
        db.session.commit()


def approve_directly(app, people, protocol: str) -> None:
    """Claim and approve as the operator (no four eyes for a single address)."""
    with app.app_context():
        case = db.session.scalars(select(Case).where(Case.protocol == protocol)).one()
        operator = Actor(db.session.get(User, people.operator.id))
        cases.claim(case, actor=operator)
        cases.approve(case, actor=operator, valid_days=30)
        db.session.commit()
