"""The porta25 application factory; ``flask`` finds it here."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

import settings
from database import configure_engine
from extensions import babel, csrf, db, limiter, login_manager, migrate

HERE = Path(__file__).resolve().parent


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app: settings, extensions, blueprints, commands — in that order."""
    app = Flask(__name__, instance_path=str(HERE / "instance"))

    # Settings come from the environment only; tests may override them.
    app.config.from_mapping(settings.from_environment())
    if test_config:
        app.config.update(test_config)
        app.config["SQLALCHEMY_DATABASE_URI"] = app.config["DATABASE_URL"]
    Path(app.instance_path).mkdir(exist_ok=True)

    # The database, with the SQLite locking recipe the audit chain needs.
    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine)
    migrate.init_app(app, db, directory=str(HERE / "migrations"))

    # Security and language for every request.
    csrf.init_app(app)
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    limiter.init_app(app)
    from web import i18n, security

    security.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale,
                   default_translation_directories=str(HERE / "translations"))
    from web.auth.session import init_login

    init_login(app, login_manager)

    # Blueprints by audience, and the pages shared by all of them.
    from web import api, audit, auth, desk, errors, formatting, portal, records, transparency

    formatting.init_app(app)
    errors.init_app(app)
    for blueprint in (auth.bp, portal.bp, desk.bp, audit.bp, records.bp, transparency.bp,
                      api.bp):
        app.register_blueprint(blueprint)
    csrf.exempt(api.bp)  # the API authenticates with bearer tokens, not cookies

    # The `flask` commands of DESIGN §7.
    from cli import register_commands

    register_commands(app)
    return app
