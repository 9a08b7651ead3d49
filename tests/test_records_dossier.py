"""The case dossier: asked for on the desk's case page by staff and on the regulators'
portal by auditors in scope, issued by the worker with every fact, the enforcement
deliveries (through a real webhook receiver) and the audit trail's hashes, in print
and as embedded JSON; re-issue of the customer's documents by staff. Everyone else
gets 404 (an auditor writing on the desk: 403) and nothing is stored."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import dns.reversename
import pytest
from flask_babel import format_datetime
from sqlalchemy import func, select

from cli.worker import check_evidence, run_once
from models import (
    AuditEvent,
    AuditHead,
    Case,
    PersonalDataReveal,
    Record,
    RecordRequest,
    Role,
    User,
    db,
    utcnow,
)
from tests.desk_support import Cast, case_url, signed_in
from tests.dns_support import DnsServer, txt
from tests.factories import act, make_case, unique_target
from tests.records_support import issue_pending, pdf_attachments, pdf_text, records_of
from tests.webhook_support import Receiver, add_endpoint
from workflow import audit, cases
from workflow.audit import Actor
from workflow.errors import Forbidden
from workflow.records import codes, on_demand

JUSTIFICATION = "Servidor de e-mail da loja, com SPF, DKIM e DMARC; envia notas fiscais."
PUBLIC = "Confirme o nome do servidor no DNS reverso, por favor."
INTERNAL = "Nota interna: cliente ligou irritado, tratar com cuidado."
DOSSIER_ASKED = "Dossiê solicitado: ele está sendo preparado"


@pytest.fixture
def people(app):
    return Cast(app, customer=("customer", {"name": "Joana Prado", "uf": "SP"}),
                stranger=("customer", {}), operator=("operator", {}),
                supervisor=("supervisor", {}), auditor=("auditor", {"uf": "SP"}),
                auditor_rj=("auditor", {"uf": "RJ"}))


@pytest.fixture
def receiver():
    started = Receiver().start()
    yield started
    started.stop()


def _case(app, people, **fields) -> str:
    """A case claimed, with a public message and an internal note, approved."""
    protocol = make_case(app, people["customer"], target=unique_target(),
                         justification=JUSTIFICATION, **fields)
    act(app, protocol, "claim", people["operator"])
    with app.app_context():
        case = db.session.scalars(select(Case).where(Case.protocol == protocol)).one()
        operator = Actor(db.session.get(User, people["operator"].id))
        cases.add_note(case, actor=operator, message=PUBLIC, public=True)
        cases.add_note(case, actor=operator, message=INTERNAL)
        db.session.commit()
    act(app, protocol, "approve", people["operator"], valid_days=200)
    return protocol


def _ask(browser, protocol: str):
    return browser.submit(f"{case_url(protocol)}/records/dossier", page=case_url(protocol))


def _portal(protocol: str) -> str:
    """The case on the regulators' portal, where auditors ask for their dossiers."""
    return f"/regulador/casos/{protocol}"


def _audit_ask(browser, protocol: str):
    return browser.submit(f"{_portal(protocol)}/dossie", page=_portal(protocol))


def _dossier(app, protocol: str):
    (dossier,) = records_of(app, protocol, "dossier")
    return dossier


def _stored(app) -> tuple[int, int, int]:
    """Requests, records and audit events: what a refused request must leave as it was."""
    with app.app_context():
        count = lambda model: db.session.scalar(select(func.count()).select_from(model))  # noqa: E731
        return count(RecordRequest), count(Record), db.session.get(AuditHead, 1).seq


def _case_events(app, protocol: str, before: int) -> list[AuditEvent]:
    """The events a dossier rendered when the head was ``before`` covers, from the DB."""
    with app.app_context():
        case = db.session.scalars(select(Case).where(Case.protocol == protocol)).one()
        codes = select(RecordRequest.code).where(RecordRequest.case_id == case.id)
        events = db.session.scalars(select(AuditEvent).where(
            AuditEvent.seq <= before,
            ((AuditEvent.object_type == "case") & (AuditEvent.object_id == protocol))
            | ((AuditEvent.object_type == "record") & AuditEvent.object_id.in_(codes))
            | (AuditEvent.object_type == "delivery")).order_by(AuditEvent.seq)).all()
        db.session.expunge_all()
        return events


def _issued_event(app, code: str) -> AuditEvent:
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "record:issued", AuditEvent.object_id == code)).one()
        db.session.expunge(event)
        return event


def test_staff_ask_for_the_dossier_and_it_holds_the_facts_deliveries_and_hashes(
        app, people, receiver):
    add_endpoint(app, receiver, "exception.activated")
    receiver.script.append((503, {}))  # the first try fails; the retry is acknowledged
    protocol = _case(app, people)
    with app.app_context():
        run_once()
        run_once(clock=lambda: utcnow() + timedelta(seconds=30))  # past the 5 s retry
    operator = signed_in(app, people["operator"])

    asked = _ask(operator, protocol)
    assert DOSSIER_ASKED in asked.get_data(as_text=True)
    assert "Em preparação" in operator.text(case_url(protocol))
    issue_pending(app)
    dossier = _dossier(app, protocol)
    page = operator.text(case_url(protocol))
    assert "Dossiê do caso" in page and f"/records/{dossier.code}" in page
    download = operator.get(f"/records/{dossier.code}")
    assert download.status_code == 200
    assert hashlib.sha256(download.data).hexdigest() == dossier.sha256

    text = pdf_text(dossier.content)
    for fact in (protocol, "Dossiê do caso", "Joana Prado", JUSTIFICATION, PUBLIC,
                 "mail.exemplo.com.br", "CTR-0042", "a partir de 127.0.0.1", "Ativo", "(200 dias)",
                 "exception.activated", "HTTP 503", "HTTP 204", "entregue",
                 "confirmada em", "Cabeça da cadeia de auditoria que cobre estes eventos"):
        assert fact in text, fact
    assert INTERNAL not in text
    issued = _issued_event(app, dossier.code)
    flat = text.replace(" ", "")  # long URLs and hashes wrap
    assert receiver.url in flat
    events = _case_events(app, protocol, issued.seq - 1)
    actions = {e.action for e in events}
    assert {"case:submitted", "case:approved", "case:activated", "record:requested",
            "record:issued"} <= actions
    for event in events:
        assert event.hash.hex() in flat, event.action
    assert issued.prev_hash.hex() in flat  # the head at render time: the event just before
    # The trail's table in words, as the regulators' trail page says them.
    for words in ("Pedido recebido", "Analista", "Cliente", "Sistema: worker",
                  "Documento solicitado", f"Analista, usuário nº {people['operator'].id}"):
        assert words in text, words
    receipt = records_of(app, protocol, "receipt")[0]
    assert f"Documento{codes.display(receipt.code)}" in flat  # as printed on the receipt


def test_the_embedded_json_matches_the_case_and_its_audit_events(app, people, receiver):
    add_endpoint(app, receiver, "exception.activated")
    protocol = _case(app, people)
    with app.app_context():
        run_once()
    _ask(signed_in(app, people["supervisor"]), protocol)
    issue_pending(app)
    dossier = _dossier(app, protocol)

    data = json.loads(pdf_attachments(dossier.content)["dados.json"])

    with app.app_context():
        case = db.session.scalars(select(Case).where(Case.protocol == protocol)).one()
        assert (data["protocol"], data["status"]) == (protocol, "active")
        assert data["case"]["target"] == case.target and data["case"]["version"] == case.version
        assert data["case"]["justification"] == JUSTIFICATION
        assert data["customer"]["name"] == "Joana Prado" and not data["customer"]["masked"]
        assert (data["case"]["subscriber_id"], data["case"]["terms_accepted_from"]) == (
            "CTR-0042", "127.0.0.1")
    assert [m["body"] for m in data["messages"]] == [PUBLIC]
    (delivery,) = data["deliveries"]
    assert (delivery["status"], delivery["attempts"]) == ("delivered", 1)
    assert delivery["attempt_log"][0]["status_code"] == 204 and delivery["acknowledged_at"]
    issued = _issued_event(app, dossier.code)
    expected = _case_events(app, protocol, issued.seq - 1)
    assert [(e["seq"], e["hash"]) for e in data["audit_events"]] == [
        (e.seq, e.hash.hex()) for e in expected]
    # Each event's hash can be recomputed from the JSON alone (the rule in workflow.audit).
    for event in data["audit_events"]:
        body = {k: v for k, v in event.items() if k not in ("hash", "prev_hash")}
        assert audit.chain_hash(event["seq"], bytes.fromhex(event["prev_hash"]),
                                body).hex() == event["hash"]
    assert data["audit_head"] == {"seq": issued.seq - 1, "hash": issued.prev_hash.hex()}


def test_an_auditor_in_scope_asks_for_a_masked_dossier_and_downloads_it(app, people):
    protocol = _case(app, people)
    auditor = signed_in(app, people["auditor"])

    page = auditor.text(_portal(protocol))
    assert "Emitir dossiê" in page and "Reemitir" not in page
    assert DOSSIER_ASKED in _audit_ask(auditor, protocol).get_data(as_text=True)
    issue_pending(app)
    dossier = _dossier(app, protocol)
    download = auditor.get(f"/records/{dossier.code}")

    assert download.status_code == 200
    text = pdf_text(download.data)
    assert protocol in text and JUSTIFICATION in text
    assert "Joana Prado" not in text and "J. P." in text
    assert "dados pessoais do cliente estão mascarados" in text
    # The contract and the address the terms were accepted from (make_case's) are masked too.
    assert "CTR-0042" not in text and "Contrato/assinante •••-••42" in text
    assert "127.0.0.1" not in text and "a partir de 127.0.•.•" in text
    data = json.loads(pdf_attachments(download.data)["dados.json"])
    assert data["customer"]["masked"] and data["customer"]["name"] == "J. P."
    assert (data["case"]["subscriber_id"], data["case"]["terms_accepted_from"]) == (
        "•••-••42", "127.0.•.•")
    with app.app_context():
        record = db.session.scalars(select(Record).where(Record.code == dossier.code)).one()
        assert record.issued_by_id == people["auditor"].id


def prefers_english(app, person) -> None:
    with app.app_context():
        db.session.get(User, person.id).locale = "en"
        db.session.commit()


def test_an_auditors_dossier_in_english_is_masked_too(app, people):
    prefers_english(app, people["auditor"])
    protocol = _case(app, people)
    _audit_ask(signed_in(app, people["auditor"]), protocol)
    issue_pending(app)

    text = pdf_text(_dossier(app, protocol).content)

    assert "Case dossier" in text and "Joana Prado" not in text
    assert "CTR-0042" not in text and "Contract/subscriber •••-••42" in text
    assert "127.0.0.1" not in text and "from 127.0.•.•" in text


def test_an_auditor_never_reads_the_unmasked_dossier_staff_asked_for(app, people):
    protocol = _case(app, people)
    _ask(signed_in(app, people["operator"]), protocol)
    issue_pending(app)
    dossier = _dossier(app, protocol)

    auditor = signed_in(app, people["auditor"])
    assert auditor.get(f"/records/{dossier.code}").status_code == 404
    assert f"/records/{dossier.code}" not in auditor.text(_portal(protocol))


def test_an_auditor_out_of_scope_gets_404_everywhere_and_nothing_is_stored(app, people):
    protocol = _case(app, people)
    _audit_ask(signed_in(app, people["auditor"]), protocol)
    issue_pending(app)
    dossier = _dossier(app, protocol)
    outsider = signed_in(app, people["auditor_rj"])
    token = outsider.csrf_token("/regulador/")
    before = _stored(app)

    assert outsider.get(_portal(protocol)).status_code == 404
    asked = outsider.client.post(f"{_portal(protocol)}/dossie", data={"csrf_token": token})
    assert asked.status_code == 404
    assert outsider.get(f"/records/{dossier.code}").status_code == 404
    assert _stored(app) == before


def test_a_customer_neither_downloads_nor_asks_for_a_dossier(app, people):
    protocol = _case(app, people)
    _ask(signed_in(app, people["operator"]), protocol)
    issue_pending(app)
    dossier = _dossier(app, protocol)
    customer = signed_in(app, people["customer"])
    token = customer.csrf_token(f"/portal/cases/{protocol}")
    before = _stored(app)

    assert customer.get(f"/records/{dossier.code}").status_code == 404
    asked = customer.client.post(f"{case_url(protocol)}/records/dossier",
                                 data={"csrf_token": token})
    assert asked.status_code == 403
    assert f"/records/{dossier.code}" not in customer.text(f"/portal/cases/{protocol}")
    assert _stored(app) == before


def test_asking_without_the_form_token_is_refused_and_stores_nothing(app, people):
    protocol = _case(app, people)
    operator = signed_in(app, people["operator"])
    before = _stored(app)

    refused = operator.client.post(f"{case_url(protocol)}/records/dossier", data={})

    assert refused.status_code == 400
    assert "O formulário expirou" in refused.get_data(as_text=True)
    assert _stored(app) == before


def test_asking_is_audited_with_who_asked(app, people):
    protocol = _case(app, people)
    _ask(signed_in(app, people["supervisor"]), protocol)
    with app.app_context():
        (event,) = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "record:requested")).all()
        details = json.loads(event.details)
    assert (event.actor_id, event.actor_role, event.uf) == (
        people["supervisor"].id, "supervisor", "SP")
    assert details["kind"] == "dossier" and details["protocol"] == protocol


def test_staff_reissue_a_notice_and_the_new_one_supersedes_it(app, people):
    protocol = _case(app, people)
    issue_pending(app)
    (approval,) = records_of(app, protocol, "approval")
    supervisor = signed_in(app, people["supervisor"])
    assert "Reemitir: Aviso de aprovação" in supervisor.text(case_url(protocol))

    done = supervisor.submit(f"{case_url(protocol)}/records/{approval.code}/reissue",
                             page=case_url(protocol))

    assert "Aviso de aprovação reemitido" in done.get_data(as_text=True)
    issue_pending(app)
    first, second = records_of(app, protocol, "approval")
    assert second.supersedes_id == first.id == approval.id
    with app.app_context():
        record = db.session.get(Record, second.id)
        assert record.issued_by_id == people["supervisor"].id
        asked = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "record:requested", AuditEvent.object_id == second.code)).one()
        assert asked.actor_id == people["supervisor"].id
        assert json.loads(asked.details)["reissue_of"] == approval.code


@pytest.mark.parametrize("who, status", [("auditor", 403), ("auditor_rj", 403)])
def test_only_staff_reissue(app, people, who, status):
    protocol = _case(app, people)
    issue_pending(app)
    (approval,) = records_of(app, protocol, "approval")
    browser = signed_in(app, people[who])
    token = browser.csrf_token("/regulador/")  # auditors never write on the desk
    before = _stored(app)

    refused = browser.client.post(f"{case_url(protocol)}/records/{approval.code}/reissue",
                                  data={"csrf_token": token})

    assert refused.status_code == status
    assert _stored(app) == before


def test_a_record_of_another_case_is_not_reissued_through_this_one(app, people):
    protocol, other = _case(app, people), _case(app, people)
    issue_pending(app)
    (approval,) = records_of(app, other, "approval")
    operator = signed_in(app, people["operator"])
    before = _stored(app)

    refused = operator.client.post(f"{case_url(protocol)}/records/{approval.code}/reissue",
                                   data={"csrf_token": operator.csrf_token(case_url(protocol))})

    assert refused.status_code == 404
    assert _stored(app) == before


def test_the_dossier_is_in_the_requesters_language(app, people):
    prefers_english(app, people["operator"])
    protocol = _case(app, people)
    _ask(signed_in(app, people["operator"]), protocol)
    issue_pending(app)

    text = pdf_text(_dossier(app, protocol).content)

    assert "Case dossier" in text and "Audit trail" in text and protocol in text
    assert "Dossiê" not in text


def test_the_workflow_refuses_the_dossier_to_the_cases_own_customer(app, people):
    # The desk refuses customers first (403); the workflow says no as well, on its own.
    protocol = make_case(app, people["customer"], target=unique_target())
    with app.app_context():
        case = db.session.scalars(select(Case).where(Case.protocol == protocol)).one()
        customer = db.session.get(User, people["customer"].id)
        assert customer.role is Role.CUSTOMER
        with pytest.raises(Forbidden):
            on_demand.request_dossier(case, actor=Actor(customer))


def test_the_dossier_shows_the_dns_checks_the_operator_relied_on(app_factory):
    server = DnsServer().start()
    try:
        app = app_factory(EVIDENCE_RESOLVERS=server.resolvers, EVIDENCE_TIMEOUT_SECONDS=1.0)
        server.add(dns.reversename.from_address("203.0.113.7").to_text(), "PTR",
                   "mail.exemplo.com.br.")
        server.add("mail.exemplo.com.br", "A", "203.0.113.7")
        server.add("exemplo.com.br", "TXT", txt("v=spf1 ip4:203.0.113.7 -all"))
        cast = Cast(app, customer=("customer", {}), operator=("operator", {}))
        protocol = make_case(app, cast["customer"], target="203.0.113.7")
        with app.app_context():
            assert check_evidence(utcnow) == 1
        _ask(signed_in(app, cast["operator"]), protocol)
        issue_pending(app)
    finally:
        server.stop()

    dossier = _dossier(app, protocol)
    text = pdf_text(dossier.content)
    for fact in ("Verificações automáticas", "DNS reverso (PTR)", "SPF do domínio",
                 "O SPF de exemplo.com.br autoriza 203.0.113.7", "Nenhum MX em"):
        assert fact in text, fact
    data = json.loads(pdf_attachments(dossier.content)["dados.json"])
    assert {c["kind"]: c["outcome"] for c in data["evidence"]} == {
        "ptr": "pass", "fcrdns": "pass", "spf": "pass", "mx": "fail"}


def test_the_case_page_reloads_itself_only_for_what_its_reader_asked_for(app, people):
    protocol = _case(app, people)  # its approval notice waits for the worker
    operator = signed_in(app, people["operator"])
    refresh = '<meta http-equiv="refresh"'

    assert refresh not in operator.text(case_url(protocol))  # an analyst may be typing
    _ask(operator, protocol)
    assert refresh in operator.text(case_url(protocol))
    assert refresh not in signed_in(app, people["supervisor"]).text(case_url(protocol))
    issue_pending(app)
    assert refresh not in operator.text(case_url(protocol))


def test_the_dossier_states_why_and_until_when_an_auditor_saw_the_personal_data(app, people):
    protocol = _case(app, people)
    auditor = signed_in(app, people["auditor"])
    reason = "CIP 2026.07.001234"
    assert auditor.submit(f"{_portal(protocol)}/revelar", {"reason": reason},
                          page=_portal(protocol)).status_code == 200
    _audit_ask(auditor, protocol)
    issue_pending(app)
    with app.app_context():
        reveal = db.session.scalars(select(PersonalDataReveal)).one()
        until = format_datetime(reveal.expires_at, "dd/MM/yyyy HH:mm:ss")

    text = pdf_text(_dossier(app, protocol).content)
    assert "Dados pessoais revelados a um auditor" in text
    assert f"Motivo declarado: {reason}; acesso até {until}." in " ".join(text.split())
