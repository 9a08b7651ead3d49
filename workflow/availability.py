"""Which actions a person may take on a case right now: what a page offers as buttons.

Asks ``engine.authorise`` for each action, so a page offers exactly what the
workflow would accept (role, status and guards such as assignee or second
approver); the verbs still check everything again when the form comes back.
The appeal rule lives outside the table (once, within APPEAL_WINDOW_DAYS of the
decision), so it is asked here too: a page never offers an appeal that would fail.
"""

from __future__ import annotations

from datetime import datetime

from models import Case, utcnow

from .audit import Actor
from .deadlines import appeal_deadline
from .engine import authorise
from .errors import DomainError
from .states import USER_ACTIONS, Action


def available_actions(case: Case, actor: Actor, now: datetime | None = None) -> list[Action]:
    """The user actions ``actor`` is allowed to take on ``case`` in its current status."""
    now = now or utcnow()
    allowed = []
    for action in USER_ACTIONS:
        try:
            authorise(case, action, actor)
        except DomainError:
            continue
        if action is Action.APPEAL:
            deadline = appeal_deadline(case)
            if deadline is None or now > deadline:
                continue  # the same rule as cases.appeal: once, within the window
        allowed.append(action)
    return allowed
