"""each of a call's waits counted: when the latest ended, and the sum of the ones before;
when each SMS subscriber last signed up or stopped

Revision ID: 0010_adminfacts
Revises: 0009_identity_keys
Create Date: 2026-12-01 13:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010_adminfacts'
down_revision = '0009_identity_keys'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('call', schema=None) as batch_op:
        batch_op.add_column(sa.Column('wait_ended_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('earlier_wait_seconds', sa.Float(), nullable=True))
    # Calls from before: their latest wait ended at the match, else at the end (a match from
    # before a later wait is no end of it); a call still waiting keeps its wait open.
    call = sa.table(
        'call',
        sa.column('wait_started_at'),
        sa.column('wait_ended_at'),
        sa.column('matched_at'),
        sa.column('ended_at'),
    )
    ended = sa.case(
        (call.c.matched_at >= call.c.wait_started_at, call.c.matched_at), else_=call.c.ended_at
    )
    op.execute(
        call.update()
        .where(call.c.wait_started_at.is_not(None))
        .values(wait_ended_at=ended)
    )

    with op.batch_alter_table('subscriber', schema=None) as batch_op:
        batch_op.add_column(sa.Column('changed_at', sa.DateTime(timezone=True), nullable=True))
    subscriber = sa.table(
        'subscriber', sa.column('changed_at'), sa.column('created_at'), sa.column('stopped_at')
    )
    op.execute(
        subscriber.update().values(
            changed_at=sa.func.coalesce(subscriber.c.stopped_at, subscriber.c.created_at)
        )
    )
    with op.batch_alter_table('subscriber', schema=None) as batch_op:
        batch_op.alter_column('changed_at', existing_type=sa.DateTime(timezone=True), nullable=False)
        batch_op.create_index(batch_op.f('ix_subscriber_changed_at'), ['changed_at'], unique=False)


def downgrade():
    with op.batch_alter_table('subscriber', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subscriber_changed_at'))
        batch_op.drop_column('changed_at')
    with op.batch_alter_table('call', schema=None) as batch_op:
        batch_op.drop_column('earlier_wait_seconds')
        batch_op.drop_column('wait_ended_at')
