"""The regulators' portal (/regulador): a PROCON reads its state's cases with personal
data masked, searches by protocol or target only, follows the audit trail and the
reports, and changes nothing; another state's case is 404 on every page, export and API
operation; the desk sends auditors here."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest
from sqlalchemy import func, select

from models import AuditHead, PersonalDataReveal, RecordRequest, db
from tests.api_support import make_token
from tests.desk_support import Cast, case_url, signed_in
from tests.factories import act, make_case, unique_target

PORTAL = "/regulador/"
PUBLIC = "Estamos conferindo o DNS reverso do servidor."
INTERNAL = "Cliente antigo, ligou irritado ontem."


@pytest.fixture
def people(app):
    return Cast(app, customer=("customer", {"name": "Ana Pereira", "uf": "SP"}),
                carioca=("customer", {"name": "Bruno Costa", "uf": "RJ"}),
                operator=("operator", {}), procon=("auditor", {"uf": "SP"}),
                anatel=("auditor", {}))


def listed(page: str) -> list[str]:
    return re.findall(r'class="protocol" href="/regulador/casos/(\d{13})"', page)


def case_page(protocol: str) -> str:
    return f"{PORTAL}casos/{protocol}"


def head(app) -> int:
    with app.app_context():
        return db.session.get(AuditHead, 1).seq


def stored(app) -> tuple[int, int, int]:
    """Reveals, record requests and audit events: what a refusal must leave as it was."""
    with app.app_context():
        reveals = db.session.scalar(select(func.count()).select_from(PersonalDataReveal))
        asked = db.session.scalar(select(func.count()).select_from(RecordRequest))
        return reveals, asked, db.session.get(AuditHead, 1).seq


@pytest.mark.parametrize(("who", "sees_rio"), [("procon", False), ("anatel", True)])
def test_auditors_list_the_cases_of_their_scope_masked(app, people, who, sees_rio):
    sp = make_case(app, people["customer"], target="203.0.113.41")
    rj = make_case(app, people["carioca"], target="203.0.113.42")
    browser = signed_in(app, people[who])

    page = browser.text(PORTAL)

    assert set(listed(page)) == ({sp, rj} if sees_rio else {sp})
    assert "Ana Pereira" not in page and "A. P." in page
    assert (("Acesso de auditoria — PROCON-SP, escopo SP, somente leitura; "
             "dados pessoais mascarados.") if who == "procon" else
            ("Acesso de auditoria — Anatel, escopo nacional, somente leitura; "
             "dados pessoais mascarados.")) in page
    # Protocols and targets are searched; a name would reveal what the mask hides.
    assert listed(browser.text(f"{PORTAL}?q=pereira")) == []
    assert listed(browser.text(f"{PORTAL}?q={people['customer'].email}")) == []
    assert listed(browser.text(f"{PORTAL}?q={sp}")) == [sp]
    assert listed(browser.text(f"{PORTAL}?q=113.41")) == [sp]
    assert listed(browser.text(f"{PORTAL}?q={rj}")) == ([rj] if sees_rio else [])


def test_the_case_page_shows_the_facts_and_the_public_story_masked(app, people):
    protocol = make_case(app, people["customer"], target=unique_target())
    act(app, protocol, "claim", people["operator"])
    operator = signed_in(app, people["operator"])
    for kind, text in (("internal", INTERNAL), ("public", PUBLIC)):
        operator.submit(f"{case_url(protocol)}/notes?kind={kind}", {f"{kind}-message": text},
                        page=case_url(protocol))
    procon = signed_in(app, people["procon"])

    response = procon.get(case_page(protocol))
    page = response.get_data(as_text=True)

    assert response.status_code == 200 and response.headers["Cache-Control"] == "private, no-store"
    assert "mail.exemplo.com.br" in page and PUBLIC in page and "Em análise" in page
    assert INTERNAL not in page and "Nota interna" not in page
    assert "Ana Pereira" not in page and people["customer"].email not in page
    assert "+55 11 99999-0000" not in page and "***." in page
    # Their forms: a reveal (with a reason) and a dossier; no decision, no note.
    forms = re.findall(r'<form method="post" action="(/[^"]*)"', page)
    assert [f for f in forms if f.startswith(("/desk", "/regulador"))] == [
        f"{case_page(protocol)}/revelar", f"{case_page(protocol)}/dossie"]
    assert f"/regulador/trilha/?protocol={protocol}" in page


def test_a_case_of_another_state_is_not_found_on_every_page_export_and_api(app, people):
    rio = make_case(app, people["carioca"], target=unique_target())
    procon = signed_in(app, people["procon"])
    token = procon.csrf_token(PORTAL)
    api = {"Authorization": f"Bearer {make_token(app, people['procon'])}"}
    before = stored(app)

    pages = [case_page(rio), f"{PORTAL}trilha/?protocol={rio}",
             f"{PORTAL}exportar/trilha.csv?protocol={rio}",
             f"{PORTAL}exportar/trilha.jsonl?protocol={rio}"]
    for url in pages:
        assert procon.get(url).status_code == 404, url
    for action in ("revelar", "dossie"):
        response = procon.client.post(f"{case_page(rio)}/{action}",
                                      data={"csrf_token": token, "reason": "CIP 2026.001"})
        assert response.status_code == 404, action
    for url in (f"/api/v1/cases/{rio}", f"/api/v1/cases/{rio}/records"):
        assert procon.client.get(url, headers=api).status_code == 404, url
    events = procon.client.get("/api/v1/audit/events?limit=1000", headers=api).get_json()
    assert rio not in json.dumps(events)
    # Searching and exporting by it find nothing either.
    assert listed(procon.text(f"{PORTAL}?q={rio}")) == []
    exported = procon.get(f"{PORTAL}exportar/casos.jsonl?q={rio}").get_data(as_text=True)
    assert exported == ""
    reveals, asked, _seq = stored(app)
    assert (reveals, asked) == before[:2]


def test_the_desk_sends_auditors_to_their_portal(app, people):
    protocol = make_case(app, people["customer"], target=unique_target())
    procon = signed_in(app, people["procon"])

    for desk, portal in (("/desk/?q=41", "/regulador/?q=41"),
                         (case_url(protocol), case_page(protocol)),
                         ("/desk/reports/", "/regulador/relatorios/")):
        response = procon.get(desk)
        assert response.status_code == 302 and response.headers["Location"] == portal
    for other in ("/desk/users/", "/desk/enforcement/", "/desk/calendar/"):
        assert procon.get(other).status_code == 403
    assert procon.get("/").headers["Location"] == PORTAL


@pytest.mark.parametrize("role", ["customer", "operator", "supervisor", "provider"])
def test_only_auditors_enter_the_portal(app, people, role):
    person = Cast(app, someone=(role, {}))["someone"]
    browser = signed_in(app, person)
    for url in (PORTAL, f"{PORTAL}trilha/", f"{PORTAL}relatorios/",
                f"{PORTAL}exportar/casos.csv"):
        assert browser.get(url).status_code == 403, url


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get(f"{PORTAL}trilha/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_an_auditor_asks_for_a_period_report_of_their_state_on_the_portal(app, people):
    procon = signed_in(app, people["procon"])
    page = procon.text(f"{PORTAL}relatorios/")
    assert 'action="/regulador/relatorios/relatorio.csv"' in page
    assert 'formaction="/regulador/relatorios/"' in page

    done = procon.submit(f"{PORTAL}relatorios/", {"start": "2026-01-01", "end": "2026-01-31",
                                                  "scope": "SP"})
    assert done.request.path == f"{PORTAL}relatorios/"
    assert "Relatório pedido" in done.get_data(as_text=True)
    refused = procon.submit(f"{PORTAL}relatorios/", {"start": "2026-01-01",
                                                     "end": "2026-01-31", "scope": "RJ"},
                            follow=False)
    assert refused.status_code == 404


def test_signed_in_browser_of_an_auditor_has_the_portals_menu(app, people):
    page = signed_in(app, people["anatel"]).text(PORTAL)
    for link in ('href="/regulador/"', 'href="/regulador/trilha/"',
                 'href="/regulador/relatorios/"'):
        assert link in page
    assert 'href="/desk/' not in page


def test_the_trail_page_says_what_its_events_hold(app, people):
    page = signed_in(app, people["anatel"]).text(f"{PORTAL}trilha/")

    assert "nunca dados pessoais" not in page
    assert ("com referências (protocolos, números de usuário), não dados pessoais — exceto "
            "o endereço de origem de cada requisição, guardado para responsabilização.") in page
    assert ("Acesso de auditoria — Anatel, escopo nacional, somente leitura; "
            "dados pessoais mascarados.") in page


def test_the_case_page_names_who_decided_by_role_and_number(app_factory):
    app = app_factory()
    people = Cast(app, customer=("customer", {"uf": "SP"}), operator=("operator", {}),
                  anatel=("auditor", {}))
    protocol = make_case(app, people["customer"], target="203.0.113.64/29")  # four eyes
    act(app, protocol, "claim", people["operator"])
    assert act(app, protocol, "approve", people["operator"],
               valid_days=30) == "pending_second_approval"
    anatel = signed_in(app, people["anatel"])
    page = unescape(re.sub(r"\s+", " ", anatel.text(case_page(protocol))))
    operator = f"Analista, usuário nº {people['operator'].id}"
    assert f"Responsável</dt><dd>{operator}</dd>" in page
    assert f"Primeira aprovação</dt><dd>{operator}</dd>" in page
