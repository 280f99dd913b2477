"""the language a call-back was asked in: only a caller of that language is rung for

Revision ID: 0013_callback_language
Revises: 0012_callbacks
"""

import sqlalchemy as sa
from alembic import op

revision = '0013_callback_language'
down_revision = '0012_callbacks'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('callback_request', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('language', sa.String(length=8), server_default='en', nullable=False)
        )


def downgrade():
    with op.batch_alter_table('callback_request', schema=None) as batch_op:
        batch_op.drop_column('language')
