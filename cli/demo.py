"""`flask demo` (stub)."""

import click

cli = click.Command("demo", callback=lambda: click.echo("demo"))
