"""The English interface: a complete catalogue, and pages and API errors that use it.

Message ids are the Portuguese texts; translations/en holds their English. The
catalogue test extracts the messages the way `make messages` does, so a new
Portuguese string without its English fails here and is named.
"""

from __future__ import annotations

import os
import re
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from tests.api_support import Api
from tests.factories import make_case, make_people, unique_target
from tests.helpers import Browser
from tests.portal_support import stored
from workflow.cases import JUSTIFICATION_MIN

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "translations" / "en" / "LC_MESSAGES" / "messages.po"
# As the Makefile's `pybabel extract -k _l -k lazy_gettext
# --ignore-dirs='.* _* tests bench migrations'` (babel.cfg gives the method map).
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
IGNORED_DIRS = ("tests", "bench", "migrations")
PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|\{\w+\}")


def _compile_if_needed() -> None:
    """`make translations` compiles before `make test`; this lets a bare `pytest` run too.

    Runs at import, before any app loads (and caches) its translations. The .mo is
    gitignored; it is written atomically because two runs (SQLite, PostgreSQL) may race.
    """
    mo = PO.with_suffix(".mo")
    if mo.exists() and mo.stat().st_mtime >= PO.stat().st_mtime:
        return
    with PO.open("rb") as source:
        catalog = read_po(source)
    partial = mo.with_name(f"messages.{os.getpid()}.mo.tmp")
    with partial.open("wb") as target:
        write_mo(target, catalog)
    os.replace(partial, mo)


_compile_if_needed()


def _catalogue():
    with PO.open("rb") as source:
        return read_po(source)


def _extracted() -> dict:
    """{msgid: first place it was found} for every message of the product's code."""
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)

    def keep_dir(path: str) -> bool:
        name = os.path.basename(path)
        return not name.startswith((".", "_")) and name not in IGNORED_DIRS

    found = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS,
            directory_filter=keep_dir):
        found.setdefault((message, context), f"{filename}:{lineno}")
    return found


def test_every_message_of_the_product_has_an_english_translation():
    catalog = _catalogue()
    extracted = _extracted()
    assert len(extracted) > 300, "extraction found too little: is the method map right?"

    missing = []
    for (message, context), where in sorted(extracted.items(), key=lambda kv: kv[1]):
        msgid = message[0] if isinstance(message, tuple) else message
        entry = catalog.get(msgid, context)
        forms = entry and (entry.string if isinstance(entry.string, tuple) else (entry.string,))
        if entry is None or entry.fuzzy or not all(forms):
            missing.append(f"{where}: {msgid!r}")

    assert not missing, (f"{len(missing)} message(s) without English in {PO.name} "
                         "(run `make messages` and translate them):\n" + "\n".join(missing))


def test_english_keeps_every_placeholder_of_the_portuguese():
    wrong = []
    for entry in _catalogue():
        if not entry.id:
            continue
        ids = entry.id if isinstance(entry.id, tuple) else (entry.id,)
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        expected = sorted(PLACEHOLDER.findall(ids[-1]))
        for text in strings:
            if text and sorted(PLACEHOLDER.findall(text)) != expected:
                wrong.append(f"{ids[0]!r} → {text!r}")
    assert not wrong, "placeholders differ:\n" + "\n".join(wrong)


# --- pages in English --------------------------------------------------------------

class _Visible(HTMLParser):
    """The text of the elements people scan first (headings, buttons, labels, links, …)
    and of the attributes that speak to them (aria-label, data-label, …)."""

    TAGS = {"h1", "h2", "h3", "button", "label", "th", "summary", "legend", "a", "option",
            "caption", "title", "small", "p", "dt", "strong"}
    ATTRIBUTES = {"aria-label", "data-label", "title", "placeholder", "data-counter"}

    def __init__(self):
        super().__init__()
        self.open: list[list[str]] = []
        self.texts: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.texts.extend(value for name, value in attrs if name in self.ATTRIBUTES and value)
        if tag in self.TAGS:
            self.open.append([])

    def handle_endtag(self, tag):
        if tag in self.TAGS and self.open:
            text = " ".join("".join(self.open.pop()).split())
            if text:
                self.texts.append(text)

    def handle_data(self, data):
        for parts in self.open:
            parts.append(data)


def visible(page: str) -> list[str]:
    parser = _Visible()
    parser.feed(page)
    return parser.texts


@pytest.fixture(scope="module")
def portuguese_only():
    """Portuguese msgids whose English differs: none may be left on an English page."""
    return {e.id for e in _catalogue() if e.id and isinstance(e.id, str) and e.string
            and e.string != e.id}


def assert_english(page: str, portuguese_only: set[str], *expected: str) -> None:
    leftovers = sorted({t for t in visible(page) if t in portuguese_only})
    assert not leftovers, f"Portuguese left on an English page: {leftovers}"
    assert '<html lang="en">' in page
    # Markup as written (``<h1>Sign in</h1>``) or text as read, tags dropped.
    readable = unescape(page), unescape(re.sub(r"<[^>]+>", "", page))
    missing = [text for text in expected if not any(text in form for form in readable)]
    assert not missing, f"missing from the English page: {missing}"


def in_english(browser: Browser, url: str):
    """Choose English with the header's switch on ``url``; returns the page it leads back to."""
    response = browser.submit("/language", {"locale": "en", "next": url}, page=url)
    assert response.status_code == 200, response.status_code
    return response


def request_form(**overrides) -> dict:
    """The request form as a customer fills it (Portuguese free text is the customer's)."""
    return {"target": unique_target(), "subscriber_id": "CTR-0042",
            "category": "own_mail_server",
            "justification": "Servidor de e-mail da empresa, com SPF, DKIM e DMARC configurados.",
            "mail_hostname": "mail.exemplo.com.br", "terms_version": "2026-11",
            "accept_terms": "y", **overrides}


@pytest.fixture
def app(module_app):
    return module_app


@pytest.fixture(scope="module")
def people(module_app):
    return make_people(module_app, "customer", "operator")


@pytest.fixture
def customer_browser(app, people):
    browser = Browser(app.test_client())
    browser.login(people.customer.email)
    return browser


def test_sign_in_page_in_english(browser, portuguese_only):
    page = in_english(browser, "/login").get_data(as_text=True)

    assert_english(page, portuguese_only, "<h1>Sign in</h1>", "Password",
                   "Don't have an account yet?", "Create account", "Skip to content")
    assert ">Português</button>" in page  # the way back


def test_failed_sign_in_is_explained_in_english(browser, portuguese_only):
    in_english(browser, "/login")

    wrong = browser.submit("/login", {"email": "nobody@example.com.br",
                                      "password": "wrong-password"}).get_data(as_text=True)
    empty = browser.submit("/login", {"email": "", "password": ""}).get_data(as_text=True)

    assert_english(wrong, portuguese_only, "Incorrect email or password.")
    # WTForms' own messages come translated through Flask-WTF.
    assert_english(empty, portuguese_only, "This field is required.")


def test_portal_guide_in_english(customer_browser, portuguese_only):
    page = in_english(customer_browser, "/portal/guide").get_data(as_text=True)

    assert_english(page, portuguese_only, "Before you ask: what do you want to do?",
                   "Run my own mail server", "Request an exception", "My requests",
                   "Sign out")

    answer = customer_browser.text("/portal/guide?need=mail_client")
    assert_english(answer, portuguese_only, "You don't need an exception",
                   "Outgoing (SMTP) server settings", "Step by step")


def test_request_form_in_english_refuses_a_private_address_in_english(
        app, customer_browser, portuguese_only):
    form = in_english(customer_browser, "/portal/cases/new").get_data(as_text=True)
    assert_english(form, portuguese_only, "Request a port 25 exception", "1. Address",
                   "IP address or prefix", "What do you need port 25 for?",
                   f"Between {JUSTIFICATION_MIN} and 4,000 characters.", "Submit request",
                   "{count} of 4,000 characters", "I have read and accept the terms of use above.")
    before = stored(app)

    private = customer_browser.submit("/portal/cases/new", request_form(target="10.0.0.7"))
    not_a_number = customer_browser.submit("/portal/cases/new",
                                           request_form(messages_per_day="many"))

    assert private.status_code == not_a_number.status_code == 422
    assert_english(private.get_data(as_text=True), portuguese_only,
                   "10.0.0.7/32 is a private address and cannot be granted an exception.")
    assert_english(not_a_number.get_data(as_text=True), portuguese_only,
                   "Enter a whole number, such as 500 or 1500.")
    assert stored(app) == before


def test_a_request_filed_in_english_leads_to_its_case_page_in_english(
        customer_browser, portuguese_only):
    in_english(customer_browser, "/portal/cases/new")

    filed = customer_browser.submit("/portal/cases/new", request_form())

    page = filed.get_data(as_text=True)
    protocol = re.search(r'<strong class="protocol">(\d{13})</strong>', page).group(1)
    assert_english(page, portuguese_only,
                   f"Request filed. Protocol number {protocol}. Please keep this number.",
                   "Protocol number", "Received", "Deadlines", "Response (7 calendar days)",
                   "History", "Request filed", "What you sent", "Cancel the request",
                   "Yes, cancel the request", "Terms of use")


def test_desk_queue_in_english(app, people, portuguese_only):
    protocol = make_case(app, people.customer, target=unique_target())
    browser = Browser(app.test_client())
    browser.login(people.operator.email)

    page = in_english(browser, "/desk/").get_data(as_text=True)

    assert_english(page, portuguese_only, "<h1>Case queue</h1>", "Open (waiting for the team)",
                   "Filter", "Clear filters", "Nearest deadline", "Assigned to",
                   "Own mail server", protocol)


def test_english_chosen_before_signing_in_stays_through_sign_in_and_out(
        app, people, browser, portuguese_only):
    in_english(browser, "/login")

    home = browser.login(people.customer.email).get_data(as_text=True)
    goodbye = browser.submit("/logout", page="/portal/").get_data(as_text=True)

    assert_english(home, portuguese_only, "<h1>My requests</h1>")
    assert_english(goodbye, portuguese_only, "You have signed out.")


def test_portuguese_comes_back_with_the_switch(browser):
    in_english(browser, "/login")

    page = browser.submit("/language", {"locale": "pt_BR", "next": "/login"},
                          page="/login").get_data(as_text=True)

    assert '<html lang="pt-BR">' in page and "<h1>Entrar</h1>" in page


# --- the API -------------------------------------------------------------------------

@pytest.mark.parametrize(("language", "detail"), [
    ("en", "Send the token in the Authorization header: Bearer <token>."),
    ("pt-BR", "Envie o token no cabeçalho Authorization: Bearer <token>."),
])
def test_api_problem_without_token_speaks_the_clients_language(app, language, detail):
    response = app.test_client().get("/api/v1/cases", headers={"Accept-Language": language})

    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.get_json(force=True)["detail"] == detail


def test_api_domain_and_schema_problems_in_english(app, people):
    api = Api(app, people.customer)
    english = {"Accept-Language": "en-GB,en;q=0.9,pt;q=0.5"}
    body = {"target": "10.0.0.7", "subscriber_id": "CTR-0042", "category": "own_mail_server",
            "justification": "Servidor de e-mail da empresa, com SPF, DKIM e DMARC configurados.",
            "mail_hostname": "mail.exemplo.com.br"}

    problems = {
        "domain": api.post("/api/v1/cases", headers=english, json=body),
        "schema": api.post("/api/v1/cases", headers=english,
                           json={**body, "sending_profile": {"messages_per_day": "many",
                                                             "kind": "bulk"}}),
        "protocol": api.get("/api/v1/cases/123", headers=english),
        "action": api.post("/api/v1/cases/2026000000000/actions/fly", headers=english),
    }

    details = {name: (r.status_code, r.get_json(force=True)["detail"])
               for name, r in problems.items()}
    assert details == {
        "domain": (422, "10.0.0.7/32 is a private address and cannot be granted an exception."),
        "schema": (422, "Wrong type: expected integer."),
        "protocol": (404, "Invalid protocol number: check the 13 digits."),
        "action": (404, "Unknown action: fly."),
    }
    assert all(r.mimetype == "application/problem+json" for r in problems.values())
