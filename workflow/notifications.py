"""Customer e-mails (DESIGN: customers are told by e-mail), through an outbox.

``queue_email`` writes a row in the caller's transaction, so an e-mail leaves only
for a committed decision (STYLE). The worker sends due rows: it claims one and
commits, talks SMTP outside any transaction, then records the outcome.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from sqlalchemy import select

from models import Case, Notification, User, db, utcnow

from .config import setting

# Waits after the 1st, 2nd, 3rd failure; hourly after that, until GIVE_UP_AFTER.
RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=10), timedelta(hours=1))
GIVE_UP_AFTER = timedelta(hours=72)
SMTP_TIMEOUT = 10.0  # seconds per SMTP operation: a stalled server must not hold the worker


def queue_email(user: User, subject: str, body: str, *, case: Case | None = None
                ) -> Notification:
    """Queue an e-mail to ``user`` in the current transaction; the worker sends it.
    ``case``: the case it is about, so that LGPD retention erases it with the case."""
    note = Notification(user_id=user.id, case_id=case.id if case else None,
                        to_address=user.email, subject=str(subject)[:200],
                        body=str(body), attempts=0, next_attempt_at=utcnow())
    db.session.add(note)
    return note


@dataclass(frozen=True)
class Outgoing:
    """What one send needs, detached from the session that claimed it."""

    id: int
    to_address: str
    subject: str
    body: str


def claim_next(now: datetime) -> Outgoing | None:
    """Take the oldest due e-mail, pushing its next try past one lease (crash safety)."""
    query = (select(Notification)
             .where(Notification.sent_at.is_(None), Notification.next_attempt_at <= now)
             .order_by(Notification.next_attempt_at, Notification.id).limit(1))
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    note = db.session.scalars(query).first()
    if note is None:
        return None
    note.attempts += 1
    # If this worker dies mid-send, another tries again once the lease has passed.
    note.next_attempt_at = now + timedelta(seconds=setting("WORKER_LEASE_SECONDS"))
    return Outgoing(note.id, note.to_address, note.subject, note.body)


def record(item: Outgoing, error: str | None, now: datetime) -> str:
    """Store a send's outcome: "sent", "retry" (with the next try) or "gave_up"."""
    note = db.session.get(Notification, item.id)
    if error is None:
        note.sent_at, note.next_attempt_at, note.last_error = now, None, None
        return "sent"
    note.last_error = error[:500]
    # 72 h of the schedule since the first try, counted in attempts: a worker that was
    # down (or a clock of its own) neither shortens nor stretches the customer's chances.
    if sum((_delay(n) for n in range(1, note.attempts)), timedelta()) >= GIVE_UP_AFTER:
        note.next_attempt_at = None
        return "gave_up"
    note.next_attempt_at = now + _delay(note.attempts)
    return "retry"


def _delay(failures: int) -> timedelta:
    return RETRY_DELAYS[min(failures, len(RETRY_DELAYS)) - 1]


@dataclass(frozen=True)
class Mailer:
    """An SMTP relay from the settings; one connection per message keeps it simple."""

    host: str
    port: int
    sender: str
    starttls: bool = False
    user: str = ""
    password: str = ""  # never logged nor put into an error

    @classmethod
    def from_settings(cls) -> Mailer:
        """The relay of SMTP_HOST, SMTP_PORT, SMTP_FROM and the optional login."""
        return cls(setting("SMTP_HOST"), setting("SMTP_PORT"), setting("SMTP_FROM"),
                   setting("SMTP_STARTTLS"), setting("SMTP_USER"), setting("SMTP_PASSWORD"))

    def compose(self, item: Outgoing) -> EmailMessage:
        """The UTF-8 message for ``item``."""
        message = EmailMessage()
        message["From"], message["To"] = self.sender, item.to_address
        message["Subject"] = item.subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(f"porta25.{item.id}")
        message.set_content(item.body, charset="utf-8")
        return message

    def send(self, item: Outgoing) -> str | None:
        """Hand ``item`` to the relay; None when accepted, else the error's excerpt."""
        try:
            with smtplib.SMTP(self.host, self.port, timeout=SMTP_TIMEOUT) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.user:
                    smtp.login(self.user, self.password)
                smtp.send_message(self.compose(item))
        except (OSError, smtplib.SMTPException) as error:
            # The exception's text names the server's answer, never the password.
            return f"{type(error).__name__}: {error}"[:500]
        return None
