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

log = logging.getLogger("porta25.retention")
cli = AppGroup("retention", help="LGPD retention: anonymise personal data past RETENTION_YEARS.")


@dataclass
class Outcome:
    cases: list[str] = field(default_factory=list)
    customers: list[int] = field(default_factory=list)
    files: int = 0


def _committed(step, *args):
    """Run one step and commit it; roll back and re-raise on any error."""
    try:
        value = step(*args)
        db.session.commit()
        return value
    except BaseException:
        db.session.rollback()
        raise


def _case(protocol: str, now: datetime) -> int | None:
    case = db.session.scalars(select(Case).where(Case.protocol == protocol)).one()
    return retention.anonymise_case(case, now=now)


def _customer(user_id: int, now: datetime) -> int | None:
    return retention.anonymise_customer(db.session.get(User, user_id), now=now)


def apply(now: datetime) -> Outcome:
    """Anonymise every case, then every customer, due at ``now``; returns what was done."""
    todo = _committed(retention.plan, now)
    done = Outcome()
    for items, step, kept in ((todo.cases, _case, done.cases),
                              (todo.customers, _customer, done.customers)):
        for item in items:
            try:
                files = _committed(step, item, now)
            except Exception:  # one failure must not stop the others; the next run retries
                log.exception("retention failed for %s", item)
                continue
            if files is not None:
                kept.append(item)
                done.files += files
    return done


def run_logged(now: datetime) -> Outcome | None:
    """The worker's daily run: what was done goes to the log; a failure is logged and the
    next day's run tries again."""
    try:
        done = apply(now)
    except Exception:
        log.exception("retention job failed")
        return None
    if done.cases or done.customers:
        log.info("retention: anonymised %d case(s) and %d customer(s), %d record file(s)",
                 len(done.cases), len(done.customers), done.files)
    return done


def _line(verb: str, cases: list[str], customers: list[int]) -> str:
    return (f"{verb} {len(cases)} case(s): {', '.join(cases) or '-'}\n"
            f"{verb} {len(customers)} customer(s): user id "
            f"{', '.join(map(str, customers)) or '-'}")


@cli.command("run")
@click.option("--dry-run", is_flag=True, help="Show what would be anonymised; change nothing.")
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
        click.echo(_line("would anonymise", todo.cases, todo.customers))
        return
    done = apply(now)
    click.echo(_line("anonymised", done.cases, done.customers))
    click.echo(f"deleted {done.files} record file(s); their codes and hashes stay verifiable")
