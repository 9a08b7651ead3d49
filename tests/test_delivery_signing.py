"""Our signatures are the Standard Webhooks scheme: the shared vector, rotation, time zones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from models import WebhookEndpoint, utcnow
from workflow import signing
from workflow.endpoints import new_secret

VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_BODY = '{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_the_shared_vector_of_the_official_libraries():
    moment = datetime.fromtimestamp(1614265330, UTC)
    assert signing.sign(VECTOR_SECRET, VECTOR_ID, moment, VECTOR_BODY) == VECTOR_SIGNATURE


def test_a_time_in_another_zone_signs_the_same_second():
    brasilia = datetime.fromtimestamp(1614265330, UTC).astimezone(timezone(timedelta(hours=-3)))
    assert signing.sign(VECTOR_SECRET, VECTOR_ID, brasilia, VECTOR_BODY) == VECTOR_SIGNATURE
    with pytest.raises(ValueError):
        signing.sign(VECTOR_SECRET, VECTOR_ID, brasilia.replace(tzinfo=None), VECTOR_BODY)


def endpoint(**fields) -> WebhookEndpoint:
    return WebhookEndpoint(url="http://127.0.0.1/", event_types="exception.activated",
                           **fields)


def test_during_a_rotation_both_secrets_sign_and_either_verifies():
    old, new, now = new_secret(), new_secret(), utcnow()
    rotating = endpoint(secret=new, previous_secret=old,
                        previous_secret_until=now + timedelta(hours=1))
    headers = signing.headers(rotating, "evt_1", VECTOR_BODY, now)
    assert len(headers["webhook-signature"].split(" ")) == 2
    assert headers["webhook-timestamp"] == str(int(now.timestamp()))
    for secret in (old, new):
        assert Webhook(secret).verify(VECTOR_BODY, headers) == {"test": 2432232314}
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(VECTOR_BODY, headers)


def test_after_the_overlap_only_the_new_secret_signs():
    old, new, now = new_secret(), new_secret(), utcnow()
    rotated = endpoint(secret=new, previous_secret=old,
                       previous_secret_until=now - timedelta(seconds=1))
    headers = signing.headers(rotated, "evt_1", VECTOR_BODY, now)
    assert " " not in headers["webhook-signature"]
    Webhook(new).verify(VECTOR_BODY, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(VECTOR_BODY, headers)
