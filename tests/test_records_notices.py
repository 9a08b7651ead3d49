"""Decision notices: issued by the worker once per decision, in the customer's language,
saying what was decided, why, what follows and whom to turn to; anchored to the
decision's audit event; a second decision after an appeal supersedes the first notice."""

from __future__ import annotations

import json

import pytest
from flask_babel import force_locale, format_datetime
from sqlalchemy import select

from models import AuditEvent, Case, User, db
from tests.factories import act, case_in, make_people, system_act
from tests.records_support import (
    issue_pending,
    pdf_attachments,
    pdf_info,
    pdf_language,
    pdf_text,
    pdf_xmp,
    records_of,
)
from workflow import cases, deadlines
from workflow.audit import Actor
from workflow.records import codes

REFUSAL = "O servidor informado não responde na porta 25 e o SPF do domínio não cobre o endereço."
APPEAL = "Corrigi o SPF do domínio e o servidor já responde; peço nova análise, por favor."


@pytest.fixture
def people(app):
    return make_people(app, "customer", "operator", "colleague", "supervisor",
                       "second_supervisor")


def _case(app, protocol: str) -> dict:
    """What a test compares a notice with, read from the database."""
    with app.app_context():
        case = db.session.scalars(select(Case).where(Case.protocol == protocol)).one()
        with force_locale("pt_BR"):
            local = {name: format_datetime(getattr(case, name), "dd/MM/yyyy HH:mm")
                     for name in ("valid_from", "valid_until") if getattr(case, name)}
            deadline = deadlines.appeal_deadline(case)
            if deadline:
                local["appeal_deadline"] = format_datetime(deadline, "dd/MM/yyyy HH:mm")
        return {"target": case.target, "valid_days": case.valid_days, **local}


def _event(app, protocol: str, action: str) -> AuditEvent:
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(
            AuditEvent.object_id == protocol, AuditEvent.action == action)
            .order_by(AuditEvent.seq.desc())).first()
        db.session.expunge(event)
        return event


def _only(app, protocol: str, kind: str):
    issue_pending(app)
    (notice,) = records_of(app, protocol, kind)
    return notice, pdf_text(notice.content)


def _rejected(app, people, message: str | None = REFUSAL) -> str:
    protocol = case_in(app, "in_review", people)
    act(app, protocol, "reject", people.operator, reason_code="insufficient_justification",
        message=message)
    return protocol


def test_approval_notice_holds_target_validity_conditions_and_how_to_give_it_back(app, people):
    protocol = case_in(app, "approved", people)
    facts = _case(app, protocol)

    notice, text = _only(app, protocol, "approval")

    for fact in (protocol, "Aviso de aprovação", facts["target"], facts["valid_from"],
                 facts["valid_until"], f"{facts['valid_days']} dias", "relay aberto",
                 "Você responde por todas as mensagens", "revogar a exceção",
                 "Devolver a exceção", f"/portal/cases/{protocol}", "Anatel",
                 "consumidor.gov.br", codes.display(notice.code)):
        assert fact in text, fact
    event = _event(app, protocol, "case:approved")
    assert f"evento nº {event.seq}" in text and event.hash.hex()[:40] in text.replace(" ", "")


def test_notices_are_pdf_a_with_their_decision_as_embedded_json(app, people):
    protocol = case_in(app, "approved", people)
    notice, _ = _only(app, protocol, "approval")

    xmp = pdf_xmp(notice.content)
    assert 'pdfaid:part="3"' in xmp and 'pdfaid:conformance="B"' in xmp
    assert pdf_info(notice.content)["/Title"] == f"Aviso de aprovação — protocolo {protocol}"
    assert pdf_language(notice.content) == "pt-BR"
    data = json.loads(pdf_attachments(notice.content)["dados.json"])
    with app.app_context():
        case = db.session.scalars(select(Case).where(Case.protocol == protocol)).one()
        assert data["valid_until"] == case.valid_until.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert data["protocol"] == protocol and data["kind"] == "approval"
    assert data["audit_seq"] == _event(app, protocol, "case:approved").seq


def test_rejection_notice_gives_the_reason_answers_the_customer_and_explains_the_appeal(
        app, people):
    protocol = _rejected(app, people)
    facts = _case(app, protocol)

    notice, text = _only(app, protocol, "rejection")

    for fact in (protocol, "Aviso de indeferimento", "Justificativa insuficiente", REFUSAL,
                 "Servidor de e-mail próprio da empresa, com SPF, DKIM e DMARC.",
                 f"Você pode recorrer até {facts['appeal_deadline']}", "30 dias",
                 "Recorrer da decisão",
                 f"/portal/cases/{protocol}", "Anatel", "PROCON", "consumidor.gov.br"):
        assert fact in text, fact
    event = _event(app, protocol, "case:rejected")
    assert f"evento nº {event.seq}" in text


def test_an_internal_note_never_reaches_the_customers_notice(app, people):
    protocol = case_in(app, "in_review", people)
    with app.app_context():
        case = db.session.scalars(select(Case).where(Case.protocol == protocol)).one()
        cases.add_note(case, actor=Actor(db.session.get(User, people.operator.id)),
                       message="Nota interna: cliente insistente, checar histórico.")
        db.session.commit()
    act(app, protocol, "reject", people.operator, reason_code="abuse_history")

    _, text = _only(app, protocol, "rejection")

    assert "Histórico de abuso" in text
    assert "cliente insistente" not in text and "Mensagem da equipe" not in text


def test_revocation_notice_says_why_when_and_how_to_ask_again(app, people):
    protocol = case_in(app, "approved", people)
    act(app, protocol, "revoke", people.operator, reason_code="abuse_confirmed",
        message="Recebemos denúncias de spam saindo do seu endereço.")
    revoked = _event(app, protocol, "case:revoked")
    with app.app_context(), force_locale("pt_BR"):
        when = format_datetime(revoked.occurred_at, "dd/MM/yyyy HH:mm")

    _, text = _only(app, protocol, "revocation")

    for fact in (protocol, "Aviso de revogação", "Abuso confirmado", f"Revogada em {when}",
                 "Recebemos denúncias de spam", "volta a ser bloqueada", "faça um novo pedido",
                 "/portal/cases/new", "consumidor.gov.br"):
        assert fact in text, fact


def test_a_customer_giving_the_exception_back_gets_a_notice_saying_so(app, people):
    protocol = case_in(app, "approved", people)
    act(app, protocol, "revoke", people.customer)

    _, text = _only(app, protocol, "revocation")

    assert "Como você pediu, a exceção ao bloqueio da porta 25 foi devolvida" in text
    assert "A pedido do cliente" in text


def test_expiry_notice_says_the_validity_ended_and_how_to_ask_again(app, people):
    protocol = case_in(app, "expired", people)
    facts = _case(app, protocol)

    _, text = _only(app, protocol, "expiry")

    for fact in (protocol, "Aviso de expiração", "A validade da sua exceção", facts["valid_until"],
                 "voltou a ser bloqueada", "faça um novo pedido", "/portal/cases/new"):
        assert fact in text, fact
    assert f"evento nº {_event(app, protocol, 'case:expired').seq}" in text


@pytest.mark.parametrize("status, kind, words", [
    ("approved", "approval", ("Approval notice", "Valid until", "open relay",
                              "Give up the exception")),
    ("rejected", "rejection", ("Rejection notice", "Insufficient justification",
                               "You may appeal until", "consumidor.gov.br")),
    ("revoked", "revocation", ("Revocation notice", "Abuse confirmed", "make a new request")),
    ("expired", "expiry", ("Expiry notice", "has ended", "make a new request")),
])
def test_notices_are_in_english_for_a_customer_who_reads_english(app, people, status, kind,
                                                                 words):
    with app.app_context():
        db.session.get(User, people.customer.id).locale = "en"
        db.session.commit()
    protocol = case_in(app, status, people)

    notice, text = _only(app, protocol, kind)

    assert protocol in text
    for word in words:
        assert word in text, word
    assert "Aviso de" not in text and "Protocolo" not in text
    assert pdf_language(notice.content) == "en"


def test_each_decision_has_exactly_one_notice(app, people):
    # Four eyes: the first approval is no decision yet; the second is; activation is none.
    protocol = case_in(app, "pending_second_approval", people, analyst=people.supervisor)
    issue_pending(app)
    assert records_of(app, protocol, "approval") == []
    act(app, protocol, "approve", people.second_supervisor)
    system_act(app, protocol, "activate")
    issue_pending(app)
    issue_pending(app)

    assert [r.kind for r in records_of(app, protocol)] == ["receipt", "approval"]


def test_a_new_refusal_after_the_appeal_supersedes_the_first_notice(app, client, people):
    protocol = _rejected(app, people)
    issue_pending(app)
    act(app, protocol, "appeal", people.customer, message=APPEAL)
    act(app, protocol, "claim", people.colleague)
    act(app, protocol, "reject", people.colleague, reason_code="address_not_eligible",
        message="O endereço é dinâmico; a exceção só vale para endereços fixos.")

    issue_pending(app)

    first, second = records_of(app, protocol, "rejection")
    assert second.supersedes_id == first.id
    first_text, second_text = pdf_text(first.content), pdf_text(second.content)
    assert "Justificativa insuficiente" in first_text and "recorrer até" in first_text
    for fact in ("Endereço não elegível", "endereço é dinâmico", APPEAL,
                 "não cabe novo recurso ao provedor", "Anatel"):
        assert fact in second_text, fact
    assert "Você pode recorrer até" not in second_text
    assert f"evento nº {_event(app, protocol, 'case:rejected').seq}" in second_text
    page = client.get(f"/verify/{codes.display(first.code)}").get_data(as_text=True)
    assert "Existe uma versão mais nova deste documento" in page
    assert codes.display(second.code) in page


@pytest.mark.parametrize("status", ["in_review", "awaiting_customer", "cancelled", "appealed"])
def test_steps_that_decide_nothing_issue_no_notice(app, people, status):
    protocol = case_in(app, status, people)
    issue_pending(app)
    kinds = [r.kind for r in records_of(app, protocol)]
    expected = ["receipt", "rejection"] if status == "appealed" else ["receipt"]
    assert kinds == expected
