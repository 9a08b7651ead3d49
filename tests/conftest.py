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
import queue
import re
import shutil
import threading

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
    """Clones of a migrated template; the server is the one in TEST_DATABASE_URL.

    ``CREATE DATABASE … TEMPLATE`` and ``DROP DATABASE`` take about 0.1 s each, so a
    thread makes the next clones while a test runs and another drops the used ones,
    so the suite rarely waits. Names carry the pid: each pytest-xdist process, and
    each concurrent run against one server, has its own. Test connections
    skip waiting for the WAL flush at commit (``synchronous_commit=off``): a commit is
    as visible to other connections as ever, only a server crash could lose it.
    """

    AHEAD = 2  # clones made before they are asked for

    def __init__(self, url: str):
        self.base = make_url(url)
        # The pid keeps concurrent runs against one server apart.
        self.prefix = re.sub(r"\W", "_", f"{self.base.database}_{os.getpid()}")
        self.admin = create_engine(self.base.set(database="postgres"),
                                   isolation_level="AUTOCOMMIT", poolclass=None)
        self._ready: queue.Queue[str | Exception] = queue.Queue(maxsize=self.AHEAD)
        self._used: queue.Queue[str | None] = queue.Queue()
        self._threads: list[threading.Thread] = []
        self._closing = threading.Event()

    def _exec(self, sql: str) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(sql))

    def _url(self, name: str) -> str:
        url = self.base.set(database=name).update_query_dict(
            {"options": "-c synchronous_commit=off"})
        return url.render_as_string(hide_password=False)

    def prepare(self) -> str:
        name = f"{self.prefix}_tmpl"
        self._exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._exec(f'CREATE DATABASE "{name}"')
        return self._url(name)

    def fresh(self) -> str:
        if not self._threads:  # the template is migrated by now
            self._threads = [threading.Thread(target=work, daemon=True)
                             for work in (self._make_ahead, self._drop_used)]
            for thread in self._threads:
                thread.start()
        made = self._ready.get(timeout=60)
        if isinstance(made, Exception):
            raise made
        return self._url(made)

    def _make_ahead(self) -> None:
        while not self._closing.is_set():
            name = f"{self.prefix}_t{next(_counter)}"
            try:
                self._exec(f'CREATE DATABASE "{name}" TEMPLATE "{self.prefix}_tmpl"')
            except Exception as error:  # the test asking next fails with it
                self._ready.put(error)
                return
            self._ready.put(name)  # waits while AHEAD clones are ready

    def _drop_used(self) -> None:
        while (name := self._used.get()) is not None:
            self._exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def drop(self, url: str) -> None:
        self._used.put(make_url(url).database)

    def close(self) -> None:
        self._closing.set()
        while self._threads[:1] and self._threads[0].is_alive():
            try:  # let the maker finish its last clone and see the flag
                if isinstance(made := self._ready.get(timeout=0.5), str):
                    self._used.put(made)
            except queue.Empty:
                pass
        while not self._ready.empty():
            if isinstance(made := self._ready.get(), str):
                self._used.put(made)
        self._used.put(None)
        for thread in self._threads[1:]:
            thread.join()
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
