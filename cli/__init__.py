"""The `flask` commands of DESIGN §7: entry points that parse and call workflow verbs."""

from __future__ import annotations

from flask import Flask


def register_commands(app: Flask) -> None:
    from flask_migrate.cli import db as migrations

    from . import audit, demo, grants, retention, tokens, users, webhooks, worker

    for group in (users.cli, tokens.cli, audit.cli, demo.cli, webhooks.cli, retention.cli):
        app.cli.add_command(group)
    app.cli.add_command(worker.worker)
    # Beside `flask db upgrade`, which the same owner role runs just before it.
    migrations.add_command(grants.grant_app)
