"""The case lifecycle of DESIGN §3, cell by cell: every (action, status, role).

The expected table below is transcribed from DESIGN §3 by hand, not imported
from workflow.states, so that these tests check the code against the contract.
Each cell puts a case in the status through the verbs and asks for the action:
allowed → the target status and exactly one audit event; a role that may never
take the action → Forbidden (403); a role that may, but not from this status →
Conflict (409). A refusal changes nothing and writes no audit event.
"""

from __future__ import annotations

import pytest

from models import CaseStatus
from tests.factories import (
    REJECT_REASON,
    REVOKE_REASON,
    act,
    case_in,
    events_after,
    make_people,
    snapshot,
)
from workflow.errors import Conflict, DomainError, Forbidden
from workflow.states import USER_ACTIONS

STAFF = {"operator", "supervisor"}
CUSTOMER = {"customer"}
ROLES = ["customer", "operator", "supervisor", "auditor", "provider"]
STATUSES = [s.value for s in CaseStatus]
ACTIONS = [a.value for a in USER_ACTIONS]

# DESIGN §3: (action, from) -> (to, roles that may take it, audit tag)
DESIGN = {
    ("claim", "submitted"): ("in_review", STAFF, "case:claimed"),
    ("claim", "appealed"): ("in_review", STAFF, "case:claimed"),
    ("request_info", "in_review"): ("awaiting_customer", STAFF, "case:info_requested"),
    ("reply", "awaiting_customer"): ("in_review", CUSTOMER, "case:replied"),
    ("approve", "in_review"): ("approved", STAFF, "case:approved"),
    ("approve", "pending_second_approval"): ("approved", {"supervisor"}, "case:approved"),
    ("reject", "in_review"): ("rejected", STAFF, "case:rejected"),
    ("reject", "pending_second_approval"): ("rejected", STAFF, "case:rejected"),
    ("appeal", "rejected"): ("appealed", CUSTOMER, "case:appealed"),
    ("cancel", "submitted"): ("cancelled", CUSTOMER, "case:cancelled"),
    ("cancel", "in_review"): ("cancelled", CUSTOMER, "case:cancelled"),
    ("cancel", "awaiting_customer"): ("cancelled", CUSTOMER, "case:cancelled"),
    ("revoke", "approved"): ("revoked", STAFF | CUSTOMER, "case:revoked"),
    ("revoke", "active"): ("revoked", STAFF | CUSTOMER, "case:revoked"),
}

# What each action is asked with: enough for it to succeed where it is allowed.
ARGUMENTS = {
    "request_info": {"message": "Qual é o PTR do endereço?"},
    "reply": {"message": "O PTR é mail.exemplo.com.br."},
    "appeal": {"message": "Discordo: o servidor tem SPF e DKIM."},
    "reject": {"reason_code": REJECT_REASON},
    "revoke": {"reason_code": REVOKE_REASON},
}


def expected(action: str, status: str, role: str):
    """The target status, or the error class, that DESIGN §3 gives for this cell."""
    if not any(role in roles for (a, _), (_, roles, _) in DESIGN.items() if a == action):
        return Forbidden
    to, roles, _ = DESIGN.get((action, status), (None, set(), None))
    return to if role in roles else Conflict


def analyst_for(status: str, role: str, people):
    """Who works the case before the cell's action, so that only role and status decide."""
    if status == "appealed":
        return people.colleague  # an appeal goes to someone other than the rejecter
    if status == "pending_second_approval":
        return people.operator  # the second approver must be someone else
    return people.of_role(role) if role in STAFF else people.operator


@pytest.fixture(scope="module")
def people(module_app):
    return make_people(module_app)


@pytest.fixture(scope="module")
def shared_cases(module_app, people):
    """One case per status for the refused cells, which must leave it as it was."""
    return {status: case_in(module_app, status, people) for status in STATUSES}


def attempt(app, protocol, action, person):
    """The new status, or the DomainError that refused the action."""
    try:
        return act(app, protocol, action, person, **ARGUMENTS.get(action, {}))
    except DomainError as error:
        return error


CELLS = [(a, s, r) for a in ACTIONS for s in STATUSES for r in ROLES]


def test_the_design_table_covers_every_user_action():
    assert {a for a, _ in DESIGN} == set(ACTIONS)


@pytest.mark.parametrize(("action", "status", "role"),
                         [c for c in CELLS if isinstance(expected(*c), str)],
                         ids=lambda v: v)
def test_an_allowed_transition_reaches_its_target_and_is_audited_once(
        module_app, people, action, status, role):
    person = people.of_role(role)
    protocol = case_in(module_app, status, people, analyst=analyst_for(status, role, people))
    before = snapshot(module_app, protocol)

    assert attempt(module_app, protocol, action, person) == expected(action, status, role)

    after = snapshot(module_app, protocol)
    assert after.version == before.version + 1
    [event] = events_after(module_app, before.audit_seq)
    assert event["action"] == DESIGN[(action, status)][2]
    assert event["object_id"] == protocol and event["actor_id"] == person.id
    assert event["details"]["from"] == status
    assert event["details"]["to"] == after.status


@pytest.mark.parametrize(("action", "status", "role"),
                         [c for c in CELLS if not isinstance(expected(*c), str)],
                         ids=lambda v: v)
def test_a_refused_transition_names_why_and_changes_nothing(
        module_app, people, shared_cases, action, status, role):
    protocol = shared_cases[status]
    before = snapshot(module_app, protocol)

    outcome = attempt(module_app, protocol, action, people.of_role(role))

    assert type(outcome) is expected(action, status, role)
    assert outcome.status == {Forbidden: 403, Conflict: 409}[type(outcome)]
    with module_app.test_request_context():
        assert str(outcome.message)  # the refusal says why, in words
    assert snapshot(module_app, protocol) == before
