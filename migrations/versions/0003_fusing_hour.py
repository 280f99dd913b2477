"""fusing hour: rule, dates, sessions, rounds, rooms, guests

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 04:15:22.230609

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('fusing_date',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('start_time', sa.Time(), nullable=True),
    sa.Column('duration_seconds', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fusing_date'))
    )
    with op.batch_alter_table('fusing_date', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fusing_date_day'), ['day'], unique=False)

    op.create_table('fusing_rule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('start_time', sa.Time(), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('duration_seconds', sa.Integer(), nullable=False),
    sa.Column('round_seconds', sa.Integer(), nullable=False),
    sa.Column('gap_seconds', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fusing_rule'))
    )
    op.create_table('fusing_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('round_seconds', sa.Integer(), nullable=False),
    sa.Column('gap_seconds', sa.Integer(), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fusing_session')),
    sa.UniqueConstraint('starts_at', name=op.f('uq_fusing_session_starts_at'))
    )
    op.create_table('fusing_guest',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('identity', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('room', sa.String(length=64), nullable=True),
    sa.Column('joined_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('left_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['call_id'], ['call.id'], name=op.f('fk_fusing_guest_call_id_call'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['fusing_session.id'], name=op.f('fk_fusing_guest_session_id_fusing_session'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fusing_guest')),
    sa.UniqueConstraint('session_id', 'call_id', name=op.f('uq_fusing_guest_session_id'))
    )
    with op.batch_alter_table('fusing_guest', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fusing_guest_call_id'), ['call_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_fusing_guest_session_id'), ['session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_fusing_guest_state'), ['state'], unique=False)

    op.create_table('fusing_room',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('round_number', sa.Integer(), nullable=True),
    sa.Column('room', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['fusing_session.id'], name=op.f('fk_fusing_room_session_id_fusing_session'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fusing_room')),
    sa.UniqueConstraint('room', name=op.f('uq_fusing_room_room'))
    )
    with op.batch_alter_table('fusing_room', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fusing_room_session_id'), ['session_id'], unique=False)

    op.create_table('fusing_round',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('guests', sa.Integer(), nullable=False),
    sa.Column('rest_calls', sa.Integer(), nullable=False),
    sa.Column('seconds', sa.Double(), nullable=True),
    sa.ForeignKeyConstraint(['session_id'], ['fusing_session.id'], name=op.f('fk_fusing_round_session_id_fusing_session'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fusing_round')),
    sa.UniqueConstraint('session_id', 'number', name=op.f('uq_fusing_round_session_id'))
    )
    op.create_table('fusing_seat',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('room_id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('identity', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['call_id'], ['call.id'], name=op.f('fk_fusing_seat_call_id_call'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['room_id'], ['fusing_room.id'], name=op.f('fk_fusing_seat_room_id_fusing_room'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fusing_seat'))
    )
    with op.batch_alter_table('fusing_seat', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fusing_seat_room_id'), ['room_id'], unique=False)



def downgrade():
    with op.batch_alter_table('fusing_seat', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fusing_seat_room_id'))

    op.drop_table('fusing_seat')
    op.drop_table('fusing_round')
    with op.batch_alter_table('fusing_room', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fusing_room_session_id'))

    op.drop_table('fusing_room')
    with op.batch_alter_table('fusing_guest', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fusing_guest_state'))
        batch_op.drop_index(batch_op.f('ix_fusing_guest_session_id'))
        batch_op.drop_index(batch_op.f('ix_fusing_guest_call_id'))

    op.drop_table('fusing_guest')
    op.drop_table('fusing_session')
    op.drop_table('fusing_rule')
    with op.batch_alter_table('fusing_date', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fusing_date_day'))

    op.drop_table('fusing_date')
