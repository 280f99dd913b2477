"""records still to delete at Twilio

Revision ID: 0007_purges
Revises: 0006
Create Date: 2026-12-01 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007_purges'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('purge',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sid', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('replies', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_code', sa.Integer(), nullable=True),
    sa.Column('warned_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purge')),
    sa.UniqueConstraint('sid', name=op.f('uq_purge_sid'))
    )
    with op.batch_alter_table('purge', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_purge_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_purge_due_at'), ['due_at'], unique=False)


def downgrade():
    with op.batch_alter_table('purge', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_purge_due_at'))
        batch_op.drop_index(batch_op.f('ix_purge_created_at'))

    op.drop_table('purge')
