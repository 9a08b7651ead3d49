"""In real Chromium: a PROCON-SP auditor finds a case of their state on the regulators'
portal, reveals the customer's personal data stating a CIP number, asks for the case's
dossier and downloads it (the same bytes as stored, personal data masked)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from playwright.sync_api import expect

from tests.factories import make_case, make_user, unique_target
from tests.records_support import issue_pending, pdf_text, records_of

from .support import reload, sign_in

CIP = "CIP 2026.07.004321"


def test_a_procon_reveals_a_customers_data_and_downloads_the_dossier(app, chromium,
                                                                   live_server):
    customer = make_user(app, name="Joana Prado Lima", uf="SP", phone="+55 11 98765-4321")
    protocol = make_case(app, customer, target=unique_target())
    make_case(app, make_user(app, name="Bruno Costa", uf="RJ"), target=unique_target())
    issue_pending(app)  # the receipts
    auditor = make_user(app, "auditor", uf="SP")
    violations: list[str] = []
    context = chromium.new_context(locale="pt-BR", base_url=live_server, accept_downloads=True)
    page = context.new_page()
    page.on("console", lambda m: violations.append(m.text) if "Content Security" in m.text
            else None)

    sign_in(page, auditor.email, app=app)
    expect(page.get_by_role("heading", level=1)).to_have_text("Casos")
    page.get_by_label("Buscar (protocolo ou alvo)").fill(protocol)
    page.get_by_role("button", name="Filtrar").click()
    expect(page.locator("a.protocol")).to_have_count(1)
    page.get_by_role("link", name=protocol).click()
    expect(page.get_by_text("J. P. L.")).to_be_visible()
    expect(page.get_by_text("Joana Prado Lima")).to_have_count(0)

    page.get_by_label("Motivo do acesso").fill(CIP)
    page.get_by_role("button", name="Revelar dados pessoais").click()
    expect(page.get_by_text("Dados pessoais revelados até")).to_be_visible()
    expect(page.get_by_text("Joana Prado Lima")).to_be_visible()
    expect(page.get_by_text("+55 11 98765-4321")).to_be_visible()

    page.get_by_role("button", name="Emitir dossiê").click()
    expect(page.get_by_text("Dossiê solicitado")).to_be_visible()
    assert issue_pending(app) == 1
    (dossier,) = records_of(app, protocol, "dossier")
    reload(page)
    row = page.get_by_role("row").filter(has_text="Dossiê do caso")
    with page.expect_download() as info:
        row.get_by_role("link", name="Baixar PDF").click()
    downloaded = Path(info.value.path()).read_bytes()
    assert hashlib.sha256(downloaded).hexdigest() == dossier.sha256
    text = pdf_text(downloaded)
    assert protocol in text and "J. P. L." in text and "Joana Prado Lima" not in text
    assert re.search(r"Dossiê do caso", text)

    # The reveal is in the trail, with the reason stated.
    page.get_by_role("link", name="Ver a trilha de auditoria deste caso").click()
    # Its details fold into one line that shows the reason; opened, they show the whole.
    summary = page.locator("summary").filter(has_text=CIP)
    expect(summary).to_be_visible()
    summary.click()
    expect(page.locator("pre").filter(has_text=CIP)).to_be_visible()
    assert violations == []
    context.close()
