"""The customer's history statement: every request and its outcome, as a PDF issued on
request and as JSON at once, to the customer alone."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from models import AuditEvent, RecordKind, RecordRequest, Role, db
from tests.desk_support import signed_in
from tests.factories import case_in, make_people, make_user
from tests.records_support import (
    issue_pending,
    pdf_attachments,
    pdf_text,
    pdf_xmp,
    records_of,
)
from workflow.records import codes, history

DOCUMENTS = "/portal/documents"
JSON_URL = "/portal/documents/history.json"


@pytest.fixture
def story(app):
    """A customer with a request in each kind of outcome, and another customer's request."""
    people = make_people(app, "customer", "stranger", "operator")
    protocols = {status: case_in(app, status, people)
                 for status in ("submitted", "active", "rejected", "appealed", "cancelled")}
    other = case_in(app, "submitted", type(people)(customer=people.stranger))
    issue_pending(app)  # the receipts and notices of those cases
    return people, protocols, other


def _issue_history(app, browser):
    response = browser.submit(f"{DOCUMENTS}/history", page=DOCUMENTS)
    assert response.status_code == 200
    assert "Histórico pedido" in response.get_data(as_text=True)
    assert "Em preparação" in response.get_data(as_text=True)
    assert issue_pending(app) == 1
    (record,) = records_of(app, kind=RecordKind.HISTORY)
    return record


def _without_moment(data: dict) -> dict:
    return {key: value for key, value in data.items() if key != "generated_at"}


def test_the_history_holds_every_request_of_the_customer_and_none_of_anothers(app, story):
    people, protocols, other = story
    browser = signed_in(app, people.customer)

    record = _issue_history(app, browser)

    text = pdf_text(record.content)
    with app.app_context():
        from models import User
        customer = db.session.get(User, people.customer.id)
        document = history.format_document(customer.cpf_cnpj)
    for fact in ("Histórico de pedidos", customer.name, document, customer.email,
                 *protocols.values(), "Aprovado", "Indeferido", "Encerrado sem decisão",
                 "Em andamento", "Justificativa insuficiente", "Recurso em análise",
                 "Comprovante de protocolo", codes.display(record.code)):
        assert fact in text, fact
    assert other not in text
    assert 'pdfaid:part="3"' in pdf_xmp(record.content)
    assert 'pdfaid:conformance="B"' in pdf_xmp(record.content)


def test_the_json_download_is_the_data_the_pdf_embeds_and_is_audited(app, story):
    people, protocols, other = story
    browser = signed_in(app, people.customer)
    record = _issue_history(app, browser)
    embedded = json.loads(pdf_attachments(record.content)["dados.json"])

    response = browser.get(JSON_URL)

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "private, no-store"
    downloaded = response.get_json()
    assert _without_moment(downloaded) == _without_moment(embedded)
    by_protocol = {r["protocol"]: r for r in downloaded["requests"]}
    assert set(by_protocol) == set(protocols.values())
    rejected = by_protocol[protocols["rejected"]]
    assert (rejected["status"], rejected["outcome"], rejected["reason_code"]) == (
        "rejected", "refused", "insufficient_justification")
    active = by_protocol[protocols["active"]]
    assert active["valid_until"] and active["decided_at"] and active["outcome"] == "granted"
    assert by_protocol[protocols["appealed"]]["appeal_outcome"] == "pending"
    assert [r["kind"] for r in by_protocol[protocols["submitted"]]["records"]] == ["receipt"]
    assert downloaded["customer"]["email"] == people.customer.email
    with app.app_context():
        (event,) = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "record:history_exported")).all()
        assert (event.actor_id, event.object_id) == (people.customer.id,
                                                     str(people.customer.id))
        assert json.loads(event.details) == {"requests": 5}


def test_the_documents_page_lists_the_statements_and_each_cases_records(app, story):
    people, protocols, other = story
    browser = signed_in(app, people.customer)
    record = _issue_history(app, browser)

    page = browser.text(DOCUMENTS)

    assert "Histórico de pedidos do cliente" in page and codes.display(record.code) in page
    for protocol in protocols.values():
        (receipt, *_) = records_of(app, protocol)
        assert protocol in page and codes.display(receipt.code) in page
    assert other not in page
    assert "Em preparação" not in page
    assert browser.client.get(f"/records/{record.code}").status_code == 200
    assert 'href="/portal/documents"' in browser.text("/portal/")


@pytest.mark.parametrize("reader", ["stranger", "auditor_sp", "auditor_br"])
def test_nobody_else_gets_a_customers_history(app, story, reader):
    people, protocols, other = story
    record = _issue_history(app, signed_in(app, people.customer))
    person = {"stranger": people.stranger,
              "auditor_sp": make_user(app, Role.AUDITOR, uf="SP"),
              "auditor_br": make_user(app, Role.AUDITOR)}[reader]

    response = signed_in(app, person).get(f"/records/{record.code}")

    assert response.status_code == 404
    assert "Documento não encontrado" in response.get_data(as_text=True)


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.AUDITOR, Role.PROVIDER])
@pytest.mark.parametrize("url", [DOCUMENTS, JSON_URL])
def test_only_customers_have_a_documents_page(app, role, url):
    browser = signed_in(app, make_user(app, role))
    assert browser.get(url).status_code == 403
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "record:history_exported")) == 0


def test_asking_without_the_forms_token_stores_nothing(app, client):
    customer = make_user(app)
    browser = signed_in(app, customer)
    response = browser.client.post(f"{DOCUMENTS}/history")
    assert response.status_code == 400
    assert "O formulário expirou" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(RecordRequest)) == 0


def test_anonymous_visitors_are_sent_to_sign_in(client):
    for url in (DOCUMENTS, JSON_URL):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_history_in_english(app, story):
    people, protocols, other = story
    browser = signed_in(app, people.customer)
    browser.submit("/language", {"locale": "en", "next": DOCUMENTS}, page=DOCUMENTS)

    record = _english_history(app, browser)

    text = pdf_text(record.content)
    assert "History of requests" in text and "Rejected" in text
    assert "Histórico" not in text and "Indeferido" not in text
    data = browser.get(JSON_URL).get_json()
    statuses = {r["protocol"]: r["outcome_label"] for r in data["requests"]}
    assert statuses[protocols["rejected"]] == "Rejected"


def _english_history(app, browser):
    response = browser.submit(f"{DOCUMENTS}/history", page=DOCUMENTS)
    assert "History requested" in response.get_data(as_text=True)
    assert issue_pending(app) == 1
    (record,) = records_of(app, kind=RecordKind.HISTORY)
    return record


def _ask_dossiers(app, people, protocols, other) -> dict[str, str]:
    """Arrange: PROCON-SP and Anatel ask for dossiers of the customer's cases, PROCON-SP
    for the stranger's too; returns the dossiers' codes by protocol."""
    procon = signed_in(app, make_user(app, Role.AUDITOR, uf="SP"))
    anatel = signed_in(app, make_user(app, Role.AUDITOR))
    for browser, protocol in ((procon, protocols["active"]), (anatel, protocols["rejected"]),
                              (procon, other)):
        portal = f"/regulador/casos/{protocol}"
        assert "Dossiê solicitado" in browser.submit(f"{portal}/dossie", page=portal).get_data(
            as_text=True)
    issue_pending(app)
    return {protocol: dossier.code
            for protocol in (protocols["active"], protocols["rejected"], other)
            for dossier in records_of(app, protocol, RecordKind.DOSSIER)}


def test_the_history_lists_the_regulators_dossiers_without_handing_them_over(app, story):
    people, protocols, other = story
    dossiers = _ask_dossiers(app, people, protocols, other)
    browser = signed_in(app, people.customer)

    text = pdf_text(_issue_history(app, browser).content)

    for protocol, regulator in ((protocols["active"], "PROCON-SP"),
                                (protocols["rejected"], "Anatel")):
        assert (f"Dossiê do caso, código {codes.display(dossiers[protocol])}") in text
        assert f"a pedido de {regulator} (não disponível para download pelo cliente)" in text
        assert browser.get(f"/records/{dossiers[protocol]}").status_code == 404
    assert "O dossiê do caso reúne os fatos do pedido" in text
    assert "emitido automaticamente" in text  # the receipts and notices
    assert codes.display(dossiers[other]) not in text
    # The JSON lists them the same way; the documents page offers only what the customer reads.
    data = browser.get(JSON_URL).get_json()
    listed = {r["code"]: r for e in data["requests"] for r in e["records"]}
    dossier = listed[codes.display(dossiers[protocols["rejected"]])]
    assert (dossier["requested_by_label"], dossier["downloadable"]) == ("Anatel", False)
    assert codes.display(dossiers[other]) not in json.dumps(data)
    page = browser.text(DOCUMENTS)
    assert not any(codes.display(code) in page or code in page for code in dossiers.values())


def test_the_history_without_dossiers_has_no_word_about_them(app, story):
    people, protocols, other = story
    text = pdf_text(_issue_history(app, signed_in(app, people.customer)).content)
    assert "Dossiê do caso" not in text and "O dossiê do caso reúne" not in text


def test_the_dossiers_in_the_english_history(app, story):
    people, protocols, other = story
    dossiers = _ask_dossiers(app, people, protocols, other)
    browser = signed_in(app, people.customer)
    browser.submit("/language", {"locale": "en", "next": DOCUMENTS}, page=DOCUMENTS)

    text = pdf_text(_english_history(app, browser).content)

    assert f"Case dossier, code {codes.display(dossiers[protocols['active']])}" in text
    assert "at the request of PROCON-SP (not available for download by the customer)" in text
    assert "issued automatically" in text and "a pedido de" not in text
