"""retention: an anonymised case's evidence facts may be erased (the one update evidence_check allows); e-mails know their case (notification.case_id)

Revision ID: b7e2d4c91f35
Revises: 5c0d4e1b9a77
Create Date: 2026-11-29 12:00:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'b7e2d4c91f35'
down_revision = '5c0d4e1b9a77'
branch_labels = None
depends_on = None

# The erased marker of evidence_check.facts (models.evidence.ERASED_FACTS).
ERASED = "'{}'"
REFUSED = ("evidence_check is insert-only (UPDATE refused: only the erasure of an "
           "anonymised case''s facts is allowed)")  # the quote doubled: an SQL literal
ANONYMISED = """EXISTS (SELECT 1 FROM "case" WHERE "case".id = OLD.case_id
                        AND "case".anonymised_at IS NOT NULL)"""


def upgrade():
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.add_column(sa.Column('case_id', sa.Integer(), nullable=True, comment='the case it is about (retention erases it with the case); NULL: none'))
        batch_op.create_index(batch_op.f('ix_notification_case_id'), ['case_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_notification_case_id_case'), 'case', ['case_id'], ['id'])
    _allow_erasure()


def _allow_erasure():
    """A check stays what the operator saw, except that LGPD retention may erase its facts
    (DNS names, the mail host's domain, SPF text) once its case is anonymised: the only
    UPDATE allowed sets facts to the erased marker and changes no other column. DELETE
    and TRUNCATE stay refused."""
    if op.get_bind().dialect.name == "postgresql":
        # to_jsonb(row) - 'facts' compares every other column, also columns added later.
        op.execute(f"""
            CREATE OR REPLACE FUNCTION evidence_check_insert_only() RETURNS trigger AS $$
            BEGIN
                IF TG_OP = 'UPDATE' THEN
                    IF NEW.facts = {ERASED}
                       AND to_jsonb(NEW) - 'facts' = to_jsonb(OLD) - 'facts'
                       AND {ANONYMISED} THEN
                        RETURN NEW;
                    END IF;
                    RAISE EXCEPTION '{REFUSED}';
                END IF;
                RAISE EXCEPTION 'evidence_check is insert-only (% refused)', TG_OP;
            END $$ LANGUAGE plpgsql""")
    else:
        # SQLite has no row-as-a-value: every other column is named (a new column of
        # evidence_check must be added here in its migration).
        same = " AND ".join(f"NEW.{column} IS OLD.{column}" for column in (
            "id", "run_id", "case_id", "kind", "outcome", "detail", "checked_at"))
        op.execute("DROP TRIGGER evidence_check_no_update")
        op.execute(f"""
            CREATE TRIGGER evidence_check_no_update BEFORE UPDATE ON evidence_check
            WHEN NOT (NEW.facts = {ERASED} AND {same} AND {ANONYMISED})
            BEGIN SELECT RAISE(ABORT, '{REFUSED}'); END""")


def _refuse_every_update():
    """The triggers of e7897112a4ad: UPDATE, DELETE and TRUNCATE all refused."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE OR REPLACE FUNCTION evidence_check_insert_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'evidence_check is insert-only (% refused)', TG_OP;
            END $$ LANGUAGE plpgsql""")
    else:
        op.execute("DROP TRIGGER evidence_check_no_update")
        op.execute("""
            CREATE TRIGGER evidence_check_no_update BEFORE UPDATE ON evidence_check
            BEGIN SELECT RAISE(ABORT, 'evidence_check is insert-only (UPDATE refused)'); END""")


def downgrade():
    _refuse_every_update()
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_notification_case_id_case'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_notification_case_id'))
        batch_op.drop_column('case_id')
