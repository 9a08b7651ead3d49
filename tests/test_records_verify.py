"""The public verification page: a file sent is compared byte for byte with what we
issued (on a record's page) or looked up by its SHA-256 (on /verify); a code typed by
hand finds its page. Nothing of a file sent is kept."""

from __future__ import annotations

import hashlib
import io

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from models import AuditEvent, Record, RecordRequest, db
from tests.factories import make_case, make_user
from tests.helpers import Browser
from tests.records_support import issue_pending, records_of
from workflow.records import codes


def _receipt(app):
    protocol = make_case(app, make_user(app))
    assert issue_pending(app) == 1
    (receipt,) = records_of(app, protocol)
    return protocol, receipt


def _page_of(receipt) -> str:
    return f"/verify/{codes.display(receipt.code)}"


def send(client, url: str, content: bytes | None, *, filename: str = "comprovante.pdf",
         page: str | None = None, token: bool = True):
    """Send ``content`` through the upload form of ``page`` (default: ``url``)."""
    fields = {}
    if token:
        fields["csrf_token"] = Browser(client).csrf_token(page or url)
    if content is not None:
        fields["file"] = FileStorage(io.BytesIO(content), filename=filename,
                                     content_type="application/pdf")
    # Encoded in memory: the test client would spool a large body to a temporary file
    # that nobody closes when the app refuses it before reading (413).
    boundary, body = encode_multipart(fields)
    return client.post(url, data=body,
                       content_type=f"multipart/form-data; boundary={boundary}")


def _rows(app) -> tuple[int, int, int]:
    with app.app_context():
        return tuple(db.session.scalar(select(func.count()).select_from(model))
                     for model in (AuditEvent, Record, RecordRequest))


def _changed(content: bytes, how: str) -> bytes:
    if how == "one byte flipped":
        middle = len(content) // 2
        return content[:middle] + bytes([content[middle] ^ 0x01]) + content[middle + 1:]
    if how == "one byte added":
        return content + b"\n"
    return content[:-1]


def test_the_issued_file_is_identical_to_the_record(app, client):
    protocol, receipt = _receipt(app)
    before = _rows(app)

    response = send(client, _page_of(receipt), receipt.content)

    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Idêntico ao documento emitido" in body
    assert "Diferente" not in body
    assert protocol in body and codes.display(receipt.code) in body
    assert _rows(app) == before  # nothing of the upload was kept, not even an audit event


@pytest.mark.parametrize("how", ["one byte flipped", "one byte added", "one byte cut"])
def test_a_file_differing_by_one_byte_is_not_the_record(app, client, how):
    _, receipt = _receipt(app)
    altered = _changed(receipt.content, how)

    response = send(client, _page_of(receipt), altered)

    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Diferente: não é este documento" in body
    assert "Idêntico" not in body
    assert receipt.sha256 in body
    assert hashlib.sha256(altered).hexdigest() in body


def test_a_file_sent_without_a_code_is_found_by_its_hash(app, client):
    protocol, receipt = _receipt(app)
    before = _rows(app)

    response = send(client, "/verify", receipt.content)

    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Idêntico ao documento emitido" in body
    assert codes.display(receipt.code) in body and protocol in body
    assert _rows(app) == before


def test_a_file_we_did_not_issue_is_said_not_to_be_ours(app, client):
    _, receipt = _receipt(app)

    response = send(client, "/verify", _changed(receipt.content, "one byte flipped"))

    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Não é um documento emitido por nós" in body
    assert codes.display(receipt.code) not in body


@pytest.mark.parametrize("target", ["record", "home"])
@pytest.mark.parametrize("content,filename,message", [
    (None, None, "Escolha o arquivo PDF que você quer conferir."),
    (b"", "", "Escolha o arquivo PDF que você quer conferir."),
    (b"", "vazio.pdf", "O arquivo enviado está vazio."),
])
def test_a_missing_or_empty_file_is_refused_clearly(app, client, target, content, filename,
                                                    message):
    _, receipt = _receipt(app)
    url = _page_of(receipt) if target == "record" else "/verify"
    before = _rows(app)

    response = send(client, url, content, filename=filename)

    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in body
    assert "Idêntico" not in body and "Diferente" not in body
    assert _rows(app) == before


@pytest.mark.parametrize("target", ["record", "home"])
def test_a_file_over_the_limit_gets_a_friendly_page(app, client, target):
    _, receipt = _receipt(app)
    url = _page_of(receipt) if target == "record" else "/verify"
    huge = b"%PDF-1.7\n" + b"0" * app.config["MAX_CONTENT_LENGTH"]

    response = send(client, url, huge)

    body = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "O arquivo é grande demais: envie um PDF de até 4 MB." in body
    assert 'type="file"' in body  # the form is there to try again
    if target == "record":
        assert receipt.sha256 in body


def test_uploads_are_rate_limited_per_address_across_both_forms(app_factory):
    app = app_factory(VERIFY_RATE_LIMIT="2 per minute")
    client = app.test_client()
    _, receipt = _receipt(app)

    assert send(client, _page_of(receipt), receipt.content).status_code == 200
    assert send(client, "/verify", receipt.content).status_code == 200
    refused = send(client, _page_of(receipt), receipt.content)

    assert refused.status_code == 429
    assert "Muitas tentativas" in refused.get_data(as_text=True)
    assert client.get(_page_of(receipt)).status_code == 200  # reading is not limited


@pytest.mark.parametrize("target", ["record", "home"])
def test_an_upload_without_the_form_token_is_refused(app, client, target):
    _, receipt = _receipt(app)
    url = _page_of(receipt) if target == "record" else "/verify"

    response = send(client, url, receipt.content, token=False)

    assert response.status_code == 400
    assert "O formulário expirou" in response.get_data(as_text=True)


def test_an_upload_to_an_unknown_code_is_a_404(app, client):
    _, receipt = _receipt(app)
    response = send(client, "/verify/AAAA-BBBB-CCCC-DDDD", receipt.content, page="/verify")
    assert response.status_code == 404
    assert "Nenhum documento emitido pelo porta25 tem o código" in response.get_data(as_text=True)


def test_a_code_typed_by_hand_leads_to_its_page_whatever_its_format(app, client):
    _, receipt = _receipt(app)
    typed = " ".join(codes.display(receipt.code).lower().split("-"))  # "7kq2 m9xd …"

    response = client.get("/verify", query_string={"code": f"  {typed} "})

    assert response.status_code == 302
    assert response.headers["Location"].endswith(_page_of(receipt))


@pytest.mark.parametrize("typed,message", [
    ("", "Digite o código impresso no rodapé do documento."),
    ("7KQ2-M9XD", "Este não é um código de verificação"),
    ("!!!!-????-****-####", "Este não é um código de verificação"),
])
def test_a_code_that_cannot_be_one_is_refused_on_the_form(client, typed, message):
    response = client.get("/verify", query_string={"code": typed})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)


def test_the_landing_page_offers_both_ways(client):
    body = client.get("/verify").get_data(as_text=True)
    assert "Pelo código" in body and "Pelo arquivo" in body
    assert 'enctype="multipart/form-data"' in body and 'name="csrf_token"' in body


def test_every_page_links_to_the_verification_and_the_trails_public_key(client):
    for path in ("/login", "/verify"):
        page = client.get(path).get_data(as_text=True)
        assert 'href="/verify">Verificar a autenticidade de um documento</a>' in page
        assert 'href="/audit/checkpoints/latest"' in page and 'href="/audit/public-key"' in page
