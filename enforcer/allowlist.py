"""Reading the allow-list (DESIGN §5) with a bearer token and If-None-Match."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

from .events import normalise_target, parse_time
from .state import Entry, Snapshot

TIMEOUT = 10.0


class FetchError(Exception):
    """The allow-list could not be read; the caller keeps its state."""


def fetch_allowlist(url: str, token: str, etag: str | None,
                    timeout: float = TIMEOUT) -> Snapshot | None:
    """The allow-list, or None when it is unchanged since ``etag`` (304).

    http.client rather than urllib: urllib follows redirects and would carry the
    token to wherever the redirect points.
    """
    parts = urlsplit(url)
    connection_class = (http.client.HTTPSConnection if parts.scheme == "https"
                        else http.client.HTTPConnection)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json",
               "User-Agent": "porta25-enforcer"}
    if etag:
        headers["If-None-Match"] = etag
    connection = connection_class(parts.hostname, parts.port, timeout=timeout)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        body = response.read()
    except (OSError, http.client.HTTPException, ValueError) as exc:
        raise FetchError(f"{type(exc).__name__}: {exc}") from None
    finally:
        connection.close()
    if response.status == 304:
        return None
    if response.status != 200:
        raise FetchError(f"HTTP {response.status}")
    return parse_snapshot(body, response.getheader("ETag"))


def parse_snapshot(body: bytes, etag: str | None) -> Snapshot:
    """Check the whole document first: a bad entry rejects the snapshot, not the state."""
    try:
        document = json.loads(body)
        sequence = document["sequence"]
        if type(sequence) is not int or sequence < 0:
            raise ValueError("sequence must be a non-negative integer")
        entries = {}
        for raw in document["entries"]:
            target = normalise_target(raw["target"])
            until = raw.get("valid_until")
            entries[target] = Entry(raw.get("protocol"), raw.get("subscriber_id"),
                                    parse_time(until, "valid_until") if until else None,
                                    sequence)
    except (ValueError, KeyError, TypeError) as exc:  # MalformedEvent is a ValueError
        raise FetchError(f"malformed allow-list: {exc}") from None
    return Snapshot(sequence=sequence, etag=etag or f'"{sequence}"', entries=entries)
