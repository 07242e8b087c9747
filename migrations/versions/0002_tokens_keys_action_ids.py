"""Reconnect-token rows, signing keys, and the client action id on events.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reconnect_tokens",
        sa.Column("jti", sa.String(length=32), nullable=False),
        sa.Column("game_id", sa.String(length=64), nullable=False),
        sa.Column("player_id", sa.String(length=64), nullable=False),
        sa.Column("issued_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("consumed_at", sa.BigInteger(), nullable=True),
        sa.Column("client_id", sa.String(length=128), nullable=True),
        sa.Column("next_jti", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("jti"),
    )
    op.create_index("ix_reconnect_tokens_game_id", "reconnect_tokens", ["game_id"])
    op.create_index("ix_reconnect_tokens_expires_at", "reconnect_tokens", ["expires_at"])
    op.create_table(
        "signing_keys",
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("secret", sa.String(length=256), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("key_id"),
    )
    # Nullable, no default: adding it rewrites no rows on either database.
    op.add_column("events", sa.Column("action_id", sa.String(length=128), nullable=True))


def downgrade() -> None:
    # SQLite cannot always drop a column in place; batch mode copies the table when it must.
    with op.batch_alter_table("events") as batch:
        batch.drop_column("action_id")
    op.drop_table("signing_keys")
    op.drop_index("ix_reconnect_tokens_expires_at", table_name="reconnect_tokens")
    op.drop_index("ix_reconnect_tokens_game_id", table_name="reconnect_tokens")
    op.drop_table("reconnect_tokens")
