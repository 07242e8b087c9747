"""Durable storage of games: the `GameStore` interface, its SQLite and PostgreSQL implementations,
an in-memory double for unit tests, migrations and restore."""

from rejoin_server.store.base import GameStore
from rejoin_server.store.sql import SqlGameStore

__all__ = ["GameStore", "SqlGameStore"]
