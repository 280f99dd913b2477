"""call-back requests; crisis services (seeded, to be checked) and daily urgent-help counts

Revision ID: 0012_callbacks
Revises: 0011_i18n
Create Date: 2026-12-01 13:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012_callbacks'
down_revision = '0011_i18n'
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


    services = op.create_table('crisis_service',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('spoken', sa.String(length=40), nullable=False),
    sa.Column('dial', sa.String(length=20), nullable=True),
    sa.Column('checked', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crisis_service')),
    sa.UniqueConstraint('country', name=op.f('uq_crisis_service_country'))
    )
    op.create_table('urgent_help_day',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('uses', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_urgent_help_day'))
    )
    # Well-known national services, each to be checked by an admin before going live: the
    # numbers to dial from the line's own number especially (short codes are not E.164).
    op.bulk_insert(services, [
        {'country': 'GB', 'name': 'Samaritans', 'spoken': '116 123', 'dial': None, 'checked': False},
        {'country': 'DE', 'name': 'TelefonSeelsorge', 'spoken': '0800 111 0 111', 'dial': '+498001110111', 'checked': False},
        {'country': 'US', 'name': 'the 988 Suicide and Crisis Lifeline', 'spoken': '988', 'dial': '+18002738255', 'checked': False},
    ])


def downgrade():
    op.drop_table('urgent_help_day')
    op.drop_table('crisis_service')
    op.drop_table('callback_request')
