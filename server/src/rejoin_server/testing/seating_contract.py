"""The contract of a store's seatings: what the lobby lists (`GameStore.open_games`) and what a
game's row says of its seats. Part of `testing.store_contract.StoreContract`."""

from __future__ import annotations

import asyncio

from rejoin_server.store.base import GameStore, Seating
from rejoin_server.testing.store_samples import NOW, events, gid

OPEN = Seating({"seats": 4, "taken": [1]}, open=True)
FULL = Seating({"seats": 2, "taken": [0, 1]}, open=False)


async def _game(store: GameStore, created_at: int, seating: Seating | None = OPEN) -> str:
    game_id = gid()
    await store.create_game(game_id, "counter", {"seats": 4}, created_at, seating=seating)
    return game_id


class SeatingContract:
    async def test_open_games_are_listed_newest_first_up_to_the_limit(
        self, store: GameStore
    ) -> None:
        old, middle, new = [await _game(store, NOW + i) for i in (1, 2, 3)]
        await _game(store, NOW + 4, FULL)
        await _game(store, NOW + 5, None)  # seating unknown: never listed
        assert [r.game_id for r in await store.open_games(10)] == [new, middle, old]
        assert [r.game_id for r in await store.open_games(2)] == [new, middle]
        listed = (await store.open_games(1))[0]
        assert listed.seating == {"seats": 4, "taken": [1]}
        assert (listed.open_at, listed.created_at, listed.settings) == (
            NOW + 3,
            NOW + 3,
            {"seats": 4},
        )

    async def test_an_append_changes_the_seating_and_whether_it_is_listed(
        self, store: GameStore
    ) -> None:
        game_id = await _game(store, NOW)
        await store.append(game_id, events(1, 1), status="playing", now_ms=NOW + 9, seating=FULL)
        assert await store.open_games(10) == []
        record = await store.get_game(game_id)
        assert record is not None
        assert (record.seating, record.open_at) == ({"seats": 2, "taken": [0, 1]}, 0)
        # No seating with an append: the stored one stays.
        await store.append(game_id, events(2, 1), status="playing", now_ms=NOW + 10)
        assert await store.open_games(10) == []
        # Open again (a seat was left): listed by when it was created, not when it reopened.
        await store.append(game_id, events(3, 1), status="playing", now_ms=NOW + 11, seating=OPEN)
        (listed,) = await store.open_games(10)
        assert (listed.game_id, listed.open_at, listed.seating) == (game_id, NOW, OPEN.data)
        assert (await store.load(game_id)).game.seating == OPEN.data

    async def test_seatings_of_a_batch_of_appends_are_each_stored(self, store: GameStore) -> None:
        games = [await _game(store, NOW + i, None) for i in range(6)]
        await asyncio.gather(
            *(
                store.append(
                    game_id,
                    events(1, 1),
                    status="playing",
                    now_ms=NOW + 20,
                    seating=OPEN if i % 2 else FULL,
                )
                for i, game_id in enumerate(games)
            )
        )
        assert [r.game_id for r in await store.open_games(10)] == [games[5], games[3], games[1]]
        final = Seating({"seats": 4, "taken": [1], "final": {"winner": "Zoë ♠"}}, open=False)
        await store.append(
            games[5], events(2, 1), status="completed", now_ms=NOW + 30, seating=final
        )
        record = await store.get_game(games[5])
        assert record is not None
        assert record.seating == final.data
        assert [r.game_id for r in await store.open_games(10)] == [games[3], games[1]]
