"""membership and payment events

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 04:30:19.690558

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('membership',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('identity', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=True),
    sa.Column('customer_ref', sa.String(length=64), nullable=True),
    sa.Column('subscription_ref', sa.String(length=64), nullable=True),
    sa.Column('paid_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('free_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_membership')),
    sa.UniqueConstraint('identity', name=op.f('uq_membership_identity'))
    )
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_membership_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_membership_subscription_ref'), ['subscription_ref'], unique=False)

    op.create_table('payment_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_ref', sa.String(length=128), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_event')),
    sa.UniqueConstraint('event_ref', name=op.f('uq_payment_event_event_ref'))
    )


def downgrade():
    op.drop_table('payment_event')
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_membership_subscription_ref'))
        batch_op.drop_index(batch_op.f('ix_membership_status'))

    op.drop_table('membership')
