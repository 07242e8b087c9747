"""The contract of a store's game logs: creating games, appending with fencing, snapshots, loads,
deletes, retention and the quota. Part of `testing.store_contract.StoreContract`."""

from __future__ import annotations

import asyncio

import pytest

from rejoin_server.errors import GameNotFound, SeqConflict
from rejoin_server.games.base import GameStatus
from rejoin_server.store.base import Deleted, GameStore
from rejoin_server.testing.store_samples import NOW, events, gid, new_game, snapshot


class GameLogContract:
    """Tests of a `store` fixture made with 3 snapshots kept (`DEFAULT_KEEP_SNAPSHOTS`)."""

    async def test_a_created_game_is_listed_with_its_settings(self, store: GameStore) -> None:
        game_id = await new_game(store, {"seats": 6, "name": "Table ♥"})
        record = await store.get_game(game_id)
        assert record is not None
        assert (record.kind, record.status, record.last_seq) == ("counter", "waiting", 0)
        assert record.settings == {"seats": 6, "name": "Table ♥"}
        assert record.created_at == NOW
        assert [g.game_id for g in await store.list_games("waiting")] == [game_id]
        assert await store.list_games("completed") == []
        assert await store.get_game("nope") is None

    async def test_a_game_keeps_the_durability_it_was_created_with(self, store: GameStore) -> None:
        relaxed = gid()
        await store.create_game(relaxed, "counter", {}, NOW, durability="relaxed")
        unsaid = await new_game(store)  # created as before durability was chosen per game
        await store.append(relaxed, events(1, 2), status="playing", now_ms=NOW + 1)
        record = await store.get_game(relaxed)
        assert record is not None
        assert record.durability == "relaxed"
        assert (await store.load(relaxed)).game.durability == "relaxed"
        listed = {r.game_id: r.durability for r in await store.list_games()}
        assert listed == {relaxed: "relaxed", unsaid: None}

    async def test_appended_events_come_back_exactly_and_in_order(self, store: GameStore) -> None:
        game_id = await new_game(store)
        await store.append(game_id, events(1, 3), status="playing", now_ms=NOW + 10)
        await store.append(game_id, events(4, 2), status="playing", now_ms=NOW + 20)
        log = await store.load(game_id)
        assert [e.seq for e in log.events] == [1, 2, 3, 4, 5]
        assert log.events[0].kind == "added"
        assert log.events[0].at == NOW + 1
        assert '"Zoë ♠"' in log.events[0].data
        assert log.game.last_seq == 5
        assert log.game.status == "playing"
        assert log.game.updated_at == NOW + 20
        assert log.snapshots == []
        assert [e.seq for e in await store.read_events(game_id, 2)] == [3, 4, 5]
        assert [e.seq for e in await store.read_events(game_id, 2, limit=2)] == [3, 4]
        assert await store.read_events(game_id, 5) == []

    async def test_a_duplicate_seq_is_a_conflict_and_writes_nothing(self, store: GameStore) -> None:
        game_id = await new_game(store)
        await store.append(game_id, events(1, 3), status="playing", now_ms=NOW)
        with pytest.raises(SeqConflict) as caught:
            await store.append(game_id, events(3, 2, kind="fork"), status="playing", now_ms=NOW)
        assert caught.value.seq == 3
        log = await store.load(game_id)
        assert [(e.seq, e.kind) for e in log.events] == [(1, "added"), (2, "added"), (3, "added")]
        assert log.game.last_seq == 3

    async def test_a_gap_is_refused_too(self, store: GameStore) -> None:
        game_id = await new_game(store)
        await store.append(game_id, events(1, 2), status="playing", now_ms=NOW)
        with pytest.raises(SeqConflict):
            await store.append(game_id, events(4, 1), status="playing", now_ms=NOW)
        assert (await store.load(game_id)).game.last_seq == 2

    async def test_appending_to_an_unknown_game_says_so(self, store: GameStore) -> None:
        with pytest.raises(GameNotFound):
            await store.append("missing", events(1, 1), status="playing", now_ms=NOW)
        with pytest.raises(GameNotFound):
            await store.load("missing")

    async def test_completion_time_is_set_once(self, store: GameStore) -> None:
        game_id = await new_game(store)
        await store.append(game_id, events(1, 1), status="completed", now_ms=NOW + 5)
        await store.append(game_id, events(2, 1), status="completed", now_ms=NOW + 9)
        record = await store.get_game(game_id)
        assert record is not None
        assert (record.status, record.completed_at) == ("completed", NOW + 5)

    async def test_a_reopened_game_clears_its_completion_time(self, store: GameStore) -> None:
        """An operator's rollback may reopen a completed game: an append that is not completed
        clears `completed_at` (so retention does not evict a game in play), and the next
        completion sets it anew."""
        game_id = await new_game(store)
        await store.append(game_id, events(1, 1), status="completed", now_ms=NOW + 5)
        await store.append(game_id, events(2, 1), status="playing", now_ms=NOW + 7)
        record = await store.get_game(game_id)
        assert record is not None
        assert (record.status, record.completed_at) == ("playing", None)
        assert await store.evict_completed(NOW + 100) == []
        await store.append(game_id, events(3, 1), status="completed", now_ms=NOW + 9)
        record = await store.get_game(game_id)
        assert record is not None
        assert (record.status, record.completed_at) == ("completed", NOW + 9)

    async def test_snapshots_keep_the_newest_k_and_load_starts_after_the_newest(
        self,
        store: GameStore,
    ) -> None:
        game_id = await new_game(store)
        for version in range(1, 6):
            await store.append(
                game_id,
                events(version, 1),
                status="playing",
                now_ms=NOW,
                snapshot=snapshot(version, version),
            )
        await store.append(game_id, events(6, 2), status="playing", now_ms=NOW)
        log = await store.load(game_id)
        assert [s.version for s in log.snapshots] == [5, 4, 3]
        assert [e.seq for e in log.events] == [6, 7]
        assert log.snapshots[0].checksum == snapshot(5, 5).checksum

    async def test_a_snapshot_without_events_is_stored_at_the_current_seq(
        self, store: GameStore
    ) -> None:
        game_id = await new_game(store)
        await store.append(game_id, events(1, 2), status="playing", now_ms=NOW)
        await store.append(game_id, [], status="playing", now_ms=NOW, snapshot=snapshot(2, 3))
        await store.append(game_id, [], status="playing", now_ms=NOW, snapshot=snapshot(2, 3))
        log = await store.load(game_id)
        assert [s.version for s in log.snapshots] == [2]
        with pytest.raises(SeqConflict):  # a snapshot of a version the log has moved past
            await store.append(game_id, [], status="playing", now_ms=NOW, snapshot=snapshot(1, 1))

    async def test_concurrent_appends_of_many_games_are_all_stored(self, store: GameStore) -> None:
        game_ids = [await new_game(store) for _ in range(40)]

        async def play(game_id: str) -> None:
            for seq in range(1, 11):
                await store.append(game_id, events(seq, 1), status="playing", now_ms=NOW)

        await asyncio.gather(*(play(g) for g in game_ids))
        for game_id in game_ids:
            log = await store.load(game_id)
            assert [e.seq for e in log.events] == list(range(1, 11))

    async def test_one_conflicting_append_does_not_fail_its_batch(self, store: GameStore) -> None:
        game_ids = [await new_game(store) for _ in range(20)]
        bad = game_ids[7]
        await store.append(bad, events(1, 1), status="playing", now_ms=NOW)
        results = await asyncio.gather(
            *(store.append(g, events(1, 2), status="playing", now_ms=NOW) for g in game_ids),
            return_exceptions=True,
        )
        for game_id, result in zip(game_ids, results, strict=True):
            if game_id == bad:
                assert isinstance(result, SeqConflict)
                assert [e.seq for e in (await store.load(game_id)).events] == [1]
            else:
                assert result is None
                assert [e.seq for e in (await store.load(game_id)).events] == [1, 2]

    async def test_delete_removes_every_row_of_one_game(self, store: GameStore) -> None:
        keep, drop = await new_game(store), await new_game(store)
        for game_id in (keep, drop):
            await store.append(game_id, events(1, 4), status="playing", now_ms=NOW)
            await store.append(game_id, [], status="playing", now_ms=NOW, snapshot=snapshot(4, 4))
        deleted = await store.delete_game(drop)
        assert deleted == Deleted(events=4, snapshots=1, games=1, tokens=0)
        assert await store.get_game(drop) is None
        assert await store.read_events(drop, 0) == []
        assert len((await store.load(keep)).events) == 0  # all four are before its snapshot
        assert [e.seq for e in await store.read_events(keep, 0)] == [1, 2, 3, 4]
        assert (await store.delete_game(drop)).games == 0

    async def test_retention_evicts_only_games_completed_before_the_cutoff(
        self, store: GameStore
    ) -> None:
        old, recent, playing = await new_game(store), await new_game(store), await new_game(store)
        await store.append(old, events(1, 1), status="completed", now_ms=NOW + 100)
        await store.append(recent, events(1, 1), status="completed", now_ms=NOW + 300)
        await store.append(playing, events(1, 1), status="playing", now_ms=NOW + 50)
        assert await store.evict_completed(NOW + 200) == [old]
        assert {g.game_id for g in await store.list_games()} == {recent, playing}

    async def test_the_quota_evicts_the_oldest_completed_games_first(
        self, store: GameStore
    ) -> None:
        games = [await new_game(store) for _ in range(5)]
        for index, game_id in enumerate(games):
            status: GameStatus = "playing" if index == 0 else "completed"
            await store.append(game_id, events(1, 3), status=status, now_ms=NOW + 10 * (5 - index))
        usage = await store.usage()
        assert usage.games == 5
        assert usage.bytes > 0
        # completed at NOW+40 (games[1]), +30, +20, +10 (games[4]): the oldest go first.
        assert await store.evict_for_quota(max_games=3, max_bytes=None) == [games[4], games[3]]
        per_game = (await store.usage()).bytes // 3
        evicted = await store.evict_for_quota(max_games=None, max_bytes=per_game + 1)
        assert evicted == [games[2], games[1]]
        # The game in play is never evicted, even when it alone is over the quota.
        assert await store.evict_for_quota(max_games=0, max_bytes=0) == []
        assert [g.game_id for g in await store.list_games()] == [games[0]]

    async def test_usage_counts_snapshots_too(self, store: GameStore) -> None:
        game_id = await new_game(store)
        await store.append(game_id, events(1, 1), status="playing", now_ms=NOW)
        before = (await store.usage()).bytes
        await store.append(game_id, [], status="playing", now_ms=NOW, snapshot=snapshot(1, 12345))
        assert (await store.usage()).bytes > before

    async def test_two_appends_of_one_game_in_flight_at_once_land_in_order(
        self, store: GameStore
    ) -> None:
        game_ids = [await new_game(store) for _ in range(5)]
        appends = [
            store.append(g, events(first, 2), status="playing", now_ms=NOW)
            for first in (1, 3, 5)
            for g in game_ids
        ]
        await asyncio.gather(*appends)  # queued together: one batch holds each game three times
        for game_id in game_ids:
            log = await store.load(game_id)
            assert [e.seq for e in log.events] == [1, 2, 3, 4, 5, 6]
            assert log.game.last_seq == 6

    async def test_history_epochs_are_stored_with_an_append_and_kept_until_replaced(
        self,
        store: GameStore,
    ) -> None:
        game_id, other = await new_game(store), await new_game(store)
        await store.append(game_id, events(1, 2), status="playing", now_ms=1, history=[("a1", 1)])
        record = await store.get_game(game_id)
        assert record is not None
        assert record.history == (("a1", 1),)
        await store.append(game_id, events(3, 1), status="playing", now_ms=2)  # None: kept
        await store.append(
            game_id, events(4, 1), status="playing", now_ms=3, history=[("a1", 1), ("b2", 4)]
        )
        # Appends of several games at once (one batch on a SQL store), some with history.
        await asyncio.gather(
            store.append(game_id, events(5, 1), status="playing", now_ms=4),
            store.append(other, events(1, 1), status="playing", now_ms=4, history=[("o1", 1)]),
        )
        stored = await store.get_game(game_id)
        assert stored is not None
        assert stored.history == (("a1", 1), ("b2", 4))
        assert (await store.load(other)).game.history == (("o1", 1),)
        fresh = await store.get_game(await new_game(store))
        assert fresh is not None
        assert fresh.history == ()
