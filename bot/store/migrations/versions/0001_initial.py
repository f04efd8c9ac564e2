"""Initial schema: alerts, aggregation groups, notification log, silences, outbox.

Fingerprint and outbox ids are INTEGER on SQLite so that the primary key is the rowid itself.

Revision ID: 0001
Revises: 
Create Date: 2026-11-26

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0001'
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('alert_groups',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('group_key', sa.Text(), nullable=False),
    sa.Column('route_id', sa.Text(), nullable=False),
    sa.Column('receiver', sa.Text(), nullable=False),
    sa.Column('labels', sa.Text(), nullable=False),
    sa.Column('created_at_ns', sa.BigInteger(), nullable=False),
    sa.Column('next_flush_ns', sa.BigInteger(), nullable=False),
    sa.Column('has_flushed', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_groups'))
    )
    op.create_index(op.f('ix_alert_groups_next_flush_ns'), 'alert_groups', ['next_flush_ns'], unique=False)

    op.create_table('alerts',
    sa.Column('fingerprint', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('labels', sa.Text(), nullable=False),
    sa.Column('annotations', sa.Text(), nullable=False),
    sa.Column('starts_at_ns', sa.BigInteger(), nullable=False),
    sa.Column('starts_at_offset', sa.Integer(), nullable=False),
    sa.Column('ends_at_ns', sa.BigInteger(), nullable=False),
    sa.Column('ends_at_offset', sa.Integer(), nullable=False),
    sa.Column('generator_url', sa.Text(), nullable=False),
    sa.Column('updated_at_ns', sa.BigInteger(), nullable=False),
    sa.Column('timeout', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('fingerprint', name=op.f('pk_alerts'))
    )
    op.create_table('nflog',
    sa.Column('key', sa.Text(), nullable=False),
    sa.Column('firing', sa.Text(), nullable=False),
    sa.Column('resolved', sa.Text(), nullable=False),
    sa.Column('timestamp_ns', sa.BigInteger(), nullable=False),
    sa.Column('expires_at_ns', sa.BigInteger(), nullable=False),
    sa.Column('state', sa.Text(), server_default=sa.text("'{}'"), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_nflog'))
    )
    op.create_table('outbox',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('group_id', sa.Text(), nullable=False),
    sa.Column('flush_id', sa.BigInteger(), nullable=False),
    sa.Column('receiver', sa.Text(), nullable=False),
    sa.Column('integration', sa.Text(), nullable=False),
    sa.Column('integration_index', sa.Integer(), nullable=False),
    sa.Column('nflog_key', sa.Text(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('nflog_firing', sa.Text(), nullable=False),
    sa.Column('nflog_resolved', sa.Text(), nullable=False),
    sa.Column('nflog_expires_ns', sa.BigInteger(), nullable=False),
    sa.Column('created_at_ns', sa.BigInteger(), nullable=False),
    sa.Column('not_before_ns', sa.BigInteger(), nullable=False),
    sa.Column('deadline_ns', sa.BigInteger(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('ordering_key', sa.Text(), nullable=False),
    sa.CheckConstraint("status IN ('pending', 'delivered', 'failed', 'abandoned')", name=op.f('ck_outbox_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox'))
    )
    op.create_index(op.f('ix_outbox_status_not_before_ns'), 'outbox', ['status', 'not_before_ns'], unique=False)

    op.create_table('silences',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('matchers', sa.Text(), nullable=False),
    sa.Column('starts_at_ns', sa.BigInteger(), nullable=False),
    sa.Column('ends_at_ns', sa.BigInteger(), nullable=False),
    sa.Column('updated_at_ns', sa.BigInteger(), nullable=False),
    sa.Column('created_by', sa.Text(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_silences'))
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('silences')
    op.drop_index(op.f('ix_outbox_status_not_before_ns'), table_name='outbox')
    op.drop_table('outbox')
    op.drop_table('nflog')
    op.drop_table('alerts')
    op.drop_index(op.f('ix_alert_groups_next_flush_ns'), table_name='alert_groups')
    op.drop_table('alert_groups')
