"""`flask worker [--once]`: timed transitions, e-mails, the enforcement stream, records,
evidence checks, audit checkpoints and the daily LGPD retention job.

At its start the worker refuses a RETENTION_YEARS below two and records the
settings in the audit trail when they changed since the last recorded start
(``workflow.settings_audit``). The worker is the place for it: every deployment
runs one, with the same environment as the web processes, and it starts rarely.

Every step is a transaction of its own, committed here; the HTTP call (and the DNS
queries of the evidence checks) happen between them, outside any transaction
(DESIGN §5, field notes §12). ``clock``
gives the time of each step: tests pass a clock of their own instead of waiting.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime

import click
from flask import current_app
from flask.cli import with_appcontext

from models import Case, OutboxEvent, db, utcnow
from workflow import (
    cases,
    changes,
    checkpoints,
    delivery,
    evidence,
    evidence_checks,
    notifications,
    retention,
    settings_audit,
    timed,
)
from workflow.config import setting
from workflow.delivery import WORKER
from workflow.endpoints import check_destination
from workflow.errors import DomainError
from workflow.notifications import Mailer
from workflow.records import issue as records
from workflow.sender import Result, Sender
from workflow.signing import headers_for

from . import retention as retention_job
from .transaction import committed

log = logging.getLogger("porta25.worker")
Clock = Callable[[], datetime]
IDLE_SLEEP = 1.0
PRUNE_EVERY = 3600.0  # seconds between prunings of the stream's old prefix
RECORDS_PER_CYCLE = 20  # records issued between two checks of the stop signal's batch
CHECKPOINT_POLL = 60.0  # seconds between two looks at whether a checkpoint is due
EVIDENCE_PER_CYCLE = 20  # rounds of evidence checks, likewise
RETENTION_EVERY = 86400.0  # seconds between two runs of the retention job


def worker_name() -> str:
    """A lease owner that names this process (host, pid) uniquely."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _lease() -> int:
    return current_app.config["WORKER_LEASE_SECONDS"]


def send(sender: Sender, item: delivery.Item, now: datetime) -> Result:
    """Check the destination again (DNS changes) and POST the event's stored bytes."""
    try:
        dest = check_destination(item.url)
    except DomainError as refused:
        return Result(now, 0, None, f"destino recusado: {refused.message}"[:500])
    headers = headers_for(item.secrets, item.event_id, item.body, now)
    return sender.post(item.url, dest, headers, item.body.encode("utf-8"))


def work_endpoint(endpoint_id: int, owner: str, sender: Sender, clock: Clock,
                  stop: threading.Event | None = None) -> int:
    """Deliver an endpoint's stream until it is done or waits; returns attempts made."""
    attempts = 0
    try:
        while stop is None or not stop.is_set():
            item = committed(delivery.next_item, endpoint_id, owner, clock(), _lease())
            if item is None:
                break
            result = send(sender, item, clock())
            attempts += 1
            if committed(delivery.record, item, result, clock()) == "retry":
                break
    finally:
        committed(delivery.release, endpoint_id, owner)
    return attempts


def deliver_due(owner: str, sender: Sender, clock: Clock,
                stop: threading.Event | None = None) -> int:
    """Claim and work endpoints until none has work due now; returns attempts made."""
    attempts = 0
    while stop is None or not stop.is_set():
        endpoint_id = committed(delivery.claim, owner, clock(), _lease())
        if endpoint_id is None:
            break
        attempts += work_endpoint(endpoint_id, owner, sender, clock, stop)
    return attempts


def _each_case(ids: list[int], verb, what: str) -> int:
    done = 0
    for case_id in ids:
        try:
            committed(lambda i: verb(db.session.get(Case, i), actor=WORKER), case_id)
            done += 1
        except Exception:  # one case's failure must not stop the others
            log.exception("%s failed for case id %s", what, case_id)
    return done


def _activate(sequence: int) -> bool:
    return delivery.activate_if_acknowledged(db.session.get(OutboxEvent, sequence))


def run_timed_transitions(now: datetime) -> int:
    """Expire, remind and abandon what is due at ``now``, a case per transaction.

    Also activates approvals whose last awaited endpoint was disabled meanwhile.
    """
    due = committed(lambda: (timed.due_for_expiry(now), timed.due_for_reminder(now),
                                   timed.due_for_abandonment(now),
                                   delivery.partly_acknowledged()))
    expiring, reminding, abandoning, acknowledged = due
    activated = 0
    for sequence in acknowledged:
        try:
            activated += bool(committed(_activate, sequence))
        except Exception:
            log.exception("activation check failed for sequence %s", sequence)
    return (activated + _each_case(expiring, cases.expire, "expiry")
            + _each_case(reminding, timed.remind_expiry, "expiry reminder")
            + _each_case(abandoning, cases.abandon, "abandonment"))


def send_due(now: datetime, smtp: Mailer, stop: threading.Event | None = None) -> int:
    """Send every e-mail due at ``now``, one per claim; returns the attempts made.

    The claim is committed before the SMTP call and the outcome after it, so no
    transaction waits on the mail server; a failure is recorded and retried later.
    """
    attempts = 0
    while stop is None or not stop.is_set():
        item = committed(notifications.claim_next, now)
        if item is None:
            break
        error = smtp.send(item)
        attempts += 1
        outcome = committed(notifications.record, item, error, now)
        if error is not None:
            log.warning("e-mail %s not sent (%s): %s", item.id, outcome, error)
    return attempts


def _send_mail(clock: Clock, stop: threading.Event | None) -> int:
    try:
        return send_due(clock(), Mailer.from_settings(), stop)
    except Exception:  # e-mail trouble must never hold up the enforcement deliveries
        log.exception("sending e-mails failed")
        return 0


def issue_records(clock: Clock, stop: threading.Event | None = None,
                  limit: int = RECORDS_PER_CYCLE) -> int:
    """Render and store up to ``limit`` due records; returns the number issued.

    The claim commits before the render and the record after it, so no
    transaction (and never the audit head's lock) is held while rendering.
    """
    issued = 0
    for _ in range(limit):
        if stop is not None and stop.is_set():
            break
        pending = committed(records.claim_next, clock())
        if pending is None:
            break
        try:
            rendered = records.produce(pending, clock())
            issued += committed(records.store, pending, rendered, clock()) is not None
        except Exception as error:  # one bad record must not stop the others
            log.exception("record %s (%s) not issued", pending.code, pending.kind)
            committed(records.record_failure, pending,
                            f"{type(error).__name__}: {error}", clock())
    return issued


def check_evidence(clock: Clock, stop: threading.Event | None = None,
                   limit: int = EVIDENCE_PER_CYCLE) -> int:
    """Run up to ``limit`` due rounds of evidence checks; returns the rounds stored.

    The claim commits before the DNS queries and the findings after them, so no
    transaction waits on a resolver; a silent one delays only this step.
    """
    servers, timeout = setting("EVIDENCE_RESOLVERS"), setting("EVIDENCE_TIMEOUT_SECONDS")
    stored = 0
    for _ in range(limit):
        if stop is not None and stop.is_set():
            break
        subject = committed(evidence.claim_next, clock())
        if subject is None:
            break
        try:
            found = evidence_checks.run_checks(subject, servers=servers, timeout=timeout)
        except Exception:  # a fault of ours: the round says so and the next case goes on
            log.exception("evidence checks of case id %s failed", subject.case_id)
            found = evidence_checks.failed(subject)
        stored += committed(evidence.store, subject, found, clock())
    return stored


def run_once(clock: Clock = utcnow, owner: str | None = None,
             sender: Sender | None = None, stop: threading.Event | None = None) -> int:
    """One cycle: timed transitions, due e-mails, then every delivery due now."""
    owner = owner or worker_name()
    own_sender = sender is None
    sender = sender or Sender()
    try:
        done = run_timed_transitions(clock()) + _send_mail(clock, stop)
        return done + deliver_due(owner, sender, clock, stop)
    finally:
        if own_sender:
            sender.close()


def prune(now: datetime) -> int:
    """Drop the stream's prefix past STREAM_RETENTION_DAYS that no endpoint still needs."""
    pruned = committed(changes.prune_stream, now)
    if pruned:
        log.info("pruned %d stream events past retention", pruned)
    return pruned


def _forever(app, stop: threading.Event, cycle: Callable[[], int], what: str) -> None:
    """Call ``cycle`` until ``stop`` is set, resting a second whenever it found nothing."""
    with app.app_context():
        while not stop.is_set():
            try:
                busy = cycle()
            except Exception:  # a database outage: log, wait, try again
                log.exception("%s cycle failed", what)
                busy = 0
            if not busy:
                stop.wait(IDLE_SLEEP)


def issue_records_forever(app, stop: threading.Event, clock: Clock = utcnow) -> None:
    """Issue records until ``stop`` is set, in a thread of its own.

    A render takes a tenth of a second to seconds: on its own thread it never
    holds up an enforcement delivery or an expiry.
    """
    _forever(app, stop, lambda: issue_records(clock, stop), "record")


def check_evidence_forever(app, stop: threading.Event, clock: Clock = utcnow) -> None:
    """Run due evidence checks until ``stop`` is set, in a thread of its own.

    A resolver that does not answer costs a few timeouts a round: on its own
    thread that never holds up a delivery, an expiry or a record.
    """
    _forever(app, stop, lambda: check_evidence(clock, stop), "evidence")


def checkpoints_on() -> bool:
    """Whether an audit signing key is set; says so in the log when it is not."""
    if checkpoints.signing_key() is None:
        log.warning("audit checkpoints are off: AUDIT_SIGNING_KEY is not set")
        return False
    return True


def sign_checkpoint(clock: Clock) -> int | None:
    """Sign the audit head when due (interval passed, head moved); the seq signed, or None.

    A chain that does not recompute since the last checkpoint is logged, never signed.
    """
    try:
        if not committed(checkpoints.due, clock()):
            return None
        seq = committed(lambda now: getattr(checkpoints.issue(now), "seq", None), clock())
    except checkpoints.ChainBroken as broken:
        log.error("audit checkpoint NOT signed: the chain does not hold at %s", broken)
        return None
    if seq is not None:
        log.info("audit checkpoint signed at event %d", seq)
    return seq


def record_settings() -> dict:
    """Append ``settings:changed`` when the settings differ from the last recorded ones."""
    changes = committed(lambda: settings_audit.record_changes(actor=WORKER))
    if changes:
        log.info("settings changed since the last recorded start: %s", ", ".join(changes))
    return changes


def run_forever(stop: threading.Event, clock: Clock = utcnow) -> None:
    """Cycle until ``stop`` is set, sleeping about a second when idle; prune hourly.

    Records are issued meanwhile by a second thread (``issue_records_forever``), and
    evidence checked by a third (``check_evidence_forever``).
    """
    owner, sender = worker_name(), Sender()
    log.info("worker %s started", owner)
    try:
        record_settings()
    except Exception:  # a database outage: the next start records them
        log.exception("recording the settings failed")
    app = current_app._get_current_object()
    helpers = [threading.Thread(target=target, name=name, daemon=True, args=(app, stop, clock))
               for target, name in ((issue_records_forever, "records"),
                                    (check_evidence_forever, "evidence"))]
    for thread in helpers:
        thread.start()
    next_prune = next_checkpoint = next_retention = 0.0
    # The audit head is signed from this loop: a signature takes microseconds, and the
    # checkpoint's interval is read from the database (several workers sign once).
    signing = checkpoints_on()
    poll = min(CHECKPOINT_POLL, current_app.config["AUDIT_CHECKPOINT_INTERVAL_SECONDS"])
    try:
        while not stop.is_set():
            try:
                if time.monotonic() >= next_prune:
                    prune(clock())
                    next_prune = time.monotonic() + PRUNE_EVERY
                if signing and time.monotonic() >= next_checkpoint:
                    sign_checkpoint(clock)
                    next_checkpoint = time.monotonic() + poll
                if time.monotonic() >= next_retention:
                    retention_job.run_logged(clock())
                    next_retention = time.monotonic() + RETENTION_EVERY
                busy = run_once(clock, owner, sender, stop)
            except Exception:  # a database outage: log, wait, try again
                log.exception("worker cycle failed")
                busy = 0
            if not busy:
                stop.wait(IDLE_SLEEP)
    finally:
        stop.set()
        for thread in helpers:
            thread.join()
        sender.close()
        log.info("worker %s stopped", owner)


@click.command("worker")
@click.option("--once", is_flag=True, help="Run until no work is due now, then exit.")
@with_appcontext
def worker(once: bool) -> None:
    """Deliver webhooks, run timed transitions, send e-mails, issue records, check evidence,
    sign audit checkpoints, anonymise what retention makes due."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)  # 6 lines a render
    try:
        retention.cutoff(utcnow())  # refuse to start with a RETENTION_YEARS below two
    except DomainError as error:
        raise click.ClickException(str(error.message)) from None
    if once:
        record_settings()
        prune(utcnow())
        run_once()
        issue_records(utcnow, limit=10_000)
        check_evidence(utcnow, limit=10_000)
        if checkpoints_on():
            sign_checkpoint(utcnow)
        retention_job.run_logged(utcnow())
        return
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    run_forever(stop)
