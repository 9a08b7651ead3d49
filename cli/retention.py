"""`flask retention run [--dry-run]`: the LGPD retention job (the worker runs it daily).

Each case and each customer is anonymised in a transaction of its own, so one
failure leaves the others done and the job can simply run again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

import click
from flask.cli import AppGroup
from sqlalchemy import select

from models import Case, User, db, iso_utc, utcnow
from workflow import retention
from workflow.config import setting
from workflow.errors import DomainError

from .transaction import committed

log = logging.getLogger("porta25.retention")
cli = AppGroup("retention", help="LGPD retention: anonymise personal data past RETENTION_YEARS.")


@dataclass
class Outcome:
    cases: dict[str, dict[str, int]] = field(default_factory=dict)
    customers: dict[int, dict[str, int]] = field(default_factory=dict)
    leftovers: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def files(self) -> int:
        return sum(counts.get("record_files", 0) for done in (
            self.cases, self.customers, self.leftovers) for counts in done.values())


def _case_by_protocol(protocol: str) -> Case:
    return db.session.scalars(select(Case).where(Case.protocol == protocol)).one()


def _case(protocol: str, now: datetime) -> dict[str, int] | None:
    return retention.anonymise_case(_case_by_protocol(protocol), now=now)


def _customer(user_id: int, now: datetime) -> dict[str, int] | None:
    return retention.anonymise_customer(db.session.get(User, user_id), now=now)


def _leftover(protocol: str, now: datetime) -> dict[str, int] | None:
    return retention.erase_leftovers(_case_by_protocol(protocol))


def apply(now: datetime) -> Outcome:
    """Anonymise every case, then every customer, due at ``now``, then erase what
    anonymised cases held pending and has finished since; returns what was done."""
    todo = committed(retention.plan, now)
    done = Outcome()
    for items, step, kept in ((todo.cases, _case, done.cases),
                              (todo.customers, _customer, done.customers),
                              (list(todo.leftovers), _leftover, done.leftovers)):
        for item in items:
            try:
                counts = committed(step, item, now)
            except Exception:  # one failure must not stop the others; the next run retries
                log.exception("retention failed for %s", item)
                continue
            if counts is not None:
                kept[item] = counts
    return done


def run_logged(now: datetime) -> Outcome | None:
    """The worker's daily run: what was done goes to the log; a failure is logged and the
    next day's run tries again."""
    try:
        done = apply(now)
    except Exception:
        log.exception("retention job failed")
        return None
    if done.cases or done.customers or done.leftovers:
        log.info("retention: anonymised %d case(s) and %d customer(s), erased what %d "
                 "anonymised case(s) still held; %d record file(s)", len(done.cases),
                 len(done.customers), len(done.leftovers), done.files)
    return done


def _counts(counts: dict[str, int]) -> str:
    return " ".join(f"{kind}={n}" for kind, n in counts.items())


def _lines(verb: str, cases: dict, customers: dict, leftovers: dict) -> str:
    """What is (or would be) erased, item by item with its counts (the audit event's)."""
    lines = [f"{verb} {len(cases)} case(s): {', '.join(cases) or '-'}"]
    lines += [f"  {protocol}: {_counts(counts)}" for protocol, counts in cases.items()]
    lines.append(f"{verb} {len(customers)} customer(s): user id "
                 f"{', '.join(map(str, customers)) or '-'}")
    lines += [f"  user id {user_id}: {_counts(counts)}" for user_id, counts in customers.items()]
    lines.append(f"{'would erase' if verb.startswith('would') else 'erased'} what "
                 f"{len(leftovers)} anonymised case(s) still held: {', '.join(leftovers) or '-'}")
    lines += [f"  {protocol}: {_counts(counts)}" for protocol, counts in leftovers.items()]
    return "\n".join(lines)


@cli.command("run")
@click.option("--dry-run", is_flag=True, help="Show what would be erased; change nothing.")
def run(dry_run: bool) -> None:
    """Anonymise the personal data of cases ended more than RETENTION_YEARS ago."""
    now = utcnow()
    try:
        limit = retention.cutoff(now)
    except DomainError as error:
        raise click.ClickException(str(error.message)) from None
    click.echo(f"RETENTION_YEARS={setting('RETENTION_YEARS')}: cases ended before "
               f"{iso_utc(limit)}")
    if dry_run:
        todo = retention.plan(now)
        db.session.rollback()  # the plan only reads: nothing to keep
        click.echo(_lines("would anonymise", todo.due_cases, todo.due_customers,
                          todo.leftovers))
        return
    done = apply(now)
    click.echo(_lines("anonymised", done.cases, done.customers, done.leftovers))
    click.echo(f"deleted {done.files} record file(s); their codes and hashes stay verifiable")
