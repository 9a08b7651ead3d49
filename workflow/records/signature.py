"""Optional PAdES signature of records (pyHanko), and its check on the public page.

With RECORD_SIGNING_P12 set, the worker signs each rendered record (PAdES B-B,
SHA-256) in an incremental update, so the PDF/A-3b identification and the
embedded JSON stay as WeasyPrint wrote them. Only ICP-Brasil certificates carry
a legal presumption of authenticity: the verification code and the stored
SHA-256 remain the primary proof, and the signature is a complement (DESIGN §12).

The key must be RSA: pyHanko marks a file signed with ECDSA or EdDSA as PDF 2.0
(ISO 32002), which a PDF/A-3 file (PDF 1.7) must not be.
"""

from __future__ import annotations

import io
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from pyhanko.keys import load_certs_from_pemder
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.metadata.model import VENDOR
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from models import Record

from ..config import setting

log = logging.getLogger("porta25.records")
FIELD_NAME = "porta25"
MD_ALGORITHM = "sha256"  # SHA-384 would make pyHanko mark the file PDF 2.0 (DESIGN §12)
SIGNER_MAX = 300  # Record.signer's length
# A records certificate may say either; pyHanko's default asks for non-repudiation alone.
KEY_USAGE = KeyUsageConstraints(key_usage={"digital_signature", "non_repudiation"})
# A certificate outside the configured roots is an answer the page gives, not an incident:
# pyHanko would log a warning with a traceback for each such check.
logging.getLogger("pyhanko.sign.validation.generic_cms").setLevel(logging.ERROR)


class SigningError(RuntimeError):
    """The configured certificate cannot sign (missing file, wrong password, key type)."""


@dataclass(frozen=True)
class Signed:
    pdf: bytes
    signer: str | None  # the certificate's subject; None when not signed


def sign(pdf: bytes) -> Signed:
    """The PDF signed with the configured certificate, or as it is when there is none."""
    path = setting("RECORD_SIGNING_P12")
    if not path:
        return Signed(pdf, None)
    signer = _signer(path, setting("RECORD_SIGNING_P12_PASSWORD"))
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    _producer_as_pyhanko_writes_it(writer)
    meta = signers.PdfSignatureMetadata(field_name=FIELD_NAME, md_algorithm=MD_ALGORITHM,
                                        subfilter=fields.SigSeedSubFilter.PADES)
    output = _off_any_event_loop(signers.sign_pdf, writer, meta, signer=signer)
    return Signed(output.getvalue(), subject_of(signer.signing_cert))


def _off_any_event_loop(function, *args, **kwargs):
    """Call a pyHanko function on a thread of its own: its synchronous API calls
    asyncio.run(), which refuses to start in a thread already running an event loop
    (an async server's, or Playwright's in the tests)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function, *args, **kwargs).result()


def _producer_as_pyhanko_writes_it(writer: IncrementalPdfFileWriter) -> None:
    """PDF/A wants the Info dictionary and the XMP to agree: pyHanko writes its own name
    as the XMP producer, and would append it to the Info producer."""
    if "/Info" not in writer.trailer:
        return
    info_ref = writer.trailer.raw_get("/Info")
    info = info_ref.get_object()
    info["/Producer"] = generic.TextStringObject(VENDOR)
    writer.mark_update(info_ref)


@cache
def _signer(path: str, password: str) -> signers.SimpleSigner:
    """The key and certificate, read once per process (per path and password)."""
    try:
        with open(path, "rb") as file:
            data = file.read()
    except OSError as error:
        raise SigningError(f"RECORD_SIGNING_P12 {path!r} cannot be read: "
                           f"{error.strerror or error}") from None
    try:
        signer = signers.SimpleSigner.load_pkcs12_data(
            data, other_certs=[], passphrase=password.encode() if password else None)
    except ValueError:
        raise SigningError(f"RECORD_SIGNING_P12 {path!r} cannot be opened: wrong "
                           "RECORD_SIGNING_P12_PASSWORD, or not a PKCS#12 file") from None
    algorithm = signer.signing_cert.public_key.algorithm
    if algorithm != "rsa":
        raise SigningError(f"RECORD_SIGNING_P12 {path!r}: the key is {algorithm.upper()}; "
                           "records need an RSA key (with ECDSA or EdDSA pyHanko marks the "
                           "file PDF 2.0, which PDF/A-3 cannot be)")
    return _ParsedKeySigner(signing_cert=signer.signing_cert, signing_key=signer.signing_key,
                            cert_registry=signer.cert_registry)


class _ParsedKeySigner(signers.SimpleSigner):
    """pyHanko's SimpleSigner parses its private key again for every signature (80 ms for
    an RSA key, twice a record counting the size estimate); this one parses it once."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._key = serialization.load_der_private_key(self.signing_key.dump(), password=None)

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
        if mechanism != "rsassa_pkcs1v15" or digest_algorithm != MD_ALGORITHM:
            return super().sign_raw(data, digest_algorithm)  # not ours: pyHanko's own way
        return self._key.sign(data, PKCS1v15(), hashes.SHA256())


def subject_of(cert: asn1_x509.Certificate) -> str:
    """The certificate's subject as people read it (RFC 4514: ``CN=…,O=…,C=BR``)."""
    subject = x509.load_der_x509_certificate(cert.dump()).subject.rfc4514_string()
    return subject[:SIGNER_MAX]


@dataclass(frozen=True)
class SignatureCheck:
    """What pyHanko says about a record's signature."""

    intact: bool  # the signed bytes hash to what was signed
    valid: bool  # the signature over that hash verifies with the certificate
    trusted: bool  # the certificate leads to one of RECORD_TRUST_ROOTS
    covers_whole_file: bool  # nothing was appended after signing
    signer: str
    signed_at: datetime | None  # as the signer stated it (no timestamp authority)

    @property
    def sound(self) -> bool:
        """The file is exactly what the certificate's holder signed."""
        return self.intact and self.valid and self.covers_whole_file


def check(record: Record) -> SignatureCheck | None:
    """pyHanko's verdict on a stored record's signature; None when unsigned or erased.

    The chain is judged as of the record's issue (our audit trail says when), so a
    certificate that expired since does not make an old record look forged.
    Revocation is not looked up: the page makes no network calls.
    """
    if record.signer is None or record.content is None:
        return None
    signatures = PdfFileReader(io.BytesIO(record.content), strict=False).embedded_signatures
    if not signatures:
        return None
    moment = record.issued_at
    context = ValidationContext(trust_roots=_trust_roots(setting("RECORD_TRUST_ROOTS")),
                                moment=moment, best_signature_time=moment)
    status = _off_any_event_loop(validate_pdf_signature, signatures[-1], context,
                                 key_usage_settings=KEY_USAGE)
    return SignatureCheck(
        intact=status.intact, valid=status.valid, trusted=status.trusted,
        covers_whole_file=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
        signer=subject_of(status.signing_cert), signed_at=status.signer_reported_dt)


@cache
def _trust_roots(paths: str) -> tuple[asn1_x509.Certificate, ...]:
    """The certificates of RECORD_TRUST_ROOTS (PEM or DER files, comma-separated), read once."""
    files = [path.strip() for path in paths.split(",") if path.strip()]
    try:
        return tuple(load_certs_from_pemder(files))
    except (OSError, ValueError):  # the public page still answers; nothing counts as trusted
        log.exception("RECORD_TRUST_ROOTS cannot be read: no certificate is trusted")
        return ()
