"""`flask users create` and `flask users reset-totp`."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from models import Role, db
from workflow import accounts, second_factor
from workflow.audit import Actor
from workflow.errors import DomainError

cli = AppGroup("users", help="Manage accounts.")


@cli.command("create")
@click.option("--email", required=True)
@click.option("--password", required=True)
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--uf", default=None, help="A customer's state, or an auditor's scope.")
@click.option("--name", default=None)
@click.option("--cpf-cnpj", default=None, help="Required for customers.")
@click.option("--subscriber-id", default=None)
def create(email, password, role, uf, name, cpf_cnpj, subscriber_id):
    """Create an account (staff accounts are only made here)."""
    try:
        user = accounts.create_user(email=email, password=password, role=Role(role),
                                    name=name or email.split("@")[0], uf=uf, cpf_cnpj=cpf_cnpj,
                                    subscriber_id=subscriber_id, actor=Actor.system("cli"))
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(str(error.message)) from None
    db.session.commit()
    click.echo(f"created {user.role.value} {user.email} (id {user.id})")


@cli.command("reset-totp")
@click.option("--email", required=True)
def reset_totp(email):
    """Forget a staff or auditor account's second factor (break-glass: no supervisor can
    sign in); they enrol a new authenticator at their next sign-in."""
    user = accounts.user_by_email(email)
    if user is None:
        raise click.ClickException(f"no account with e-mail {email}")
    try:
        second_factor.reset(user, actor=Actor.system("cli"))
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(str(error.message)) from None
    db.session.commit()
    click.echo(f"second factor reset for {user.role.value} {user.email} (id {user.id}): "
               "they enrol again at their next sign-in")


@cli.command("update")
@click.option("--email", required=True, help="Whose account.")
@click.option("--role", default=None, type=click.Choice([r.value for r in Role]))
@click.option("--uf", default=None, help="A customer's state, or an auditor's scope "
              "('' for national).")
@click.option("--name", default=None)
@click.option("--active/--inactive", default=None, help="--inactive ends their sessions and "
              "tokens' use at once.")
def update(email, role, uf, name, active):
    """Change an account's role, state, name or whether it may sign in (audited as a diff)."""
    user = accounts.user_by_email(email)
    if user is None:
        raise click.ClickException(f"no account with e-mail {email}")
    try:
        changes = accounts.update_user(user, actor=Actor.system("cli"),
                                       role=Role(role) if role else None, uf=uf, name=name,
                                       active=active)
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(str(error.message)) from None
    db.session.commit()
    if not changes:
        click.echo(f"nothing to change for {user.email} (id {user.id})")
        return
    click.echo(f"updated {user.role.value} {user.email} (id {user.id}): "
               + ", ".join(sorted(changes)))
