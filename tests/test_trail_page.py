"""The regulators' trail page as a regulator reads it: labels beside the codes, people and
objects in Portuguese (or English), long details and hashes folded, the time zone named."""

from __future__ import annotations

import re
from html import unescape

import pytest

from models import db, utcnow
from tests.audit_support import KEY
from tests.desk_support import Cast, signed_in
from tests.factories import act, make_case
from tests.records_support import issue_pending, records_of
from workflow import audit, checkpoints, settings_audit
from workflow.audit import Actor, Tag
from workflow.records import codes
from workflow.trail_labels import ACTION_LABELS, _collation_key, action_label

PAGE = "/regulador/trilha/"


@pytest.fixture
def world(app):
    """A claimed case, a change of settings by the CLI, and a national auditor (whose
    sign-in is an event of the trail too)."""
    people = Cast(app, customer=("customer", {}), operator=("operator", {}),
                  anatel=("auditor", {}))
    protocol = make_case(app, people["customer"])
    act(app, protocol, "claim", people["operator"])
    with app.app_context():
        settings_audit.record_changes(actor=Actor.system("cli"))
        db.session.commit()
    return people, protocol


def test_every_tag_has_a_label(app):
    assert set(ACTION_LABELS) == set(Tag)
    with app.test_request_context():
        unlabelled = [tag.value for tag in Tag if action_label(tag.value) == tag.value]
    assert unlabelled == []


def options(page: str) -> list[tuple[str, str]]:
    select = re.search(r'<select[^>]*name="action".*?</select>', page, re.S).group(0)
    return [(value, unescape(label)) for value, label
            in re.findall(r'<option[^>]*value="([^"]*)"[^>]*>([^<]*)</option>', select)]


def outside_details(page: str) -> str:
    return re.sub(r"<details.*?</details>", "", page, flags=re.S)


def test_the_trail_reads_in_portuguese(app, world):
    people, protocol = world
    page = signed_in(app, people["anatel"]).text(PAGE)

    # Each action in words, its code beside it as the exports have it.
    assert re.search(r"Entrada no sistema<br><small><code>user:logged_in</code>", page)
    assert re.search(r"Caso assumido para análise<br><small><code>case:claimed</code>", page)
    assert re.search(r"Configurações alteradas<br><small><code>settings:changed</code>", page)
    # Who, and to what, in Portuguese.
    assert re.search(r"Analista<br><small><code>operator</code> · usuário nº "
                     rf"{people['operator'].id}", page)
    assert "Auditor(a)<br>" in page and "Sistema: linha de comando<br>" in page
    assert f"Usuário nº {people['anatel'].id}" in page
    assert re.search(rf'Caso <a class="protocol" href="[^"]*">{protocol}</a>', page)
    assert "<td>Configurações</td>" in page
    # The settings (dozens of lines) fold into one line; the hash shows its start.
    (settings,) = re.findall(r'<details class="event-details"><summary>(changes: [^<]*)'
                             r"</summary><pre>(.*?)</pre></details>", page, re.S)
    assert "settings: " in settings[0] and "DISPLAY_TIMEZONE" in settings[1]
    assert "DISPLAY_TIMEZONE" not in outside_details(page)
    assert re.search(r'<details class="hash"><summary><code title="([0-9a-f]{64})">'
                     r'[0-9a-f]{12}…</code></summary><code>\1</code></details>', page)
    # The clocks: Brasília's on the page, UTC in exports and checkpoints.
    assert "Quando (horário de Brasília)" in page
    assert "As exportações e os checkpoints registram os horários em UTC." in page


def test_the_action_filter_lists_labels_in_alphabetical_order(app, world):
    people, _ = world
    choices = options(signed_in(app, people["anatel"]).text(PAGE))

    assert choices[0] == ("", "Todas")
    listed = choices[1:]
    assert {value for value, _ in listed} == {tag.value for tag in Tag}
    assert ("user:logged_in", "Entrada no sistema") in listed
    assert [label for _, label in listed] == sorted((label for _, label in listed),
                                                   key=_collation_key)
    assert not any(label == value for value, label in listed)


def test_the_action_filter_still_takes_the_code(app, world):
    people, protocol = world
    page = signed_in(app, people["anatel"]).text(f"{PAGE}?action=case:claimed")

    assert '<option selected value="case:claimed">Caso assumido para análise</option>' in page
    assert page.count("<code>case:claimed</code>") == 1 and protocol in page


def test_the_trail_reads_in_english(app, world):
    people, protocol = world
    browser = signed_in(app, people["anatel"])
    browser.submit("/language", {"locale": "en", "next": PAGE}, page=PAGE)
    page = browser.text(PAGE)

    assert re.search(r"Signed in<br><small><code>user:logged_in</code>", page)
    assert re.search(r"Analyst<br><small><code>operator</code> · user no. "
                     rf"{people['operator'].id}", page)
    assert "Auditor<br>" in page and "System: command line<br>" in page
    assert f"User no. {people['anatel'].id}" in page
    assert re.search(rf'Case <a class="protocol" href="[^"]*">{protocol}</a>', page)
    assert "When (Brasília time)" in page and "Exports and checkpoints record times in UTC." in page
    assert re.search(r'<details class="event-details"><summary>changes: ', page)
    listed = options(page)[1:]
    assert ("user:logged_in", "Signed in") in listed
    assert [label for _, label in listed] == sorted((label for _, label in listed),
                                                   key=_collation_key)


def test_another_display_zone_is_named(app_factory):
    app = app_factory(DISPLAY_TIMEZONE="America/Manaus", BABEL_DEFAULT_TIMEZONE="America/Manaus")
    auditor = Cast(app, anatel=("auditor", {}))["anatel"]
    page = signed_in(app, auditor).text(PAGE)

    assert "Quando (America/Manaus)" in page and "horário de Brasília" not in page


def test_the_trail_says_which_events_the_latest_signed_checkpoint_covers(app_factory):
    app = app_factory(AUDIT_SIGNING_KEY=KEY)
    people = Cast(app, customer=("customer", {}), anatel=("auditor", {}))
    make_case(app, people["customer"])
    browser = signed_in(app, people["anatel"])
    before = browser.text(PAGE)
    assert ("Nenhum checkpoint assinado ainda: nenhum evento desta trilha está coberto por "
            "uma assinatura publicada.") in before

    with app.app_context():
        signed = checkpoints.issue(utcnow()).seq
        db.session.commit()
    make_case(app, people["customer"])  # events after the checkpoint
    page = browser.text(PAGE)
    assert f'href="/audit/checkpoints/{signed}"' in page
    assert f"Ele cobre os eventos até o nº {signed}; os posteriores" in page
    rows = re.findall(r"<tr>\s*<td>(\d+)(.*?)</td>", page, re.S)
    marked = {int(seq) for seq, rest in rows if "sem checkpoint" in rest}
    assert marked and marked == {int(seq) for seq, _ in rows if int(seq) > signed}
    assert len(marked) < len(rows)


def test_documents_read_as_printed_and_the_published_address_is_the_public_one(app_factory):
    app = app_factory(PUBLIC_BASE_URL="https://porta25.example.com.br")
    people = Cast(app, customer=("customer", {}), anatel=("auditor", {}))
    make_case(app, people["customer"])
    assert issue_pending(app) == 1
    (receipt,) = records_of(app)
    shown = codes.display(receipt.code)
    page = signed_in(app, people["anatel"]).text(PAGE)
    assert f'Documento <a href="/verify/{shown}"><code>{shown}</code></a>' in page
    assert receipt.code not in page.replace(shown, "")
    assert "https://porta25.example.com.br/audit/checkpoints/latest" in page


def test_the_details_summary_shows_statuses_in_words_and_moments_in_the_pages_zone(app, world):
    people, _protocol = world
    with app.app_context():
        audit.record(Tag.SETTINGS_CHANGED, Actor.system("cli"), object_type="settings",
                     details={"at": "2026-11-29T06:34:06Z", "note": "x" * 120})
        db.session.commit()
    page = unescape(signed_in(app, people["anatel"]).text(PAGE))
    summaries = re.findall(r"<summary>(.*?)</summary>", page, re.S)
    assert any(s.startswith("assignee_id: ") and "from: Recebido · to: Em análise" in s
               for s in summaries)
    moment = next(s for s in summaries if s.startswith("at: "))
    assert moment.startswith("at: 29/11/2026 03:34:06 · note: xxx") and moment.endswith("x…")
    assert "……" not in page
