"""volunteer listeners: the roster, and the calls offering them a waiting caller

Revision ID: 0014_listeners
Revises: 0013_callback_language
Create Date: 2026-12-01 14:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014_listeners'
down_revision = '0013_callback_language'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('listener',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('alias', sa.String(length=60), nullable=False),
    sa.Column('identity', sa.String(length=64), nullable=False),
    sa.Column('number_encrypted', sa.LargeBinary(), nullable=False),
    sa.Column('masked_number', sa.String(length=32), nullable=False),
    sa.Column('languages', sa.String(length=64), nullable=False),
    sa.Column('time_zone', sa.String(length=64), nullable=False),
    sa.Column('hours', sa.Text(), nullable=False),
    sa.Column('paused', sa.Boolean(), nullable=False),
    sa.Column('last_called_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_listener')),
    sa.UniqueConstraint('identity', name=op.f('uq_listener_identity'))
    )
    op.create_table('listener_offer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('listener_id', sa.Integer(), nullable=False),
    sa.Column('waiting_call_id', sa.Integer(), nullable=True),
    sa.Column('wait_token', sa.String(length=32), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('call_sid', sa.String(length=64), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['listener_id'], ['listener.id'], name=op.f('fk_listener_offer_listener_id_listener'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['waiting_call_id'], ['call.id'], name=op.f('fk_listener_offer_waiting_call_id_call'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_listener_offer'))
    )
    with op.batch_alter_table('listener_offer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_listener_offer_waiting_call_id'), ['waiting_call_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_listener_offer_wait_token'), ['wait_token'], unique=False)
        batch_op.create_index(batch_op.f('ix_listener_offer_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_listener_offer_call_sid'), ['call_sid'], unique=False)


def downgrade():
    op.drop_table('listener_offer')
    op.drop_table('listener')
