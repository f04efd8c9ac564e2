"""kv (integration and chatops state beside Alertmanager's) and audit (append-only actions).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0002'
down_revision: Union[str, Sequence[str], None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('audit',
    sa.Column('at_ns', sa.BigInteger(), nullable=False),
    sa.Column('actor', sa.Text(), nullable=False),
    sa.Column('action', sa.Text(), nullable=False),
    sa.Column('group_id', sa.Text(), nullable=False),
    sa.Column('details', sa.Text(), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit'))
    )
    op.create_index(op.f('ix_audit_group_id_id'), 'audit', ['group_id', 'id'], unique=False)
    op.create_table('kv',
    sa.Column('namespace', sa.Text(), nullable=False),
    sa.Column('key', sa.Text(), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('updated_at_ns', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('namespace', 'key', name=op.f('pk_kv'))
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('kv')
    op.drop_index(op.f('ix_audit_group_id_id'), table_name='audit')
    op.drop_table('audit')
