"""oversight: signed audit checkpoints, TOTP and recovery codes, reveals of personal data, business calendar corrections, anonymisation marks

Revision ID: 5c0d4e1b9a77
Revises: e7897112a4ad
Create Date: 2026-11-29 00:20:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '5c0d4e1b9a77'
down_revision = 'e7897112a4ad'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('audit_checkpoint',
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False, comment='the last event the checkpoint covers'),
    sa.Column('hash', sa.LargeBinary(length=32), nullable=False, comment='the chain hash at seq'),
    sa.Column('signed_at', sa.DateTime(), nullable=False),
    sa.Column('key_id', sa.String(length=8), nullable=False, comment='hex, C2SP key ID of the signer'),
    sa.Column('note', sa.Text(), nullable=False, comment='the signed note, verbatim'),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_audit_checkpoint'))
    )
    op.create_table('recovery_code',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_recovery_code_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_code'))
    )
    with op.batch_alter_table('recovery_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recovery_code_user_id'), ['user_id'], unique=False)

    op.create_table('personal_data_reveal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('auditor_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False, comment="e.g. the PROCON's CIP number"),
    sa.Column('granted_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['auditor_id'], ['user_account.id'], name=op.f('fk_personal_data_reveal_auditor_id_user_account')),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_personal_data_reveal_case_id_case')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_personal_data_reveal'))
    )
    with op.batch_alter_table('personal_data_reveal', schema=None) as batch_op:
        batch_op.create_index('ix_reveal_auditor_case', ['auditor_id', 'case_id', 'expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_personal_data_reveal_case_id'), ['case_id'], unique=False)

    op.create_table('calendar_day',
    sa.Column('uf', sa.String(length=2), nullable=False, comment='a state, or BR'),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('business_day', sa.Boolean(), nullable=False, comment='false: closed (a holiday the library lacks); true: worked despite one'),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('uf', 'day', name=op.f('pk_calendar_day'))
    )
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('totp_secret', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('totp_confirmed_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('totp_last_step', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('anonymised_at', sa.DateTime(), nullable=True, comment='personal data erased under the retention rules (LGPD)'))
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('anonymised_at', sa.DateTime(), nullable=True, comment='personal data erased under the retention rules (LGPD)'))
    _protect_checkpoints()


def _protect_checkpoints():
    """A published checkpoint is never changed: the database refuses UPDATE and DELETE."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION audit_checkpoint_insert_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'audit_checkpoint is insert-only (% refused)', TG_OP;
            END $$ LANGUAGE plpgsql""")
        op.execute("""CREATE TRIGGER audit_checkpoint_no_change BEFORE UPDATE OR DELETE
                      ON audit_checkpoint FOR EACH ROW
                      EXECUTE FUNCTION audit_checkpoint_insert_only()""")
        op.execute("""CREATE TRIGGER audit_checkpoint_no_truncate BEFORE TRUNCATE
                      ON audit_checkpoint FOR EACH STATEMENT
                      EXECUTE FUNCTION audit_checkpoint_insert_only()""")
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"""
                CREATE TRIGGER audit_checkpoint_no_{verb.lower()} BEFORE {verb}
                ON audit_checkpoint BEGIN
                SELECT RAISE(ABORT, 'audit_checkpoint is insert-only ({verb} refused)'); END""")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_checkpoint_no_truncate ON audit_checkpoint")
        op.execute("DROP TRIGGER audit_checkpoint_no_change ON audit_checkpoint")
        op.execute("DROP FUNCTION audit_checkpoint_insert_only()")
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.drop_column('anonymised_at')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('anonymised_at')
        batch_op.drop_column('totp_last_step')
        batch_op.drop_column('totp_confirmed_at')
        batch_op.drop_column('totp_secret')
    op.drop_table('calendar_day')
    with op.batch_alter_table('personal_data_reveal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_personal_data_reveal_case_id'))
        batch_op.drop_index('ix_reveal_auditor_case')
    op.drop_table('personal_data_reveal')
    with op.batch_alter_table('recovery_code', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recovery_code_user_id'))
    op.drop_table('recovery_code')
    op.drop_table('audit_checkpoint')
