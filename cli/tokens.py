"""`flask tokens create`, `flask tokens list` and `flask tokens revoke`."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from models import TokenScope, db, iso_utc
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


@cli.command("list")
@click.option("--email", default=None, help="Only this person's tokens.")
def list_tokens(email):
    """Show tokens (id, prefix, owner, scope, created, last used, revoked); never the token."""
    owner = accounts.user_by_email(email) if email else None
    if email and owner is None:
        raise click.ClickException(f"no user with e-mail {email}")
    for token in accounts.tokens_matching():
        if owner is not None and token.user_id != owner.id:
            continue
        click.echo("\t".join(str(v) for v in (
            token.id, token.prefix, token.user.email, token.name, token.scope.value,
            iso_utc(token.created_at), iso_utc(token.last_used_at) or "-",
            f"revoked {iso_utc(token.revoked_at)}" if token.revoked_at else "active")))


@cli.command("revoke")
@click.option("--id", "token_id", type=int, default=None, help="The token's id (tokens list).")
@click.option("--prefix", default=None, help="The token's first characters, e.g. p25_AbCdEfG.")
def revoke(token_id, prefix):
    """Revoke one token at once; the API refuses it from the next request."""
    if (token_id is None) == (not prefix):
        raise click.UsageError("give exactly one of --id and --prefix")
    found = accounts.tokens_matching(token_id=token_id, prefix=prefix)
    if not found:
        raise click.ClickException("no such token")
    if len(found) > 1:
        raise click.ClickException(
            f"{len(found)} tokens start with {prefix}: give more characters or --id "
            f"({', '.join(str(t.id) for t in found)})")
    token = found[0]
    try:
        accounts.revoke_token(token, actor=Actor.system("cli"))
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(str(error.message)) from None
    db.session.commit()
    click.echo(f"revoked token {token.id} ({token.prefix}) of {token.user.email}")
