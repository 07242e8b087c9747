"""Seat claims (which session tokens of a seat still work), each game's history epochs, and the
retirement time of a generated signing key.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "seat_claims",
        sa.Column("game_id", sa.String(length=64), nullable=False),
        sa.Column("player_id", sa.String(length=64), nullable=False),
        sa.Column("claim", sa.String(length=32), nullable=False),
        sa.Column("claimed_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("game_id", "player_id"),
    )
    # Nullable, no default: adding them rewrites no rows on either database.
    op.add_column("games", sa.Column("history", sa.Text(), nullable=True))
    op.add_column("signing_keys", sa.Column("retired_at", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    # SQLite cannot always drop a column in place; batch mode copies the table when it must.
    with op.batch_alter_table("signing_keys") as batch:
        batch.drop_column("retired_at")
    with op.batch_alter_table("games") as batch:
        batch.drop_column("history")
    op.drop_table("seat_claims")
