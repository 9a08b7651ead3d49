"""In real Chromium, in Portuguese: a customer files a request and an operator approves it."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.factories import make_user

from .support import reload, sign_in


def test_customer_files_a_request_and_an_operator_approves_it(app, chromium, live_server):
    customer = make_user(app, subscriber_id="CTR-0042")
    operator = make_user(app, "operator")
    violations: list[str] = []

    customer_context = chromium.new_context(locale="pt-BR", base_url=live_server)
    page = customer_context.new_page()
    page.on("console", lambda m: violations.append(m.text) if "Content Security" in m.text
            else None)
    sign_in(page, customer.email)
    expect(page.locator("html")).to_have_attribute("lang", "pt-BR")

    # The guide first: a mail-server owner goes on to the form.
    page.goto("/portal/guide")
    expect(page.get_by_role("heading", level=1)).to_contain_text("o que você quer fazer")
    page.get_by_role("button", name="Pedir exceção").first.click()
    page.get_by_label("Endereço IP ou prefixo").fill("203.0.113.7")
    page.get_by_label("Justificativa").fill(
        "Servidor de e-mail próprio da empresa, com SPF, DKIM e DMARC publicados.")
    page.get_by_label("Nome do servidor de e-mail (FQDN)").fill("mail.exemplo.com.br")
    page.get_by_label("Li e aceito os termos de uso acima.").check()
    page.get_by_role("button", name="Enviar pedido").click()

    expect(page.get_by_text("Pedido registrado. Protocolo nº")).to_be_visible()
    protocol = re.search(r"\d{13}", page.locator(".protocol").first.inner_text()).group(0)
    expect(page.locator(".badge").first).to_have_text("Recebido")

    # The operator finds it in the queue, claims it and approves it.
    operator_context = chromium.new_context(locale="pt-BR", base_url=live_server)
    desk = operator_context.new_page()
    desk.on("console", lambda m: violations.append(m.text) if "Content Security" in m.text
            else None)
    sign_in(desk, operator.email, app=app)
    expect(desk.get_by_role("link", name=protocol)).to_be_visible()
    desk.get_by_role("link", name=protocol).click()
    desk.get_by_role("button", name="Assumir").click()
    expect(desk.locator(".badge").first).to_have_text("Em análise")
    desk.get_by_label("Validade (dias)").fill("180")
    desk.get_by_role("button", name="Aprovar").click()
    expect(desk.locator(".badge").first).to_have_text("Aprovado")

    # The customer sees the decision on the case page.
    reload(page)
    expect(page.locator(".badge").first).to_have_text("Aprovado")
    expect(page.get_by_text("203.0.113.7/32").first).to_be_visible()
    assert violations == []
    operator_context.close()
    customer_context.close()
