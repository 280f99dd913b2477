"""a call-back claimed for a free listener rather than for a caller waiting

Revision ID: 0015_callback_for_listener
Revises: 0014_listeners
"""

import sqlalchemy as sa
from alembic import op

revision = '0015_callback_for_listener'
down_revision = '0014_listeners'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('callback_request', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('for_listener', sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade():
    with op.batch_alter_table('callback_request', schema=None) as batch_op:
        batch_op.drop_column('for_listener')
