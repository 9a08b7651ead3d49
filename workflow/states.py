"""The case lifecycle of DESIGN §3 as one table: who may do what, from where, to where.

Guards that need more than the role (the assignee, the case's owner, a second
approver) are named here and checked in ``workflow.cases``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from models import CaseStatus as S
from models import Role


class Action(enum.StrEnum):
    CLAIM = "claim"
    REQUEST_INFO = "request_info"
    REPLY = "reply"
    APPROVE = "approve"
    REJECT = "reject"
    APPEAL = "appeal"
    CANCEL = "cancel"
    REVOKE = "revoke"
    # System transitions: nobody asks for them through the portal or the API.
    ACTIVATE = "activate"
    EXPIRE = "expire"
    ABANDON = "abandon"


class Guard(enum.StrEnum):
    """Who, beyond the role, may take a transition."""

    ANY = "any"  # any holder of the roles
    OWNER = "owner"  # the customer who filed the case
    ASSIGNEE = "assignee"  # the analyst who claimed the case
    ASSIGNEE_OR_SUPERVISOR = "assignee_or_supervisor"
    NOT_REJECTER = "not_rejecter"  # an appeal goes to someone else
    SECOND_APPROVER = "second_approver"  # a supervisor other than the first approver
    SYSTEM = "system"


STAFF = frozenset({Role.OPERATOR, Role.SUPERVISOR})
CUSTOMER = frozenset({Role.CUSTOMER})
NOBODY: frozenset[Role] = frozenset()


@dataclass(frozen=True)
class Transition:
    action: Action
    source: S
    target: S
    roles: frozenset[Role]
    guard: Guard


def _t(action, sources, target, roles, guard=Guard.ANY):
    return [Transition(action, s, target, roles, guard) for s in sources]


TRANSITIONS: tuple[Transition, ...] = tuple(
    _t(Action.CLAIM, [S.SUBMITTED], S.IN_REVIEW, STAFF)
    + _t(Action.CLAIM, [S.APPEALED], S.IN_REVIEW, STAFF, Guard.NOT_REJECTER)
    + _t(Action.REQUEST_INFO, [S.IN_REVIEW], S.AWAITING_CUSTOMER, STAFF, Guard.ASSIGNEE)
    + _t(Action.REPLY, [S.AWAITING_CUSTOMER], S.IN_REVIEW, CUSTOMER, Guard.OWNER)
    # in_review → approved, or pending_second_approval when a four-eyes rule matches
    + _t(Action.APPROVE, [S.IN_REVIEW], S.APPROVED, STAFF, Guard.ASSIGNEE)
    + _t(Action.APPROVE, [S.PENDING_SECOND_APPROVAL], S.APPROVED,
         frozenset({Role.SUPERVISOR}), Guard.SECOND_APPROVER)
    + _t(Action.REJECT, [S.IN_REVIEW, S.PENDING_SECOND_APPROVAL], S.REJECTED, STAFF,
         Guard.ASSIGNEE_OR_SUPERVISOR)
    + _t(Action.APPEAL, [S.REJECTED], S.APPEALED, CUSTOMER, Guard.OWNER)
    + _t(Action.CANCEL, [S.SUBMITTED, S.IN_REVIEW, S.AWAITING_CUSTOMER], S.CANCELLED,
         CUSTOMER, Guard.OWNER)
    + _t(Action.REVOKE, [S.APPROVED, S.ACTIVE], S.REVOKED, STAFF)
    + _t(Action.REVOKE, [S.APPROVED, S.ACTIVE], S.REVOKED, CUSTOMER, Guard.OWNER)
    + _t(Action.ACTIVATE, [S.APPROVED], S.ACTIVE, NOBODY, Guard.SYSTEM)
    # An approval no endpoint acknowledged ends at valid_until too: some receivers may
    # have applied it, and the expiry event blocks the target there again.
    + _t(Action.EXPIRE, [S.APPROVED, S.ACTIVE], S.EXPIRED, NOBODY, Guard.SYSTEM)
    + _t(Action.ABANDON, [S.AWAITING_CUSTOMER], S.CANCELLED, NOBODY, Guard.SYSTEM)
)

# Actions a person may ask for through the portal, the desk or the API.
USER_ACTIONS = tuple(a for a in Action if a not in {Action.ACTIVATE, Action.EXPIRE,
                                                    Action.ABANDON})


def transitions_for(action: Action, source: S) -> list[Transition]:
    """The rows of the table for ``action`` taken from ``source`` (several roles may)."""
    return [t for t in TRANSITIONS if t.action == action and t.source == source]


def sources_of(action: Action) -> frozenset[S]:
    """Statuses from which ``action`` may be taken by anyone."""
    return frozenset(t.source for t in TRANSITIONS if t.action == action)
