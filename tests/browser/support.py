"""What the browser tests do as a person would: sign in, and look at a page again."""

from __future__ import annotations

import pyotp
from playwright.sync_api import Error as PlaywrightError

from tests.factories import PASSWORD, TOTP_SECRET
from tests.helpers import authenticator_code


def sign_in(page, email: str, *, app=None) -> None:
    """Sign in as a person does; staff and auditors then type their authenticator's code
    (read from ``app``'s database when given, else the factories' TOTP_SECRET)."""
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Senha").fill(PASSWORD)
    page.get_by_role("button", name="Entrar").click()
    page.wait_for_load_state()
    if page.url.split("?")[0].endswith("/login/code"):
        code = authenticator_code(app, email) if app is not None else pyotp.TOTP(TOTP_SECRET).now()
        page.get_by_label("Código").fill(code)
        page.get_by_role("button", name="Confirmar").click()


def reload(page) -> None:
    """Load the page again. A page waiting for a document refreshes itself every few
    seconds (meta refresh); when that navigation is already under way, Chromium aborts
    ours (net::ERR_ABORTED) and the page's own reload brings the fresh page instead."""
    try:
        page.reload()
    except PlaywrightError as error:
        if "ERR_ABORTED" not in str(error):
            raise
        page.wait_for_load_state()
