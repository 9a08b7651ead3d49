"""Customer e-mails: the expiry reminder reaches a real SMTP server, once, after commit.

The server is aiosmtpd on loopback, started by the test; the worker's clock is
injected, so retries are shown without waiting.
"""

from __future__ import annotations

import socket
from datetime import timedelta
from email import message_from_bytes
from email.policy import default
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from cli.worker import run_once
from models import Case, Notification, User, db
from tests.factories import case_in, make_people

DAY = timedelta(days=1)


class Inbox:
    """An aiosmtpd handler keeping every message it accepts."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content,
                                                                    policy=default)))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_port():
    return free_port()


@pytest.fixture
def start_server(smtp_port):
    controllers = []

    def start() -> Inbox:
        inbox = Inbox()
        controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
        controller.start()
        controllers.append(controller)
        return inbox

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture
def mail_app(app_factory, smtp_port):
    return app_factory(SMTP_HOST="127.0.0.1", SMTP_PORT=smtp_port)


def expiring_case(app, locale: str | None = None):
    """An active case and the instant 29 days before it ends (inside the 30-day window)."""
    people = make_people(app, "customer", "operator")
    protocol = case_in(app, "active", people)
    with app.app_context():
        if locale:
            db.session.get(User, people.customer.id).locale = locale
            db.session.commit()
        end = db.session.scalars(select(Case.valid_until).where(Case.protocol == protocol)).one()
    return people.customer, protocol, end


def work(app, now) -> None:
    with app.app_context():
        run_once(clock=lambda: now)


def outbox(app) -> list[Notification]:
    with app.app_context():
        return list(db.session.scalars(select(Notification)))


def test_the_expiry_reminder_is_emailed_to_the_customer_once(mail_app, start_server):
    inbox = start_server()
    customer, protocol, end = expiring_case(mail_app)
    now = end - 29 * DAY
    work(mail_app, now)
    [(recipients, message)] = inbox.messages
    assert recipients == [customer.email] and message["To"] == customer.email
    assert message["Subject"].startswith("Sua exceção da porta 25")
    body = message.get_content()
    local = end.astimezone(ZoneInfo("America/Sao_Paulo"))
    assert protocol in body and f"{local:%d/%m/%Y %H:%M}" in body
    assert "abra um novo pedido no portal" in body
    [note] = outbox(mail_app)
    assert note.sent_at == now and note.attempts == 1 and note.last_error is None
    work(mail_app, now + DAY)
    assert len(inbox.messages) == 1


def test_a_server_down_leaves_the_email_queued_and_a_later_run_sends_it(mail_app,
                                                                         start_server):
    _, protocol, end = expiring_case(mail_app)
    now = end - 29 * DAY
    work(mail_app, now)  # nothing listens on the port yet
    [note] = outbox(mail_app)
    assert note.sent_at is None and note.attempts == 1 and note.last_error
    assert note.next_attempt_at == now + timedelta(minutes=1)
    inbox = start_server()
    work(mail_app, now + timedelta(seconds=30))  # not due yet
    assert inbox.messages == []
    work(mail_app, now + timedelta(minutes=1))
    work(mail_app, now + timedelta(minutes=2))
    [(_, message)] = inbox.messages
    assert protocol in message.get_content()
    [note] = outbox(mail_app)
    assert note.sent_at == now + timedelta(minutes=1) and note.attempts == 2


def test_a_customer_who_reads_english_gets_the_email_in_english(mail_app, start_server):
    inbox = start_server()
    _, protocol, end = expiring_case(mail_app, locale="en")
    work(mail_app, end - 29 * DAY)
    [(_, message)] = inbox.messages
    assert message["Subject"].startswith("Your port 25 exception")
    assert "open a new request in the portal" in message.get_content()
    assert protocol in message.get_content()


def test_the_worker_gives_up_after_72_hours_of_retries(mail_app):
    _, _, end = expiring_case(mail_app)
    now = end - 29 * DAY
    work(mail_app, now)
    waits = []
    for _ in range(80):
        [note] = outbox(mail_app)
        if note.next_attempt_at is None:
            break
        waits.append(note.next_attempt_at - now)
        now = note.next_attempt_at
        work(mail_app, now)
    assert waits[:4] == [timedelta(minutes=1), timedelta(minutes=10), timedelta(hours=1),
                         timedelta(hours=1)]
    assert timedelta(hours=72) <= sum(waits, timedelta()) < timedelta(hours=73)
    assert note.sent_at is None and note.last_error
