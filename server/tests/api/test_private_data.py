"""Private data at rest as the app sees it: `/healthz` says whether hole cards are encrypted, the
newest data key is registered at start, and a store holding a key the app was not given stops
the lifespan (the CLI refuses with one line before that: e2e/server/test_private_data_at_rest)."""

from __future__ import annotations

import secrets

import pytest

from rejoin_server.privatedata import DataKeyMissing
from rejoin_server.store.datakeys import decode_key, key_id
from rejoin_server.store.memory import MemoryGameStore

from .support import answer, running

KEY, OTHER = secrets.token_urlsafe(32), secrets.token_urlsafe(32)


def test_healthz_says_private_data_is_in_the_clear_without_keys() -> None:
    with running() as api:
        assert answer(api.client.get("/healthz"))["privateData"] == "clear"


async def test_healthz_says_encrypted_and_the_newest_key_is_registered() -> None:
    store = MemoryGameStore()
    with running(store, data_keys=(KEY, OTHER)) as api:
        assert answer(api.client.get("/healthz"))["privateData"] == "encrypted"
    assert [row.key_id for row in await store.data_keys()] == [key_id(decode_key(KEY))]


async def test_a_store_holding_a_key_not_given_stops_the_app() -> None:
    store = MemoryGameStore()
    await store.register_data_key(key_id(decode_key(OTHER)), 1)
    with pytest.raises(DataKeyMissing, match=key_id(decode_key(OTHER))), running(store):
        pass
    with (
        pytest.raises(DataKeyMissing, match="not among the keys given"),
        running(store, data_keys=(KEY,)),
    ):
        pass
    await store.retire_data_keys([key_id(decode_key(OTHER))], 2)
    with running(store, data_keys=(KEY,)) as api:
        assert answer(api.client.get("/healthz"))["privateData"] == "encrypted"
