"""Real Chromium (Debian's package) driven by Playwright against a live server.

Without /usr/bin/chromium the browser tests are skipped loudly; with
REQUIRE_BROWSER=1 (set by .ci/run) or CI=true a missing browser is a failure.
"""

from __future__ import annotations

import os
import shutil
import threading

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
REQUIRED = os.environ.get("REQUIRE_BROWSER") == "1" or os.environ.get("CI") == "true"
SKIP_REASON = "BROWSER TESTS SKIPPED"


def _chromium_available() -> bool:
    return os.path.exists(CHROMIUM) or shutil.which("chromium") is not None


# Package scope: Playwright's sync API keeps an asyncio loop running in the main thread
# while it is open, and asyncio.run() (pyHanko's, in the records tests) refuses to start
# under it; closing it after the last browser test keeps the other tests' thread clean.
@pytest.fixture(scope="package")
def chromium():
    if not _chromium_available():
        if REQUIRED:
            pytest.fail(f"Chromium not found at {CHROMIUM}: browser tests are required here")
        pytest.skip(f"{SKIP_REASON}: no Chromium at {CHROMIUM} "
                    "(apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live_server(app):
    """Serve ``app`` on a free loopback port in a thread; yields the base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://localhost:{server.server_port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture
def page(chromium, live_server):
    context = chromium.new_context(locale="pt-BR", base_url=live_server)
    page = context.new_page()
    yield page
    context.close()


def pytest_terminal_summary(terminalreporter):
    # Read from the reports, not a flag: under pytest-xdist the skips happen in workers.
    skipped = terminalreporter.stats.get("skipped", [])
    if any(SKIP_REASON in str(report.longrepr) for report in skipped):
        for line in ("", "!" * 72,
                     "!!  BROWSER TESTS WERE SKIPPED: Chromium is not installed here.",
                     "!!  Install it with: apt-get install -y chromium", "!" * 72):
            terminalreporter.write_line(line, red=True, bold=True)
