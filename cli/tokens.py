"""`flask tokens create`."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from models import TokenScope, db
from workflow import accounts
from workflow.audit import Actor
from workflow.errors import DomainError

cli = AppGroup("tokens", help="Manage API bearer tokens.")


@cli.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--scope", type=click.Choice([s.value for s in TokenScope]),
              default=TokenScope.FULL.value, show_default=True,
              help="enforcement: may only read the allow-list and the change feed.")
def create(email, name, scope):
    """Create a token for a user and print it once."""
    user = accounts.user_by_email(email)
    if user is None:
        raise click.ClickException(f"no user with e-mail {email}")
    try:
        token = accounts.create_token(user, name, actor=Actor.system("cli"),
                                      scope=TokenScope(scope))
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(str(error.message)) from None
    db.session.commit()
    click.echo(token)
