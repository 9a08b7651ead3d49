"""/api/v1 on its success paths: filing, reading, listing and acting on cases."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from models import AuditEvent, Case, db
from tests.api_support import Api, case_count
from tests.factories import act, make_case, make_user, request_fields

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def api_request(**overrides) -> dict:
    """A valid POST /api/v1/cases body."""
    body = request_fields(**overrides)
    body.pop("terms_version")
    return body


def stored(app, protocol: str) -> Case:
    with app.app_context():
        case = db.session.scalars(select(Case).where(Case.protocol == protocol)).one()
        db.session.expunge(case)
        return case


def submission_event(app, protocol: str) -> AuditEvent:
    with app.app_context():
        return db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "case:submitted", AuditEvent.object_id == protocol)).one()


def test_a_customer_files_a_case_and_gets_it_back_with_its_location(app):
    customer = make_user(app, uf="RJ")
    api = Api(app, customer)
    response = api.post("/api/v1/cases", json=api_request(target="203.0.113.7"))
    assert response.status_code == 201
    body = response.get_json()
    assert response.headers["Location"] == f"/api/v1/cases/{body['protocol']}"
    assert body["target"] == "203.0.113.7/32" and body["status"] == "submitted"
    assert body["uf"] == "RJ" and body["version"] == 1 and body["assignee"] is None
    assert body["sending_profile"] is None and body["valid_until"] is None
    for name in ("submitted_at", "answer_due_at", "execution_due_at", "sla_due_at"):
        assert ISO_Z.match(body[name]), name
    assert body["links"] == {"self": f"/api/v1/cases/{body['protocol']}",
                             "actions": {"cancel": f"/api/v1/cases/{body['protocol']}"
                                                   "/actions/cancel"}}
    case = stored(app, body["protocol"])
    assert case.customer_id == customer.id and case.terms_accepted_from == "127.0.0.1"


def test_absent_terms_version_records_the_current_terms_accepted_by_the_token_owner(app):
    customer = make_user(app)
    response = Api(app, customer).post("/api/v1/cases", json=api_request())
    protocol = response.get_json()["protocol"]
    assert stored(app, protocol).terms_version == app.config["TERMS_VERSION"]
    event = submission_event(app, protocol)
    assert event.actor_id == customer.id
    assert json.loads(event.details)["terms_version"] == app.config["TERMS_VERSION"]


def test_sending_profile_and_explicit_terms_version_are_kept(app):
    body = api_request(sending_profile={"messages_per_day": 500, "kind": "transactional"},
                       accepted_terms_version=app.config["TERMS_VERSION"])
    response = Api(app, make_user(app)).post("/api/v1/cases", json=body)
    assert response.status_code == 201
    assert response.get_json()["sending_profile"] == {"messages_per_day": 500,
                                                      "kind": "transactional"}
    case = stored(app, response.get_json()["protocol"])
    assert (case.messages_per_day, case.sending_kind.value) == (500, "transactional")


@pytest.mark.parametrize("role", ["operator", "supervisor"])
def test_staff_file_on_behalf_of_a_customer_named_by_email(app, role):
    customer, analyst = make_user(app, uf="BA"), make_user(app, role)
    body = api_request(customer_email=customer.email.upper())
    response = Api(app, analyst).post("/api/v1/cases", json=body)
    assert response.status_code == 201
    protocol = response.get_json()["protocol"]
    case = stored(app, protocol)
    assert case.customer_id == customer.id and case.uf == "BA"
    assert submission_event(app, protocol).actor_id == analyst.id


@pytest.mark.parametrize("role", ["customer", "operator", "supervisor"])
def test_a_case_is_read_by_its_customer_and_by_staff(app, role):
    customer = make_user(app)
    protocol = make_case(app, customer)
    reader = customer if role == "customer" else make_user(app, role)
    response = Api(app, reader).get(f"/api/v1/cases/{protocol}")
    assert response.status_code == 200
    assert response.get_json()["protocol"] == protocol
    assert "messages" not in response.get_json()


def test_an_auditor_reads_cases_of_their_state(app):
    customer = make_user(app, uf="RJ")
    protocol = make_case(app, customer)
    auditor = make_user(app, "auditor", uf="RJ")
    response = Api(app, auditor).get(f"/api/v1/cases/{protocol}")
    assert response.status_code == 200
    assert response.get_json()["links"]["actions"] == {}


def test_the_whole_flow_through_the_api(app):
    customer_api = Api(app, make_user(app))
    operator_api = Api(app, make_user(app, "operator"))
    protocol = customer_api.post("/api/v1/cases", json=api_request()).get_json()["protocol"]

    claimed = operator_api.act(protocol, "claim", version=1)
    assert claimed.status_code == 200
    assert claimed.get_json()["status"] == "in_review"
    assert set(claimed.get_json()["links"]["actions"]) == {"request_info", "approve", "reject"}

    asked = operator_api.act(protocol, "request_info", message="Qual é o registro SPF?")
    assert asked.get_json()["status"] == "awaiting_customer"
    replied = customer_api.act(protocol, "reply", message="v=spf1 ip4:203.0.113.0/24 -all")
    assert replied.get_json()["status"] == "in_review"

    approved = operator_api.act(protocol, "approve", valid_days=90,
                                version=replied.get_json()["version"])
    body = approved.get_json()
    assert body["status"] == "approved" and ISO_Z.match(body["valid_until"])
    assert body["sla_due_at"] is None

    given_back = customer_api.act(protocol, "revoke", message="Não preciso mais.")
    assert given_back.status_code == 200
    assert given_back.get_json()["status"] == "revoked"
    assert given_back.get_json()["reason_code"] == "customer_request"


def test_an_action_without_a_body_is_accepted(app):
    customer = make_user(app)
    protocol = make_case(app, customer)
    response = Api(app, customer).post(f"/api/v1/cases/{protocol}/actions/cancel")
    assert response.status_code == 200 and response.get_json()["status"] == "cancelled"


def test_a_supervisor_rejects_with_a_reason_code(app):
    customer, supervisor = make_user(app), make_user(app, "supervisor")
    protocol = make_case(app, customer)
    act(app, protocol, "claim", supervisor)
    response = Api(app, supervisor).act(protocol, "reject",
                                        reason_code="insufficient_justification")
    assert response.get_json()["status"] == "rejected"
    assert response.get_json()["reason_code"] == "insufficient_justification"


def test_customers_list_only_their_own_cases(app):
    customer, other = make_user(app), make_user(app)
    mine = {make_case(app, customer), make_case(app, customer)}
    make_case(app, other)
    response = Api(app, customer).get("/api/v1/cases")
    assert response.status_code == 200
    assert {c["protocol"] for c in response.get_json()["cases"]} == mine
    assert response.get_json()["next_cursor"] is None


def test_list_filters_by_status_uf_and_search(app):
    sp, rj = make_user(app, uf="SP"), make_user(app, uf="RJ")
    operator = make_user(app, "operator")
    claimed = make_case(app, sp, target="203.0.113.10")
    act(app, claimed, "claim", operator)
    waiting = make_case(app, sp, target="203.0.113.11")
    carioca = make_case(app, rj, target="203.0.113.12")
    api = Api(app, operator)

    def protocols(query: str) -> set[str]:
        response = api.get(f"/api/v1/cases?{query}")
        assert response.status_code == 200, response.get_json()
        return {c["protocol"] for c in response.get_json()["cases"]}

    assert protocols("status=in_review") == {claimed}
    assert protocols("status=in_review&status=submitted") == {claimed, waiting, carioca}
    assert protocols("uf=RJ") == {carioca}
    assert protocols("q=203.0.113.11") == {waiting}
    assert protocols(f"q={carioca}") == {carioca}


def test_pagination_returns_every_case_exactly_once(app):
    customer, supervisor = make_user(app), make_user(app, "supervisor")
    filed = {make_case(app, customer, target=f"2001:db8:7::{n:x}") for n in range(1, 8)}
    act(app, sorted(filed)[0], "cancel", customer)  # a closed case sorts after open ones
    api, seen, cursor, pages = Api(app, supervisor), [], None, 0
    while True:
        url = "/api/v1/cases?limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = api.get(url).get_json()
        seen += [c["protocol"] for c in page["cases"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(filed) and pages == 3


def test_a_good_token_is_stamped_as_used(app):
    customer = make_user(app)
    api = Api(app, customer)
    api.get("/api/v1/cases")
    from models import ApiToken

    with app.app_context():
        token = db.session.scalars(select(ApiToken)).one()
        assert token.last_used_at is not None


def test_the_openapi_document_is_public_and_describes_every_operation(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"].startswith("3.1")
    operations = {(path, method) for path, item in document["paths"].items()
                  for method in item if method != "parameters"}
    assert operations == {
        ("/api/v1/openapi.json", "get"), ("/api/v1/cases", "get"), ("/api/v1/cases", "post"),
        ("/api/v1/cases/{protocol}", "get"),
        ("/api/v1/cases/{protocol}/actions/{action}", "post"),
        ("/api/v1/cases/{protocol}/records", "get"), ("/api/v1/records/{code}", "get"),
        ("/api/v1/enforcement/allowlist", "get"), ("/api/v1/enforcement/changes", "get"),
        ("/api/v1/audit/events", "get"),
    }
    create = document["components"]["schemas"]["CaseCreate"]
    assert set(create["required"]) == {"target", "category", "justification",
                                       "mail_hostname", "subscriber_id"}
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


def test_nothing_is_stored_when_the_api_refuses(app):
    api = Api(app, make_user(app))
    api.post("/api/v1/cases", json=api_request(target="10.0.0.1"))
    assert case_count(app) == 0
