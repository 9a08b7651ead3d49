"""Turns the current request into the explicit arguments workflow functions take."""

from __future__ import annotations

from flask import request
from flask_login import current_user

from workflow.audit import Actor


def source_ip() -> str | None:
    """The client's address (ProxyFix, when configured, makes this the real one)."""
    return request.remote_addr


def current_actor() -> Actor:
    """The logged-in user (or anonymous) acting from this request's address."""
    user = current_user._get_current_object() if current_user.is_authenticated else None
    return Actor(user, source_ip=source_ip())
