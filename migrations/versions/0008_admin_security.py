"""admin sessions that can be revoked, TOTP second factor, recovery codes

Revision ID: 0007_admin_security
Revises: 0007_purges
Create Date: 2026-12-01 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007_admin_security'
down_revision = '0007_purges'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('admin_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_generation', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('totp_secret', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('totp_last_step', sa.Integer(), nullable=True))
    op.create_table('admin_recovery_code',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('admin_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['admin_id'], ['admin_user.id'], name=op.f('fk_admin_recovery_code_admin_id_admin_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_admin_recovery_code'))
    )
    with op.batch_alter_table('admin_recovery_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_admin_recovery_code_admin_id'), ['admin_id'], unique=False)


def downgrade():
    with op.batch_alter_table('admin_recovery_code', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_admin_recovery_code_admin_id'))

    op.drop_table('admin_recovery_code')
    with op.batch_alter_table('admin_user', schema=None) as batch_op:
        batch_op.drop_column('totp_last_step')
        batch_op.drop_column('totp_secret')
        batch_op.drop_column('session_generation')
