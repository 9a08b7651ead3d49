"""The models and the migrations describe the same schema (an `alembic check` on the
engine under test): the schema comes only from migrations, the code only from models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from models import db


def differences(app) -> list:
    """What autogenerate would write into a new migration for the migrated database."""
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "compare_type": True, "compare_server_default": True})
        return compare_metadata(context, db.metadata)


def test_the_migrated_database_matches_the_models(app):
    assert differences(app) == []


def test_the_comparison_would_notice_a_missing_index(app):
    with app.app_context():
        db.session.execute(text("DROP INDEX ix_case_uf"))
        db.session.commit()
    assert [d[0] for d in differences(app)] == ["add_index"]
