"""languages: each call's, each caller's choice, each subscriber's and each admin's

Revision ID: 0011_i18n
Revises: 0010_adminfacts
Create Date: 2026-12-01 13:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011_i18n'
down_revision = '0010_adminfacts'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('call', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=8), server_default='en', nullable=False))
        batch_op.create_index(batch_op.f('ix_call_language'), ['language'], unique=False)
    op.create_table('caller_language',
    sa.Column('identity', sa.String(length=64), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('chosen_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('identity', name=op.f('pk_caller_language'))
    )
    with op.batch_alter_table('subscriber', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=8), nullable=True))
    with op.batch_alter_table('admin_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=8), nullable=True))


def downgrade():
    with op.batch_alter_table('admin_user', schema=None) as batch_op:
        batch_op.drop_column('language')
    with op.batch_alter_table('subscriber', schema=None) as batch_op:
        batch_op.drop_column('language')
    op.drop_table('caller_language')
    with op.batch_alter_table('call', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_call_language'))
        batch_op.drop_column('language')
