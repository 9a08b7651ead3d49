"""Test helpers that act like a person: forms with their CSRF token, signing in."""

from __future__ import annotations

import re

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|'
                  r'<meta name="csrf-token" content="([^"]+)"')


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
               follow: bool = True):
        """POST ``data`` to ``url`` with the CSRF token of ``page`` (default: ``url``)."""
        token = self.csrf_token(page or url)
        return self.client.post(url, data={"csrf_token": token, **(data or {})},
                                follow_redirects=follow)

    def login(self, email: str, password: str = "senha-forte-123"):
        response = self.submit("/login", {"email": email, "password": password})
        assert response.status_code == 200
        return response

    def logout(self):
        return self.submit("/logout", page="/login")

    def text(self, url: str) -> str:
        return self.client.get(url).get_data(as_text=True)
