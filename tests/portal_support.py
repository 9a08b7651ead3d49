"""Helpers of the portal tests: staff notes, what was stored, what a case page offers."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from models import AuditEvent, Case, User, db
from tests.factories import Person
from workflow import cases
from workflow.audit import Actor

ACTION_URL = re.compile(r'action="/portal/cases/\d{13}/(\w+)"')


def add_note(app, protocol: str, staff: Person, text: str, *, public: bool = False) -> None:
    """A note written by staff on the desk: internal unless ``public``."""
    with app.app_context():
        user = db.session.get(User, staff.id)
        cases.add_note(_case(protocol), actor=Actor(user, source_ip="127.0.0.1"),
                       message=text, public=public)
        db.session.commit()


def stored(app) -> tuple[int, int]:
    """(cases, audit events) in the database: what a refused request must leave unchanged."""
    with app.app_context():
        return (db.session.scalar(select(func.count()).select_from(Case)),
                db.session.scalar(select(func.count()).select_from(AuditEvent)))


def load(app, protocol: str) -> dict:
    """The stored case as plain values."""
    with app.app_context():
        case = _case(protocol)
        return {c.key: getattr(case, c.key) for c in Case.__table__.columns}


def offered_actions(page: str) -> set[str]:
    """The actions whose forms a case page offers."""
    return set(ACTION_URL.findall(page))


def version_in(page: str, action: str) -> str:
    """The case version carried by ``action``'s form on the page."""
    match = re.search(rf'name="{action}-version" type="hidden" value="(\d+)"', page)
    assert match, f"no {action} form on the page"
    return match.group(1)


def _case(protocol: str) -> Case:
    return db.session.scalars(select(Case).where(Case.protocol == protocol)).one()
