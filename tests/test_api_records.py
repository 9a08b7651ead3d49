"""/api/v1 records: a case's records as JSON and one record's PDF, under the web's access
rules (someone else's is a 404), audited downloads, and the bearer-token rules."""

from __future__ import annotations

import hashlib
import re

import pytest
from sqlalchemy import select

from models import AuditEvent, Case, RecordKind, Role, TokenScope, User, db
from tests.api_support import Api
from tests.factories import make_case, make_user
from tests.records_support import issue_pending, records_of
from workflow import accounts, oversight, records
from workflow.audit import Actor
from workflow.records import codes

PROBLEM = "application/problem+json"


def _case_with_receipt(app, customer):
    protocol = make_case(app, customer)
    assert issue_pending(app) == 1
    (receipt,) = records_of(app, protocol)
    return protocol, receipt


def _downloads(app, code: str) -> list[tuple[int | None, str | None]]:
    with app.app_context():
        return [(e.actor_id, e.source_ip) for e in db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "record:downloaded", AuditEvent.object_id == code))]


def test_a_customer_lists_the_records_of_their_case(app):
    customer = make_user(app)
    protocol, receipt = _case_with_receipt(app, customer)

    response = Api(app, customer).get(f"/api/v1/cases/{protocol}/records")

    assert response.status_code == 200
    (item,) = response.get_json()["records"]
    code = codes.display(receipt.code)
    assert item == {
        "code": code, "kind": "receipt", "issued_at": item["issued_at"],
        "sha256": receipt.sha256, "size": len(receipt.content), "language": "pt-BR",
        "signer": None, "supersedes": None, "superseded_by": None,
        "verify_url": f"http://localhost:5000/verify/{code}",
        "url": f"/api/v1/records/{code}",
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", item["issued_at"])
    assert _downloads(app, receipt.code) == []  # listing is not downloading


def test_a_reissue_lists_both_versions_linked_newest_first(app):
    customer = make_user(app)
    protocol, first = _case_with_receipt(app, customer)
    with app.app_context():
        case = db.session.scalars(select(Case).where(Case.protocol == protocol)).one()
        records.request_record(RecordKind.RECEIPT, case=case, language="pt_BR",
                               requested_by=db.session.get(User, customer.id))
        db.session.commit()
    assert issue_pending(app) == 1

    listed = Api(app, customer).get(f"/api/v1/cases/{protocol}/records").get_json()["records"]

    old, new = codes.display(first.code), listed[0]["code"]
    assert [item["code"] for item in listed] == [new, old]
    assert listed[0]["supersedes"] == old and listed[0]["superseded_by"] is None
    assert listed[1]["superseded_by"] == new and listed[1]["supersedes"] is None


def test_the_pdf_is_the_stored_bytes_and_its_download_is_audited(app):
    customer = make_user(app)
    _, receipt = _case_with_receipt(app, customer)

    response = Api(app, customer).get(f"/api/v1/records/{codes.display(receipt.code)}")

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    assert hashlib.sha256(response.data).hexdigest() == receipt.sha256
    assert _downloads(app, receipt.code) == [(customer.id, "127.0.0.1")]


def test_a_code_in_any_format_finds_the_record(app):
    customer = make_user(app)
    _, receipt = _case_with_receipt(app, customer)
    typed = codes.display(receipt.code).lower().replace("-", " ")
    response = Api(app, customer).get(f"/api/v1/records/{typed}")
    assert response.status_code == 200


@pytest.mark.parametrize("reader", ["stranger", "auditor_rj", "provider"])
def test_someone_elses_records_are_404_problems(app, reader):
    protocol, receipt = _case_with_receipt(app, make_user(app))
    person = {"stranger": lambda: make_user(app),
              "auditor_rj": lambda: make_user(app, Role.AUDITOR, uf="RJ"),
              "provider": lambda: make_user(app, Role.PROVIDER)}[reader]()
    api = Api(app, person)

    for url in (f"/api/v1/cases/{protocol}/records",
                f"/api/v1/records/{codes.display(receipt.code)}"):
        response = api.get(url)
        assert response.status_code == 404, url
        assert response.mimetype == PROBLEM
        assert response.get_json()["status"] == 404
    assert _downloads(app, receipt.code) == []


def reveal(app, auditor, protocol: str) -> None:
    """The auditor reveals the case's personal data (on the portal; the API has no verb)."""
    with app.app_context():
        case = db.session.scalars(select(Case).where(Case.protocol == protocol)).one()
        oversight.reveal_personal_data(case, actor=Actor(db.session.get(User, auditor.id)),
                                       reason="CIP 2026.07.001234")
        db.session.commit()


def test_an_auditor_lists_the_customers_documents_only_while_revealed(app):
    protocol, receipt = _case_with_receipt(app, make_user(app))
    auditor = make_user(app, Role.AUDITOR, uf="SP")
    api = Api(app, auditor)
    assert api.get(f"/api/v1/cases/{protocol}/records").get_json()["records"] == []
    assert api.get(f"/api/v1/records/{codes.display(receipt.code)}").status_code == 404
    reveal(app, auditor, protocol)
    (listed,) = api.get(f"/api/v1/cases/{protocol}/records").get_json()["records"]
    assert listed["sha256"] == receipt.sha256
    assert listed["url"].endswith(f"/api/v1/records/{codes.display(receipt.code)}")
    assert api.get(listed["url"]).status_code == 200


@pytest.mark.parametrize("reader", [Role.OPERATOR, Role.SUPERVISOR, "auditor_sp"])
def test_staff_and_auditors_in_scope_read_the_records(app, reader):
    protocol, receipt = _case_with_receipt(app, make_user(app))
    person = (make_user(app, Role.AUDITOR, uf="SP") if reader == "auditor_sp"
              else make_user(app, reader))
    if reader == "auditor_sp":
        reveal(app, person, protocol)
    api = Api(app, person)

    listed = api.get(f"/api/v1/cases/{protocol}/records").get_json()["records"]
    pdf = api.get(listed[0]["url"])

    assert pdf.status_code == 200
    assert hashlib.sha256(pdf.data).hexdigest() == receipt.sha256 == listed[0]["sha256"]
    assert _downloads(app, receipt.code) == [(person.id, "127.0.0.1")]


@pytest.mark.parametrize("code", ["AAAA-BBBB-CCCC-DDDD", "curto", "7KQ2-M9XD-4TNV-8HCE-XXXX"])
def test_an_unknown_or_malformed_code_is_a_404(app, code):
    response = Api(app, make_user(app)).get(f"/api/v1/records/{code}")
    assert response.status_code == 404 and response.mimetype == PROBLEM


def test_an_enforcement_token_may_not_read_records(app):
    customer = make_user(app)
    protocol, receipt = _case_with_receipt(app, customer)
    operator = make_user(app, Role.OPERATOR)
    with app.app_context():
        token = accounts.create_token(db.session.get(User, operator.id), "firewall",
                                      actor=Actor.system("tests"), scope=TokenScope.ENFORCEMENT)
        db.session.commit()
    api = Api(app, token=token)

    for url in (f"/api/v1/cases/{protocol}/records",
                f"/api/v1/records/{codes.display(receipt.code)}"):
        response = api.get(url)
        assert response.status_code == 403 and response.mimetype == PROBLEM
    assert _downloads(app, receipt.code) == []


def test_without_a_token_it_is_401_with_a_challenge(app):
    protocol, receipt = _case_with_receipt(app, make_user(app))
    for url in (f"/api/v1/cases/{protocol}/records",
                f"/api/v1/records/{codes.display(receipt.code)}"):
        response = Api(app).get(url)
        assert response.status_code == 401 and response.mimetype == PROBLEM
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
