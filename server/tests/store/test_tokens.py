"""The SQL store's own token and append tests: one batch handed to the write path, and the races
that only real databases (several connections) can lose. The contract every store passes, tokens
included, is `rejoin_server.testing.store_contract` (run by test_contract.py)."""

from __future__ import annotations

import asyncio

import pytest

from rejoin_server.store import appends
from rejoin_server.store.base import AppendWrite
from rejoin_server.store.sql import SqlGameStore
from rejoin_server.testing.store_samples import NOW, events, new_game, token


async def test_one_batch_of_several_games_keeps_each_action_id(sql_store: SqlGameStore) -> None:
    """White-box: hand the backend one batch directly, so the batch path (PostgreSQL's single
    unnest statement, in two rounds here) is certainly the one taken; history epochs too."""
    game_ids = [await new_game(sql_store) for _ in range(4)]
    items = [
        AppendWrite(
            g,
            first - 1,
            events(first, 2),
            ['{"n":0}', '{"n":1}'],
            "playing",
            NOW,
            None,
            None if (i + first) % 3 == 0 else f"{g}:{first}",
            # History epochs ride along on some items of the batch, as they do in service.
            ((g[:8], first),) if first == 1 or i % 2 else None,
        )
        for first in (1, 3)
        for i, g in enumerate(game_ids)
    ]
    db = sql_store._db
    await sql_store._writer.call(lambda conn: appends.write_batch(db, conn, items))
    for i, g in enumerate(game_ids):
        expected = {f"{g}:{first}": first + 1 for first in (1, 3) if (i + first) % 3 != 0}
        assert await sql_store.recent_actions(g) == expected
        stored = (await sql_store.load(g)).game
        assert stored.last_seq == 4
        assert stored.history == ((g[:8], 3 if i % 2 else 1),)


# --- races between connections ---------------------------------------------------------------


async def test_two_stores_racing_for_one_token_have_one_winner(database_url: str) -> None:
    """Two stores are two connections (two servers, say): the database must pick the winner."""
    stores = [SqlGameStore(database_url), SqlGameStore(database_url)]
    for s in stores:
        await s.open()
    try:
        for round_ in range(20):
            first = token()
            await stores[0].insert_token(first)
            uses = await asyncio.gather(
                *(
                    s.consume_token(first.jti, client_id=f"c{i}", now_ms=NOW, replacement=token())
                    for i, s in enumerate(stores)
                    for _ in range(3)
                )
            )
            assert [use.won for use in uses].count(True) == 1, f"round {round_}"
            winner = next(use.row for use in uses if use.won)
            assert all(use.row == winner for use in uses)
    finally:
        for s in stores:
            await s.close()


@pytest.mark.postgres
async def test_two_postgres_connections_racing_twenty_times(postgres_url: str) -> None:
    """The PostgreSQL case of the race, one consume per connection per round, as the brief asks:
    an UPDATE that waits for the other's commit must then find the token consumed."""
    stores = [SqlGameStore(postgres_url), SqlGameStore(postgres_url)]
    for s in stores:
        await s.open()
    try:
        wins = [0, 0]
        for _ in range(20):
            first = token()
            await stores[0].insert_token(first)
            a, b = await asyncio.gather(
                *(
                    s.consume_token(first.jti, client_id=f"c{i}", now_ms=NOW, replacement=token())
                    for i, s in enumerate(stores)
                )
            )
            assert a.won != b.won
            wins[0 if a.won else 1] += 1
            assert a.row == b.row
            assert a.row is not None
            assert a.row.client_id == ("c0" if a.won else "c1")
        assert sum(wins) == 20
    finally:
        for s in stores:
            await s.close()


async def test_two_stores_keep_one_signing_key(database_url: str) -> None:
    stores = [SqlGameStore(database_url), SqlGameStore(database_url)]
    for s in stores:
        await s.open()
    try:
        a, b = await asyncio.gather(
            stores[0].signing_keys("a", NOW), stores[1].signing_keys("b", NOW)
        )
        assert a == b
        assert a in (["a"], ["b"])
    finally:
        for s in stores:
            await s.close()
