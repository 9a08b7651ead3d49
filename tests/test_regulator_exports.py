"""Regulators' exports and the trail: cases and audit events as CSV and JSON Lines, in
scope only, streamed and audited; the trail page's filters and pages; GET
/api/v1/audit/events in the token owner's scope (auditors, supervisors; nobody else)."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from sqlalchemy import select

from models import AuditEvent, AuditHead, db
from tests.api_support import make_token
from tests.desk_support import Cast, signed_in
from tests.factories import act, make_case, unique_target
from workflow import audit

PORTAL = "/regulador/"


@pytest.fixture
def world(app):
    """SP and RJ cases in a few states, and who reads them."""
    people = Cast(app, paulista=("customer", {"name": "Ana Pereira", "uf": "SP"}),
                  carioca=("customer", {"name": "Bruno Costa", "uf": "RJ"}),
                  operator=("operator", {}), supervisor=("supervisor", {}),
                  procon=("auditor", {"uf": "SP"}), anatel=("auditor", {}),
                  provider=("provider", {}))
    sp = [make_case(app, people["paulista"], target=unique_target()) for _ in range(3)]
    rj = [make_case(app, people["carioca"], target=unique_target()) for _ in range(2)]
    act(app, sp[0], "claim", people["operator"])
    act(app, rj[0], "claim", people["operator"])
    return {"people": people, "sp": sp, "rj": rj}


def exported(browser, url: str) -> tuple:
    """The export's response and text; it is streamed (a generator, not a body)."""
    response = browser.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.is_streamed
    return response, response.get_data(as_text=True)


def jsonl(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


def events_of(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        rows = db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                  .order_by(AuditEvent.seq)).all()
        db.session.expunge_all()
        return rows


def head(app) -> int:
    with app.app_context():
        return db.session.get(AuditHead, 1).seq


def test_a_procon_exports_its_states_cases_as_csv_without_personal_data(app, world):
    people = world["people"]
    procon = signed_in(app, people["procon"])

    response, text = exported(procon, f"{PORTAL}exportar/casos.csv")

    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "private, no-store"
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    assert sorted(r["protocol"] for r in rows) == sorted(world["sp"])
    assert {r["uf"] for r in rows} == {"SP"} and rows[0]["customer_id"]
    # Nor the contract nor the address the terms were accepted from (make_case's).
    for personal in ("Ana Pereira", people["paulista"].email, "99999-0000", "justification",
                     "CTR-0042", "subscriber", "127.0.0.1", "terms_accepted_from"):
        assert personal not in text
    (event,) = events_of(app, "case:list_exported")
    assert (event.actor_id, event.uf, event.object_type) == (people["procon"].id, "SP",
                                                            "export")
    assert json.loads(event.details) == {"format": "csv", "filters": {}, "rows": 3}


def test_the_cases_export_follows_the_lists_filters(app, world):
    anatel = signed_in(app, world["people"]["anatel"])

    _, everything = exported(anatel, f"{PORTAL}exportar/casos.jsonl")
    _, claimed = exported(anatel, f"{PORTAL}exportar/casos.jsonl?status=in_review")
    _, rio = exported(anatel, f"{PORTAL}exportar/casos.jsonl?uf=RJ&status=submitted")

    assert sorted(r["protocol"] for r in jsonl(everything)) == sorted(world["sp"] + world["rj"])
    assert "CTR-0042" not in everything and "127.0.0.1" not in everything
    assert {r["protocol"] for r in jsonl(claimed)} == {world["sp"][0], world["rj"][0]}
    assert [r["protocol"] for r in jsonl(rio)] == [world["rj"][1]]
    assert [json.loads(e.details)["filters"] for e in events_of(app, "case:list_exported")] == [
        {}, {"status": "in_review"}, {"status": "submitted", "uf": "RJ"}]


def test_a_search_text_never_enters_the_trail(app, world):
    """It may be a name or a CPF, and the chain keeps what it holds for ever."""
    anatel = signed_in(app, world["people"]["anatel"])
    exported(anatel, f"{PORTAL}exportar/casos.csv?q=Ana+Pereira+123.456.789-09")
    (event,) = events_of(app, "case:list_exported")
    assert json.loads(event.details)["filters"] == {"search": True}
    assert "Pereira" not in event.details and "123" not in event.details


def test_a_procon_exports_its_states_events_and_every_hash_recomputes(app, world):
    people = world["people"]
    procon = signed_in(app, people["procon"])
    last = head(app)

    response, text = exported(procon, f"{PORTAL}exportar/trilha.jsonl")

    assert response.mimetype == "application/jsonl"
    lines = jsonl(text)
    assert lines and {line["uf"] for line in lines} == {"SP"}
    assert {line["object_id"] for line in lines if line["object_type"] == "case"} == set(
        world["sp"])
    for line in lines:
        body = {k: v for k, v in line.items() if k not in ("prev_hash", "hash")}
        assert audit.chain_hash(line["seq"], bytes.fromhex(line["prev_hash"]),
                                body).hex() == line["hash"]
    (event,) = events_of(app, "audit:events_exported")
    details = json.loads(event.details)
    assert details == {"format": "jsonl", "filters": {}, "rows": len(lines), "up_to_seq": last}
    assert event.seq > max(line["seq"] for line in lines) and event.uf == "SP"


def test_the_events_export_follows_the_trails_filters(app, world):
    anatel = signed_in(app, world["people"]["anatel"])
    protocol = world["rj"][0]

    _, text = exported(anatel, f"{PORTAL}exportar/trilha.csv?protocol={protocol}"
                               "&action=case:claimed")

    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    assert [(r["action"], r["object_id"], r["uf"]) for r in rows] == [
        ("case:claimed", protocol, "RJ")]
    assert json.loads(rows[0]["details"]) == {"from": "submitted", "to": "in_review",
                                              "assignee_id": world["people"]["operator"].id}
    (event,) = events_of(app, "audit:events_exported")
    assert json.loads(event.details)["filters"] == {"action": "case:claimed",
                                                    "protocol": protocol}


def test_the_trail_page_filters_and_pages_back_by_seq(app, world):
    people = world["people"]
    procon = signed_in(app, people["procon"])

    page = procon.text(f"{PORTAL}trilha/")
    seqs = [int(s) for s in re.findall(r"<tr>\s*<td>(\d+)", page)]
    assert seqs and seqs == sorted(seqs, reverse=True) and world["rj"][0] not in page
    claimed = procon.text(f"{PORTAL}trilha/?action=case:claimed&actor=operator")
    assert claimed.count("case:claimed</code>") == 1 and world["sp"][0] in claimed
    by_user = procon.text(f"{PORTAL}trilha/?actor={people['operator'].id}")
    assert by_user.count("case:claimed</code>") == 1

    with app.app_context():
        app.config["PAGE_SIZE"] = 2
    first = procon.text(f"{PORTAL}trilha/?uf=SP")
    older = re.search(r'href="(/regulador/trilha/\?[^"]*before=\d+)"', first).group(1)
    second = procon.text(older.replace("&amp;", "&"))
    one = [int(s) for s in re.findall(r"<tr>\s*<td>(\d+)", first)]
    two = [int(s) for s in re.findall(r"<tr>\s*<td>(\d+)", second)]
    assert len(one) == len(two) == 2 and max(two) < min(one)
    # A page mark beyond any event (the column's range included) starts from the newest.
    beyond = procon.text(f"{PORTAL}trilha/?uf=SP&before=99999999999")
    assert [int(s) for s in re.findall(r"<tr>\s*<td>(\d+)", beyond)] == one


@pytest.mark.parametrize(("query", "field_error"), [
    ("start=2026-02-30", "Data inválida"), ("start=2026-03-02&end=2026-03-01",
                                            "A data final é anterior à data inicial."),
    ("actor=zelador", "Informe um perfil"), ("actor=99999999999", "Informe um perfil"),
    ("action=case:exploded", "Ação desconhecida"),
    ("uf=XX", "UF desconhecida"),
])
def test_bad_trail_filters_are_explained(app, world, query, field_error):
    procon = signed_in(app, world["people"]["procon"])
    response = procon.get(f"{PORTAL}trilha/?{query}")
    assert response.status_code == 400 and field_error in response.get_data(as_text=True)
    before = head(app)
    assert procon.get(f"{PORTAL}exportar/trilha.csv?{query}").status_code == 422
    assert head(app) == before  # a refused export is not an export


def api(app, person, query: str = ""):
    token = make_token(app, person)
    return app.test_client().get(f"/api/v1/audit/events{query}",
                                 headers={"Authorization": f"Bearer {token}"})


@pytest.mark.parametrize(("who", "ufs"), [("procon", {"SP"}), ("anatel", {"SP", "RJ", None}),
                                          ("supervisor", {"SP", "RJ", None})])
def test_the_api_reads_the_trail_in_the_token_owners_scope(app, world, who, ufs):
    response = api(app, world["people"][who], "?limit=1000")

    assert response.status_code == 200
    body = response.get_json()
    assert {e["uf"] for e in body["events"]} == ufs
    assert body["head"] == body["next_after"] == head(app)  # every event up to it was read
    assert [e["seq"] for e in body["events"]] == sorted(e["seq"] for e in body["events"])


def test_the_api_pages_forwards_by_seq(app, world):
    anatel = world["people"]["anatel"]
    first = api(app, anatel, "?limit=3").get_json()
    assert [e["seq"] for e in first["events"]] == [1, 2, 3] and first["next_after"] == 3
    second = api(app, anatel, "?after=3&limit=3").get_json()
    assert [e["seq"] for e in second["events"]] == [4, 5, 6]
    event = second["events"][0]
    assert set(event) == {"seq", "occurred_at", "actor_id", "actor_role", "source_ip",
                          "action", "object_type", "object_id", "uf", "details",
                          "prev_hash", "hash"}
    assert event["prev_hash"] == first["events"][-1]["hash"]
    # A PROCON's client jumps over other states' events: nothing of its own is left.
    procon = api(app, world["people"]["procon"], f"?after={head(app)}").get_json()
    assert procon["events"] == [] and procon["next_after"] == procon["head"]


@pytest.mark.parametrize("who", ["operator", "paulista", "provider"])
def test_the_api_trail_is_for_auditors_and_supervisors(app, world, who):
    response = api(app, world["people"][who])
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize("query", ["?limit=0", "?limit=1001", "?after=-1", "?after=x",
                                   "?after=2147483648"])
def test_the_api_explains_a_bad_page(app, world, query):
    response = api(app, world["people"]["anatel"], query)
    assert response.status_code == 422 and response.get_json()["field"] in ("limit", "after")
