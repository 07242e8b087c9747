"""The `GameStore` contract for rejoin's own stores, run through the entry point a third party
uses (`rejoin_server.testing.store_contract`): the memory double, then the SQL store on SQLite and
on PostgreSQL (`sql_store` takes each database in turn)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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


THIRD_PARTY = """
import pytest_asyncio

from rejoin_server.store.memory import MemoryGameStore
from rejoin_server.testing.store_contract import StoreContract


class TestTheirStore(StoreContract):
    @pytest_asyncio.fixture
    async def store(self):
        store = MemoryGameStore(keep_snapshots=3)
        await store.open()
        yield store
        await store.close()
"""


def test_a_third_party_runs_the_contract_as_documented(tmp_path: Path) -> None:
    """The docstring's example, in a project of its own: none of this repository's pytest
    settings (pytest-asyncio in its default strict mode), every contract test collected and
    passed."""
    (tmp_path / "test_their_store.py").write_text(THIRD_PARTY)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    contract = [name for name in dir(StoreContract) if name.startswith("test_")]
    assert f"{len(contract)} passed" in done.stdout
