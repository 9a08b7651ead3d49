"""The rules of DESIGN §3 beyond role and status: who exactly, which reason, how often."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from models import Case, CaseStatus, ReasonCode, User, db, utcnow
from tests.factories import (
    REJECT_REASON,
    act,
    case_in,
    events_after,
    last_event,
    make_people,
    refusal,
    snapshot,
    system_act,
    unique_target,
)
from workflow import access, cases, engine
from workflow.audit import Actor
from workflow.errors import Conflict, Forbidden, InvalidInput, NotFound
from workflow.states import Action


@pytest.fixture(scope="module")
def people(module_app):
    return make_people(module_app)


def set_decided_at(app, protocol: str, when) -> None:
    """Move the decision back in time, as if days had passed since it."""
    with app.app_context():
        case = db.session.scalars(select(Case).where(Case.protocol == protocol)).one()
        case.decided_at = when
        db.session.commit()


@pytest.mark.parametrize("action", ["request_info", "approve"])
@pytest.mark.parametrize("who", ["colleague", "supervisor"])
def test_only_the_assignee_asks_for_information_or_approves(module_app, people, action, who):
    protocol = case_in(module_app, "in_review", people, analyst=people.operator)
    error = refusal(module_app, protocol, action, getattr(people, who), message="Pergunta?")
    assert isinstance(error, Forbidden)


@pytest.mark.parametrize("status", ["in_review", "pending_second_approval"])
def test_another_operator_may_not_reject_but_any_supervisor_may(module_app, people, status):
    protocol = case_in(module_app, status, people, analyst=people.operator)
    error = refusal(module_app, protocol, "reject", people.colleague, reason_code=REJECT_REASON)
    assert isinstance(error, Forbidden)
    assert act(module_app, protocol, "reject", people.second_supervisor,
               reason_code=REJECT_REASON) == "rejected"


@pytest.mark.parametrize("rejecter", ["operator", "supervisor"])
def test_an_appeal_is_claimed_by_someone_other_than_the_rejecter(module_app, people, rejecter):
    protocol = case_in(module_app, "appealed", people, analyst=getattr(people, rejecter))
    assert isinstance(refusal(module_app, protocol, "claim", getattr(people, rejecter)),
                      Forbidden)
    assert act(module_app, protocol, "claim", people.colleague) == "in_review"


def test_the_second_approval_comes_from_another_supervisor(module_app, people):
    protocol = case_in(module_app, "pending_second_approval", people,
                       analyst=people.supervisor)
    assert isinstance(refusal(module_app, protocol, "approve", people.supervisor), Forbidden)
    assert act(module_app, protocol, "approve", people.second_supervisor) == "approved"
    event = last_event(module_app)
    assert event["action"] == "case:approved" and event["actor_id"] == people.second_supervisor.id


@pytest.mark.parametrize(("target", "valid_days", "status", "tag"), [
    ("2001:db8:29::/126", None, "pending_second_approval", "case:approval_proposed"),
    ("203.0.113.200/29", 30, "pending_second_approval", "case:approval_proposed"),
    (None, 400, "pending_second_approval", "case:approval_proposed"),
    (None, 365, "approved", "case:approved"),
])
def test_a_prefix_or_a_long_validity_needs_four_eyes(module_app, people, target, valid_days,
                                                      status, tag):
    protocol = case_in(module_app, "in_review", people, target=target or unique_target())
    assert act(module_app, protocol, "approve", people.operator, valid_days=valid_days) == status
    event = last_event(module_app)
    assert event["action"] == tag
    assert event["details"]["from"] == "in_review" and event["details"]["to"] == status


@pytest.mark.parametrize(("action", "status", "reason_code"), [
    ("reject", "in_review", None),
    ("reject", "in_review", ""),
    ("reject", "in_review", "no_such_reason"),
    ("reject", "in_review", "abuse_confirmed"),  # a revoke reason
    ("reject", "in_review", "retired_reason"),  # in the catalogue, but inactive
    ("revoke", "approved", None),
    ("revoke", "active", "insufficient_justification"),  # a reject reason
    ("revoke", "approved", "retired_reason"),
])
def test_reject_and_revoke_need_an_active_reason_from_their_catalogue(
        module_app, people, action, status, reason_code):
    with module_app.app_context():
        if db.session.get(ReasonCode, (action, "retired_reason")) is None:
            db.session.add(ReasonCode(action=action, code="retired_reason", label_pt="Antigo",
                                      label_en="Old", active=False))
            db.session.commit()
    protocol = case_in(module_app, status, people)
    error = refusal(module_app, protocol, action, people.operator, reason_code=reason_code)
    assert isinstance(error, InvalidInput) and error.field == "reason_code"


def test_a_customer_gives_an_exception_back_with_reason_customer_request(module_app, people):
    protocol = case_in(module_app, "active", people)
    assert act(module_app, protocol, "revoke", people.customer,
               reason_code="abuse_confirmed") == "revoked"
    event = last_event(module_app)
    assert event["action"] == "case:revoked"
    assert event["details"]["reason_code"] == "customer_request"
    with module_app.app_context():
        case = db.session.scalars(select(Case).where(Case.protocol == protocol)).one()
        assert case.reason_code == "customer_request"


@pytest.mark.parametrize(("status", "action"), [
    ("awaiting_customer", "reply"), ("submitted", "cancel"), ("rejected", "appeal"),
    ("active", "revoke"),
])
def test_a_customer_acts_only_on_their_own_cases(module_app, people, status, action):
    protocol = case_in(module_app, status, people)
    error = refusal(module_app, protocol, action, people.stranger, message="Sou outra pessoa.")
    assert isinstance(error, Forbidden)
    with module_app.app_context(), pytest.raises(NotFound):
        access.case_for(db.session.get(User, people.stranger.id), protocol)


def test_a_refusal_can_be_appealed_only_once(module_app, people):
    protocol = case_in(module_app, "appealed", people)
    act(module_app, protocol, "claim", people.colleague)
    act(module_app, protocol, "reject", people.colleague, reason_code=REJECT_REASON)
    error = refusal(module_app, protocol, "appeal", people.customer, message="De novo.")
    assert isinstance(error, Conflict)


@pytest.mark.parametrize(("days_ago", "allowed"), [(29, True), (31, False)])
def test_an_appeal_is_accepted_only_within_the_window(module_app, people, days_ago, allowed):
    protocol = case_in(module_app, "rejected", people)
    set_decided_at(module_app, protocol, utcnow() - timedelta(days=days_ago))
    if allowed:
        assert act(module_app, protocol, "appeal", people.customer, message="Recurso.") \
            == "appealed"
    else:
        error = refusal(module_app, protocol, "appeal", people.customer, message="Recurso.")
        assert isinstance(error, Conflict)


def test_with_a_zero_day_window_no_appeal_is_possible(app_factory):
    app = app_factory(APPEAL_WINDOW_DAYS=0)
    people = make_people(app, "customer", "operator")
    protocol = case_in(app, "rejected", people)
    error = refusal(app, protocol, "appeal", people.customer, message="Recurso.")
    assert isinstance(error, Conflict)


def test_a_change_from_a_stale_copy_is_a_conflict(module_app, people):
    protocol = case_in(module_app, "in_review", people)
    with module_app.app_context():
        stale = db.session.scalars(select(Case.version).where(Case.protocol == protocol)).one()
    act(module_app, protocol, "request_info", people.operator, message="Qual é o PTR?")
    act(module_app, protocol, "reply", people.customer, message="mail.exemplo.com.br")
    error = refusal(module_app, protocol, "approve", people.operator, expected_version=stale)
    assert isinstance(error, Conflict)


@pytest.mark.parametrize("action", ["request_info", "reply", "appeal"])
def test_a_question_a_reply_and_an_appeal_need_a_message(module_app, people, action):
    status = {"request_info": "in_review", "reply": "awaiting_customer",
              "appeal": "rejected"}[action]
    who = people.operator if action == "request_info" else people.customer
    protocol = case_in(module_app, status, people)
    error = refusal(module_app, protocol, action, who, message="   ")
    assert isinstance(error, InvalidInput) and error.field == "message"


# system action -> (the statuses it leaves, the status it reaches). An approval that no
# endpoint acknowledged expires too (the worker's timed transitions).
SYSTEM = {"activate": (("approved",), "active"), "expire": (("approved", "active"), "expired"),
          "abandon": (("awaiting_customer",), "cancelled")}


@pytest.mark.parametrize("action", SYSTEM)
@pytest.mark.parametrize("role", ["customer", "operator", "supervisor", "auditor"])
def test_nobody_takes_a_system_transition_by_hand(module_app, people, action, role):
    protocol = case_in(module_app, SYSTEM[action][0][0], people)
    with module_app.app_context(), pytest.raises(Forbidden):
        case = db.session.scalars(select(Case).where(Case.protocol == protocol)).one()
        person = db.session.get(User, people.of_role(role).id)
        engine.authorise(case, Action(action), Actor(person))


@pytest.mark.parametrize("action", SYSTEM)
@pytest.mark.parametrize("status", [s.value for s in CaseStatus])
def test_the_system_takes_its_transitions_only_from_their_status(module_app, people, action,
                                                                 status):
    protocol = case_in(module_app, status, people)
    sources, target = SYSTEM[action]
    before = snapshot(module_app, protocol)
    if status in sources:
        assert system_act(module_app, protocol, action) == target
        details = last_event(module_app)["details"]
        # An expiry goes on the enforcement stream; the audit event names its sequence.
        assert ("sequence" in details) == (target == "expired")
        details.pop("sequence", None)
        assert details == {"from": status, "to": target}
    else:
        with pytest.raises(Conflict):
            system_act(module_app, protocol, action)
        assert snapshot(module_app, protocol) == before


@pytest.mark.parametrize("valid_days", [0, -1, 731])
def test_a_validity_outside_one_day_to_the_maximum_is_refused(module_app, people, valid_days):
    protocol = case_in(module_app, "in_review", people)
    error = refusal(module_app, protocol, "approve", people.operator, valid_days=valid_days)
    assert isinstance(error, InvalidInput) and error.field == "valid_days"


@pytest.mark.parametrize(("who", "public", "allowed"), [
    ("operator", False, True), ("supervisor", True, True),
    ("customer", False, False), ("auditor", False, False), ("provider", False, False),
])
def test_only_staff_write_notes_and_each_note_is_audited(module_app, people, who, public,
                                                         allowed):
    protocol = case_in(module_app, "in_review", people)
    before = snapshot(module_app, protocol)
    with module_app.app_context():
        case = db.session.scalars(select(Case).where(Case.protocol == protocol)).one()
        actor = Actor(db.session.get(User, people.of_role(who).id))
        try:
            cases.add_note(case, actor=actor, message="Conferi o PTR.", public=public)
            db.session.commit()
        except Forbidden:
            assert not allowed
            db.session.rollback()
    after = snapshot(module_app, protocol)
    assert (after.status, after.version) == (before.status, before.version)
    if allowed:
        [event] = events_after(module_app, before.audit_seq)
        assert event["action"] == "case:note_added"
        assert event["details"]["kind"] == ("public" if public else "internal")
    else:
        assert after.audit_seq == before.audit_seq
