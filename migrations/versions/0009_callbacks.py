"""call-back requests

Revision ID: 0009_callbacks
Revises: 0007_admin_security
Create Date: 2026-12-01 13:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009_callbacks'
down_revision = '0007_admin_security'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('callback_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('identity', sa.String(length=64), nullable=False),
    sa.Column('open_for', sa.String(length=64), nullable=True),
    sa.Column('number_encrypted', sa.LargeBinary(), nullable=True),
    sa.Column('masked_number', sa.String(length=32), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('asked_on_call_id', sa.Integer(), nullable=True),
    sa.Column('waiting_call_id', sa.Integer(), nullable=True),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('call_sid', sa.String(length=64), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('drop_reason', sa.String(length=16), nullable=True),
    sa.ForeignKeyConstraint(['asked_on_call_id'], ['call.id'], name=op.f('fk_callback_request_asked_on_call_id_call'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['waiting_call_id'], ['call.id'], name=op.f('fk_callback_request_waiting_call_id_call'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_callback_request')),
    sa.UniqueConstraint('open_for', name=op.f('uq_callback_request_open_for'))
    )
    with op.batch_alter_table('callback_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_callback_request_identity'), ['identity'], unique=False)
        batch_op.create_index(batch_op.f('ix_callback_request_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_callback_request_requested_at'), ['requested_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_callback_request_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_callback_request_waiting_call_id'), ['waiting_call_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_callback_request_call_sid'), ['call_sid'], unique=False)


def downgrade():
    op.drop_table('callback_request')
