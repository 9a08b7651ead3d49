"""Settings changes in the audit trail (DESIGN §2: settings are an action like any other).

Settings come from the environment, so nobody "saves" them: a change shows when a
process starts with different values. The worker (the one process every
deployment runs) compares, at its start, the non-secret settings with the values
of the last ``settings:changed`` event and appends one event with the diff when
they differ (the first start records every value). Secrets never enter the trail:
they are left out by name, and URLs keep everything but their password.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import select

import settings
from models import AuditEvent, AuditHead, db

from . import audit
from .audit import Actor, Tag
from .config import setting

# Left out of the trail entirely: their values (and so their changes) are secrets.
SECRET_SETTINGS = frozenset({
    "SECRET_KEY",  # signs sessions and CSRF tokens
    "SMTP_PASSWORD",
    "RECORD_SIGNING_P12_PASSWORD",
    "AUDIT_SIGNING_KEY",  # the Ed25519 private key of the checkpoints
})
# Kept without the password they may embed (postgresql://user:password@host/db).
URL_SETTINGS = frozenset({"DATABASE_URL", "RATELIMIT_STORAGE_URI"})
# Named like secrets but public (a key's name, public verifier keys, argon2's parameters):
# recorded. A test makes every new setting named like a secret land in one of the lists.
PUBLIC_DESPITE_NAME = frozenset({"AUDIT_KEY_NAME", "AUDIT_VERIFIER_KEYS",
                                 "PASSWORD_HASH_PROFILE"})


def snapshot() -> dict:
    """The non-secret settings as plain JSON values (no floats: the chain refuses them)."""
    return {name: _plain(_without_password(setting(name)) if name in URL_SETTINGS
                         else setting(name))
            for name in settings.SETTINGS if name not in SECRET_SETTINGS}


def recorded() -> dict | None:
    """The settings as of the last ``settings:changed`` event, or None before the first."""
    event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == Tag.SETTINGS_CHANGED.value)
        .order_by(AuditEvent.seq.desc()).limit(1)).first()
    return json.loads(event.details)["settings"] if event is not None else None


def record_changes(*, actor: Actor) -> dict:
    """Append one ``settings:changed`` event when the settings differ from the last one's;
    returns the diff ({} when nothing changed)."""
    # Take the audit head's lock before reading, so that two workers starting together
    # record a change once: the second reads the first one's event.
    db.session.execute(select(AuditHead.id).where(AuditHead.id == 1).with_for_update())
    current = snapshot()
    changes = audit.diff(recorded() or {}, current)
    if changes:
        audit.record(Tag.SETTINGS_CHANGED, actor, object_type="settings",
                     details={"changes": changes, "settings": current})
    return changes


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def _plain(value):
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return str(value)  # floats, networks: their text, as in the environment
