"""sms subscribers and texts

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 04:30:03.609531

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('subscriber',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('identity', sa.String(length=64), nullable=False),
    sa.Column('number_encrypted', sa.LargeBinary(), nullable=True),
    sa.Column('masked_number', sa.String(length=32), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('stopped_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subscriber')),
    sa.UniqueConstraint('identity', name=op.f('uq_subscriber_identity'))
    )
    with op.batch_alter_table('subscriber', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subscriber_status'), ['status'], unique=False)

    op.create_table('unknown_text_reply',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('identity', sa.String(length=64), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_unknown_text_reply')),
    sa.UniqueConstraint('identity', 'day', name=op.f('uq_unknown_text_reply_identity'))
    )
    op.create_table('text_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subscriber_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('session_starts_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('offset_minutes', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('sid', sa.String(length=64), nullable=True),
    sa.Column('error_code', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('purged_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['subscriber_id'], ['subscriber.id'], name=op.f('fk_text_message_subscriber_id_subscriber'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_text_message')),
    sa.UniqueConstraint('subscriber_id', 'kind', 'session_starts_at', 'offset_minutes', name=op.f('uq_text_message_subscriber_id'))
    )
    with op.batch_alter_table('text_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_text_message_sid'), ['sid'], unique=False)
        batch_op.create_index(batch_op.f('ix_text_message_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_text_message_subscriber_id'), ['subscriber_id'], unique=False)



def downgrade():
    with op.batch_alter_table('text_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_text_message_subscriber_id'))
        batch_op.drop_index(batch_op.f('ix_text_message_status'))
        batch_op.drop_index(batch_op.f('ix_text_message_sid'))

    op.drop_table('text_message')
    op.drop_table('unknown_text_reply')
    with op.batch_alter_table('subscriber', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subscriber_status'))

    op.drop_table('subscriber')
