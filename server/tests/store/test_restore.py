"""Restore on real databases: the fallbacks for corrupt snapshots, the clear errors for a broken log.

Corruption is made the way it happens: by changing rows behind the store's back with plain SQL.
"""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from rejoin_server.errors import StateCorrupted
from rejoin_server.games.base import Act
from rejoin_server.games.kinds import GameKinds
from rejoin_server.store.base import GameStore
from rejoin_server.store.restore import restore_game, take_snapshot
from rejoin_server.store.sql import SqlGameStore
from rejoin_server.store.urls import sqlalchemy_url

from .counter_game import CounterEngine

NOW = 1_700_000_000_000
ENGINE = CounterEngine()
KINDS = GameKinds([ENGINE])


async def play(store: GameStore, adds: list[int], snapshot_at: set[int]) -> tuple[str, int]:
    """A counter game with one event per add, snapshots after the given seqs; returns its total."""
    game_id = uuid.uuid4().hex[:16]
    await store.create_game(game_id, "counter", {}, NOW)
    state = ENGINE.new_game(game_id, {})
    for n in adds:
        new = state.handle(Act("p", "add", {"amount": n}), NOW)
        snap = take_snapshot(state) if state.seq in snapshot_at else None
        await store.append(game_id, new, status=state.status, now_ms=NOW, snapshot=snap)
    return game_id, state.total


def execute(url: str, statement: str, **params: object) -> int:
    engine = sa.create_engine(sqlalchemy_url(url))
    with engine.begin() as conn:
        count = conn.execute(sa.text(statement), params).rowcount
    engine.dispose()
    return count


async def test_restore_replays_everything_without_a_snapshot(store: GameStore) -> None:
    game_id, total = await play(store, [1, 2, 3, 4], set())
    restored = await restore_game(store, KINDS, game_id)
    assert (restored.state.dump(), restored.snapshot_version) == ({"total": total, "seq": 4}, 0)
    assert restored.events_replayed == 4


async def test_restore_starts_from_the_newest_snapshot(store: GameStore) -> None:
    game_id, total = await play(store, [5] * 10, {3, 6, 8})
    restored = await restore_game(store, KINDS, game_id)
    assert restored.state.dump() == {"total": total, "seq": 10}
    assert (restored.snapshot_version, restored.events_replayed) == (8, 2)
    assert restored.rejected_snapshots == []


# Flip one digit of the newest snapshot's total: still valid JSON, so only the checksum can tell.
FLIP_SQLITE = (
    "UPDATE snapshots SET state = replace(state, '\"total\"\\:40', '\"total\"\\:41') "
    "WHERE game_id = :g AND version = 8"
)
FLIP_POSTGRES = (
    "UPDATE snapshots SET state = replace(state::text, '\"total\"\\:40', '\"total\"\\:41')::json "
    "WHERE game_id = :g AND version = 8"
)


async def test_a_flipped_byte_in_a_snapshot_falls_back_to_the_older_one(
    sql_store: SqlGameStore, database_url: str
) -> None:
    game_id, total = await play(sql_store, [5] * 10, {3, 6, 8})
    flip = FLIP_POSTGRES if sql_store.postgres else FLIP_SQLITE
    assert execute(database_url, flip, g=game_id) == 1
    restored = await restore_game(sql_store, KINDS, game_id)
    assert restored.state.dump() == {"total": total, "seq": 10}
    assert restored.snapshot_version == 6
    assert restored.rejected_snapshots == ["snapshot 8: checksum mismatch"]


async def test_undecodable_snapshots_fall_back_to_replay_from_seq_1(
    sql_store: SqlGameStore, database_url: str
) -> None:
    game_id, total = await play(sql_store, [5] * 10, {3, 6, 8})
    if sql_store.postgres:  # its json type refuses broken JSON: a wrong shape is the nearest thing
        broken = "UPDATE snapshots SET state = '[1, 2]'::json WHERE game_id = :g"
    else:
        broken = "UPDATE snapshots SET state = substr(state, 1, 9) WHERE game_id = :g"
    assert execute(database_url, broken, g=game_id) == 3
    restored = await restore_game(sql_store, KINDS, game_id)
    assert restored.state.dump() == {"total": total, "seq": 10}
    assert (restored.snapshot_version, restored.events_replayed) == (0, 10)
    assert len(restored.rejected_snapshots) == 3
    assert all("not a JSON object" in line for line in restored.rejected_snapshots)


async def test_a_deleted_event_row_is_named_in_the_error(
    sql_store: SqlGameStore, database_url: str
) -> None:
    game_id, _ = await play(sql_store, [1] * 8, {3})
    assert execute(database_url, "DELETE FROM events WHERE game_id = :g AND seq = 5", g=game_id)
    with pytest.raises(StateCorrupted) as caught:
        await restore_game(sql_store, KINDS, game_id)
    assert caught.value.seq == 5
    assert game_id in caught.value.message
    assert "event 5" in caught.value.message
    assert "missing" in caught.value.message


async def test_a_missing_last_event_is_caught_by_the_game_row(
    sql_store: SqlGameStore, database_url: str
) -> None:
    game_id, _ = await play(sql_store, [1] * 6, set())
    assert execute(database_url, "DELETE FROM events WHERE game_id = :g AND seq = 6", g=game_id)
    with pytest.raises(StateCorrupted) as caught:
        await restore_game(sql_store, KINDS, game_id)
    assert caught.value.seq == 6
    assert "the game reached 6" in caught.value.message


async def test_undecodable_event_json_is_named_in_the_error(
    sql_store: SqlGameStore, database_url: str
) -> None:
    game_id, _ = await play(sql_store, [1] * 6, set())
    if sql_store.postgres:  # JSONB: valid JSON of the wrong shape
        broken = "UPDATE events SET data = '\"oops\"'::jsonb WHERE game_id = :g AND seq = 4"
        expected = "not a JSON object"
    else:
        broken = "UPDATE events SET data = '{\"n\": 1' WHERE game_id = :g AND seq = 4"
        expected = "not a JSON object"
    assert execute(database_url, broken, g=game_id) == 1
    with pytest.raises(StateCorrupted) as caught:
        await restore_game(sql_store, KINDS, game_id)
    assert caught.value.seq == 4
    assert expected in caught.value.message
    assert caught.value.code.value == "state_corrupted"


async def test_an_event_the_game_cannot_apply_is_named_in_the_error(
    sql_store: SqlGameStore, database_url: str
) -> None:
    game_id, _ = await play(sql_store, [1] * 6, set())
    wrong = "UPDATE events SET kind = 'exploded' WHERE game_id = :g AND seq = 2"
    assert execute(database_url, wrong, g=game_id) == 1
    with pytest.raises(StateCorrupted) as caught:
        await restore_game(sql_store, KINDS, game_id)
    assert caught.value.seq == 2
    assert "'exploded'" in caught.value.message
    # What the game said goes to the log; it may quote an event's cards, so not to players.
    assert caught.value.detail
    assert caught.value.detail not in caught.value.message
    assert caught.value.detail in str(caught.value)
