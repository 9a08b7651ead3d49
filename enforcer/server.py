"""HTTP: POST a webhook (any path), GET /healthz. Verification comes before anything else."""

from __future__ import annotations

import json
import logging
import socket
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook

from .events import MalformedEvent, parse_event
from .receiver import Receiver
from .signature import Unverified, verify

log = logging.getLogger("enforcer")

MAX_BODY = 64 * 1024  # an event is a few hundred bytes
DRAIN_LIMIT = 1024 * 1024


class EnforcerServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], receiver: Receiver, webhooks: list[Webhook]):
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.receiver = receiver
        self.webhooks = webhooks
        super().__init__(address, WebhookHandler)


class WebhookHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the sender reuses its connection
    server_version = "porta25-enforcer"
    sys_version = ""
    timeout = 30  # a stalled client does not hold a thread for ever
    server: EnforcerServer

    def do_POST(self) -> None:
        try:
            status, body = self.webhook()
        except Exception:
            log.exception("webhook failed")
            status, body = 500, {"error": "internal error"}
        self.answer(status, body)

    def do_GET(self) -> None:
        if self.path.split("?")[0] in ("/healthz", "/health"):
            self.answer(200, self.server.receiver.health())
        else:
            self.answer(404, {"error": "not found"})

    def webhook(self) -> tuple[int, dict]:
        """Read, verify (401), parse (400), then hand the event to the receiver."""
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            return 411, {"error": "send a Content-Length"}
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            self.close_connection = True
            return 411, {"error": "send a Content-Length"}
        if not 0 <= length <= MAX_BODY:
            self.close_connection = True
            if 0 < length <= DRAIN_LIMIT:
                # Read it anyway: closing on unread data resets the connection, and the
                # sender would see a network error instead of our 413.
                self.rfile.read(length)
            return 413, {"error": f"body over {MAX_BODY} bytes"}
        raw = self.rfile.read(length)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return 400, {"error": "body is not UTF-8"}
        try:
            verify(self.server.webhooks, text, self.headers)
        except Unverified as exc:
            log.warning("webhook from %s refused: %s", self.client_address[0], exc)
            return 401, {"error": "signature or timestamp not valid"}
        try:
            event = parse_event(text)
        except MalformedEvent as exc:
            log.warning("webhook %s refused: %s", self.headers["webhook-id"], exc)
            return 400, {"error": str(exc)}
        delivery = {"webhook_id": self.headers["webhook-id"],
                    "webhook_timestamp": self.headers["webhook-timestamp"],
                    "webhook_signature": self.headers["webhook-signature"], "body": text}
        return self.server.receiver.handle(delivery, event)

    def answer(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if status == 503:
            self.send_header("Retry-After", "30")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args) -> None:
        log.debug("%s %s", self.client_address[0], format % args)
