"""The worker's HTTP POST (DESIGN §5): kept-alive connections, no redirects, 15 s in all.

It connects to the address that ``endpoints.check_destination`` just checked (with
the URL's host name in ``Host`` and, for https, in SNI and certificate checks), so a
DNS answer changing between the check and the connection cannot redirect a
delivery outside the allowed networks. It touches no database.
"""

from __future__ import annotations

import http.client
import re
import socket
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import HTTPError

from models import utcnow

from .endpoints import Destination

CONNECT_TIMEOUT, TOTAL_TIMEOUT = 5.0, 15.0
EXCERPT_MAX = 500
BODY_READ_MAX = 2048  # of the receiver's answer, for the attempt's error excerpt
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


@dataclass(frozen=True)
class Result:
    """What one attempt got: an HTTP status, or None and the error."""

    started: datetime
    duration_ms: int
    status: int | None
    error: str | None = None
    retry_after: str | None = None


def excerpt(text: str) -> str:
    """One line of at most 500 characters, without control characters."""
    return _CONTROL.sub(" ", text).strip()[:EXCERPT_MAX]


class Sender:
    """One keep-alive connection per (scheme, address, port, host), reused across deliveries.

    Every POST has a wall-clock deadline (``total_timeout``): urllib3's timeouts bound
    each connect and each socket read alone, so a receiver dripping a byte every few
    seconds could hold a delivery for ever. A timer shuts the socket down at the
    deadline, which ends whatever call is blocked (send, headers, body) at once.
    """

    def __init__(self, connect_timeout: float = CONNECT_TIMEOUT,
                 total_timeout: float = TOTAL_TIMEOUT) -> None:
        self.connect_timeout, self.total_timeout = connect_timeout, total_timeout
        self._connections: dict[tuple, HTTPConnection] = {}

    def _connection(self, dest: Destination) -> HTTPConnection:
        key = (dest.scheme, dest.addresses[0], dest.port, dest.host)
        conn = self._connections.get(key)
        if conn is not None and not conn.is_connected:
            conn.close()  # the receiver closed it while idle (or sent something unasked)
        if conn is None:
            if dest.scheme == "https":
                conn = HTTPSConnection(dest.addresses[0], dest.port, server_hostname=dest.host,
                                       assert_hostname=dest.host)
            else:
                conn = HTTPConnection(dest.addresses[0], dest.port)
            self._connections[key] = conn
        return conn

    def post(self, url: str, dest: Destination, headers: dict, body: bytes) -> Result:
        """POST ``body`` as is; never follows a redirect, never retries by itself."""
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        host = f"[{dest.host}]" if ":" in dest.host else dest.host
        default_port = 443 if dest.scheme == "https" else 80
        headers = {**headers, "host": host if dest.port == default_port else f"{host}:{dest.port}",
                   "user-agent": "porta25-webhooks/1"}
        started, clock = utcnow(), time.monotonic()
        conn = self._connection(dest)
        watchdog = _Watchdog(conn, self.total_timeout)
        try:
            status, answer, retry_after = self._exchange(conn, clock, target, headers, body)
            if watchdog.fired:  # a socket cut mid-answer can look like its end
                raise TimeoutError
        except (HTTPError, OSError, http.client.HTTPException) as raised:
            conn.close()
            problem = raised
            if watchdog.fired:
                problem = TimeoutError(f"no complete answer within {self.total_timeout:g} s")
            return Result(started, _ms(clock), None,
                          excerpt(f"{type(problem).__name__}: {problem}"))
        finally:
            watchdog.cancel()
        error = None
        if not 200 <= status < 300:
            error = excerpt(f"HTTP {status}: {answer.decode('utf-8', 'replace')}")
        return Result(started, _ms(clock), status, error, retry_after)

    def _exchange(self, conn: HTTPConnection, clock: float, target: str, headers: dict,
                  body: bytes) -> tuple[int, bytes, str | None]:
        if conn.sock is None:
            conn.timeout = min(self.connect_timeout, self.total_timeout)
            conn.connect()
        # Each socket call waits at most what is left; the watchdog bounds their sum.
        conn.timeout = max(0.001, self.total_timeout - (time.monotonic() - clock))
        conn.request("POST", target, body=body, headers=headers, preload_content=False,
                     decode_content=False)
        response = conn.getresponse()
        answer = response.read(BODY_READ_MAX, decode_content=False)
        while response.read(65536, decode_content=False):
            pass  # the rest is read and dropped, so the connection can be reused
        return response.status, answer, response.headers.get("retry-after")

    def close(self) -> None:
        """Close every kept connection."""
        for conn in self._connections.values():
            conn.close()
        self._connections.clear()


class _Watchdog:
    """Shuts a connection's socket down when the delivery's time is up."""

    def __init__(self, conn: HTTPConnection, seconds: float) -> None:
        self.conn, self.fired = conn, False
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _fire(self) -> None:
        self.fired = True
        sock = self.conn.sock
        if sock is not None:
            try:
                # The plain socket's shutdown, also under TLS: it unblocks the reader
                # without touching the SSL object the other thread is using.
                socket.socket.shutdown(sock, socket.SHUT_RDWR)
            except OSError:
                pass  # closed meanwhile

    def cancel(self) -> None:
        self._timer.cancel()


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
