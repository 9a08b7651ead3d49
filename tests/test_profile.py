"""The customer's profile (LGPD): their data, their language, and the download of everything
held about them as JSON — every item, and nothing of another customer; the history
statement lists the auditors' reveals of their personal data."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from models import AuditEvent, Case, PersonalDataReveal, Record, User, db, iso_utc, utcnow
from tests.desk_support import signed_in
from tests.factories import case_in, make_people, make_user
from tests.lgpd_support import count, last_event
from tests.portal_support import add_note
from tests.records_support import issue_pending, pdf_attachments, pdf_text, records_of
from workflow import personal_data
from workflow.records import codes

PROFILE = "/portal/profile"
DATA = "/portal/profile/data.json"


def reveal(app, protocol: str, auditor, reason: str, *, days_ago: int = 1) -> None:
    """Arrange: an auditor revealed the case's personal data (the regulators' portal's act)."""
    with app.app_context():
        case = db.session.scalars(select(Case).where(Case.protocol == protocol)).one()
        granted = utcnow() - timedelta(days=days_ago)
        db.session.add(PersonalDataReveal(auditor_id=auditor.id, case_id=case.id, reason=reason,
                                          granted_at=granted,
                                          expires_at=granted + timedelta(hours=4)))
        db.session.commit()


@pytest.fixture
def story(app):
    """A customer with three requests (notes, a reply, records, two reveals, a statement),
    and another customer with a request and a reveal of their own."""
    people = make_people(app, "customer", "stranger", "operator")
    anatel = make_user(app, "auditor")
    procon = make_user(app, "auditor", uf="SP")
    mine = {status: case_in(app, status, people)
            for status in ("in_review", "rejected", "active")}
    add_note(app, mine["in_review"], people.operator, "Recebemos o SPF, obrigado.", public=True)
    add_note(app, mine["in_review"], people.operator, "Nota interna sobre o cliente.")
    theirs = case_in(app, "submitted", type(people)(customer=people.stranger))
    reveal(app, mine["rejected"], procon, "CIP 2026.07.001234", days_ago=3)
    reveal(app, mine["active"], anatel, "Ofício Anatel 55/2026")
    reveal(app, theirs, procon, "CIP DE OUTRA PESSOA")
    browser = signed_in(app, people.customer)
    browser.submit("/portal/documents/history", page="/portal/documents")
    issue_pending(app)
    return people, mine, theirs, browser


def download(browser) -> dict:
    response = browser.get(DATA)
    assert response.status_code == 200
    return json.loads(response.get_data())


def test_the_profile_shows_the_customers_data_and_offers_the_download(app, story):
    people, *_, browser = story
    page = browser.text(PROFILE)
    with app.app_context():
        user = db.session.get(User, people.customer.id)
        for fact in (user.name, user.email, user.phone, user.subscriber_id, "SP"):
            assert fact in page
    assert "Baixar meus dados (JSON)" in page and f'href="{DATA}"' in page
    assert "Meu perfil" in browser.text("/portal/cases")  # in the portal's menu


def test_the_download_is_served_at_once_privately_and_audited(app, story):
    people, mine, _, browser = story
    before = count(app, AuditEvent)

    response = browser.get(DATA)

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["Cache-Control"] == "private, no-store"
    assert count(app, AuditEvent) == before + 1
    event = last_event(app, "user:data_exported")
    assert (event["actor_id"], event["object_type"], event["object_id"]) == (
        people.customer.id, "user", str(people.customer.id))
    assert event["details"]["requests"] == 3


def test_the_download_holds_every_item_about_the_customer(app, story):
    people, mine, _, browser = story
    data = download(browser)

    with app.app_context():
        user = db.session.get(User, people.customer.id)
        assert data["account"] == {
            "name": user.name, "email": user.email, "cpf_cnpj": user.cpf_cnpj,
            "phone": user.phone, "subscriber_id": user.subscriber_id, "uf": "SP",
            "language": None, "created_at": iso_utc(user.created_at), "active": True}
        cases = {c.protocol: c for c in db.session.scalars(
            select(Case).where(Case.customer_id == user.id))}
        records = db.session.scalars(select(Record).where(Record.customer_id == user.id)).all()
        columns = {c.key for c in Case.__table__.columns}
        about_cases = db.session.scalars(select(AuditEvent.seq).where(
            AuditEvent.object_type == "case", AuditEvent.object_id.in_(cases))).all()
    assert [r["protocol"] for r in data["requests"]] == sorted(
        cases, key=lambda p: cases[p].submitted_at)
    for entry in data["requests"]:
        case = cases[entry["protocol"]]
        assert set(entry["case"]) == columns - personal_data.CASE_COLUMNS_LEFT_OUT
        assert entry["case"]["justification"] == case.justification
        assert entry["case"]["mail_hostname"] == case.mail_hostname
        assert entry["case"]["terms_accepted_from"] == "127.0.0.1"
        assert entry["case"]["submitted_at"] == iso_utc(case.submitted_at)
    # Records: every one of theirs, with its hash, in its request or among the statements.
    listed = {(r["code"], r["sha256"]) for e in data["requests"] for r in e["records"]}
    listed |= {(r["code"], r["sha256"]) for r in data["history_statements"]}
    assert listed == {(codes.display(r.code) if r.case_id else r.code, r.sha256)
                      for r in records}
    assert [r["kind"] for r in data["history_statements"]] == ["history"]
    # Public messages, not internal notes.
    in_review = next(e for e in data["requests"] if e["protocol"] == mine["in_review"])
    assert [(m["from"], m["body"]) for m in in_review["messages"]] == [
        ("provider", "Recebemos o SPF, obrigado.")]
    assert "Nota interna" not in json.dumps(data, ensure_ascii=False)
    # The reveals, and the audit events about their cases (what and who, in words too).
    assert [(r["protocol"], r["scope"], r["scope_label"], r["reason"])
            for r in data["personal_data_reveals"]] == [
        (mine["rejected"], "SP", "PROCON-SP", "CIP 2026.07.001234"),
        (mine["active"], "BR", "Anatel", "Ofício Anatel 55/2026")]
    seqs = {e["seq"] for e in data["audit_events"]}
    assert set(about_cases) <= seqs
    actions = {e["action"] for e in data["audit_events"]}
    assert {"case:submitted", "case:rejected", "user:created", "user:logged_in",
            "record:issued"} <= actions
    assert all(set(e) - {"code"} == {"seq", "occurred_at", "action", "action_label", "actor",
                                     "object"} for e in data["audit_events"])
    assert all(("code" in e) == e["object"].startswith("record:") for e in data["audit_events"])


def test_the_download_holds_nothing_of_another_customer(app, story):
    people, mine, theirs, browser = story
    text = browser.get(DATA).get_data(as_text=True)
    with app.app_context():
        stranger = db.session.get(User, people.stranger.id)
        facts = (theirs, stranger.email, stranger.name, stranger.cpf_cnpj,
                 stranger.subscriber_id, "CIP DE OUTRA PESSOA")
    for fact in facts:
        assert fact not in text, fact


@pytest.mark.parametrize("role", ["operator", "auditor"])
def test_staff_and_auditors_have_no_profile_here(app, story, role):
    person = make_user(app, role, uf="SP" if role == "auditor" else None)
    browser = signed_in(app, person)
    before = count(app, AuditEvent)
    assert [browser.get(url).status_code for url in (PROFILE, DATA)] == [403, 403]
    assert count(app, AuditEvent) == before


def test_signed_out_visitors_are_sent_to_sign_in(client):
    for url in (PROFILE, DATA):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_language_is_saved_audited_and_used(app, story):
    people, *_, browser = story

    response = browser.submit(f"{PROFILE}/language", {"locale": "en"}, page=PROFILE)

    assert response.status_code == 200
    assert "Language updated." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, people.customer.id).locale == "en"
    event = last_event(app, "user:changed")
    assert (event["actor_id"], event["details"]) == (
        people.customer.id, {"changes": {"locale": [None, "en"]}})
    assert download(browser)["account"]["language"] == "en"


def test_an_unknown_language_is_refused_and_nothing_stored(app, story):
    people, *_, browser = story
    before = count(app, AuditEvent)

    response = browser.submit(f"{PROFILE}/language", {"locale": "fr"}, page=PROFILE)

    assert response.status_code == 422
    assert "Escolha português ou inglês." in response.get_data(as_text=True)
    assert count(app, AuditEvent) == before
    with app.app_context():
        assert db.session.get(User, people.customer.id).locale is None


def test_the_history_statement_lists_the_reveals(app, story):
    people, mine, _, browser = story
    [statement] = records_of(app, kind="history")

    text = pdf_text(statement.content)
    assert "Acessos de auditores aos seus dados pessoais" in text
    for fact in ("PROCON-SP", "CIP 2026.07.001234", "Anatel",
                 "Ofício Anatel 55/2026"):
        assert fact in text, fact
    assert "CIP DE OUTRA PESSOA" not in text
    embedded = json.loads(pdf_attachments(statement.content)["dados.json"])
    assert [r["reason"] for r in embedded["personal_data_reveals"]] == [
        "CIP 2026.07.001234", "Ofício Anatel 55/2026"]
    first = embedded["personal_data_reveals"][0]
    assert first["expires_at"] > first["granted_at"]
    assert all("sha256" in r for e in embedded["requests"] for r in e["records"])


def ask_dossiers(app, story) -> dict[str, str]:
    """Arrange: PROCON-SP asks for a dossier of one of the customer's cases and of the
    stranger's, staff for another of the customer's; returns their codes by case."""
    people, mine, theirs, _ = story
    procon = signed_in(app, make_user(app, "auditor", uf="SP"))
    for protocol in (mine["rejected"], theirs):
        procon.submit(f"/regulador/casos/{protocol}/dossie", page=f"/regulador/casos/{protocol}")
    desk = signed_in(app, people.operator)
    desk.submit(f"/desk/cases/{mine['active']}/records/dossier",
                page=f"/desk/cases/{mine['active']}")
    issue_pending(app)
    return {protocol: dossier.code for protocol in (mine["rejected"], mine["active"], theirs)
            for dossier in records_of(app, protocol, "dossier")}


def test_the_download_lists_the_dossiers_about_the_customers_cases_and_who_asked(app, story):
    people, mine, theirs, browser = story
    dossiers = ask_dossiers(app, story)

    data = download(browser)

    by_protocol = {e["protocol"]: e["records"] for e in data["requests"]}
    listed = {r["code"]: r for records in by_protocol.values() for r in records}
    procon, staff = (listed[codes.display(dossiers[mine[s]])] for s in ("rejected", "active"))
    assert procon in by_protocol[mine["rejected"]] and staff in by_protocol[mine["active"]]
    assert {k: procon[k] for k in ("kind", "kind_label", "requested_by", "requested_by_label",
                                   "downloadable")} == {
        "kind": "dossier", "kind_label": "Dossiê do caso", "requested_by": "auditor",
        "requested_by_label": "PROCON-SP", "downloadable": False}
    assert (staff["requested_by"], staff["requested_by_label"], staff["downloadable"]) == (
        "staff", "Equipe do provedor", False)
    assert procon["issued_at"] and len(procon["sha256"]) == 64
    receipt = by_protocol[mine["rejected"]][0]
    assert (receipt["kind"], receipt["requested_by"], receipt["requested_by_label"],
            receipt["downloadable"]) == ("receipt", "system", "Sistema", True)
    # Still the regulator's and the staff's to download, never the customer's.
    for protocol in (mine["rejected"], mine["active"]):
        assert browser.get(f"/records/{dossiers[protocol]}").status_code == 404
    # Another customer's dossier is nowhere in the download.
    text = json.dumps(data, ensure_ascii=False)
    assert dossiers[theirs] not in text and codes.display(dossiers[theirs]) not in text


def test_the_audit_events_say_what_who_by_role_and_which_document(app, story):
    people, mine, _, browser = story
    dossiers = ask_dossiers(app, story)
    code = dossiers[mine["rejected"]]

    events = download(browser)["audit_events"]

    about = [e for e in events if e["object"] == f"record:{code}"]
    assert [(e["action"], e["action_label"], e["actor"], e["code"]) for e in about] == [
        ("record:requested", "Documento solicitado", "Auditor(a)", codes.display(code)),
        ("record:issued", "Documento emitido", "Sistema: emissão de documentos",
         codes.display(code))]
    submitted = next(e for e in events if e["action"] == "case:submitted")
    assert (submitted["action_label"], submitted["actor"]) == ("Pedido recebido", "Cliente")
    assert "code" not in submitted
    with app.app_context():
        operator = db.session.get(User, people.operator.id)
        assert not any(operator.name in e["actor"] for e in events)
    assert {"Analista", "Cliente"} <= {e["actor"] for e in events}
    assert all({"seq", "occurred_at", "action", "object"} <= set(e) for e in events)


def test_the_audit_events_are_in_the_customers_language(app, story):
    people, mine, _, browser = story
    dossiers = ask_dossiers(app, story)
    browser.submit(f"{PROFILE}/language", {"locale": "en"}, page=PROFILE)

    data = download(browser)

    about = [e for e in data["audit_events"]
             if e["object"] == f"record:{dossiers[mine['rejected']]}"]
    assert [(e["action_label"], e["actor"]) for e in about] == [
        ("Document requested", "Auditor"), ("Document issued", "System: document issuing")]
    records = next(e["records"] for e in data["requests"] if e["protocol"] == mine["active"])
    dossier = next(r for r in records if r["kind"] == "dossier")
    assert (dossier["kind_label"], dossier["requested_by_label"]) == (
        "Case dossier", "Provider's team")
