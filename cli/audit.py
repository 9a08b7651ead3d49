"""`flask audit verify|checkpoint|public-key|new-key|export`: the audit trail (DESIGN §7, §9)."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path

import click
from flask.cli import AppGroup

from models import db, iso_utc, utcnow
from workflow import audit_export, checkpoints
from workflow.audit import Actor
from workflow.config import setting
from workflow.errors import DomainError

cli = AppGroup("audit", help="The audit trail.")


@cli.command("verify")
def verify():
    """Check the whole chain and every checkpoint; exit 1 naming the first bad one."""
    # SQLite: a deferred BEGIN reads one snapshot and keeps no write lock, so appends
    # go on while a long trail is checked (PostgreSQL ignores the option).
    db.session.connection(execution_options={"read_only_snapshot": True})
    report = checkpoints.verify_all()
    result = report.chain
    if not result.ok:
        click.echo(f"audit chain BROKEN at event {result.broken_seq}: {result.problem} "
                   f"({result.checked} events verified before it)", err=True)
        raise SystemExit(1)
    click.echo(f"audit chain intact: {result.checked} events verified")
    if report.broken_checkpoint is not None:
        click.echo(f"audit checkpoint BROKEN at event {report.broken_checkpoint}: "
                   f"{report.problem} ({report.checkpoints} checkpoints verified before it)",
                   err=True)
        raise SystemExit(1)
    _say_checkpoints(report)


def _say_checkpoints(report: checkpoints.Report) -> None:
    newest = report.newest
    if newest is not None:
        click.echo(f"checkpoints intact: {report.checkpoints} signatures verified, the newest "
                   f"at event {newest.seq} signed {iso_utc(newest.signed_at)} "
                   f"(key ID {newest.key_id})")
    if checkpoints.signing_key() is None:
        click.echo("checkpoints are off: AUDIT_SIGNING_KEY is not set")
    elif newest is None:
        click.echo("no checkpoint signed yet")


@cli.command("checkpoint")
def checkpoint():
    """Sign the chain's head now (if it moved since the last checkpoint) and print it."""
    try:
        made = checkpoints.issue(utcnow())
        db.session.commit()
    except checkpoints.CheckpointsOff:
        raise click.ClickException("checkpoints are off: set AUDIT_SIGNING_KEY "
                                   "(`flask audit new-key` makes one)") from None
    except checkpoints.ChainBroken as broken:
        db.session.rollback()
        raise click.ClickException(f"not signed: the audit chain does not hold at {broken}") \
            from None
    if made is None:
        last = checkpoints.latest()
        if last is None:
            click.echo("nothing to sign: the audit trail is empty")
            return
        click.echo(f"no new event since the checkpoint at event {last.seq}:", err=True)
        made = last
    click.echo(made.note, nl=False)


@cli.command("public-key")
def public_key():
    """Print the key name and the C2SP verifier key(s) regulators check checkpoints with."""
    keys = checkpoints.public_keys()
    if not keys:
        raise click.ClickException("checkpoints are off: AUDIT_SIGNING_KEY is not set")
    click.echo(f"key name: {setting('AUDIT_KEY_NAME')}")
    click.echo(f"verifier key: {keys[0]}")
    for older in keys[1:]:
        click.echo(f"earlier key: {older}")


@cli.command("new-key")
def new_key():
    """Make a new Ed25519 signing key for AUDIT_KEY_NAME; print it once, with its public key."""
    seed, verifier = checkpoints.new_key(setting("AUDIT_KEY_NAME"))
    click.echo(f"AUDIT_SIGNING_KEY={seed}")
    click.echo(f"# verifier key: {verifier}")


@cli.command("export")
@click.option("--from", "start", required=True, type=click.DateTime(["%Y-%m-%d"]),
              help="First day (local time, DISPLAY_TIMEZONE).")
@click.option("--to", "end", required=True, type=click.DateTime(["%Y-%m-%d"]),
              help="Last day, included.")
@click.option("--uf", default=None, help="Only this state's events in full; others withheld.")
@click.option("--output", default="-", type=click.Path(dir_okay=False, allow_dash=True),
              help="File to write (default: standard output).")
def export(start, end, uf, output):
    """Write a period's events and covering checkpoints as JSON Lines for a regulator."""
    try:
        period = audit_export.period(start=start.date(), end=end.date(), uf=uf)
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(f"{error.field}: {error.message}") from None
    bounds = audit_export.span(period)
    db.session.commit()
    if bounds is not None:
        _ensure_covered(bounds[1])
    with _opened(output) as out:
        summary = audit_export.write(out, period, utcnow())
        audit_export.record_export(summary, actor=Actor.system("cli"))
        db.session.commit()
    click.echo(f"exported events {summary.first_seq}–{summary.last_seq}: {summary.revealed} "
               f"in full, {summary.withheld} withheld; checkpoint at event "
               f"{summary.checkpoint_seq}; sha256 {summary.sha256}", err=True)


def _ensure_covered(seq: int) -> None:
    """Sign the head now when no checkpoint covers event ``seq`` yet (a key permitting)."""
    if checkpoints.covering_checkpoint(seq) is not None:
        db.session.commit()
        return
    try:
        checkpoints.issue(utcnow())
        db.session.commit()
    except checkpoints.CheckpointsOff:
        db.session.rollback()
        click.echo(f"warning: no checkpoint covers event {seq} and AUDIT_SIGNING_KEY is not "
                   "set: the export cannot be checked against a signature", err=True)
    except checkpoints.ChainBroken as broken:
        db.session.rollback()
        raise click.ClickException(f"not exported: the audit chain does not hold at {broken}") \
            from None


@contextmanager
def _opened(output: str):
    """The output file (removed again if the export fails), or standard output."""
    if output == "-":
        yield sys.stdout.buffer
        return
    path = Path(output)
    try:
        with path.open("wb") as out:
            yield out
    except BaseException:
        db.session.rollback()
        path.unlink(missing_ok=True)
        raise
