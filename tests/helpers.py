"""Test helpers that act like a person: forms with their CSRF token, signing in."""

from __future__ import annotations

import re
import time

import pyotp
from sqlalchemy import select

from models import User, db

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|'
                  r'<meta name="csrf-token" content="([^"]+)"')
CODE_STEP = "/login/code"


def authenticator_code(app, email: str) -> str:
    """The code the person's authenticator app shows now, for their enrolled secret.

    A code is accepted once per 30-second step; a test signing one person in twice
    within a step stands for the person waiting for the next code, so the step
    already used is set back (test arrangement, like a deadline moved by hand).
    """
    with app.app_context():
        user = db.session.scalars(select(User).where(User.email == email.lower())).one()
        assert user.totp_secret, f"{email} has no second factor enrolled"
        totp = pyotp.TOTP(user.totp_secret)
        now = int(time.time()) // totp.interval
        if user.totp_last_step is not None and user.totp_last_step >= now:
            user.totp_last_step = now - 1
            db.session.commit()
        return totp.at(now * totp.interval)


class Browser:
    """A Flask test client that fills forms the way a browser does."""

    def __init__(self, client):
        self.client = client

    def get(self, url: str, **kwargs):
        return self.client.get(url, **kwargs)

    def csrf_token(self, url: str = "/login") -> str:
        page = self.client.get(url).get_data(as_text=True)
        match = CSRF.search(page)
        assert match, f"no CSRF token on {url}"
        return match.group(1) or match.group(2)

    def submit(self, url: str, data: dict | None = None, *, page: str | None = None,
               follow: bool = True, second_factor: bool = True):
        """POST ``data`` to ``url`` with the CSRF token of ``page`` (default: ``url``).

        A sign-in (``/login``) that asks for the second factor gets the code typed in
        too, as the person would (``second_factor=False``: stop at the code page).
        """
        token = self.csrf_token(page or url)
        response = self.client.post(url, data={"csrf_token": token, **(data or {})},
                                    follow_redirects=follow)
        if second_factor and url.split("?")[0] == "/login" and _at_code_step(response):
            return self.type_code(data["email"], follow=follow)
        return response

    def type_code(self, email: str, *, follow: bool = True):
        """Type the authenticator's current code for ``email`` at the second step."""
        code = authenticator_code(self.client.application, email)
        return self.submit(CODE_STEP, {"code": code}, follow=follow)

    def login(self, email: str, password: str = "senha-forte-123"):
        response = self.submit("/login", {"email": email, "password": password})
        assert response.status_code == 200
        return response

    def logout(self):
        return self.submit("/logout", page="/login")

    def text(self, url: str) -> str:
        return self.client.get(url).get_data(as_text=True)


def _at_code_step(response) -> bool:
    """Whether a sign-in's response is (or redirects to) the second factor's code page."""
    if response.status_code in (301, 302, 303):
        return response.headers.get("Location", "").split("?")[0].endswith(CODE_STEP)
    return response.request.path == CODE_STEP
