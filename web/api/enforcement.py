"""/api/v1/enforcement (DESIGN §5): the allow-list and the change feed, for the
enforcement systems that reconcile with porta25.

The allow-list streams: the view reads the stream sequence in a fresh read-only
snapshot (workflow.allowlist), answers 304 when it matches ``If-None-Match``, and
otherwise returns a generator that reads the rows batch by batch in that same
snapshot and writes them as they come. The snapshot's connection is closed when the
response is (``call_on_close``), even if the client leaves before the first byte.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime

from flask import Response, current_app, request, stream_with_context

from models import db, utcnow
from workflow import allowlist, changes

from . import auth, schemas
from .views import bp

MEDIA_TYPES = {"json": "application/json", "text": "text/plain", "nft": "text/plain"}


@bp.get("/enforcement/allowlist")
def enforcement_allowlist():
    allowlist.require_reader(auth.api_user())
    args = schemas.query_args("/api/v1/enforcement/allowlist")
    db.session.commit()  # the token's last use; SQLite's write lock is not held while we stream
    snapshot = allowlist.AllowList(db.engine, utcnow())
    etag = str(snapshot.sequence)
    if request.if_none_match.contains_weak(etag):
        snapshot.close()
        response = Response(status=304)
    else:
        fmt = args.get("format", "json")
        body = RENDERERS[fmt](snapshot)
        response = Response(stream_with_context(body), mimetype=MEDIA_TYPES[fmt])
        response.call_on_close(snapshot.close)
    response.set_etag(etag)
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/enforcement/changes")
def enforcement_changes():
    allowlist.require_reader(auth.api_user())
    args = schemas.query_args("/api/v1/enforcement/changes")
    db.session.commit()  # the token's last use
    page = changes.changes(db.engine, args.get("after", 0), args.get("limit", 100))
    # The stored bodies are the webhooks' exact JSON text: spliced in, never re-encoded.
    text = (f'{{"events": [{",".join(page.bodies)}], '
            f'"next_after": {page.next_after}, "sequence": {page.head}}}')
    return Response(text, mimetype="application/json")


# The json module's own C string encoder: a million dicts through json.dumps cost more.
_string = json.encoder.encode_basestring_ascii


def _iso(moment: datetime) -> str:
    """models.iso_utc for a UTC datetime (naive here); isoformat is much faster."""
    return moment.isoformat(timespec="seconds")[:19] + "Z"


def _json(snapshot: allowlist.AllowList) -> Iterator[str]:
    """``{"sequence": N, "entries": [...]}``, one chunk per batch of rows."""
    try:
        yield f'{{"sequence": {snapshot.sequence}, "entries": ['
        separator = ""
        for batch in snapshot.batches():
            yield separator + ", ".join(
                f'{{"target": {_string(target)}, "protocol": {_string(protocol)}, '
                f'"subscriber_id": {_string(subscriber)}, "valid_until": "{_iso(until)}"}}'
                for target, protocol, subscriber, until in batch)
            separator = ", "
        yield "]}"
    finally:
        snapshot.close()


def _text(snapshot: allowlist.AllowList) -> Iterator[str]:
    """One prefix a line, in the same order."""
    try:
        for batch in snapshot.batches():
            yield "".join(f"{row.target}\n" for row in batch)
    finally:
        snapshot.close()


def _nft(snapshot: allowlist.AllowList) -> Iterator[str]:
    """An ``nft -f`` script: one transaction that empties both sets and refills them."""
    config = current_app.config
    table, set4, set6 = (config["ENFORCEMENT_NFT_TABLE"], config["ENFORCEMENT_NFT_SET4"],
                         config["ENFORCEMENT_NFT_SET6"])
    try:
        yield (f"#!/usr/sbin/nft -f\n"
               f"# porta25 allow-list at stream sequence {snapshot.sequence}.\n"
               f"# nft -f applies this file as one transaction: the sets are never "
               f"seen half-filled.\n"
               f"add table {table}\n"
               f"add set {table} {set4} {{ type ipv4_addr; flags interval; }}\n"
               f"add set {table} {set6} {{ type ipv6_addr; flags interval; }}\n"
               f"flush set {table} {set4}\n"
               f"flush set {table} {set6}\n")
        for batch in snapshot.batches():
            v4 = [row.target for row in batch if ":" not in row.target]
            v6 = [row.target for row in batch if ":" in row.target]
            yield "".join(f"add element {table} {name} {{ {', '.join(targets)} }}\n"
                          for name, targets in ((set4, v4), (set6, v6)) if targets)
    finally:
        snapshot.close()


RENDERERS = {"json": _json, "text": _text, "nft": _nft}
