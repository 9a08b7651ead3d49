"""Verification with the Standard Webhooks library, exactly as the receiver calls it."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

import pytest
import standardwebhooks.webhooks
from standardwebhooks import Webhook

from enforcer.signature import Unverified, load_webhooks, verify

from .conftest import ROOT

# The vector the official Standard Webhooks libraries share.
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TIMESTAMP = 1614265330
VECTOR_BODY = '{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
VECTOR_HEADERS = {"webhook-id": VECTOR_ID, "webhook-timestamp": str(VECTOR_TIMESTAMP),
                  "webhook-signature": VECTOR_SIGNATURE}


@pytest.fixture
def clock_at_vector(monkeypatch):
    """The library's clock (not ours) set to the vector's time, 2021-02-21."""
    class VectorTime(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime.fromtimestamp(VECTOR_TIMESTAMP + 30, tz=tz)

    monkeypatch.setattr(standardwebhooks.webhooks, "datetime", VectorTime)


def test_library_signs_the_official_vector():
    moment = datetime.fromtimestamp(VECTOR_TIMESTAMP, tz=UTC)

    assert Webhook(VECTOR_SECRET).sign(VECTOR_ID, moment, VECTOR_BODY) == VECTOR_SIGNATURE


def test_official_vector_verifies_as_the_receiver_calls_the_library(clock_at_vector):
    verify(load_webhooks([VECTOR_SECRET]), VECTOR_BODY, VECTOR_HEADERS)


def test_vector_with_one_byte_changed_is_refused(clock_at_vector):
    with pytest.raises(Unverified, match="No matching signature"):
        verify(load_webhooks([VECTOR_SECRET]), VECTOR_BODY.replace("4", "5"), VECTOR_HEADERS)


def test_vector_verifies_with_either_secret_of_a_rotation(clock_at_vector):
    other = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo="

    verify(load_webhooks([other, VECTOR_SECRET]), VECTOR_BODY, VECTOR_HEADERS)


def test_vector_is_too_old_today():
    with pytest.raises(Unverified, match="too old"):
        verify(load_webhooks([VECTOR_SECRET]), VECTOR_BODY, VECTOR_HEADERS)


@pytest.mark.parametrize("secret", ["MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_", "whsec_!!"])
def test_bad_secret_is_refused_without_repeating_it(secret):
    with pytest.raises(ValueError) as refused:
        load_webhooks([secret])
    assert secret.removeprefix("whsec_") not in str(refused.value) or secret == "whsec_"


def test_enforcer_imports_nothing_from_the_app():
    code = ("import sys, enforcer.__main__, enforcer.server; "
            "print(' '.join(sorted(m.split('.')[0] for m in sys.modules)))")
    loaded = set(subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                                text=True, check=True).stdout.split())

    app_side = {"app", "models", "workflow", "web", "cli", "settings", "extensions",
                "database", "flask", "sqlalchemy"}
    assert loaded & app_side == set()
    assert "standardwebhooks" in loaded
