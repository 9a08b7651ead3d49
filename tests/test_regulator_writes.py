"""Auditors change nothing: every POST route of the app — desk, customers' portal, API,
supervisors' pages — answers an auditor 403 for a case of their own state, and nothing
is stored. The routes come from the app's url_map, so a new one is covered; the few an
auditor may use are listed below with the reason."""

from __future__ import annotations

import pytest
from werkzeug.routing import Rule

from app import create_app
from tests.api_support import make_token
from tests.desk_support import signed_in
from tests.factories import act, make_case, make_user, snapshot, unique_target
from tests.records_support import issue_pending, records_of
from workflow.records import codes

# POST routes an auditor may use, and why.
AUDITORS_OWN = {
    "auth.login": "signing in", "auth.code": "the second factor",
    "auth.enrol": "enrolling the second factor", "auth.logout": "signing out",
    "auth.language": "the page language (session only)",
    "auth.register": "anyone may open a customer account",
    "records.identify": "checking a PDF publicly (nothing kept)",
    "records.verify": "checking a PDF publicly (nothing kept)",
    "audit.reveal": "their own act: seeing a case's personal data, with a reason (audited)",
    "audit.ask_dossier": "their own act: a masked dossier of the case (audited)",
    "audit.reports_request": "their own act: a period report of their scope",
}
ACTIONS = {"desk.act": "claim", "portal.act": "cancel", "api.perform_action": "approve",
           "desk.reason_code_edit": "reject"}


def _post_rules() -> list[Rule]:
    app = create_app({"TESTING": True, "SECRET_KEY": "rules", "DATABASE_URL": "sqlite://"})
    return sorted((rule for rule in app.url_map.iter_rules()
                   if "POST" in rule.methods and rule.endpoint not in AUDITORS_OWN),
                  key=lambda rule: (rule.rule, rule.endpoint))


RULES = _post_rules()


@pytest.fixture(scope="module")
def world(module_app):
    """An SP case claimed by an operator, with its receipt, and a PROCON-SP signed in."""
    app = module_app
    customer, operator = make_user(app, uf="SP"), make_user(app, "operator")
    protocol = make_case(app, customer, target=unique_target())
    act(app, protocol, "claim", operator)
    issue_pending(app)
    (receipt,) = records_of(app, protocol, "receipt")
    auditor = make_user(app, "auditor", uf="SP")
    browser = signed_in(app, auditor)
    return {"app": app, "protocol": protocol, "browser": browser,
            "token": make_token(app, auditor), "csrf": browser.csrf_token("/regulador/"),
            "values": {"protocol": protocol, "code": codes.display(receipt.code), "uf": "SP",
                       "day": "2026-12-25", "user_id": operator.id, "delivery_id": 1,
                       "endpoint_id": 1, "change": "disable"}}


def test_the_sweep_sees_the_routes_that_write():
    endpoints = {rule.endpoint for rule in RULES}
    assert {"desk.act", "desk.note", "desk.reissue", "desk.ask_dossier", "portal.act",
            "api.create_case", "api.perform_action", "desk.reset_totp"} <= endpoints


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: f"{rule.endpoint} {rule.rule}")
def test_every_write_route_refuses_an_auditor(world, rule):
    app, protocol = world["app"], world["protocol"]
    values = {**world["values"], "action": ACTIONS.get(rule.endpoint, "claim")}
    if rule.endpoint == "desk.reason_code_edit":
        values["code"] = "other"
    url = rule.build({name: values[name] for name in rule.arguments})[1]
    before = snapshot(app, protocol)

    if rule.endpoint.startswith("api."):
        response = app.test_client().post(
            url, json={}, headers={"Authorization": f"Bearer {world['token']}"})
    else:
        response = world["browser"].client.post(url, data={"csrf_token": world["csrf"]})

    assert response.status_code == 403, response.get_data(as_text=True)[:300]
    assert snapshot(app, protocol) == before  # the case, and nothing audited
