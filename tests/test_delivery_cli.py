"""`flask webhooks add|list|rotate`: the secret printed once; refusals store nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from standardwebhooks.webhooks import Webhook

from models import WebhookEndpoint, db, utcnow
from workflow import signing


def count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(WebhookEndpoint))


def test_add_prints_the_secret_once_and_list_shows_the_endpoint(app, runner):
    result = runner.invoke(args=["webhooks", "add", "--url", "http://127.0.0.1:8025/hook",
                                 "--event", "exception.activated", "--event",
                                 "exception.revoked", "--description", "firewall"])
    assert result.exit_code == 0, result.output
    secret = result.output.splitlines()[-1]
    assert secret.startswith("whsec_")
    listing = runner.invoke(args=["webhooks", "list"])
    assert "http://127.0.0.1:8025/hook" in listing.output and "active" in listing.output
    assert "exception.activated exception.revoked" in listing.output
    assert secret not in listing.output


@pytest.mark.parametrize(("args", "words"), [
    (["--url", "ftp://127.0.0.1/hook"], "http://"),
    (["--url", "http://192.0.2.1/hook"], "fora das redes permitidas"),
    (["--url", "http://127.0.0.1/hook", "--event", "exception.bogus"], "desconhecido"),
])
def test_bad_input_is_refused_in_portuguese_and_stores_nothing(app, runner, args, words):
    result = runner.invoke(args=["webhooks", "add", *args])
    assert result.exit_code != 0 and words in result.output
    assert count(app) == 0


def test_rotate_prints_a_new_secret_and_both_sign_meanwhile(app, runner):
    old = runner.invoke(args=["webhooks", "add", "--url", "http://127.0.0.1:9/"]
                        ).output.splitlines()[-1]
    result = runner.invoke(args=["webhooks", "rotate", "--id", "1"])
    assert result.exit_code == 0, result.output
    new = result.output.strip()
    assert new.startswith("whsec_") and new != old
    with app.app_context():
        endpoint = db.session.get(WebhookEndpoint, 1)
        headers = signing.headers(endpoint, "evt_x", "{}", utcnow())
    for secret in (old, new):
        Webhook(secret).verify("{}", headers)
    missing = runner.invoke(args=["webhooks", "rotate", "--id", "99"])
    assert missing.exit_code != 0 and "não existe" in missing.output
