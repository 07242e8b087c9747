"""Each game's seating (who may still sit down) and since when it is open, for the lobby.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable, no default: adding them rewrites no rows. A game stored before (NULL) is not
    # listed as open until its next append writes its seating.
    op.add_column("games", sa.Column("seating", sa.Text(), nullable=True))
    op.add_column("games", sa.Column("open_at", sa.BigInteger(), nullable=True))
    op.create_index("ix_games_open_at", "games", ["open_at", "game_id"])


def downgrade() -> None:
    op.drop_index("ix_games_open_at", table_name="games")
    # SQLite cannot always drop a column in place; batch mode copies the table when it must.
    with op.batch_alter_table("games") as batch:
        batch.drop_column("open_at")
        batch.drop_column("seating")
