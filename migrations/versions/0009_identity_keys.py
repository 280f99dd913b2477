"""Re-keys applied to the caller identities (mindfuse rekey).

Revision ID: 0009_identity_keys
Revises: 0007_admin_security
"""

import sqlalchemy as sa
from alembic import op

revision = '0009_identity_keys'
down_revision = '0007_admin_security'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'identity_key',
        sa.Column('generation', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('fingerprint', sa.String(length=16), nullable=False),
        sa.Column('applied_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('generation', name=op.f('pk_identity_key')),
    )


def downgrade():
    op.drop_table('identity_key')
