"""Supervisors' enforcement pages: endpoints, their secret shown once, deliveries, replay,
and the case page's view of where its enforcement stands (DESIGN §5)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook

from cli.worker import run_once
from models import (
    AuditEvent,
    Case,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    OutboxEvent,
    WebhookEndpoint,
    db,
    utcnow,
)
from tests.desk_support import Cast, case_url, signed_in
from tests.factories import act, make_case, unique_target
from tests.webhook_support import Receiver
from workflow import signing

HOME = "/desk/enforcement/"
NEW = "/desk/enforcement/endpoints/new"
SECRET = re.compile(r'value="(whsec_[A-Za-z0-9+/=]+)"')
ALL_TYPES = ["exception.activated", "exception.revoked", "exception.expired"]
NOTHING_ENFORCES = "Nada aplica as exceções na rede"


@pytest.fixture
def people(app):
    return Cast(app, customer=("customer", {}), operator=("operator", {}),
                supervisor=("supervisor", {}), auditor=("auditor", {}))


@pytest.fixture
def supervisor(app, people):
    return signed_in(app, people["supervisor"])


def create(browser, url="http://127.0.0.1:8025/hooks", types=ALL_TYPES, description="nft"):
    return browser.submit(NEW, {"url": url, "event_types": types, "description": description})


def endpoint_with_secret(browser) -> tuple[int, str]:
    page = create(browser).get_data(as_text=True)
    [secret] = SECRET.findall(page)
    return stored(browser.client.application)[-1]["id"], secret


def stored(app) -> list[dict]:
    with app.app_context():
        return [{"id": e.id, "url": e.url, "types": e.event_types, "active": e.active,
                 "secret": e.secret, "previous": e.previous_secret,
                 "previous_until": e.previous_secret_until, "reason": e.disabled_reason}
                for e in db.session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id))]


def approved_case(app, people) -> str:
    protocol = make_case(app, people["customer"], target=unique_target())
    act(app, protocol, "claim", people["operator"])
    act(app, protocol, "approve", people["operator"], valid_days=30)
    return protocol


def sequence_of(app, protocol: str) -> int:
    """The sequence of the case's latest event on the stream."""
    with app.app_context():
        return db.session.scalars(
            select(OutboxEvent.sequence).join(Case, Case.id == OutboxEvent.case_id)
            .where(Case.protocol == protocol).order_by(OutboxEvent.sequence.desc())).first()


def dead_delivery(app, endpoint_id: int, sequence: int) -> int:
    """A delivery refused for good (a 422), written with the models to arrange a page.

    The worker's own path to a dead delivery is shown at the end of this module.
    """
    with app.app_context():
        now = utcnow()
        delivery = Delivery(endpoint_id=endpoint_id, sequence=sequence,
                            status=DeliveryStatus.DEAD, attempts=1, first_attempt_at=now,
                            finished_at=now)
        delivery.attempt_log.append(DeliveryAttempt(
            attempted_at=now, status_code=422, duration_ms=37,
            error="422 Unprocessable Entity: target not in our ranges"))
        db.session.add(delivery)
        endpoint = db.session.get(WebhookEndpoint, endpoint_id)
        endpoint.position = max(endpoint.position, sequence)
        db.session.commit()
        return delivery.id


def delivery_status(app, delivery_id: int) -> str:
    with app.app_context():
        return db.session.get(Delivery, delivery_id).status.value


def session_of(browser) -> str:
    """The signed session cookie's content, decoded as the server reads it."""
    app = browser.client.application
    cookie = browser.client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    serializer = app.session_interface.get_signing_serializer(app)
    return str(serializer.loads(cookie.value)) if cookie else ""


# --- creating an endpoint ---------------------------------------------------------------

def test_a_new_endpoint_shows_its_secret_once_and_never_again(app, people, supervisor):
    form = supervisor.text(NEW)
    assert all(f'value="{t}"' in form for t in ALL_TYPES)

    response = create(supervisor, types=["exception.activated", "exception.revoked"])

    page = response.get_data(as_text=True)
    [secret] = SECRET.findall(page)
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    assert "Copie o segredo agora" in page
    [endpoint] = stored(app)
    assert endpoint["secret"] == secret and endpoint["active"]
    assert endpoint["types"] == "exception.activated exception.revoked"
    protocol = approved_case(app, people)
    event = f"/desk/enforcement/events/{sequence_of(app, protocol)}"
    later = [supervisor.text(url) for url in (NEW, HOME, case_url(protocol), event)]
    assert all(secret not in text for text in later)
    assert "http://127.0.0.1:8025/hooks" in later[1]
    assert secret not in session_of(supervisor)


@pytest.mark.parametrize(("url", "message"), [
    ("ftp://127.0.0.1/hooks", "Informe um endereço http:// ou https:// completo."),
    ("127.0.0.1:8025/hooks", "Informe um endereço http:// ou https:// completo."),
    ("http://203.0.113.9/hooks", "O destino 203.0.113.9 está fora das redes permitidas"),
])
def test_a_bad_address_is_refused_with_the_reason_and_nothing_is_stored(
        app, supervisor, url, message):
    response = create(supervisor, url=url)

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in page and "whsec_" not in page
    assert 'aria-invalid="true"' in page
    assert stored(app) == []


def test_an_unknown_event_type_is_refused(app, supervisor):
    response = create(supervisor, types=["exception.forgotten"])

    assert response.status_code == 422
    assert stored(app) == []


# --- who may manage ---------------------------------------------------------------------

@pytest.mark.parametrize("role", ["operator", "auditor", "customer"])
def test_only_supervisors_reach_the_enforcement_pages(app, people, supervisor, role):
    endpoint_id, _secret = endpoint_with_secret(supervisor)
    protocol = approved_case(app, people)
    delivery_id = dead_delivery(app, endpoint_id, sequence_of(app, protocol))
    before = stored(app)
    browser = signed_in(app, people[role])

    pages = [browser.get(url).status_code
             for url in (HOME, NEW, f"/desk/enforcement/events/{sequence_of(app, protocol)}")]
    posts = [browser.submit(url, {"url": "http://127.0.0.1:9/x"}, page="/login",
                            follow=False).status_code
             for url in (NEW, f"/desk/enforcement/endpoints/{endpoint_id}/rotate",
                         f"/desk/enforcement/endpoints/{endpoint_id}/disable",
                         f"/desk/enforcement/deliveries/{delivery_id}/replay")]

    assert pages == [403] * 3 and posts == [403] * 4
    assert stored(app) == before and delivery_status(app, delivery_id) == "dead"


# --- rotation, disable/enable, replay ----------------------------------------------------

def test_rotation_shows_the_new_secret_once_and_the_old_one_still_signs_for_a_day(
        app, supervisor):
    endpoint_id, first = endpoint_with_secret(supervisor)

    response = supervisor.submit(f"/desk/enforcement/endpoints/{endpoint_id}/rotate",
                                 page=HOME)

    page = response.get_data(as_text=True)
    [second] = SECRET.findall(page)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert second != first and "O anterior continua assinando" in page
    [endpoint] = stored(app)
    assert endpoint["secret"] == second and endpoint["previous"] == first
    overlap = endpoint["previous_until"].replace(tzinfo=None) - utcnow().replace(tzinfo=None)
    assert timedelta(hours=23, minutes=59) < overlap <= timedelta(hours=24)
    home = supervisor.text(HOME)
    assert "ainda assina até" in home and first not in home and second not in home
    # A receiver still on the old secret verifies messages for the day of overlap, not after.
    assert verifies(app, endpoint_id, first, hours_later=23)
    assert not verifies(app, endpoint_id, first, hours_later=25)
    assert verifies(app, endpoint_id, second, hours_later=25)


def verifies(app, endpoint_id: int, secret: str, *, hours_later: int) -> bool:
    """Whether a receiver holding ``secret`` finds its signature on what we would send then."""
    body = '{"type": "exception.activated"}'
    moment = utcnow() + timedelta(hours=hours_later)
    with app.app_context():
        sent = signing.headers(db.session.get(WebhookEndpoint, endpoint_id), "evt_1", body,
                               moment)
    # What Webhook(secret).verify compares, without its five-minute clock check.
    expected = Webhook(secret).sign("evt_1", moment, body)
    return expected in sent["webhook-signature"].split(" ")


def test_disable_and_enable_an_endpoint(app, supervisor):
    endpoint_id, _secret = endpoint_with_secret(supervisor)
    assert NOTHING_ENFORCES not in supervisor.text(HOME)

    off = supervisor.submit(f"/desk/enforcement/endpoints/{endpoint_id}/disable", page=HOME)
    off_page = off.get_data(as_text=True)
    assert "Endpoint desativado" in off_page and "por um supervisor" in off_page
    assert NOTHING_ENFORCES in off_page
    assert [(e["active"], e["reason"]) for e in stored(app)] == [(False, "manual")]

    on = supervisor.submit(f"/desk/enforcement/endpoints/{endpoint_id}/enable", page=HOME)
    assert "Endpoint reativado" in on.get_data(as_text=True)
    assert [(e["active"], e["reason"]) for e in stored(app)] == [(True, None)]


def test_the_home_page_shows_health_and_a_dead_delivery_is_replayed(app, people, supervisor):
    endpoint_id, _secret = endpoint_with_secret(supervisor)
    protocol = approved_case(app, people)
    sequence = sequence_of(app, protocol)
    delivery_id = dead_delivery(app, endpoint_id, sequence)
    approved_case(app, people)  # one more event: the endpoint is now one behind

    home = supervisor.text(HOME)
    assert "(1 eventos atrás)" in home
    assert f'action="/desk/enforcement/deliveries/{delivery_id}/replay"' in home
    log = supervisor.text(f"/desk/enforcement/events/{sequence}")
    for text in (protocol, "422", "37 ms", "target not in our ranges", "morta"):
        assert text in log, text

    replayed = supervisor.submit(f"/desk/enforcement/deliveries/{delivery_id}/replay",
                                 page=HOME)

    assert f"Evento {sequence} reenfileirado" in replayed.get_data(as_text=True)
    assert delivery_status(app, delivery_id) == "pending"
    assert "Nenhuma entrega morta." in replayed.get_data(as_text=True)
    again = supervisor.submit(f"/desk/enforcement/deliveries/{delivery_id}/replay", page=HOME)
    assert "Somente entregas que falharam definitivamente" in again.get_data(as_text=True)
    with app.app_context():
        tags = db.session.scalars(select(AuditEvent.action)).all()
        assert sum("replay" in tag for tag in tags) == 1


def test_a_replay_waiting_at_the_head_is_work_to_do(app, people, supervisor):
    endpoint_id, _secret = endpoint_with_secret(supervisor)
    delivery_id = dead_delivery(app, endpoint_id, sequence_of(app, approved_case(app, people)))
    assert "nada a enviar" in supervisor.text(HOME)  # at the head; the dead one is done

    page = supervisor.submit(f"/desk/enforcement/deliveries/{delivery_id}/replay",
                             page=HOME).get_data(as_text=True)

    assert "nada a enviar" not in page and "agora" in page


def test_an_unknown_event_is_404(supervisor):
    assert supervisor.get("/desk/enforcement/events/999").status_code == 404


# --- the case page -----------------------------------------------------------------------

def test_an_approved_case_with_no_endpoint_warns_that_nothing_enforces_it(app, people):
    protocol = approved_case(app, people)

    page = signed_in(app, people["operator"]).text(case_url(protocol))

    assert "Aplicação na rede" in page
    assert "nada aplica esta exceção na rede" in page
    assert "exception.activated" in page and "nenhum endpoint ativo" in page


def test_the_case_page_shows_each_event_per_active_endpoint(app, people, supervisor):
    endpoint_id, _secret = endpoint_with_secret(supervisor)
    protocol = approved_case(app, people)
    operator = signed_in(app, people["operator"])

    queued = operator.text(case_url(protocol))
    with app.app_context():
        db.session.add(Delivery(endpoint_id=endpoint_id, sequence=sequence_of(app, protocol),
                                status=DeliveryStatus.DELIVERED, attempts=1))
        db.session.commit()
    delivered = operator.text(case_url(protocol))

    assert "na fila" in queued and "nada aplica esta exceção" not in queued
    assert "entregue" in delivered and "http://127.0.0.1:8025/hooks" in delivered
    # Operators see the status; only supervisors get the link to the delivery log.
    assert "/desk/enforcement/events/" not in delivered
    assert "/desk/enforcement/events/" in supervisor.text(case_url(protocol))


def test_cases_not_yet_approved_have_no_enforcement_section(app, people):
    protocol = make_case(app, people["customer"], target=unique_target())

    assert "Aplicação na rede" not in signed_in(app, people["operator"]).text(case_url(protocol))



def test_the_enforcement_pages_in_english(app, people, supervisor):
    from tests.test_i18n import _catalogue, assert_english, in_english

    portuguese_only = {e.id for e in _catalogue() if isinstance(e.id, str) and e.string
                       and e.string != e.id}
    endpoint_id, _secret = endpoint_with_secret(supervisor)
    sequence = sequence_of(app, approved_case(app, people))
    dead_delivery(app, endpoint_id, sequence)

    home = in_english(supervisor, HOME).get_data(as_text=True)
    log = supervisor.text(f"/desk/enforcement/events/{sequence}")

    assert_english(home, portuguese_only, "<h1>Network enforcement</h1>", "Dead deliveries",
                   "Failures in a row", "Rotate the secret", "Replay")
    assert_english(log, portuguese_only, "Body sent", "HTTP status", "37 ms", "dead")


# --- through the real worker and a real receiver -----------------------------------------

@pytest.fixture
def receiver():
    started = Receiver().start()
    yield started
    started.stop()


def work(app) -> int:
    with app.app_context():
        return run_once()


def test_a_refused_event_goes_dead_on_the_pages_and_a_replay_delivers_it(
        app, people, supervisor, receiver):
    created = create(supervisor, url=receiver.url, types=["exception.activated"])
    receiver.secrets.extend(SECRET.findall(created.get_data(as_text=True)))
    receiver.script.append((422, {}))  # the receiver refuses the first message for good
    protocol = approved_case(app, people)
    sequence = sequence_of(app, protocol)

    work(app)

    [dead] = supervisor.text(HOME).split('<section aria-labelledby="h-dead">')[1:]
    assert f'href="/desk/enforcement/events/{sequence}"' in dead and receiver.url in dead
    log = supervisor.text(f"/desk/enforcement/events/{sequence}")
    assert "morta" in log and "<td>422</td>" in log
    assert "nada aplica esta exceção" not in supervisor.text(case_url(protocol))

    [delivery_id] = re.findall(r"/desk/enforcement/deliveries/(\d+)/replay", dead)
    supervisor.submit(f"/desk/enforcement/deliveries/{delivery_id}/replay", page=HOME)
    work(app)

    assert [r.status for r in receiver.received] == [422, 204]
    assert len({r.event_id for r in receiver.received}) == 1  # the same event, sent again
    case_page = supervisor.text(case_url(protocol))
    assert "entregue" in case_page and "status-active" in case_page
    assert "<td>204</td>" in supervisor.text(f"/desk/enforcement/events/{sequence}")
    assert "Nenhuma entrega morta." in supervisor.text(HOME)
