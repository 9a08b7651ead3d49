"""`flask db grant-app --role NAME`: the PostgreSQL rights of the role the app logs in as.

The tables belong to the role that runs the migrations; web and worker log in as
another role that holds exactly the rights below and owns nothing, so it cannot
change, delete or truncate the trail, nor drop or disable the triggers guarding it
(DESIGN §12). The owner runs this after every `flask db upgrade`; it is idempotent:
each table's rights are revoked and granted again in one transaction, then read
back and compared, so nothing is left over from an earlier grant.
"""

from __future__ import annotations

from dataclasses import dataclass

import click
from flask.cli import with_appcontext
from sqlalchemy import text

from models import db


@dataclass(frozen=True)
class Rights:
    """What the app role may do to one table: table-wide privileges, and UPDATE of
    some columns only."""

    privileges: tuple[str, ...]
    update_columns: tuple[str, ...] = ()

    def sql(self, quote) -> str:
        columns = ", ".join(quote(c) for c in self.update_columns)
        return ", ".join(self.privileges + ((f"UPDATE ({columns})",) if columns else ()))

    def column_allows(self, privilege: str, column: str) -> bool:
        return privilege in self.privileges or (privilege == "UPDATE"
                                                 and column in self.update_columns)


# Every table of the models gets these; the others (alembic_version: the owner's) none.
ORDINARY = Rights(("SELECT", "INSERT", "UPDATE", "DELETE"))

# The tables the app must never rewrite, and the only rights it has on them. A table
# whose migration adds insert-only triggers must be named here (tests/test_db_grants.py
# fails otherwise): a new table gets ORDINARY.
NARROW = {
    "audit_event": Rights(("SELECT", "INSERT")),       # the chain: appended, never changed
    "audit_checkpoint": Rights(("SELECT", "INSERT")),  # signed heads: appended only
    "record": Rights(("SELECT", "INSERT")),            # an issued record never changes
    # Its bytes are never changed, but retention deletes a person's documents.
    "record_file": Rights(("SELECT", "INSERT", "DELETE")),
    # Retention erases the facts of an anonymised case's checks (the trigger allows only
    # that update); every other column stays as the operator saw it.
    "evidence_check": Rights(("SELECT", "INSERT"), update_columns=("facts",)),
    # The one head row: locked (SELECT … FOR UPDATE) and moved by every append; the
    # migration made it, nothing adds or removes one.
    "audit_head": Rights(("SELECT", "UPDATE")),
}

TABLE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
COLUMN_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "REFERENCES")
SEQUENCE_RIGHTS = ("USAGE", "SELECT")  # nextval for the inserts; never setval (UPDATE)
NONE = Rights(())

IN_SCHEMA = "c.relnamespace = current_schema()::regnamespace"
TABLE, SEQUENCE = "c.relkind IN ('r', 'p')", "c.relkind = 'S'"


def rights_of(table: str) -> Rights:
    """The app role's rights on ``table``, from the models and NARROW."""
    if table in NARROW:
        return NARROW[table]
    return ORDINARY if table in db.metadata.tables else NONE


@click.command("grant-app")
@click.option("--role", required=True, help="The role web and worker processes log in as.")
@with_appcontext
def grant_app(role: str) -> None:
    """Grant the app's login role exactly what it needs; run as the tables' owner
    after `flask db upgrade` (PostgreSQL only)."""
    if db.engine.dialect.name != "postgresql":
        raise click.ClickException(
            "grant-app applies to PostgreSQL only: SQLite has no roles; the database "
            "file's permissions are the equivalent (README, Operations)")
    try:
        tables, sequences = _check(role)
        _grant(role, tables, sequences)
        wrong = _differences(role)
        if wrong:
            raise click.ClickException(
                f"role {role} would hold other rights than granted (from a membership, "
                f"PUBLIC or another grantor); nothing changed: {'; '.join(wrong)}")
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    narrow = ", ".join(f"{t} ({NARROW[t].sql(str)})" for t in sorted(NARROW))
    click.echo(f"role {role}: SELECT, INSERT, UPDATE, DELETE on "
               f"{sum(rights_of(t) == ORDINARY for t in tables)} tables; only {narrow}; "
               f"USAGE, SELECT on {len(sequences)} sequences; nothing else")


def _check(role: str) -> tuple[list[str], list[str]]:
    """The schema's tables and sequences; refuse a role that is, or could become, an owner."""
    found = db.session.execute(text("SELECT rolsuper, rolcreaterole FROM pg_roles "
                                    "WHERE rolname = :role"), {"role": role}).first()
    if found is None:
        raise click.ClickException(f"role {role} does not exist: the database administrator "
                                   f"creates it (CREATE ROLE {role} LOGIN PASSWORD '…')")
    if found.rolsuper or found.rolcreaterole:
        raise click.ClickException(f"role {role} is a superuser or may create roles: the app "
                                   "must log in as a role that cannot become the tables' owner")
    owners = db.session.scalars(text(f"""
        SELECT DISTINCT pg_get_userbyid(c.relowner) FROM pg_class c
        WHERE {IN_SCHEMA} AND ({TABLE} OR {SEQUENCE})
          AND pg_has_role(CAST(:role AS name), c.relowner, 'MEMBER')"""), {"role": role}).all()
    if owners:
        raise click.ClickException(f"role {role} is, or is a member of, {', '.join(owners)}, "
                                   "which owns the tables: it could drop their triggers")
    tables, sequences = (db.session.scalars(text(
        f"SELECT c.relname FROM pg_class c WHERE {IN_SCHEMA} AND {kind} ORDER BY 1")).all()
        for kind in (TABLE, SEQUENCE))
    missing = sorted(set(db.metadata.tables) - set(tables))
    if missing:
        raise click.ClickException(f"tables missing: {', '.join(missing)}; run `flask db "
                                   "upgrade` first")
    return tables, sequences


def _grant(role: str, tables: list[str], sequences: list[str]) -> None:
    """Revoke everything from ``role``, then grant each table's rights and the sequences'."""
    quote = db.engine.dialect.identifier_preparer.quote_identifier
    grantee = quote(role)
    statements = [f"GRANT USAGE ON SCHEMA {quote(_schema())} TO {grantee}",
                  f"REVOKE CREATE ON SCHEMA {quote(_schema())} FROM {grantee}"]
    for table in tables:
        # Revoking a table's privileges revokes its column privileges too.
        statements.append(f"REVOKE ALL ON TABLE {quote(table)} FROM {grantee}")
        if rights_of(table).privileges:
            statements.append(f"GRANT {rights_of(table).sql(quote)} ON TABLE {quote(table)} "
                              f"TO {grantee}")
    for sequence in sequences:
        statements += [f"REVOKE ALL ON SEQUENCE {quote(sequence)} FROM {grantee}",
                       f"GRANT {', '.join(SEQUENCE_RIGHTS)} ON SEQUENCE {quote(sequence)} "
                       f"TO {grantee}"]
    for statement in statements:
        db.session.execute(text(statement))


def _schema() -> str:
    return db.session.scalar(text("SELECT current_schema()"))


def _differences(role: str) -> list[str]:
    """Every right ``role`` holds in effect but should not, or lacks but should."""
    wrong = []

    def differ(what: str, held: bool, expected: bool) -> None:
        if held != expected:
            wrong.append(f"{what}: {'held' if held else 'missing'}")

    for table, privilege, held in _effective(
            role, TABLE_PRIVILEGES, "has_table_privilege(CAST(:role AS name), c.oid, p.name)"):
        differ(f"{privilege} on {table}", held, privilege in rights_of(table).privileges)
    for table, privilege, column, held in _effective(
            role, COLUMN_PRIVILEGES,
            "a.attname, has_column_privilege(CAST(:role AS name), c.oid, a.attnum, p.name)",
            join="JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 "
                 "AND NOT a.attisdropped"):
        differ(f"{privilege} ({column}) on {table}", held,
               rights_of(table).column_allows(privilege, column))
    for sequence, privilege, held in _effective(
            role, ("USAGE", "SELECT", "UPDATE"),
            "has_sequence_privilege(CAST(:role AS name), c.oid, p.name)", kind=SEQUENCE):
        differ(f"{privilege} on sequence {sequence}", held, privilege in SEQUENCE_RIGHTS)
    return wrong


def _effective(role: str, privileges, held: str, *, join: str = "", kind: str = TABLE):
    """Rows (relation, privilege, …, ``held``) for every relation of ``kind`` and privilege."""
    return db.session.execute(text(f"""
        SELECT c.relname, p.name, {held} FROM pg_class c {join}
        CROSS JOIN unnest(CAST(:privileges AS text[])) AS p(name)
        WHERE {IN_SCHEMA} AND {kind}"""), {"role": role, "privileges": list(privileges)}).all()
