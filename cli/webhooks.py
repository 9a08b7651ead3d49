"""`flask webhooks add|list|rotate`: enforcement endpoints (DESIGN §5, §7)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from models import db, iso_utc
from workflow import endpoints
from workflow.audit import Actor
from workflow.errors import DomainError

cli = AppGroup("webhooks", help="Manage the enforcement webhook endpoints.")
ACTOR = Actor.system("cli")


def _refuse(error: DomainError):
    """Nothing is stored; the domain's (Portuguese) message, with its field, exits 1."""
    db.session.rollback()
    field = f"{error.field}: " if error.field else ""
    raise click.ClickException(f"{field}{error.message}")


@cli.command("add")
@click.option("--url", required=True, help="http:// or https:// inside WEBHOOK_ALLOWED_NETWORKS")
@click.option("--event", "events", multiple=True,
              help="Event type it takes (repeat); default: every type.")
@click.option("--description", default="")
def add(url, events, description):
    """Register an endpoint and print its signing secret (shown only this once)."""
    try:
        endpoint, secret = endpoints.create_endpoint(url=url, event_types=list(events),
                                                     description=description, actor=ACTOR)
        db.session.commit()
    except DomainError as error:
        _refuse(error)
    click.echo(f"endpoint {endpoint.id}: {endpoint.url} ({endpoint.event_types})")
    click.echo(secret)


@cli.command("list")
def list_():
    """Every endpoint with its state and health."""
    for e in endpoints.all_endpoints():
        state = "active" if e.active else f"disabled ({e.disabled_reason or '-'})"
        last = iso_utc(e.last_success_at) or "-"
        click.echo(f"{e.id}\t{state}\t{e.url}\t{e.event_types}\tposition={e.position}\t"
                   f"failures_in_row={e.failures_in_row}\tlast_success={last}")


@cli.command("rotate")
@click.option("--id", "endpoint_id", type=int, required=True)
@click.option("--overlap-hours", type=int, default=24, show_default=True,
              help="How long the old secret keeps signing too.")
def rotate(endpoint_id, overlap_hours):
    """Issue a new secret and print it once; the old one signs too during the overlap."""
    endpoint = endpoints.endpoint_by_id(endpoint_id)
    if endpoint is None:
        raise click.ClickException(f"id: endpoint {endpoint_id} não existe.")
    try:
        secret = endpoints.rotate_secret(endpoint, actor=ACTOR, overlap_hours=overlap_hours)
        db.session.commit()
    except DomainError as error:
        _refuse(error)
    click.echo(secret)
