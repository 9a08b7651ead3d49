"""Helpers for the /api/v1 tests: bearer tokens and a client that sends them."""

from __future__ import annotations

from models import Case, User, db
from workflow import accounts
from workflow.audit import Actor

from .factories import Person


def make_token(app, person: Person, name: str = "tests") -> str:
    """Issue an API bearer token for ``person``; returns the token itself."""
    with app.app_context():
        user = db.session.get(User, person.id)
        token = accounts.create_token(user, name, actor=Actor.system("tests"))
        db.session.commit()
        return token


class Api:
    """A test client acting with one person's bearer token."""

    def __init__(self, app, person: Person | None = None, token: str | None = None):
        self.client = app.test_client()
        self.token = token or (make_token(app, person) if person else None)

    def _headers(self, headers: dict | None) -> dict:
        base = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return {**base, **(headers or {})}

    def get(self, url: str, headers: dict | None = None, **kwargs):
        return self.client.get(url, headers=self._headers(headers), **kwargs)

    def post(self, url: str, headers: dict | None = None, **kwargs):
        return self.client.post(url, headers=self._headers(headers), **kwargs)

    def act(self, protocol: str, action: str, **body):
        return self.post(f"/api/v1/cases/{protocol}/actions/{action}", json=body)


def case_count(app) -> int:
    with app.app_context():
        return db.session.query(Case).count()
