"""A stand-in allow-list endpoint and a signed-webhook client for the enforcer tests."""

from __future__ import annotations

import base64
import http.client
import json
import socket
import threading
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from standardwebhooks import Webhook

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SECOND_SECRET = "whsec_" + base64.b64encode(b"second secret, for the rotation").decode()
TOKEN = "p25_test_token_do_not_log_7f3a9c"
FAR = "2099-01-01T00:00:00Z"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def event(kind: str, target: str, sequence: int, valid_until: str | None = FAR) -> dict:
    """A body of DESIGN §5; ``kind`` is activated, revoked or expired."""
    return {"type": f"exception.{kind}", "timestamp": "2026-11-28T21:00:00Z",
            "data": {"protocol": f"2026{sequence:09d}", "target": target,
                     "subscriber_id": "CTR-0042", "valid_from": "2026-11-28T21:00:00Z",
                     "valid_until": valid_until, "sequence": sequence}}


def signed_headers(body: str, *, secrets=(SECRET,), msg_id: str | None = None,
                   when: datetime | None = None) -> dict[str, str]:
    """Standard Webhooks headers; several secrets give space-separated signatures."""
    msg_id = msg_id or f"evt_{uuid.uuid4().hex}"
    when = when or datetime.now(UTC)
    signatures = " ".join(Webhook(s).sign(msg_id, when, body) for s in secrets)
    return {"webhook-id": msg_id, "webhook-timestamp": str(int(when.timestamp())),
            "webhook-signature": signatures}


class AllowList:
    """What GET /api/v1/enforcement/allowlist serves, and the requests it saw."""

    def __init__(self):
        self.sequence = 0
        self.entries: list[dict] = []
        self.failing = False
        self.requests: list[dict] = []
        self.url = ""

    def publish(self, sequence: int, *targets: str, valid_until: str = FAR) -> None:
        self.sequence = sequence
        self.entries = [{"target": t, "protocol": f"P{i}", "subscriber_id": f"S{i}",
                         "valid_until": valid_until} for i, t in enumerate(targets)]


class AllowListHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        allowlist: AllowList = self.server.allowlist
        allowlist.requests.append({"path": self.path,
                                   "authorization": self.headers.get("Authorization"),
                                   "if_none_match": self.headers.get("If-None-Match")})
        etag = f'"{allowlist.sequence}"'
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self.reply(401, b'{"title": "unauthorised"}')
        elif allowlist.failing:
            self.reply(500, b'{"title": "down"}')
        elif self.headers.get("If-None-Match") == etag:
            self.reply(304, b"", etag)
        else:
            body = json.dumps({"sequence": allowlist.sequence, "entries": allowlist.entries})
            self.reply(200, body.encode(), etag)

    def reply(self, status: int, body: bytes, etag: str | None = None) -> None:
        self.send_response(status)
        if etag:
            self.send_header("ETag", etag)
        if status != 304:
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args) -> None:
        pass


class Enforcer:
    """A running ``python -m enforcer`` and what it keeps on disk."""

    def __init__(self, process, port: int, state_dir: Path, log_path: Path):
        self.process, self.port, self.state_dir, self.log_path = (process, port, state_dir,
                                                                  log_path)

    def post(self, body: dict | str | bytes, headers: dict | None = None,
             **signing) -> tuple[int, dict]:
        """POST a webhook, signed unless ``headers`` are given."""
        data = body if isinstance(body, str | bytes) else json.dumps(body)
        data = data.encode() if isinstance(data, str) else data
        if headers is None:
            headers = signed_headers(data.decode(), **signing)
        return self.request("POST", "/", data, {**headers, "Content-Type": "application/json"})

    def request(self, method: str, path: str, data: bytes | None = None,
                headers: dict | None = None) -> tuple[int, dict]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request(method, path, body=data, headers=headers or {})
            response = connection.getresponse()
            return response.status, json.loads(response.read() or b"{}")
        finally:
            connection.close()

    def state(self) -> dict:
        return json.loads((self.state_dir / "state.json").read_text())

    def allowed(self) -> set[str]:
        return set(self.state()["targets"])

    def pending(self) -> str:
        return (self.state_dir / "nft-pending.nft").read_text()

    def journal(self) -> list[dict]:
        path = self.state_dir / "journal.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

    def log(self) -> str:
        return self.log_path.read_text()


def serve_allowlist() -> tuple[ThreadingHTTPServer, AllowList]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), AllowListHandler)
    server.daemon_threads = True
    server.allowlist = AllowList()
    server.allowlist.url = (f"http://127.0.0.1:{server.server_address[1]}"
                            "/api/v1/enforcement/allowlist")
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                     daemon=True).start()
    return server, server.allowlist


def minutes_ago(minutes: int) -> datetime:
    return datetime.now(UTC) - timedelta(minutes=minutes)
