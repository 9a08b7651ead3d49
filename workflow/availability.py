"""Which actions a person may take on a case right now: what a page offers as buttons.

Asks ``engine.authorise`` for each action, so a page offers exactly what the
workflow would accept (role, status and guards such as assignee or second
approver); the verbs still check everything again when the form comes back.
"""

from __future__ import annotations

from models import Case

from .audit import Actor
from .engine import authorise
from .errors import DomainError
from .states import USER_ACTIONS, Action


def available_actions(case: Case, actor: Actor) -> list[Action]:
    """The user actions ``actor`` is allowed to take on ``case`` in its current status."""
    allowed = []
    for action in USER_ACTIONS:
        try:
            authorise(case, action, actor)
        except DomainError:
            continue
        allowed.append(action)
    return allowed
