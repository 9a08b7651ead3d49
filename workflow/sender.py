"""The worker's HTTP POST (DESIGN §5): pooled connections, no redirects, bounded time.

It connects to the address that ``endpoints.check_destination`` just checked (with
the URL's host name in ``Host`` and, for https, in SNI and certificate checks), so a
DNS answer changing between the check and the connection cannot redirect a
delivery outside the allowed networks. It touches no database.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

import urllib3
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
    """One pool per (scheme, address, port, host), reused across deliveries."""

    def __init__(self) -> None:
        self._pools: dict[tuple, urllib3.HTTPConnectionPool] = {}

    def _pool(self, dest: Destination) -> urllib3.HTTPConnectionPool:
        key = (dest.scheme, dest.addresses[0], dest.port, dest.host)
        pool = self._pools.get(key)
        if pool is None:
            options = {"port": dest.port, "maxsize": 1, "retries": False, "block": False,
                       "timeout": urllib3.Timeout(connect=CONNECT_TIMEOUT,
                                                  total=TOTAL_TIMEOUT)}
            if dest.scheme == "https":
                pool = urllib3.HTTPSConnectionPool(dest.addresses[0], server_hostname=dest.host,
                                                   assert_hostname=dest.host, **options)
            else:
                pool = urllib3.HTTPConnectionPool(dest.addresses[0], **options)
            self._pools[key] = pool
        return pool

    def post(self, url: str, dest: Destination, headers: dict, body: bytes) -> Result:
        """POST ``body`` as is; never follows a redirect, never retries by itself."""
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        host = f"[{dest.host}]" if ":" in dest.host else dest.host
        default_port = 443 if dest.scheme == "https" else 80
        headers = {**headers, "host": host if dest.port == default_port else f"{host}:{dest.port}",
                   "user-agent": "porta25-webhooks/1"}
        started, clock = utcnow(), time.monotonic()
        try:
            response = self._pool(dest).urlopen(
                "POST", target, body=body, headers=headers, redirect=False, retries=False,
                assert_same_host=False, preload_content=False)
            try:
                answer = response.read(BODY_READ_MAX, decode_content=False)
            finally:
                response.drain_conn()
                response.release_conn()
        except (HTTPError, OSError) as error:
            return Result(started, _ms(clock), None, excerpt(f"{type(error).__name__}: {error}"))
        status = response.status
        error = None
        if not 200 <= status < 300:
            error = excerpt(f"HTTP {status}: {answer.decode('utf-8', 'replace')}")
        return Result(started, _ms(clock), status, error, response.headers.get("retry-after"))

    def close(self) -> None:
        """Close every pooled connection."""
        for pool in self._pools.values():
            pool.close()
        self._pools.clear()


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
