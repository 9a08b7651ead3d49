"""Webhook endpoints: what may be registered, the secret shown once, rotation, replay."""

from __future__ import annotations

import json
from ipaddress import ip_network

import pytest
from sqlalchemy import func, select

from models import AuditEvent, WebhookEndpoint, db
from tests.factories import last_event
from workflow import endpoints
from workflow.audit import Actor
from workflow.errors import InvalidInput

ADMIN = Actor.system("tests")


def create(app, **fields):
    fields.setdefault("event_types", [])
    with app.app_context():
        endpoint, secret = endpoints.create_endpoint(actor=ADMIN, **fields)
        db.session.commit()
        return endpoint.id, secret


def count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(WebhookEndpoint))


def test_an_endpoint_is_created_with_a_secret_shown_once_and_starts_at_the_head(app):
    endpoint_id, secret = create(app, url="http://localhost:9/hook", description="firewall")
    assert secret.startswith("whsec_") and len(secret) == len("whsec_") + 44
    with app.app_context():
        endpoint = db.session.get(WebhookEndpoint, endpoint_id)
        assert endpoint.types == {"exception.activated", "exception.revoked",
                                  "exception.expired"}
        assert endpoint.active and endpoint.position == 0
    event = last_event(app)
    assert event["action"] == "endpoint:created"
    assert secret not in json.dumps(event)


@pytest.mark.parametrize(("url", "words"), [
    ("ftp://127.0.0.1/hook", "http://"),
    ("127.0.0.1/hook", "http://"),
    ("http://user:pw@127.0.0.1/hook", "usuário ou senha"),
    ("http://192.0.2.10/hook", "fora das redes permitidas"),
    ("https://[2001:db8::1]/hook", "fora das redes permitidas"),
    ("http://127.0.0.1:99999/hook", "porta"),
    ("http://nao-existe.invalid/hook", "resolver"),
])
def test_bad_destinations_are_refused_clearly_and_store_nothing(app, url, words):
    with pytest.raises(InvalidInput) as refused:
        create(app, url=url)
    assert words in str(refused.value.message) and refused.value.field == "url"
    assert count(app) == 0


def test_an_unknown_event_type_is_refused(app):
    with pytest.raises(InvalidInput) as refused:
        create(app, url="http://127.0.0.1:9/", event_types=["exception.activated", "bogus"])
    assert "bogus" in str(refused.value.message) and refused.value.field == "event_types"
    assert count(app) == 0


def test_a_name_resolving_outside_the_allowed_networks_is_refused(app_factory):
    app = app_factory(WEBHOOK_ALLOWED_NETWORKS=(ip_network("10.0.0.0/8"),))
    with pytest.raises(InvalidInput) as refused:
        create(app, url="http://localhost:9/hook")
    assert "fora das redes permitidas" in str(refused.value.message)
    assert count(app) == 0


def test_rotation_keeps_the_old_secret_for_the_overlap_and_is_audited(app):
    endpoint_id, old = create(app, url="http://127.0.0.1:9/", event_types=["exception.revoked"])
    with app.app_context():
        endpoint = db.session.get(WebhookEndpoint, endpoint_id)
        new = endpoints.rotate_secret(endpoint, actor=ADMIN, overlap_hours=2)
        db.session.commit()
        assert endpoint.secret == new != old and endpoint.previous_secret == old
        assert endpoint.previous_secret_until is not None
        assert endpoint.types == {"exception.revoked"}
        tags = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)).all()
    assert tags[-2:] == ["endpoint:created", "endpoint:secret_rotated"]


def test_disabling_and_enabling_is_audited(app):
    endpoint_id, _ = create(app, url="http://127.0.0.1:9/")
    with app.app_context():
        endpoint = db.session.get(WebhookEndpoint, endpoint_id)
        endpoints.set_active(endpoint, False, actor=ADMIN)
        db.session.commit()
        assert endpoint.disabled_reason == endpoints.DISABLED_MANUALLY
        endpoints.set_active(endpoint, True, actor=ADMIN)
        db.session.commit()
        assert endpoint.active and endpoint.disabled_reason is None
        tags = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)).all()
    assert tags[-2:] == ["endpoint:disabled", "endpoint:enabled"]
