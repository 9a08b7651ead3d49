"""Records: the receipt issued at submission, stored once, downloadable by its owner only,
confirmed by the public verification page, superseded (never overwritten) by a re-issue."""

from __future__ import annotations

import hashlib
import http.server
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, text, update
from weasyprint.urls import FatalURLFetchingError

from models import AuditEvent, Case, PersonalDataReveal, Record, RecordKind, Role, User, db, utcnow
from tests.factories import make_case, make_user
from tests.helpers import Browser
from tests.records_support import (
    issue_pending,
    pdf_a_structure,
    pdf_fonts,
    pdf_info,
    pdf_language,
    pdf_text,
    pdf_xmp,
    records_of,
    requests_waiting,
)
from workflow import records
from workflow.records import codes, render

HOSTILE = ('Meu servidor <img src="file:///etc/passwd"> <b>negrito</b> '
           '<img src="{url}/espiao.png"> envia avisos aos clientes da loja.')


@pytest.fixture
def spy_server():
    """A real HTTP server on loopback that counts every request it gets."""
    hits = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()
    server.server_close()


def _receipt(app, customer, **fields):
    protocol = make_case(app, customer, **fields)
    assert issue_pending(app) == 1
    (receipt,) = records_of(app, protocol, RecordKind.RECEIPT)
    return protocol, receipt


def test_submission_issues_a_receipt_holding_what_was_asked(app, spy_server):
    url, hits = spy_server
    customer = make_user(app, name="Joana Prado")
    justification = HOSTILE.format(url=url)
    protocol, receipt = _receipt(app, customer, target="203.0.113.77",
                                 justification=justification)

    content = pdf_text(receipt.content)
    for fact in (protocol, "Comprovante de protocolo", "203.0.113.77/32", "Joana Prado",
                 "mail.exemplo.com.br", "2026-11", "Resposta até", "Execução até",
                 codes.display(receipt.code), f"/verify/{codes.display(receipt.code)}",
                 "consumidor.gov.br", "Anatel"):
        assert fact in content
    # The customer's text is text: the markup is printed, nothing was fetched or read.
    assert '<img src="file:///etc/passwd">' in content
    assert "<b>negrito</b>" in content
    assert hits == []
    assert "root:x:0:0" not in content


def test_receipt_is_pdf_a_3b_with_its_metadata(app):
    protocol, receipt = _receipt(app, make_user(app))
    info = pdf_info(receipt.content)
    assert info["/Title"] == f"Comprovante de protocolo {protocol}"
    assert info["/protocol"] == protocol
    assert info["/verificationcode"] == codes.display(receipt.code)
    assert protocol in info["/Keywords"]
    xmp = pdf_xmp(receipt.content)
    assert 'pdfaid:part="3"' in xmp and 'pdfaid:conformance="B"' in xmp
    assert receipt.content.startswith(b"%PDF-1.7")
    assert pdf_language(receipt.content) == "pt-BR"
    assert pdf_a_structure(receipt.content) == {
        "output_intent": ["/GTS_PDFA1"], "has_profile": True, "fonts_embedded": True,
        "encrypted": False, "has_id": True, "has_xmp": True}


def test_receipt_is_in_english_for_a_customer_who_reads_english(app):
    customer = make_user(app)
    with app.app_context():
        db.session.get(User, customer.id).locale = "en"
        db.session.commit()
    protocol, receipt = _receipt(app, customer)
    content = pdf_text(receipt.content)
    assert "Filing receipt" in content and protocol in content
    assert "Comprovante" not in content


def test_the_stored_hash_is_that_of_the_bytes_served_and_the_download_is_audited(app, client):
    customer = make_user(app)
    protocol, receipt = _receipt(app, customer)
    browser = Browser(client)
    browser.login(customer.email)

    response = client.get(f"/records/{receipt.code}")

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    assert hashlib.sha256(response.data).hexdigest() == receipt.sha256
    with app.app_context():
        downloads = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "record:downloaded", AuditEvent.object_id == receipt.code)).all()
        assert [(e.actor_id, e.uf) for e in downloads] == [(customer.id, "SP")]
        issued = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "record:issued", AuditEvent.object_id == receipt.code)).one()
        assert issued.actor_role == "system:records"


def test_the_case_page_lists_the_receipt_once_issued(app, client):
    customer = make_user(app)
    protocol = make_case(app, customer)
    browser = Browser(client)
    browser.login(customer.email)

    before = browser.text(f"/portal/cases/{protocol}")
    assert "Em preparação" in before
    issue_pending(app)
    after = browser.text(f"/portal/cases/{protocol}")
    (receipt,) = records_of(app, protocol)
    assert "Comprovante de protocolo" in after and codes.display(receipt.code) in after
    assert "Em preparação" not in after


@pytest.mark.parametrize("reader", ["stranger", "auditor_rj", "provider", "anonymous"])
def test_nobody_else_gets_a_customers_receipt(app, client, reader):
    protocol, receipt = _receipt(app, make_user(app))
    browser = Browser(client)
    if reader == "stranger":
        browser.login(make_user(app).email)
    elif reader == "auditor_rj":
        browser.login(make_user(app, Role.AUDITOR, uf="RJ").email)
    elif reader == "provider":
        browser.login(make_user(app, Role.PROVIDER).email)

    response = client.get(f"/records/{receipt.code}")

    if reader == "anonymous":
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    else:
        assert response.status_code == 404
        assert "Documento não encontrado" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "record:downloaded")).all() == []


@pytest.mark.parametrize("reader", [Role.OPERATOR, Role.SUPERVISOR])
def test_staff_read_the_receipt(app, client, reader):
    protocol, receipt = _receipt(app, make_user(app))
    Browser(client).login(make_user(app, reader).email)
    response = client.get(f"/records/{receipt.code}")
    assert response.status_code == 200
    assert hashlib.sha256(response.data).hexdigest() == receipt.sha256


@pytest.mark.parametrize("uf", ["SP", None])
def test_auditors_in_scope_read_the_receipt_only_while_they_have_its_case_revealed(app, uf):
    """The receipt names the customer: for an auditor, as the case page's personal data."""
    protocol, receipt = _receipt(app, make_user(app))
    auditor = Browser(app.test_client())
    auditor.login(make_user(app, Role.AUDITOR, uf=uf).email)
    page = f"/regulador/casos/{protocol}"
    note = "aparecem aqui enquanto os dados deste caso estiverem revelados para você."
    assert auditor.get(f"/records/{receipt.code}").status_code == 404
    masked = auditor.text(page)
    assert note in masked and f"/records/{receipt.code}" not in masked

    auditor.submit(f"{page}/revelar", {"reason": "CIP 2026.07.001234"}, page=page)
    response = auditor.get(f"/records/{receipt.code}")
    assert response.status_code == 200
    assert hashlib.sha256(response.data).hexdigest() == receipt.sha256
    revealed = auditor.text(page)
    assert note not in revealed and f"/records/{receipt.code}" in revealed

    with app.app_context():  # the reveal runs out
        db.session.execute(update(PersonalDataReveal).values(
            expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    assert auditor.get(f"/records/{receipt.code}").status_code == 404


def test_the_verification_page_confirms_a_record_without_personal_data(app, client):
    customer = make_user(app, name="Joana Prado")
    protocol, receipt = _receipt(app, customer)

    page = client.get(f"/verify/{codes.display(receipt.code).lower()}")

    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Comprovante de protocolo" in body and protocol in body
    assert receipt.sha256 in body
    assert "Esta é a versão mais recente" in body
    for personal in ("Joana Prado", customer.email, "CTR-"):
        assert personal not in body


@pytest.mark.parametrize("code", ["AAAA-BBBB-CCCC-DDDD", "curto", "!!!!-????-****-####"])
def test_an_unknown_code_is_a_clear_404(client, code):
    page = client.get(f"/verify/{code}")
    assert page.status_code == 404
    assert "Nenhum documento emitido pelo porta25 tem o código" in page.get_data(as_text=True)


def test_a_reissue_supersedes_and_the_old_record_says_so(app, client):
    customer = make_user(app)
    protocol, first = _receipt(app, customer)
    with app.app_context():
        case = db.session.scalars(select(Case).where(Case.protocol == protocol)).one()
        records.request_record(RecordKind.RECEIPT, case=case, language="pt_BR",
                               requested_by=db.session.get(User, customer.id))
        db.session.commit()
    assert issue_pending(app) == 1
    old, new = records_of(app, protocol)

    assert new.supersedes_id == old.id and new.code != old.code
    assert old.content == first.content  # the first record is untouched
    old_page = client.get(f"/verify/{codes.display(old.code)}").get_data(as_text=True)
    assert "Existe uma versão mais nova deste documento" in old_page
    assert codes.display(new.code) in old_page
    new_page = client.get(f"/verify/{codes.display(new.code)}").get_data(as_text=True)
    assert "Esta é a versão mais recente" in new_page


def test_asking_twice_before_the_worker_runs_is_one_request(app):
    customer = make_user(app)
    protocol = make_case(app, customer)
    with app.app_context():
        case = db.session.scalars(select(Case).where(Case.protocol == protocol)).one()
        first = records.request_record(RecordKind.RECEIPT, case=case, language="pt_BR")
        db.session.commit()
        assert first.id is not None
    assert requests_waiting(app) == 1


@pytest.mark.parametrize("statement", ["UPDATE record SET sha256 = 'x'", "DELETE FROM record"])
def test_the_database_refuses_to_change_an_issued_record(app, statement):
    _receipt(app, make_user(app))
    with app.app_context():
        with pytest.raises(Exception, match="insert-only"):
            db.session.execute(text(statement))
        db.session.rollback()
        assert db.session.scalar(select(db.func.count()).select_from(Record)) == 1


def test_the_bytes_are_never_changed_but_retention_may_erase_them(app, client):
    customer = make_user(app)
    protocol, receipt = _receipt(app, customer)
    with app.app_context():
        with pytest.raises(Exception, match="insert-only"):
            db.session.execute(text("UPDATE record_file SET content = :x"), {"x": b"%PDF-"})
        db.session.rollback()
        db.session.execute(text("DELETE FROM record_file"))
        db.session.commit()
    Browser(client).login(customer.email)

    download = client.get(f"/records/{receipt.code}")
    page = client.get(f"/verify/{codes.display(receipt.code)}").get_data(as_text=True)

    assert download.status_code == 404
    assert "apagado pela política de retenção" in download.get_data(as_text=True)
    assert receipt.sha256 in page


@pytest.mark.parametrize("source", [
    "file:///etc/passwd",
    "{url}/remoto.png",
    "../../settings.py",
    "data:image/png;base64,iVBORw0KGgo=",
])
def test_the_renderer_fetches_only_static_files(app, spy_server, source):
    url, hits = spy_server
    html = f'<p>x</p><img src="{source.format(url=url)}">'
    with pytest.raises(FatalURLFetchingError):
        render.pdf(html)
    assert hits == []


def test_the_renderer_uses_the_shipped_font(app):
    fonts = pdf_fonts(render.pdf("<p>Olá, ação!</p>"))
    assert fonts and all(name.endswith("+porta25-Sans") for name in fonts)
