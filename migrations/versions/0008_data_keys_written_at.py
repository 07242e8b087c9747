"""When a server last said it writes with a data key (`data_keys.written_at`): `rekey` does not
retire a key a running server still seals with.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("data_keys", sa.Column("written_at", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("data_keys") as batch:
        batch.drop_column("written_at")
