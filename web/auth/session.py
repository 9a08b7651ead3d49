"""Flask-Login wiring (sessions load the user afresh and refuse disabled accounts), and the
half-way state between a staff member's password and their second factor."""

from __future__ import annotations

import hmac
import time

from flask import Flask, session
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, login_user

from models import User, db
from web.i18n import LOCALES
from workflow import second_factor

PENDING_KEY = "second_factor"
# Long enough to open the authenticator app (or install one, at enrolment); then the
# password is asked again, so a session left at the code page is worth nothing.
PENDING_SECONDS = 300


def init_login(app: Flask, manager: LoginManager) -> None:
    manager.init_app(app)
    manager.login_view = "auth.login"
    manager.login_message = _l("Entre para continuar.")
    manager.login_message_category = "info"
    manager.session_protection = "strong"

    @manager.user_loader
    def _load(session_id: str) -> User | None:
        """The active user whose session still rests on what it was opened with."""
        user_id, _, fingerprint = session_id.partition(":")
        user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
        if user is None or not user.is_active:
            return None
        return user if hmac.compare_digest(fingerprint, user.session_fingerprint()) else None


def fresh_session() -> None:
    """A new session at sign-in and sign-out, keeping only the language the visitor chose."""
    locale = session.get("locale")
    session.clear()
    if locale in LOCALES:
        session["locale"] = locale


def begin_second_factor(user: User, next_url: str | None) -> None:
    """Password accepted: a new session that remembers who is half-way, and nothing else.

    Flask-Login's user id is not set, so every page that needs a sign-in still refuses.
    """
    fresh_session()
    session[PENDING_KEY] = {"user": user.id, "since": int(time.time()), "next": next_url}


def pending_user() -> User | None:
    """The active staff or auditor account half-way through signing in, unless expired."""
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict) or time.time() - pending.get("since", 0) > PENDING_SECONDS:
        return None
    user_id = pending.get("user")
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or not user.is_active or not second_factor.required_for(user):
        return None
    return user


def is_pending_expired() -> bool:
    """Whether a half-way sign-in was started in this session but has run out of time."""
    return PENDING_KEY in session and pending_user() is None


def finish_sign_in(user: User) -> str | None:
    """Second factor accepted: a new session, signed in; the page asked for at first, if any."""
    next_url = (session.get(PENDING_KEY) or {}).get("next")
    fresh_session()
    login_user(user)
    return next_url
