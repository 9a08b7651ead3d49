"""Helpers for the desk tests: signed-in browsers, decision forms as a browser fills them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from models import Case, db

from .factories import make_user
from .helpers import Browser


class Cast(dict):
    """People made on first mention (argon2 makes each one cost half a second)."""

    def __init__(self, app, **specs):
        super().__init__()
        self.app, self.specs = app, specs

    def __missing__(self, name: str):
        role, fields = self.specs[name]
        self[name] = make_user(self.app, role, **fields)
        return self[name]


def signed_in(app, person) -> Browser:
    """A browser with ``person`` signed in."""
    browser = Browser(app.test_client())
    # Not followed: where a sign-in lands is the auth blueprint's business, not the desk's.
    response = browser.submit("/login", {"email": person.email, "password": person.password},
                              follow=False)
    assert response.status_code == 302, response.status_code
    return browser


def case_url(protocol: str) -> str:
    return f"/desk/cases/{protocol}"


def version_of(app, protocol: str) -> int:
    with app.app_context():
        return db.session.scalars(select(Case.version).where(Case.protocol == protocol)).one()


def decide(browser: Browser, app, protocol: str, action: str, *, version: int | None = None,
           **fields):
    """Post the desk's ``action`` form as the case page would, with the case's version."""
    data = {f"{action}-version": version if version is not None else version_of(app, protocol)}
    data.update({f"{action}-{name}": value for name, value in fields.items()})
    return browser.submit(f"{case_url(protocol)}/actions/{action}", data,
                          page=case_url(protocol))


def set_deadline(app, protocol: str, when: datetime | None) -> None:
    """Arrange the queue: give a case its nearest deadline (test setup only)."""
    with app.app_context():
        db.session.execute(update(Case).where(Case.protocol == protocol)
                           .values(sla_due_at=when).execution_options(synchronize_session=False))
        db.session.commit()
