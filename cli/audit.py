"""`flask audit verify`."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from workflow.audit import verify_chain

cli = AppGroup("audit", help="The audit trail.")


@cli.command("verify")
def verify():
    """Check the whole chain; exit 1 naming the first broken event."""
    result = verify_chain()
    if result.ok:
        click.echo(f"audit chain intact: {result.checked} events verified")
        return
    click.echo(f"audit chain BROKEN at event {result.broken_seq}: {result.problem} "
               f"({result.checked} events verified before it)", err=True)
    raise SystemExit(1)
