"""Optional PAdES signature of records: with a PKCS#12 certificate configured the worker
signs each record (B-B, SHA-256, incremental update keeping PDF/A-3b and the embedded
JSON), the public page reports the signature, and a certificate that cannot sign is a
clear error on the request, retried later — never a crash loop."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pypdf
import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from sqlalchemy import select

from models import Record, RecordRequest, db, utcnow
from tests.factories import make_case, make_user
from tests.records_support import (
    issue_pending,
    pdf_attachments,
    pdf_info,
    pdf_text,
    pdf_xmp,
    records_of,
)
from workflow.records import codes, render, signature

PASSWORD = "senha-do-certificado-de-teste"
SUBJECT = "CN=Provedor Exemplo Telecom Ltda,O=Provedor Exemplo,C=BR"


def make_certificate(folder, *, key=None, password: str = PASSWORD):
    """A throw-away self-signed certificate and its PKCS#12 file; returns (path, PEM path)."""
    folder.mkdir(parents=True, exist_ok=True)
    key = key or rsa.generate_private_key(public_exponent=65537, key_size=2048)
    # Country first, common name last, as certificate authorities write them.
    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "BR"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Provedor Exemplo"),
                      x509.NameAttribute(NameOID.COMMON_NAME, "Provedor Exemplo Telecom Ltda")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=30))
            .add_extension(x509.KeyUsage(
                digital_signature=True, content_commitment=True, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=False,
                crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    p12 = folder / "registros.p12"
    p12.write_bytes(pkcs12.serialize_key_and_certificates(
        b"porta25", key, cert, None,
        serialization.BestAvailableEncryption(password.encode())))
    pem = folder / "raiz.pem"
    pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return str(p12), str(pem)


def _asn1(pem_path: str) -> asn1_x509.Certificate:
    cert = x509.load_pem_x509_certificate(Path(pem_path).read_bytes())
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def _signed_receipt(app):
    protocol = make_case(app, make_user(app))
    assert issue_pending(app) == 1
    (receipt,) = records_of(app, protocol)
    return protocol, receipt


def _signer_column(app, code: str) -> str | None:
    with app.app_context():
        return db.session.scalars(select(Record.signer).where(Record.code == code)).one()


@pytest.fixture
def certificate(tmp_path):
    return make_certificate(tmp_path)


def test_a_configured_certificate_signs_each_record_pades_b_b(app_factory, certificate):
    p12, pem = certificate
    app = app_factory(RECORD_SIGNING_P12=p12, RECORD_SIGNING_P12_PASSWORD=PASSWORD)
    protocol, receipt = _signed_receipt(app)

    (signature,) = PdfFileReader(io.BytesIO(receipt.content)).embedded_signatures
    status = validate_pdf_signature(signature, ValidationContext(trust_roots=[_asn1(pem)]))

    assert status.intact and status.valid and status.trusted and status.bottom_line
    assert status.md_algorithm == "sha256"
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert signature.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"  # PAdES
    assert _signer_column(app, receipt.code) == SUBJECT
    # The signature is an incremental update: PDF/A-3b, the JSON and the text are intact.
    xmp = pdf_xmp(receipt.content)
    assert 'pdfaid:part="3"' in xmp and 'pdfaid:conformance="B"' in xmp
    assert receipt.content.startswith(b"%PDF-1.7")
    root = pypdf.PdfReader(io.BytesIO(receipt.content)).trailer["/Root"]
    assert "/Version" not in root
    (widget,) = [field.get_object() for field in root["/AcroForm"]["/Fields"]]
    assert widget["/F"] & 4 and [float(n) for n in widget["/Rect"]] == [0, 0, 0, 0]  # PDF/A
    assert protocol in pdf_text(receipt.content)
    info = pdf_info(receipt.content)
    assert info["/Title"] == f"Comprovante de protocolo {protocol}"
    assert f'pdf:Producer="{info["/Producer"]}"' in xmp  # PDF/A: Info and XMP agree


def test_the_embedded_json_survives_the_signature(app_factory, certificate):
    p12, _ = certificate
    app = app_factory(RECORD_SIGNING_P12=p12, RECORD_SIGNING_P12_PASSWORD=PASSWORD)
    with app.app_context():
        rendered = render.pdf("<p>Relatório</p>", data=b'{"casos": 3}')
        signed = signature.sign(rendered)

    assert signed.pdf.startswith(rendered)  # an incremental update: the original bytes stay
    assert json.loads(pdf_attachments(signed.pdf)["dados.json"]) == {"casos": 3}
    assert 'pdfaid:part="3"' in pdf_xmp(signed.pdf)
    assert signed.signer == SUBJECT


def test_the_verification_page_names_the_signer_and_says_the_chain_is_not_trusted(
        app_factory, certificate):
    p12, _ = certificate
    app = app_factory(RECORD_SIGNING_P12=p12, RECORD_SIGNING_P12_PASSWORD=PASSWORD)
    _, receipt = _signed_receipt(app)

    body = app.test_client().get(f"/verify/{codes.display(receipt.code)}").get_data(
        as_text=True)

    assert "Assinatura digital" in body
    assert "Íntegra e válida" in body
    assert SUBJECT in body
    assert "Data da assinatura" in body
    assert "Não reconhecida: o certificado não leva a nenhuma autoridade certificadora" in body
    assert "Só certificados ICP-Brasil têm presunção legal" in body


def test_a_chain_to_a_configured_root_is_called_trusted(app_factory, certificate):
    p12, pem = certificate
    app = app_factory(RECORD_SIGNING_P12=p12, RECORD_SIGNING_P12_PASSWORD=PASSWORD,
                      RECORD_TRUST_ROOTS=pem)
    _, receipt = _signed_receipt(app)

    body = app.test_client().get(f"/verify/{codes.display(receipt.code)}").get_data(
        as_text=True)

    assert "Reconhecida: o certificado leva a uma autoridade certificadora raiz" in body
    assert "Não reconhecida" not in body


def test_without_a_certificate_nothing_is_signed(app, client):
    _, receipt = _signed_receipt(app)

    assert PdfFileReader(io.BytesIO(receipt.content)).embedded_signatures == []
    assert _signer_column(app, receipt.code) is None
    body = client.get(f"/verify/{codes.display(receipt.code)}").get_data(as_text=True)
    assert "Este documento não tem assinatura digital" in body


def _ec_certificate(folder):
    return make_certificate(folder, key=ec.generate_private_key(ec.SECP256R1()))[0]


@pytest.mark.parametrize("problem,expected", [
    ("missing file", "cannot be read"),
    ("wrong password", "wrong RECORD_SIGNING_P12_PASSWORD"),
    ("not a PKCS#12 file", "not a PKCS#12 file"),
    ("ECDSA key", "records need an RSA key"),
])
def test_a_certificate_that_cannot_sign_is_a_clear_error_on_the_request(
        app_factory, tmp_path, caplog, problem, expected):
    p12, _ = make_certificate(tmp_path / "rsa")
    password = PASSWORD
    if problem == "missing file":
        p12 = str(tmp_path / "nao-existe.p12")
    elif problem == "wrong password":
        password = "senha-errada-123"
    elif problem == "not a PKCS#12 file":
        (tmp_path / "texto.p12").write_text("isto não é um certificado")
        p12 = str(tmp_path / "texto.p12")
    else:
        p12 = _ec_certificate(tmp_path)
    app = app_factory(RECORD_SIGNING_P12=p12, RECORD_SIGNING_P12_PASSWORD=password)
    make_case(app, make_user(app))

    with caplog.at_level(logging.INFO):
        assert issue_pending(app) == 0
        assert issue_pending(app) == 0  # not due again yet: no loop on a broken setting

    with app.app_context():
        request = db.session.scalars(select(RecordRequest)).one()
        assert expected in request.last_error and "RECORD_SIGNING_P12" in request.last_error
        assert request.attempts == 1
        assert request.next_attempt_at > utcnow() and request.done_at is None
        assert db.session.scalars(select(Record)).all() == []
    for secret in (password, PASSWORD):
        assert secret not in request.last_error and secret not in caplog.text


def test_a_corrected_certificate_is_used_at_the_next_try(app_factory, certificate):
    p12, _ = certificate
    app = app_factory(RECORD_SIGNING_P12=p12, RECORD_SIGNING_P12_PASSWORD="senha-errada-123")
    make_case(app, make_user(app))
    assert issue_pending(app) == 0

    app.config["RECORD_SIGNING_P12_PASSWORD"] = PASSWORD
    assert issue_pending(app, clock=lambda: utcnow() + timedelta(minutes=2)) == 1
    (receipt,) = records_of(app)
    assert _signer_column(app, receipt.code) == SUBJECT


def test_signing_and_checking_work_inside_a_running_event_loop(app_factory, certificate):
    # pyHanko's synchronous API calls asyncio.run(); an async server (or Playwright in
    # these tests) may already run a loop in the calling thread.
    p12, _ = certificate
    app = app_factory(RECORD_SIGNING_P12=p12, RECORD_SIGNING_P12_PASSWORD=PASSWORD)
    make_case(app, make_user(app))

    async def inside_a_loop():
        assert issue_pending(app) == 1
        (receipt,) = records_of(app)
        return app.test_client().get(f"/verify/{codes.display(receipt.code)}")

    page = asyncio.run(inside_a_loop())
    assert "Íntegra e válida" in page.get_data(as_text=True)
