"""Each game's durability ("strict" or "relaxed"), chosen when it is created.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable, no default: adding it rewrites no rows on either database, and the games stored
    # before it (NULL) go on following the server's --durability, as they always did.
    op.add_column("games", sa.Column("durability", sa.String(length=8), nullable=True))


def downgrade() -> None:
    # SQLite cannot always drop a column in place; batch mode copies the table when it must.
    with op.batch_alter_table("games") as batch:
        batch.drop_column("durability")
