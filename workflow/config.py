"""Read settings for the domain. They come only from ``settings.py`` via app.config."""

from __future__ import annotations

from flask import current_app


def setting(name: str):
    """The value of setting ``name`` (see settings.SETTINGS)."""
    return current_app.config[name]
