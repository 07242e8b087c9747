"""Durable storage of games: the `GameStore` base class, its SQLite and PostgreSQL implementation,
an in-memory double for unit tests, the schema (`store.schema`) and its migrations, and restore.
Every store passes the contract suite `rejoin_server.testing.store_contract`.

`SqlGameStore` is imported on first use, not with the package: importing any `store` module (say
`store.migrate`, which the server checks at every start) must not pay for the SQL store's imports.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rejoin_server.store.base import GameStore

if TYPE_CHECKING:
    from rejoin_server.store.sql import SqlGameStore

__all__ = ["GameStore", "SqlGameStore"]


def __getattr__(name: str) -> Any:
    if name == "SqlGameStore":
        from rejoin_server.store.sql import SqlGameStore

        return SqlGameStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
