"""Object-level authorisation over every URL that names a case: whoever may not see a
case gets 404 for it — the same answer as for a protocol that does not exist — and
nothing changes. The URLs come from the app's own url_map, so a new one is covered."""

from __future__ import annotations

import pytest
from werkzeug.routing import Rule

from tests.api_support import make_token
from tests.factories import make_case, make_user, snapshot
from tests.helpers import Browser
from workflow.protocol import format_protocol

ACTIONS = {"act": "cancel", "perform_action": "approve"}


def case_rules(app) -> list[Rule]:
    return sorted((r for r in app.url_map.iter_rules() if "protocol" in r.arguments),
                  key=lambda r: r.rule)


def url(rule: Rule, protocol: str) -> str:
    values = {"protocol": protocol}
    if "action" in rule.arguments:
        values["action"] = ACTIONS[rule.endpoint.split(".")[1]]
    if "code" in rule.arguments:  # a record of the case: the case is checked first
        values["code"] = "AAAA-BBBB-CCCC-DDDD"
    return rule.build(values)[1]


def call(app, who, rule: Rule, protocol: str):
    """Request the URL as ``who``: the API with a bearer token, pages signed in."""
    method = "POST" if "POST" in rule.methods else "GET"
    target = url(rule, protocol)
    if rule.endpoint.startswith("api."):
        headers = {"Authorization": f"Bearer {make_token(app, who)}"}
        return app.test_client().open(target, method=method, headers=headers, json={})
    browser = Browser(app.test_client())
    browser.login(who.email)
    if method == "GET":
        return browser.get(target)
    return browser.submit(target, {"message": "x" * 40}, page="/login", follow=False)


@pytest.fixture
def world(app):
    owner = make_user(app, uf="RJ")
    protocol = make_case(app, owner)
    return {"protocol": protocol, "stranger": make_user(app),
            "procon_sp": make_user(app, "auditor", uf="SP")}


@pytest.mark.parametrize("who", ["stranger", "procon_sp"])
def test_a_case_outside_ones_view_is_404_on_every_url(app, world, who):
    person, protocol = world[who], world["protocol"]
    before = snapshot(app, protocol)
    for rule in case_rules(app):
        if who == "stranger" and rule.endpoint.startswith(("desk.", "audit.")):
            expected = 403  # customers never enter the desk nor the regulators' portal
        elif who == "procon_sp" and rule.endpoint.startswith("portal."):
            expected = 403  # nor auditors the customers' portal
        elif who == "procon_sp" and rule.endpoint.startswith("desk."):
            # Auditors read on /regulador: the desk sends them there (where the case is
            # 404) or refuses them whatever the case (403 tells nothing about it).
            expected = 302 if rule.endpoint == "desk.case" else 403
        else:
            expected = 404
        response = call(app, person, rule, protocol)
        assert response.status_code == expected, (rule.rule, response.status_code)
    after = snapshot(app, protocol)  # sign-ins are audited: compare the case only
    assert (after.status, after.version) == (before.status, before.version)


def test_an_unknown_protocol_answers_exactly_like_someone_elses(app, world):
    stranger = world["stranger"]
    rule = next(r for r in case_rules(app) if r.endpoint == "api.get_case")
    theirs = call(app, stranger, rule, world["protocol"]).get_json()
    missing = call(app, stranger, rule, format_protocol(2026, 99_999_999)).get_json()
    assert theirs == missing
