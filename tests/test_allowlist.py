"""GET /api/v1/enforcement/allowlist (DESIGN §5): every target allowed now, from one
snapshot with its stream sequence, in three formats, streamed in constant memory."""

from __future__ import annotations

import json
import threading
import tracemalloc
from datetime import timedelta

import pytest
from sqlalchemy import update

from bench.allowlist import insert_synthetic_cases
from models import Case, StreamCounter, TokenScope, User, db, utcnow
from tests.api_support import Api
from tests.factories import act, case_in, make_case, make_people
from workflow import accounts
from workflow.audit import Actor
from workflow.errors import InvalidInput

URL = "/api/v1/enforcement/allowlist"


@pytest.fixture
def people(app):
    return make_people(app, "customer", "operator", "supervisor", "auditor", "provider")


def head(app) -> int:
    with app.app_context():
        return db.session.get(StreamCounter, 1).sequence


def past_validity(app, protocol: str) -> None:
    """An approval whose validity ran out before the worker expired it."""
    with app.app_context():
        db.session.execute(update(Case).where(Case.protocol == protocol)
                           .values(valid_until=utcnow() - timedelta(minutes=1)))
        db.session.commit()


@pytest.fixture
def cases(app, people) -> dict[str, str]:
    """One case in each status that matters, by name; only the first two are allowed."""
    made = {name: case_in(app, status, people)
            for name, status in [("approved", "approved"), ("active", "active"),
                                 ("revoked", "revoked"), ("expired", "expired"),
                                 ("rejected", "rejected"), ("in_review", "in_review"),
                                 ("lapsed", "approved")]}
    past_validity(app, made["lapsed"])
    return made


def targets_of(app, protocols) -> list[str]:
    with app.app_context():
        return sorted(db.session.scalars(db.select(Case.target)
                                          .where(Case.protocol.in_(protocols))))


def test_the_list_holds_approved_and_active_targets_only_with_the_stream_sequence(
        app, people, cases):
    response = Api(app, people.supervisor).get(URL)
    assert response.status_code == 200 and response.mimetype == "application/json"
    body = response.get_json()
    assert body["sequence"] == head(app) > 0
    assert response.headers["ETag"] == f'"{body["sequence"]}"'
    assert [e["protocol"] for e in body["entries"]] == [
        p for _t, p in sorted((t, p) for p in (cases["approved"], cases["active"])
                              for t in targets_of(app, [p]))]
    entry = body["entries"][0]
    assert set(entry) == {"target", "protocol", "subscriber_id", "valid_until"}
    assert entry["subscriber_id"] == "CTR-0042" and entry["valid_until"].endswith("Z")


def test_text_gives_one_prefix_a_line_and_nft_a_script_replacing_both_sets(app, people):
    v4 = make_case(app, people.customer, target="203.0.113.9")
    act(app, v4, "claim", people.operator)
    act(app, v4, "approve", people.operator)
    case_in(app, "active", people, target="2001:db8:25::ab")
    api = Api(app, people.operator)
    text = api.get(f"{URL}?format=text")
    assert text.mimetype == "text/plain"
    assert text.get_data(as_text=True) == "2001:db8:25::ab/128\n203.0.113.9/32\n"
    script = api.get(f"{URL}?format=nft").get_data(as_text=True).splitlines()
    assert script[0] == "#!/usr/sbin/nft -f"
    assert "flush set inet filter porta25_allow4" in script
    assert "flush set inet filter porta25_allow6" in script
    assert script[-2:] == ["add element inet filter porta25_allow4 { 203.0.113.9/32 }",
                           "add element inet filter porta25_allow6 { 2001:db8:25::ab/128 }"]
    assert all(line.startswith(("#", "add ", "flush ")) for line in script)


def test_the_nft_names_are_settings(app_factory):
    app = app_factory(ENFORCEMENT_NFT_TABLE="ip6 edge", ENFORCEMENT_NFT_SET4="v4",
                      ENFORCEMENT_NFT_SET6="v6")
    people = make_people(app, "customer", "operator")
    case_in(app, "approved", people, target="2001:db8:25::cd")
    script = Api(app, people.operator).get(f"{URL}?format=nft").get_data(as_text=True)
    assert "flush set ip6 edge v4\n" in script
    assert "add element ip6 edge v6 { 2001:db8:25::cd/128 }\n" in script


def test_an_unknown_format_is_refused_naming_it(app, people):
    response = Api(app, people.operator).get(f"{URL}?format=csv")
    assert response.status_code == 422 and response.get_json()["field"] == "format"


def test_if_none_match_gives_304_until_the_stream_moves(app, people, cases):
    api = Api(app, people.supervisor)
    etag = api.get(URL).headers["ETag"]
    for value in (etag, f"W/{etag}", f'"0", {etag}', "*"):
        unchanged = api.get(URL, headers={"If-None-Match": value})
        assert unchanged.status_code == 304 and unchanged.data == b""
        assert unchanged.headers["ETag"] == etag
    act(app, cases["approved"], "revoke", people.operator, reason_code="abuse_confirmed")
    changed = api.get(URL, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert [e["protocol"] for e in changed.get_json()["entries"]] == [cases["active"]]


@pytest.mark.parametrize(("who", "status"), [
    (None, 401), ("customer", 403), ("auditor", 403), ("provider", 403),
    ("operator", 200), ("supervisor", 200)])
def test_only_staff_tokens_read_the_list(app, people, who, status):
    api = Api(app, people.of_role(who)) if who else Api(app)
    response = api.get(URL)
    assert response.status_code == status
    if status != 200:
        assert response.mimetype == "application/problem+json"


def test_a_change_committed_while_the_list_streams_is_not_in_it(app, people, cases):
    """One snapshot: the sequence and every row as of the moment the request began."""
    pending = case_in(app, "in_review", people)
    before = head(app)
    response = Api(app, people.supervisor).get(URL, buffered=False)
    chunks = iter(response.response)
    first = next(chunks)  # the sequence is out; no row has been read yet
    approver = threading.Thread(target=act, args=(app, pending, "approve", people.operator))
    approver.start()
    approver.join(timeout=30)
    assert head(app) == before + 1  # committed meanwhile
    body = (first + b"".join(chunks)).decode()
    response.close()
    listed = json.loads(body)
    assert listed["sequence"] == before
    assert pending not in {e["protocol"] for e in listed["entries"]}
    assert pending in {e["protocol"] for e in Api(app, people.supervisor).get(URL)
                       .get_json()["entries"]}


def test_a_client_leaving_early_gives_the_snapshot_back(app, people, cases):
    api = Api(app, people.supervisor)
    for _ in range(8):  # more than the pool would lend if each leaked a connection
        api.get(URL, buffered=False).close()
    with app.app_context():
        assert db.engine.pool.checkedout() == 0
    assert act(app, cases["active"], "revoke", people.operator,
               reason_code="abuse_confirmed") == "revoked"


ENTRIES = 20_000  # bench/allowlist.py streams a million


def test_the_export_streams_in_memory_far_below_its_size(app, people):
    with app.app_context():
        insert_synthetic_cases(ENTRIES, people.customer.id)
    api = Api(app, people.supervisor)
    api.get(f"{URL}?format=text")  # first use: imports, compiled queries, caches
    tracemalloc.start()
    try:
        response = api.get(URL, buffered=False)
        size = sum(len(chunk) for chunk in response.response)
        response.close()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert size > 2_000_000
    assert peak < size / 4, (peak, size)


def test_an_enforcement_token_reads_the_allow_list_and_nothing_else(app, people):
    with app.app_context():
        owner = db.session.get(User, people.supervisor.id)
        token = accounts.create_token(owner, "nft host", actor=Actor.system("tests"),
                                      scope=TokenScope.ENFORCEMENT)
        db.session.commit()
    client, headers = app.test_client(), {"Authorization": f"Bearer {token}"}
    assert client.get(URL, headers=headers).status_code == 200
    assert client.get("/api/v1/enforcement/changes?after=0", headers=headers).status_code == 200
    refused = client.get("/api/v1/cases", headers=headers)
    assert refused.status_code == 403
    assert "só lê a lista de liberação" in refused.get_json()["detail"]
    assert client.post("/api/v1/cases", headers=headers, json={}).status_code == 403


def test_only_staff_own_enforcement_tokens(app, people):
    with app.app_context():
        customer = db.session.get(User, people.customer.id)
        with pytest.raises(InvalidInput):
            accounts.create_token(customer, "x", actor=Actor.system("tests"),
                                  scope=TokenScope.ENFORCEMENT)
