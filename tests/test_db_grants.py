"""`flask db grant-app`: on PostgreSQL web and worker log in as a role that owns nothing
and holds only what the app needs (DESIGN §12). As that role the whole flow works,
while rewriting the trail, or dropping or disabling the triggers guarding it, is
refused by the database's permissions — not merely by the triggers."""

from __future__ import annotations

import itertools
import os

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from cli.grants import NARROW, ORDINARY
from models import Case, EvidenceCheck, db
from tests.audit_support import KEY
from tests.conftest import make_app
from tests.desk_support import case_url, signed_in
from tests.factories import make_case, make_user
from tests.test_retention import age_account
from tests.test_retention_erasure import (
    lived,
    people,
    real_services,
)

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL")
on_postgresql = pytest.mark.skipif(
    not POSTGRES_URL, reason="roles are PostgreSQL's; on SQLite the database file's "
                             "permissions are the equivalent")
INSUFFICIENT_PRIVILEGE = "42501"  # SQLSTATE of "permission denied" and "must be owner"
_roles = itertools.count(1)


def triggered_tables(app) -> set[str]:
    """The tables that carry a trigger of our migrations, on the engine under test."""
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            query = """SELECT DISTINCT c.relname FROM pg_trigger t
                       JOIN pg_class c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal"""
        else:
            query = "SELECT DISTINCT tbl_name FROM sqlite_master WHERE type = 'trigger'"
        return set(db.session.scalars(text(query)))


def test_every_table_guarded_by_triggers_is_named_in_the_map_of_narrow_rights(app):
    """Our triggers all guard insert-only tables: a new one must be named in NARROW, or
    the app role would get UPDATE and DELETE on it like any other table."""
    triggered = triggered_tables(app)
    assert {"audit_event", "audit_checkpoint", "record", "record_file",
            "evidence_check"} <= triggered
    assert triggered - set(NARROW) == set()
    assert set(NARROW) <= set(db.metadata.tables)


@pytest.mark.skipif(bool(POSTGRES_URL), reason="the SQLite answer")
def test_on_sqlite_the_command_says_it_does_not_apply(runner):
    result = runner.invoke(args=["db", "grant-app", "--role", "porta25_app"])

    assert result.exit_code == 1
    assert "PostgreSQL only" in result.output and "file's permissions" in result.output


# PostgreSQL ----------------------------------------------------------------------------

class Roles:
    """Login roles unique to this run, and apps logged in as them; all dropped after."""

    def __init__(self):
        self.admin = create_engine(make_url(POSTGRES_URL).set(database="postgres"),
                                   isolation_level="AUTOCOMMIT")
        self.names: list[str] = []
        self.apps: list = []

    def make(self, attributes: str = "LOGIN") -> str:
        name = f"p25_app_{os.getpid()}_{next(_roles)}"
        self._admin(f'CREATE ROLE "{name}" {attributes}')
        self.names.append(name)
        return name

    def _admin(self, sql: str, database: str = "postgres") -> list:
        engine = self.admin if database == "postgres" else create_engine(
            make_url(POSTGRES_URL).set(database=database), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                result = connection.execute(text(sql))
                return result.all() if result.returns_rows else []
        finally:
            if engine is not self.admin:
                engine.dispose()

    def app_as(self, app, role: str, **overrides):
        """An app on ``app``'s database, logged in as ``role``."""
        url = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).set(username=role)
        made = make_app(url.render_as_string(hide_password=False), **overrides)
        self.apps.append(made)
        return made

    def close(self) -> None:
        for made in self.apps:
            with made.app_context():
                db.session.remove()
                db.engine.dispose()
        for name in self.names:
            # A role is dropped once it holds nothing in any database.
            for (database,) in self._admin(f"""
                    SELECT DISTINCT d.datname FROM pg_shdepend s
                    JOIN pg_database d ON d.oid = s.dbid
                    WHERE s.refobjid = (SELECT oid FROM pg_roles WHERE rolname = '{name}')"""):
                self._admin(f'DROP OWNED BY "{name}"', database)
            self._admin(f'DROP ROLE "{name}"')
        self.admin.dispose()


@pytest.fixture
def roles():
    made = Roles()
    yield made
    made.close()


def grant(app, role: str) -> str:
    result = app.test_cli_runner().invoke(args=["db", "grant-app", "--role", role])
    assert result.exit_code == 0, result.output
    return result.output


def granted(app, role: str) -> set[tuple]:
    """Every (table, privilege) and (table, column, privilege) granted to ``role`` itself,
    read from the catalogue's access lists."""
    with app.app_context():
        tables = db.session.execute(text("""
            SELECT c.relname, a.privilege_type FROM pg_class c, aclexplode(c.relacl) a
            WHERE c.relnamespace = current_schema()::regnamespace
              AND a.grantee = CAST(:role AS regrole)"""), {"role": role}).all()
        columns = db.session.execute(text("""
            SELECT c.relname, t.attname, a.privilege_type
            FROM pg_attribute t JOIN pg_class c ON c.oid = t.attrelid,
                 aclexplode(t.attacl) a
            WHERE c.relnamespace = current_schema()::regnamespace
              AND a.grantee = CAST(:role AS regrole)"""), {"role": role}).all()
    return {tuple(row) for row in tables + columns}


def expected_grants(app) -> set[tuple]:
    with app.app_context():
        sequences = db.session.scalars(text(
            "SELECT relname FROM pg_class WHERE relkind = 'S' "
            "AND relnamespace = current_schema()::regnamespace")).all()
    rights = {name: NARROW.get(name, ORDINARY) for name in db.metadata.tables}
    return ({(table, p) for table, r in rights.items() for p in r.privileges}
            | {(table, c, "UPDATE") for table, r in rights.items() for c in r.update_columns}
            | {(s, p) for s in sequences for p in ("USAGE", "SELECT")})


@on_postgresql
def test_the_app_role_gets_exactly_the_rights_of_the_map_however_often_it_runs(app, roles):
    role = roles.make()
    with app.app_context():  # rights from an earlier, careless grant
        db.session.execute(text(f'GRANT ALL ON ALL TABLES IN SCHEMA public TO "{role}"'))
        db.session.execute(text(f'GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO "{role}"'))
        db.session.execute(text(f'GRANT UPDATE (outcome) ON evidence_check TO "{role}"'))
        db.session.commit()

    first = grant(app, role)
    assert granted(app, role) == expected_grants(app)
    assert grant(app, role) == first
    assert granted(app, role) == expected_grants(app)

    assert "audit_event (SELECT, INSERT)" in first and "nothing else" in first
    assert "evidence_check (SELECT, INSERT, UPDATE (facts))" in first
    held = granted(app, role)
    assert {row[-1] for row in held} == {"SELECT", "INSERT", "UPDATE", "DELETE", "USAGE"}
    assert not {row for row in held if row[0] == "alembic_version"}  # the owner's only


@on_postgresql
def test_a_right_reaching_the_role_another_way_stops_the_grant(app, roles):
    role = roles.make()
    with app.app_context():
        db.session.execute(text("GRANT TRUNCATE ON audit_event TO PUBLIC"))
        db.session.commit()

    result = app.test_cli_runner().invoke(args=["db", "grant-app", "--role", role])

    assert result.exit_code == 1 and "TRUNCATE on audit_event: held" in result.output
    assert granted(app, role) == set()  # nothing changed


@on_postgresql
@pytest.mark.parametrize(("attributes", "message"), [
    (None, "does not exist"),
    ("LOGIN SUPERUSER", "is a superuser or may create roles"),
    ("LOGIN CREATEROLE", "is a superuser or may create roles"),
    ("LOGIN IN ROLE {owner}", "which owns the tables: it could drop their triggers"),
])
def test_a_role_that_is_or_could_become_the_owner_is_refused(app, roles, attributes, message):
    with app.app_context():
        owner = db.session.scalar(text("SELECT pg_get_userbyid(relowner) FROM pg_class "
                                       "WHERE relname = 'audit_event'"))
    role = roles.make(attributes.format(owner=owner)) if attributes else "p25_nobody"

    result = app.test_cli_runner().invoke(args=["db", "grant-app", "--role", role])

    assert result.exit_code == 1 and message in result.output
    if attributes:
        assert granted(app, role) == set()


@pytest.fixture
def app_role(app, roles):
    """The app's database after the grant, and an app logged in as the app role."""
    role = roles.make()
    grant(app, role)
    make_case(app, make_user(app))  # events to protect
    return roles.app_as(app, role)


@on_postgresql
@pytest.mark.parametrize("statement", [
    "UPDATE audit_event SET seq = seq",
    "DELETE FROM audit_event",
    "TRUNCATE audit_event",
    "DROP TRIGGER audit_event_no_change ON audit_event",
    "ALTER TABLE audit_event DISABLE TRIGGER audit_event_no_change",
    "ALTER TABLE audit_event DISABLE TRIGGER ALL",
    "CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS "
    "$$ BEGIN RETURN NEW; END $$ LANGUAGE plpgsql",
    "DROP TABLE audit_event",
    "UPDATE audit_checkpoint SET seq = seq",
    "DELETE FROM audit_checkpoint",
    "UPDATE record SET id = id",
    "DELETE FROM record",
    "UPDATE record_file SET record_id = record_id",
    "INSERT INTO audit_head (id, seq, hash) VALUES (2, 0, '')",
    "DELETE FROM audit_head",
    "ALTER TABLE evidence_check DISABLE TRIGGER evidence_check_no_change",
    "DELETE FROM evidence_check",
    "TRUNCATE \"case\"",
    "CREATE TRIGGER sneaky BEFORE INSERT ON \"case\" "
    "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()",
])
def test_as_the_app_role_the_trail_and_its_triggers_cannot_be_touched(app_role, statement):
    refused(app_role, statement)


@on_postgresql
@pytest.mark.parametrize("column", [c.name for c in EvidenceCheck.__table__.columns
                                    if c.name != "facts"])
def test_as_the_app_role_an_evidence_check_changes_only_in_its_facts(app_role, column):
    refused(app_role, f"UPDATE evidence_check SET {column} = {column}")
    with app_role.app_context():  # the right the erasure uses (the trigger still rules)
        db.session.execute(text("UPDATE evidence_check SET facts = facts WHERE false"))
        db.session.rollback()


def refused(app, statement: str) -> None:
    """``statement`` fails for want of a privilege (not a trigger), and the chain holds."""
    with app.app_context(), pytest.raises(DBAPIError) as error:
        db.session.execute(text(statement))
    assert error.value.orig.sqlstate == INSUFFICIENT_PRIVILEGE, error.value
    assert "audit chain intact" in app.test_cli_runner().invoke(args=["audit", "verify"]).output


# The whole flow as the app role -------------------------------------------------------

@pytest.fixture
def world_as_app_role(app_factory, roles):
    """The erasure tests' world (DNS, webhook receiver, SMTP on loopback), where web and
    worker log in as the app role; the owner only migrated and granted."""
    def as_app_role(settings):
        settings.update(AUDIT_SIGNING_KEY=KEY, AUDIT_CHECKPOINT_INTERVAL_SECONDS=0)
        owner = app_factory(**settings)
        role = roles.make()
        grant(owner, role)
        return roles.app_as(owner, role, **settings)

    with real_services(as_app_role) as world:
        yield world


@on_postgresql
def test_as_the_app_role_the_whole_flow_works(world_as_app_role):
    """Submit, check, approve, deliver, e-mail, revoke, issue records, sign checkpoints,
    verify, then anonymise and erase — all logged in as the app role."""
    world = world_as_app_role
    app, cast = world.app, people(world)
    protocol = lived(world, cast)  # asserts the deliveries and e-mails on the way
    assert protocol in signed_in(app, cast["operator"]).text(case_url(protocol))  # the web
    age_account(app, cast["customer"].id, 7)
    runner = app.test_cli_runner()

    retention = runner.invoke(args=["retention", "run"])
    worker = runner.invoke(args=["worker", "--once"])
    verify = runner.invoke(args=["audit", "verify"])

    assert "anonymised 1 case(s)" in retention.output, retention.output
    assert worker.exit_code == 0, worker.output
    assert verify.exit_code == 0 and "checkpoints intact" in verify.output, verify.output
    with app.app_context():
        case_id = db.session.scalars(select(Case.id).where(Case.protocol == protocol)).one()
        facts = db.session.scalars(select(EvidenceCheck.facts)
                                   .where(EvidenceCheck.case_id == case_id)).all()
        current = db.session.scalar(text("SELECT current_user"))
    assert facts == ["{}"] * 4 and current.startswith("p25_app_")
