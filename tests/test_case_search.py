"""Searching cases by address, on the desk's queue and the regulators' list alike: an
IP address finds the cases whose target contains it, a network those whose target
overlaps it, IPv4 and IPv6; anything else is still the text search; an auditor's scope
still applies."""

from __future__ import annotations

import re

import pytest

from tests.desk_support import Cast, signed_in
from tests.factories import make_case

LISTS = {"operator": "/desk/", "anatel": "/regulador/", "procon": "/regulador/"}
PROTOCOL = re.compile(r'class="protocol" href="/(?:desk/cases|regulador/casos)/(\d{13})"')


@pytest.fixture
def world(app):
    """SP cases on single addresses, an IPv4 /29 and an IPv6 /64; an RJ /29."""
    people = Cast(app, paulista=("customer", {"uf": "SP"}), carioca=("customer", {"uf": "RJ"}),
                  operator=("operator", {}), anatel=("auditor", {}),
                  procon=("auditor", {"uf": "SP"}))
    cases = {name: make_case(app, people["paulista"], target=target) for name, target in (
        ("one", "203.0.113.1"), ("ten", "203.0.113.10"), ("eleven", "203.0.113.11"),
        ("prefix", "203.0.113.16/29"), ("v6", "2001:db8:25:1::/64"))}
    cases["rio"] = make_case(app, people["carioca"], target="203.0.113.40/29")
    return people, cases


@pytest.mark.parametrize("who", list(LISTS))
@pytest.mark.parametrize(("query", "expected"), [
    ("203.0.113.17", {"prefix"}),  # inside 203.0.113.16/29
    ("203.0.113.23", {"prefix"}),  # its last address
    ("203.0.113.24", set()),  # just past it
    ("203.0.113.1", {"one"}),  # not .10, .11 nor .16/29, which contain the text "113.1"
    ("203.0.113.0/28", {"one", "ten", "eleven"}),  # a network: the cases it overlaps
    ("203.0.113.20/30", {"prefix"}),
    ("203.0.113.11/24", {"one", "ten", "eleven", "prefix", "rio"}),  # host bits: its /24
    ("2001:db8:25:1::abcd", {"v6"}),
    ("2001:DB8:25:1:0:0:0:1", {"v6"}),  # any spelling of the address
    ("2001:db8:25:2::1", set()),
    ("2001:db8:25::/48", {"v6"}),
    ("203.0.113.44", {"rio"}),
    ("113.1", {"one", "ten", "eleven", "prefix"}),  # not an address: text, as before
])
def test_an_address_finds_the_cases_whose_target_covers_it(app, world, who, query, expected):
    people, cases = world
    browser = signed_in(app, people[who])

    page = browser.text(f"{LISTS[who]}?q={query.replace('/', '%2F')}")

    in_scope = {n for n in expected if who != "procon" or n != "rio"}
    assert set(PROTOCOL.findall(page)) == {cases[name] for name in in_scope}


def test_a_procon_never_finds_another_states_case_by_its_address(app, world):
    people, cases = world
    procon = signed_in(app, people["procon"])

    for query in ("203.0.113.41", "203.0.113.40%2F29", "203.0.113.0%2F24"):
        page = procon.text(f"/regulador/?q={query}")
        assert cases["rio"] not in page, query
    exported = procon.get("/regulador/exportar/casos.jsonl?q=203.0.113.41")
    assert exported.status_code == 200 and exported.get_data(as_text=True) == ""
