"""The contract of a store's game ownership (docs/cluster.md): claims, releases, and the append
fenced on the ownership epoch. Part of `testing.store_contract.StoreContract`.

A claim here is always against an owner that is not a live node (no node keeps a heartbeat in these
tests): it wins on every store. Claims against live nodes are a PostgreSQL matter, tested with
real nodes (e2e/server/test_cluster.py)."""

from __future__ import annotations

import asyncio

import pytest

from rejoin_server.errors import Fenced, GameNotFound
from rejoin_server.store.base import GameStore
from rejoin_server.testing.store_samples import NOW, events, gid

LEASE_MS = 3000


async def owned_game(store: GameStore, owner: str = "n1") -> str:
    game_id = gid()
    await store.create_game(game_id, "counter", {}, NOW, owner=owner)
    return game_id


class OwnershipContract:
    async def test_a_game_created_with_an_owner_is_at_epoch_1(self, store: GameStore) -> None:
        game_id = await owned_game(store)
        record = await store.get_game(game_id)
        assert record is not None
        assert (record.owner, record.owner_epoch) == ("n1", 1)
        await store.create_game(gid(), "counter", {}, NOW)
        unowned = [g for g in await store.list_games() if g.owner is None]
        assert [(g.owner, g.owner_epoch) for g in unowned] == [(None, 0)]

    async def test_a_claim_bumps_the_epoch_and_names_the_previous_owner(
        self, store: GameStore
    ) -> None:
        game_id = await owned_game(store)
        claim = await store.claim_game(game_id, "n2", lease_ms=LEASE_MS)
        assert (claim.owner_epoch, claim.previous) == (2, "n1")
        again = await store.claim_game(game_id, "n2", lease_ms=LEASE_MS)
        assert (again.owner_epoch, again.previous) == (3, "n2")
        record = await store.get_game(game_id)
        assert record is not None
        assert (record.owner, record.owner_epoch) == ("n2", 3)
        with pytest.raises(GameNotFound):
            await store.claim_game("missing", "n2", lease_ms=LEASE_MS)

    async def test_an_append_at_an_old_epoch_is_fenced_and_writes_nothing(
        self, store: GameStore
    ) -> None:
        game_id = await owned_game(store)
        await store.append(game_id, events(1, 2), status="playing", now_ms=NOW, owner_epoch=1)
        await store.claim_game(game_id, "n2", lease_ms=LEASE_MS)  # epoch 2: n1 is fenced
        with pytest.raises(Fenced):
            await store.append(game_id, events(3, 1), status="playing", now_ms=NOW, owner_epoch=1)
        log = await store.load(game_id)
        assert [e.seq for e in log.events] == [1, 2]
        assert log.game.last_seq == 2
        await store.append(game_id, events(3, 1), status="playing", now_ms=NOW, owner_epoch=2)
        assert [e.seq for e in (await store.load(game_id)).events] == [1, 2, 3]

    async def test_a_fenced_batch_leaves_the_other_games_of_the_batch_stored(
        self, store: GameStore
    ) -> None:
        fenced, fine = await owned_game(store), await owned_game(store)
        await store.claim_game(fenced, "n2", lease_ms=LEASE_MS)
        results = await asyncio.gather(
            store.append(fenced, events(1, 1), status="playing", now_ms=NOW, owner_epoch=1),
            store.append(fine, events(1, 1), status="playing", now_ms=NOW, owner_epoch=1),
            return_exceptions=True,
        )
        assert isinstance(results[0], Fenced)
        assert results[1] is None
        assert (await store.load(fenced)).events == []
        assert [e.seq for e in (await store.load(fine)).events] == [1]

    async def test_only_the_owner_releases_and_may_pass_the_game_on(self, store: GameStore) -> None:
        game_id = await owned_game(store)
        assert await store.release_game(game_id, "n2", None) is False
        assert await store.release_game(game_id, "n1", 7) is False  # not at that epoch
        assert await store.release_game(game_id, "n1", 1, to="n3") is True
        record = await store.get_game(game_id)
        assert record is not None
        assert (record.owner, record.owner_epoch) == ("n3", 1)
        assert await store.release_game(game_id, "n3", None) is True
        record = await store.get_game(game_id)
        assert record is not None
        assert record.owner is None
        claim = await store.claim_game(game_id, "n4", lease_ms=LEASE_MS)
        assert (claim.owner_epoch, claim.previous) == (2, None)
