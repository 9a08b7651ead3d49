"""Fixtures: a freshly migrated database per test (SQLite, or PostgreSQL when
TEST_DATABASE_URL is set), the app, a client and a CLI runner.

The schema comes only from the migrations: they run once per session into a
template, and every test gets a copy of it (a file copy on SQLite,
``CREATE DATABASE … TEMPLATE`` on PostgreSQL), so tests may commit, run
threads and check what really reached the database.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app import create_app
from models import db

from .helpers import Browser

_counter = itertools.count(1)


class SqliteDatabases:
    def __init__(self, folder):
        self.folder = folder
        self.template = folder / "template.db"

    def url(self, path) -> str:
        return f"sqlite:///{path}"

    def prepare(self) -> str:
        return self.url(self.template)

    def fresh(self) -> str:
        path = self.folder / f"test{next(_counter)}.db"
        shutil.copyfile(self.template, path)
        return self.url(path)

    def drop(self, url: str) -> None:
        path = make_url(url).database
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)


class PostgresDatabases:
    """Clones of a migrated template; the server is the one in TEST_DATABASE_URL."""

    def __init__(self, url: str):
        self.base = make_url(url)
        # The pid keeps concurrent runs against one server apart.
        self.prefix = re.sub(r"\W", "_", f"{self.base.database}_{os.getpid()}")
        self.admin = create_engine(self.base.set(database="postgres"),
                                   isolation_level="AUTOCOMMIT", poolclass=None)

    def _exec(self, sql: str) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(sql))

    def prepare(self) -> str:
        name = f"{self.prefix}_tmpl"
        self._exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._exec(f'CREATE DATABASE "{name}"')
        return self.base.set(database=name).render_as_string(hide_password=False)

    def fresh(self) -> str:
        name = f"{self.prefix}_t{next(_counter)}"
        self._exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._exec(f'CREATE DATABASE "{name}" TEMPLATE "{self.prefix}_tmpl"')
        return self.base.set(database=name).render_as_string(hide_password=False)

    def drop(self, url: str) -> None:
        self._exec(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')

    def close(self) -> None:
        self._exec(f'DROP DATABASE IF EXISTS "{self.prefix}_tmpl" WITH (FORCE)')
        self.admin.dispose()


TEST_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key",
    "RATELIMIT_STORAGE_URI": "memory://",
    "LOGIN_RATE_LIMIT": "1000 per minute",
    # Still argon2id, with the cheapest parameters: tests make hundreds of accounts.
    "PASSWORD_HASH_PROFILE": "CHEAPEST",
}


def make_app(url: str, **overrides):
    return create_app({**TEST_CONFIG, "DATABASE_URL": url, **overrides})


@pytest.fixture(scope="session")
def databases(tmp_path_factory):
    url = os.environ.get("TEST_DATABASE_URL")
    dbs = PostgresDatabases(url) if url else SqliteDatabases(tmp_path_factory.mktemp("db"))
    template_app = make_app(dbs.prepare())
    with template_app.app_context():
        upgrade()
        db.engine.dispose()
    yield dbs
    if hasattr(dbs, "close"):
        dbs.close()


@pytest.fixture
def app_factory(databases):
    """Make an app on a fresh database; ``overrides`` change settings for one test."""
    made = []

    def factory(**overrides):
        url = databases.fresh()
        app = make_app(url, **overrides)
        made.append((app, url))
        return app

    yield factory
    for app, url in made:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        databases.drop(url)


@pytest.fixture
def app(app_factory):
    """The app on a fresh database. No context is pushed: each request and each
    ``with app.app_context()`` block gets its own session, as in production."""
    return app_factory()


@pytest.fixture(scope="module")
def module_app(databases):
    """One app and database for a whole module: for tables of cases where each test
    makes its own cases and asserts only on them (people are made once)."""
    url = databases.fresh()
    app = make_app(url)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    databases.drop(url)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def browser(app):
    """A signed-out visitor who fills forms (CSRF tokens included)."""
    return Browser(app.test_client())
