"""The `GameStore` contract for rejoin's own stores, run through the entry point a third party
uses (`rejoin_server.testing.store_contract`): the memory double, then the SQL store on SQLite and
on PostgreSQL (`sql_store` takes each database in turn)."""

from __future__ import annotations

import pytest

from rejoin_server.store.base import GameStore
from rejoin_server.store.memory import MemoryGameStore
from rejoin_server.store.sql import SqlGameStore
from rejoin_server.testing.store_contract import StoreContract


class TestMemoryStore(StoreContract):
    @pytest.fixture
    def store(self) -> GameStore:
        return MemoryGameStore(keep_snapshots=3)


class TestSqlStore(StoreContract):
    @pytest.fixture
    def store(self, sql_store: SqlGameStore) -> GameStore:
        return sql_store
