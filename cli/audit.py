"""`flask audit verify|checkpoint|public-key|new-key`: the audit trail (DESIGN §7, §9)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from models import db, iso_utc, utcnow
from workflow import checkpoints
from workflow.config import setting

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
