"""In real Chromium: a customer files a request, downloads the receipt the worker issued,
opens its verification page from the code and checks the file there — the downloaded
copy is identical, a copy with one byte changed is not."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from playwright.sync_api import expect

from tests.factories import make_user
from tests.records_support import issue_pending, records_of

from .support import reload, sign_in


def _file_a_request(page) -> str:
    page.goto("/portal/guide")
    page.get_by_role("button", name="Pedir exceção").first.click()
    page.get_by_label("Endereço IP ou prefixo").fill("203.0.113.9")
    page.get_by_label("Justificativa").fill(
        "Servidor de e-mail próprio da empresa, com SPF, DKIM e DMARC publicados.")
    page.get_by_label("Nome do servidor de e-mail (FQDN)").fill("mail.exemplo.com.br")
    page.get_by_label("Li e aceito os termos de uso acima.").check()
    page.get_by_role("button", name="Enviar pedido").click()
    expect(page.get_by_text("Pedido registrado. Protocolo nº")).to_be_visible()
    return re.search(r"\d{13}", page.locator(".protocol").first.inner_text()).group(0)


def test_a_downloaded_receipt_is_confirmed_and_an_altered_copy_is_not(
        app, chromium, live_server, tmp_path):
    customer = make_user(app, subscriber_id="CTR-0042")
    violations: list[str] = []
    context = chromium.new_context(locale="pt-BR", base_url=live_server, accept_downloads=True)
    page = context.new_page()
    page.on("console", lambda m: violations.append(m.text) if "Content Security" in m.text
            else None)
    sign_in(page, customer.email)
    protocol = _file_a_request(page)

    # The worker's step issues the receipt; the case page then lists it.
    assert issue_pending(app) == 1
    (receipt,) = records_of(app, protocol)
    reload(page)
    with page.expect_download() as info:
        page.get_by_role("link", name="Baixar PDF").click()
    downloaded = Path(info.value.path())
    assert hashlib.sha256(downloaded.read_bytes()).hexdigest() == receipt.sha256

    # The code printed on the record leads to the public page, where the file is checked.
    page.get_by_role("link", name=re.compile(r"^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Documento emitido pelo porta25")
    page.get_by_label("Arquivo PDF").set_input_files(downloaded)
    page.get_by_role("button", name="Conferir arquivo").click()
    expect(page.get_by_role("heading", name="Idêntico ao documento emitido")).to_be_visible()

    content = downloaded.read_bytes()
    altered = tmp_path / "comprovante-alterado.pdf"
    middle = len(content) // 2
    altered.write_bytes(content[:middle] + bytes([content[middle] ^ 0x01]) + content[middle + 1:])
    page.get_by_label("Arquivo PDF").set_input_files(altered)
    page.get_by_role("button", name="Conferir arquivo").click()
    expect(page.get_by_role("heading", name="Diferente: não é este documento")).to_be_visible()
    expect(page.get_by_role("heading", name="Idêntico ao documento emitido")).to_have_count(0)
    assert violations == []
    context.close()
