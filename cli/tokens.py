"""`flask tokens create`."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from models import db
from workflow import accounts
from workflow.audit import Actor

cli = AppGroup("tokens", help="Manage API bearer tokens.")


@cli.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
def create(email, name):
    """Create a token for a user and print it once."""
    user = accounts.user_by_email(email)
    if user is None:
        raise click.ClickException(f"no user with e-mail {email}")
    token = accounts.create_token(user, name, actor=Actor.system("cli"))
    db.session.commit()
    click.echo(token)
