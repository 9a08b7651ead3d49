"""/api/v1 refusals: every one is application/problem+json (RFC 9457), in Portuguese,
and stores nothing."""

from __future__ import annotations

import io
from dataclasses import dataclass

import pytest
from sqlalchemy import update

from models import ApiToken, User, db, utcnow
from tests.api_support import Api, case_count
from tests.conftest import make_app
from tests.factories import Person, act, make_case, make_user, request_fields, status_of

PROBLEM = "application/problem+json"


@dataclass
class Shared:
    """One app for the refusals that change nothing, with its people and one claimed case."""

    app: object
    customer: Api
    operator: Api
    supervisor: Api
    operator_person: Person
    protocol: str

    def unchanged(self) -> bool:
        return case_count(self.app) == 1 and status_of(self.app, self.protocol) == "in_review"


@pytest.fixture(scope="module")
def shared(databases):
    url = databases.fresh()
    app = make_app(url)
    customer, operator = make_user(app), make_user(app, "operator")
    protocol = make_case(app, customer)
    act(app, protocol, "claim", operator)
    yield Shared(app, Api(app, customer), Api(app, operator),
                 Api(app, make_user(app, "supervisor")), operator, protocol)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    databases.drop(url)


def api_request(**overrides) -> dict:
    body = request_fields(**overrides)
    body.pop("terms_version")
    return body


def assert_problem(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.get_json(force=True)
    assert body["status"] == status and body["type"] == "about:blank"
    assert body["title"] and body["detail"]
    assert body.get("field") == field
    return body


# --- 400 -------------------------------------------------------------------------------

@pytest.mark.parametrize("data, content_type", [
    (b'{"target": ', "application/json"),  # malformed
    (b"[1, 2]", "application/json"),  # not an object
    (b'"texto"', "application/json"),
    (b'{"valid_days": NaN}', "application/json"),  # not JSON, though Python would parse it
    (b"[" * 5000 + b"]" * 5000, "application/json"),  # nesting deep enough to recurse out
    (b"\xff\xfe{}", "application/json"),  # not UTF-8
    (b'{"justification": "\\ud800"}', "application/json"),  # a lone surrogate
    (b'{"target": "203.0.113.7"}', "text/plain"),  # wrong content type
    (b"target=203.0.113.7", "application/x-www-form-urlencoded"),
    (b"", "application/json"),  # the body is required
])
def test_a_body_that_is_not_a_json_object_is_a_400(shared, data, content_type):
    response = shared.customer.post("/api/v1/cases", data=data, content_type=content_type)
    assert_problem(response, 400)
    assert shared.unchanged()


def test_an_action_body_that_is_not_an_object_is_a_400(shared):
    response = shared.customer.post(f"/api/v1/cases/{shared.protocol}/actions/cancel",
                                    data=b"[]", content_type="application/json")
    assert_problem(response, 400)
    assert shared.unchanged()


# --- 401 -------------------------------------------------------------------------------

@pytest.mark.parametrize("authorization", [
    None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer p25_not-a-real-token",
])
@pytest.mark.parametrize("method, url", [
    ("get", "/api/v1/cases"), ("post", "/api/v1/cases"), ("get", "/api/v1/cases/{protocol}"),
    ("post", "/api/v1/cases/{protocol}/actions/approve"),
])
def test_without_a_valid_token_every_operation_is_a_401_with_a_challenge(
        shared, authorization, method, url):
    headers = {"Authorization": authorization} if authorization is not None else {}
    client = shared.app.test_client()
    response = getattr(client, method)(url.format(protocol=shared.protocol), headers=headers,
                                       json={})
    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_token_or_disabled_account_is_a_401(app):
    customer = make_user(app)
    revoked, disabled = Api(app, customer), Api(app, make_user(app))
    with app.app_context():
        db.session.execute(update(ApiToken).where(ApiToken.user_id == customer.id)
                           .values(revoked_at=utcnow()))
        db.session.execute(update(User).where(User.id != customer.id).values(is_active=False))
        db.session.commit()
    for api in (revoked, disabled):
        response = api.get("/api/v1/cases")
        assert_problem(response, 401)
        assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


# --- 403 -------------------------------------------------------------------------------

@pytest.mark.parametrize("action, body", [
    ("approve", {}), ("claim", {}), ("reject", {"reason_code": "other"}),
])
def test_a_customer_may_not_take_staff_actions(app, action, body):
    customer = make_user(app)
    protocol = make_case(app, customer)
    response = Api(app, customer).act(protocol, action, **body)
    assert_problem(response, 403)
    assert status_of(app, protocol) == "submitted"


def test_an_operator_may_not_approve_a_case_someone_else_claimed(app):
    customer, first, second = make_user(app), make_user(app, "operator"), make_user(app,
                                                                                   "operator")
    protocol = make_case(app, customer)
    act(app, protocol, "claim", first)
    assert_problem(Api(app, second).act(protocol, "approve"), 403)
    assert status_of(app, protocol) == "in_review"


@pytest.mark.parametrize("role", ["auditor", "provider"])
def test_readers_may_not_file_cases(shared, role):
    reader = Api(shared.app, make_user(shared.app, role))
    assert_problem(reader.post("/api/v1/cases", json=api_request()), 403)
    assert shared.unchanged()


def test_an_auditor_in_scope_may_not_act(app):
    customer = make_user(app, uf="RJ")
    protocol = make_case(app, customer)
    auditor = make_user(app, "auditor", uf="RJ")
    assert_problem(Api(app, auditor).act(protocol, "claim"), 403)


# --- 404 -------------------------------------------------------------------------------

def test_another_customers_case_is_not_found(app):
    owner, other = make_user(app), make_user(app)
    protocol = make_case(app, owner)
    api = Api(app, other)
    assert_problem(api.get(f"/api/v1/cases/{protocol}"), 404)
    assert_problem(api.act(protocol, "cancel"), 404)
    assert status_of(app, protocol) == "submitted"


def test_an_auditor_out_of_scope_does_not_find_the_case(app):
    protocol = make_case(app, make_user(app, uf="RJ"))
    auditor = make_user(app, "auditor", uf="SP")
    assert_problem(Api(app, auditor).get(f"/api/v1/cases/{protocol}"), 404)


@pytest.mark.parametrize("url", [
    "/api/v1/cases/2026000000011",  # check digit wrong
    "/api/v1/cases/2026999999999",  # right shape, no such case
    "/api/v1/cases/abc",
    "/api/v1/cases/{protocol}/actions/activate",  # a system transition, not a user action
    "/api/v1/cases/{protocol}/actions/explode",
    "/api/v1/nothing-here",
])
def test_unknown_protocols_and_actions_are_not_found(shared, url):
    url = url.format(protocol=shared.protocol)
    api = shared.supervisor
    response = api.post(url) if "/actions/" in url else api.get(url)
    assert_problem(response, 404)
    assert shared.unchanged()


# --- 405 -------------------------------------------------------------------------------

@pytest.mark.parametrize("method, url, allowed", [
    ("put", "/api/v1/cases", {"GET", "POST"}),
    ("delete", "/api/v1/cases/2026000000010", {"GET"}),
    ("get", "/api/v1/cases/2026000000010/actions/claim", {"POST"}),
])
def test_an_unsupported_method_is_a_405_that_names_the_allowed_ones(shared, method, url,
                                                                    allowed):
    client = shared.supervisor.client
    response = getattr(client, method)(url, headers=shared.supervisor._headers(None))
    assert_problem(response, 405)
    assert allowed <= {m.strip() for m in response.headers["Allow"].split(",")}


# --- 409 -------------------------------------------------------------------------------

def test_a_transition_not_allowed_from_the_current_status_is_a_409(app):
    customer, operator = make_user(app), make_user(app, "operator")
    protocol = make_case(app, customer)
    assert_problem(Api(app, operator).act(protocol, "approve"), 409)
    assert_problem(Api(app, customer).act(protocol, "appeal", message="Recorro."), 409)
    assert status_of(app, protocol) == "submitted"


def test_a_stale_version_is_a_409(app):
    customer, operator = make_user(app), make_user(app, "operator")
    protocol = make_case(app, customer)
    act(app, protocol, "claim", operator)  # version 1 -> 2 behind the client's back
    response = Api(app, customer).act(protocol, "cancel", version=1)
    assert_problem(response, 409)
    assert status_of(app, protocol) == "in_review"


def test_a_second_open_case_for_the_same_target_is_a_409(app):
    api = Api(app, make_user(app))
    assert api.post("/api/v1/cases", json=api_request(target="203.0.113.9")).status_code == 201
    response = api.post("/api/v1/cases", json=api_request(target="203.0.113.8/29"))
    assert_problem(response, 409, field="target")
    assert case_count(app) == 1


# --- 413 -------------------------------------------------------------------------------

def test_a_body_over_the_limit_is_a_413_by_its_content_length(app_factory):
    app = app_factory(API_MAX_BODY_BYTES=300)
    api = Api(app, make_user(app))
    response = api.post("/api/v1/cases", json=api_request(justification="x" * 400))
    assert_problem(response, 413)
    assert case_count(app) == 0


def test_a_body_over_the_limit_is_a_413_also_without_a_content_length(app_factory):
    # Chunked uploads carry no Content-Length: what is actually read counts.
    app = app_factory(API_MAX_BODY_BYTES=300)
    api = Api(app, make_user(app))
    response = api.post("/api/v1/cases", input_stream=io.BytesIO(b'{"a": "' + b"x" * 400),
                        content_type="application/json",
                        environ_overrides={"wsgi.input_terminated": True})
    assert_problem(response, 413)


# --- 422 -------------------------------------------------------------------------------

TARGET_ERRORS = [
    ("203.0.113.7/24", "203.0.113.0/24"),  # host bits set: names the network meant
    ("203.0.113.0/28", "/29"),  # too many IPv4 addresses
    ("2001:db8::/48", "/64"),  # IPv6 prefix too short
    ("10.0.0.1", "privado"),
    ("127.0.0.1", "loopback"),
    ("169.254.1.1", "link-local"),
    ("224.0.0.1", "multicast"),
    ("8.8.8.8", "não pertence à rede"),  # outside ISP_PREFIXES
    ("meu-servidor", "não é um endereço"),
    ("", None),
]


@pytest.mark.parametrize("target, explained", TARGET_ERRORS)
def test_each_target_error_of_design_4_is_a_422_on_target(shared, target, explained):
    response = shared.customer.post("/api/v1/cases", json=api_request(target=target))
    body = assert_problem(response, 422, field="target")
    if explained:
        assert explained in body["detail"]
    assert shared.unchanged()


@pytest.mark.parametrize("overrides, field", [
    ({"category": "spam"}, "category"),
    ({"justification": "curta demais"}, "justification"),
    ({"justification": " " * 40}, "justification"),  # blank once trimmed: the domain says so
    ({"justification": "x" * 4001}, "justification"),
    ({"mail_hostname": "não é um host"}, "mail_hostname"),
    ({"subscriber_id": "CTR 42 com espaços"}, "subscriber_id"),
    ({"target": 2030113}, "target"),  # wrong type
    ({"category": None}, "category"),
    ({"sending_profile": {"messages_per_day": -1, "kind": "bulk"}},
     "sending_profile.messages_per_day"),
    ({"sending_profile": {"messages_per_day": 10, "kind": "newsletter"}},
     "sending_profile.kind"),
    ({"sending_profile": {"messages_per_day": 10}}, "sending_profile.kind"),
    ({"sending_profile": "muitas"}, "sending_profile"),
    ({"accepted_terms_version": "2001-01"}, "accepted_terms_version"),
    ({"customer_email": "outra.pessoa@example.com.br"}, "customer_email"),
    ({"priority": "alta"}, "priority"),  # unknown member
    ({"justification": "Servidor próprio\x00 com SPF, DKIM e DMARC, há anos."},
     "justification"),  # NUL, which PostgreSQL cannot store
    ({"customer_email": "a\x00@example.com.br"}, "customer_email"),
])
def test_a_bad_field_is_a_422_naming_it(shared, overrides, field):
    response = shared.customer.post("/api/v1/cases", json=api_request(**overrides))
    assert_problem(response, 422, field=field)
    assert shared.unchanged()


@pytest.mark.parametrize("missing", ["target", "category", "justification", "mail_hostname",
                                     "subscriber_id"])
def test_a_missing_required_field_is_a_422_naming_it(shared, missing):
    body = api_request()
    del body[missing]
    assert_problem(shared.customer.post("/api/v1/cases", json=body), 422, field=missing)
    assert shared.unchanged()


@pytest.mark.parametrize("email", [None, "ninguem@example.com.br", "{operator}"])
def test_staff_must_name_an_existing_customer(shared, email):
    body = api_request()
    if email is not None:
        body["customer_email"] = email.format(operator=shared.operator_person.email)
    response = shared.operator.post("/api/v1/cases", json=body)
    assert_problem(response, 422, field="customer_email")
    assert shared.unchanged()


@pytest.mark.parametrize("action, body, field", [
    ("approve", {"valid_days": 0}, "valid_days"),
    ("approve", {"valid_days": 100000}, "valid_days"),
    ("approve", {"valid_days": "30"}, "valid_days"),
    ("approve", {"version": "2"}, "version"),
    ("approve", {"message": "x" * 4001}, "message"),
    ("reject", {}, "reason_code"),
    ("reject", {"reason_code": "sem_motivo"}, "reason_code"),
    ("request_info", {}, "message"),
    ("request_info", {"message": 42}, "message"),
    ("request_info", {"message": "Qual\x00?"}, "message"),
    ("reject", {"reason_code": "other\x00"}, "reason_code"),
    ("approve", {"note": "a mais"}, "note"),
])
def test_a_bad_action_field_is_a_422_naming_it(shared, action, body, field):
    response = shared.operator.act(shared.protocol, action, **body)
    assert_problem(response, 422, field=field)
    assert shared.unchanged()


@pytest.mark.parametrize("query, field", [
    ("limit=0", "limit"), ("limit=101", "limit"), ("limit=muitos", "limit"),
    ("status=aberto", "status"), ("uf=XX", "uf"), ("cursor=%%%", "cursor"),
    ("cursor=bm9wZQ", "cursor"), ("q=" + "x" * 201, "q"), ("q=a%00b", "q"),
])
def test_a_bad_list_parameter_is_a_422_naming_it(shared, query, field):
    assert_problem(shared.operator.get(f"/api/v1/cases?{query}"), 422, field=field)


# --- language ----------------------------------------------------------------------------

def test_problems_are_in_portuguese_by_default(shared):
    body = assert_problem(shared.app.test_client().get("/api/v1/cases"), 401)
    assert "Envie o token" in body["detail"]
