"""alerts.fingerprint: BIGINT on SQLite too, so that the key is an index beside the rowid.

As INTEGER it was the rowid itself, and fingerprints (hashes) made every insert and update
write a random page of the table; as BIGINT rows stay in arrival order and only the small
index is random: about 4x the upserts per second. PostgreSQL already had BIGINT: no change.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0003'
down_revision: Union[str, Sequence[str], None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table('alerts', recreate='always') as batch_op:
        batch_op.alter_column('fingerprint', existing_type=sa.Integer(), type_=sa.BigInteger(),
                              existing_nullable=False, autoincrement=False)


def downgrade() -> None:
    """Downgrade schema."""
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table('alerts', recreate='always') as batch_op:
        batch_op.alter_column('fingerprint', existing_type=sa.BigInteger(), type_=sa.Integer(),
                              existing_nullable=False, autoincrement=False)
