"""The `GameStore` contract as a pytest suite a store of any origin can run, as rejoin's own
memory, SQLite and PostgreSQL stores do (server/tests/store/test_contract.py).

Subclass `StoreContract` in a test module, as a class whose name starts with `Test`, and give it a
`store` fixture that yields an open store on an empty database, keeping 3 snapshots per game::

    import pytest_asyncio
    from rejoin_server.testing.store_contract import StoreContract

    class TestMyStore(StoreContract):
        @pytest_asyncio.fixture
        async def store(self):
            store = MyStore("…", keep_snapshots=3)  # a GameStore subclass
            await store.open()
            yield store
            await store.close()

Every test is a coroutine (run by pytest-asyncio, marked here, so its strict mode runs them too).
Install the `testing` extra for pytest and pytest-asyncio.
"""

from __future__ import annotations

import pytest

from rejoin_server.testing.game_log_contract import GameLogContract
from rejoin_server.testing.ownership_contract import OwnershipContract
from rejoin_server.testing.seating_contract import SeatingContract
from rejoin_server.testing.token_contract import TokenContract

__all__ = ["StoreContract"]


class StoreContract(GameLogContract, OwnershipContract, SeatingContract, TokenContract):
    """Every test a `GameStore` passes; a subclass provides the `store` fixture."""

    pytestmark = pytest.mark.asyncio
