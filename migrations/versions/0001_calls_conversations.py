"""calls, conversations and their events

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 03:47:29.136808

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('call',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sid', sa.String(length=64), nullable=False),
    sa.Column('identity', sa.String(length=64), nullable=False),
    sa.Column('withheld', sa.Boolean(), nullable=False),
    sa.Column('masked_number', sa.String(length=32), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('outcome', sa.String(length=24), nullable=True),
    sa.Column('menu_choice', sa.String(length=8), nullable=True),
    sa.Column('arrived_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('wait_started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('wait_token', sa.String(length=32), nullable=True),
    sa.Column('room', sa.String(length=64), nullable=True),
    sa.Column('matched_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('duration_seconds', sa.Integer(), nullable=True),
    sa.Column('status_sequence', sa.Integer(), nullable=False),
    sa.Column('masked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('purged_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_call')),
    sa.UniqueConstraint('sid', name=op.f('uq_call_sid'))
    )
    with op.batch_alter_table('call', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_call_arrived_at'), ['arrived_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_call_identity'), ['identity'], unique=False)
        batch_op.create_index(batch_op.f('ix_call_outcome'), ['outcome'], unique=False)
        batch_op.create_index(batch_op.f('ix_call_room'), ['room'], unique=False)
        batch_op.create_index(batch_op.f('ix_call_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_call_wait_token'), ['wait_token'], unique=False)

    op.create_table('conversation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('room', sa.String(length=64), nullable=False),
    sa.Column('conference_sid', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('max_participants', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conversation')),
    sa.UniqueConstraint('room', name=op.f('uq_conversation_room'))
    )
    with op.batch_alter_table('conversation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conversation_conference_sid'), ['conference_sid'], unique=False)

    op.create_table('call_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('detail', sa.String(length=120), nullable=True),
    sa.ForeignKeyConstraint(['call_id'], ['call.id'], name=op.f('fk_call_event_call_id_call'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_call_event'))
    )
    with op.batch_alter_table('call_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_call_event_call_id'), ['call_id'], unique=False)

    op.create_table('conference_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('event', sa.String(length=32), nullable=False),
    sa.Column('call_sid', sa.String(length=64), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversation.id'], name=op.f('fk_conference_event_conversation_id_conversation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conference_event')),
    sa.UniqueConstraint('conversation_id', 'sequence', name=op.f('uq_conference_event_conversation_id'))
    )
    with op.batch_alter_table('conference_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conference_event_conversation_id'), ['conversation_id'], unique=False)

    op.create_table('participant',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('matched_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['call_id'], ['call.id'], name=op.f('fk_participant_call_id_call'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversation.id'], name=op.f('fk_participant_conversation_id_conversation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_participant')),
    sa.UniqueConstraint('conversation_id', 'call_id', name=op.f('uq_participant_conversation_id'))
    )
    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_participant_call_id'), ['call_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_participant_conversation_id'), ['conversation_id'], unique=False)



def downgrade():
    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_participant_conversation_id'))
        batch_op.drop_index(batch_op.f('ix_participant_call_id'))

    op.drop_table('participant')
    with op.batch_alter_table('conference_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conference_event_conversation_id'))

    op.drop_table('conference_event')
    with op.batch_alter_table('call_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_call_event_call_id'))

    op.drop_table('call_event')
    with op.batch_alter_table('conversation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conversation_conference_sid'))

    op.drop_table('conversation')
    with op.batch_alter_table('call', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_call_wait_token'))
        batch_op.drop_index(batch_op.f('ix_call_state'))
        batch_op.drop_index(batch_op.f('ix_call_room'))
        batch_op.drop_index(batch_op.f('ix_call_outcome'))
        batch_op.drop_index(batch_op.f('ix_call_identity'))
        batch_op.drop_index(batch_op.f('ix_call_arrived_at'))

    op.drop_table('call')
