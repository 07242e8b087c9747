"""Cluster: each game's owner and ownership epoch, and the nodes of the cluster.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("games", sa.Column("owner", sa.String(length=128), nullable=True))
    # Existing games start at epoch 0 with no owner: the first node to touch one takes it. The
    # default only fills the existing rows; the store always writes the column itself.
    op.add_column(
        "games",
        sa.Column("owner_epoch", sa.BigInteger(), nullable=False, server_default="0"),
    )
    with op.batch_alter_table("games") as batch:
        batch.alter_column("owner_epoch", server_default=None)
    op.create_index("ix_games_owner", "games", ["owner"])
    op.create_index("ix_games_status_updated_at", "games", ["status", "updated_at"])
    op.create_table(
        "cluster_nodes",
        sa.Column("node_id", sa.String(length=128), nullable=False),
        sa.Column("url", sa.String(length=256), nullable=False),
        sa.Column("backend_pid", sa.BigInteger(), nullable=True),
        sa.Column("started_at", sa.BigInteger(), nullable=False),
        sa.Column("heartbeat_at", sa.BigInteger(), nullable=False),
        sa.Column("draining_since", sa.BigInteger(), nullable=True),
        sa.Column("left_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("node_id"),
    )


def downgrade() -> None:
    op.drop_table("cluster_nodes")
    op.drop_index("ix_games_status_updated_at", table_name="games")
    op.drop_index("ix_games_owner", table_name="games")
    with op.batch_alter_table("games") as batch:
        batch.drop_column("owner_epoch")
        batch.drop_column("owner")
