"""The desk's work queue: nearest deadline first, filters, search, keyset pages, who may see."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest

from models import User, db, utcnow
from tests.desk_support import case_url, set_deadline, signed_in
from tests.factories import act, make_case, make_user
from tests.helpers import Browser
from workflow.errors import InvalidInput
from workflow.queue import queue

PROTOCOL = re.compile(r'class="protocol" href="/desk/cases/(\d{13})"')
NEXT = re.compile(r'<a href="([^"]+)" rel="next">')


def listed(page: str) -> list[str]:
    """Protocols in the order the queue shows them."""
    return PROTOCOL.findall(page)


def test_queue_shows_the_nearest_deadline_first_and_flags_missed_ones(app):
    customer, operator = make_user(app), make_user(app, "operator")
    later, soon, missed, decided = (make_case(app, customer) for _ in range(4))
    now = utcnow()
    set_deadline(app, later, now + timedelta(days=5))
    set_deadline(app, soon, now + timedelta(days=1))
    set_deadline(app, missed, now - timedelta(hours=2))
    act(app, decided, "claim", operator)
    act(app, decided, "reject", operator, reason_code="other")

    browser = signed_in(app, operator)
    page = browser.text("/desk/?status=all")

    assert listed(page) == [missed, soon, later, decided]  # decided: no deadline, last
    missed_row = page.split(missed)[2].split("</tr>")[0]
    assert 'class="clock-missed"' in missed_row and "vencido" in missed_row
    assert "vencido" not in page.split(soon)[2].split("</tr>")[0]


@pytest.fixture
def world(app):
    """Two customers in two states, a case each in different stages, and an operator."""
    ana = make_user(app, name="Ana Pereira", email="ana.pereira@example.com.br", uf="SP")
    bruno = make_user(app, name="Bruno Costa", email="bruno@costa.net.br", uf="RJ")
    operator = make_user(app, "operator")
    cases = {
        "ana": make_case(app, ana, target="203.0.113.10", category="own_mail_server"),
        "bruno": make_case(app, bruno, target="203.0.113.20", category="smtp_application"),
        "closed": make_case(app, ana, target="203.0.113.30", category="other"),
    }
    act(app, cases["bruno"], "claim", operator)
    act(app, cases["closed"], "claim", operator)
    act(app, cases["closed"], "reject", operator, reason_code="other")
    return cases, signed_in(app, operator)


@pytest.mark.parametrize(("query", "expected"), [
    ("", {"ana", "bruno"}),  # default: open cases only
    ("status=all", {"ana", "bruno", "closed"}),
    ("status=in_review", {"bruno"}),
    ("status=rejected", {"closed"}),
    ("uf=RJ", {"bruno"}),
    ("status=all&uf=SP", {"ana", "closed"}),
    ("category=smtp_application", {"bruno"}),
    ("status=all&category=other", {"closed"}),
    ("q=ANA.PEREIRA@EXAMPLE", {"ana"}),  # e-mail, any case
    ("q=bruno", {"bruno"}),  # name
    ("q=costa.net", {"bruno"}),
    ("q=113.20", {"bruno"}),  # target substring
    ("q=2026", {"ana", "bruno"}),  # every protocol starts with the year
    ("q=nada-disso", set()),
])
def test_queue_filters_and_search(world, query, expected):
    cases, browser = world
    page = browser.text(f"/desk/?{query}")
    assert set(listed(page)) == {cases[name] for name in expected}
    if not expected:
        assert "Nenhum caso encontrado" in page


@pytest.mark.parametrize("length", [13, 12])
def test_search_by_protocol_is_exact_or_prefix(world, length):
    cases, browser = world
    assert listed(browser.text(f"/desk/?q={cases['bruno'][:length]}")) == [cases["bruno"]]


def walk(browser: Browser, url: str) -> list[list[str]]:
    """Follow the "next page" links from ``url``; the protocols of each page."""
    pages = []
    while url:
        page = browser.text(url)
        pages.append(listed(page))
        found = NEXT.search(page)
        url = html.unescape(found.group(1)) if found else None
        assert url is None or "uf=SP" in url  # the filters travel with the cursor
    return pages


def test_keyset_pages_return_every_case_once_in_queue_order(app_factory):
    app = app_factory(PAGE_SIZE=2)
    customer, operator = make_user(app, uf="SP"), make_user(app, "operator")
    elsewhere = make_case(app, make_user(app, uf="RJ"))
    protocols = [make_case(app, customer) for _ in range(6)]
    now = utcnow()
    # Ties on the deadline are broken by id; a paused case (no deadline) comes last.
    for protocol, days in zip(protocols[:4], [3, 1, 3, 1], strict=True):
        set_deadline(app, protocol, now + timedelta(days=days))
    act(app, protocols[4], "claim", operator)
    act(app, protocols[4], "request_info", operator, message="Qual é o domínio?")

    pages = walk(signed_in(app, operator), "/desk/?uf=SP")

    assert [len(p) for p in pages] == [2, 2, 2]
    shown = [p for page in pages for p in page]
    assert shown == [protocols[1], protocols[3], protocols[0], protocols[2], protocols[5],
                     protocols[4]]
    assert elsewhere not in shown


def test_a_garbled_cursor_is_a_clear_error(app):
    browser = signed_in(app, make_user(app, "operator"))
    response = browser.get("/desk/?after=bm90LWEtY3Vyc29y")
    assert response.status_code == 400
    assert "Cursor de paginação inválido." in response.get_data(as_text=True)


def test_an_unknown_filter_value_is_refused(app):
    browser = signed_in(app, make_user(app, "operator"))
    response = browser.get("/desk/?status=lost")
    assert response.status_code == 400
    assert 'aria-invalid="true"' in response.get_data(as_text=True)


@pytest.mark.parametrize("role", ["customer", "provider"])
def test_customers_and_providers_may_not_use_the_desk(app, role):
    protocol = make_case(app, make_user(app))
    browser = signed_in(app, make_user(app, role))
    for url in ("/desk/", case_url(protocol)):
        assert browser.get(url).status_code == 403
    response = browser.client.post(f"{case_url(protocol)}/actions/claim",
                                   data={"csrf_token": browser.csrf_token("/desk/")})
    assert response.status_code == 403


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get("/desk/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize(("status", "expected"), [
    (None, {"submitted", "in_review"}),  # None: every status
    ("in_review", {"in_review"}),
    (["submitted"], {"submitted"}),
])
def test_the_queue_function_takes_one_status_several_or_none(app, status, expected):
    """The contract the API builds on (GET /api/v1/cases)."""
    operator = make_user(app, "operator")
    customer = make_user(app)
    make_case(app, customer)
    act(app, make_case(app, customer), "claim", operator)
    with app.app_context():
        rows, cursor = queue(db.session.get(User, operator.id), status=status)
        assert {row.status.value for row in rows} == expected and cursor is None


@pytest.mark.parametrize(("arguments", "field"), [
    ({"status": "lost"}, "status"), ({"category": "spam"}, "category"),
    ({"limit": 0}, "limit"), ({"limit": 201}, "limit"), ({"after": "%%%"}, "after"),
    ({"after": "WzEsMl0"}, "after"),  # valid base64 and JSON, but not a cursor
])
def test_the_queue_function_names_the_bad_argument(app, arguments, field):
    operator = make_user(app, "operator")
    with app.app_context(), pytest.raises(InvalidInput) as refused:
        queue(db.session.get(User, operator.id), **arguments)
    assert refused.value.field == field
