"""Absolute links to the portal for what leaves it (records, e-mails), built without a request."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app

from .config import setting


def public_url(endpoint: str, **values) -> str:
    """``endpoint``'s URL on PUBLIC_BASE_URL; the worker has no request to build it from."""
    base = urlsplit(setting("PUBLIC_BASE_URL"))
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/",
                                       url_scheme=base.scheme or "https")
    return adapter.build(endpoint, values, force_external=True)
