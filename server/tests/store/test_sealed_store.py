"""Private data encrypted at rest, on real databases (SQLite and PostgreSQL): poker hands written
through a store with data keys leave no hidden hole card in any row; they restore; a changed or
moved ciphertext breaks only its own game (an event) or falls back (a snapshot).

Rows are changed the way an attacker or a bit flip would: with plain SQL behind the store's back.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
import sqlalchemy as sa

from rejoin_server.errors import StateCorrupted
from rejoin_server.games.base import Act
from rejoin_server.games.kinds import GameKinds
from rejoin_server.games.poker import PokerEngine
from rejoin_server.store.codec import canonical_json, checksum
from rejoin_server.store.datakeys import DataKeys, decode_key, key_id
from rejoin_server.store.restore import decode_event, restore_game, take_snapshot
from rejoin_server.store.sealing import SEALED, Sealer, plan_of
from rejoin_server.store.sql import SqlGameStore
from rejoin_server.store.urls import sqlalchemy_url

from .counter_game import CounterEngine
from .sealed_poker import ENGINE, execute, json_param, leaks, play, rows

KEY = secrets.token_urlsafe(32)
KINDS = GameKinds([ENGINE])


def keyed(url: str, *keys: str) -> SqlGameStore:
    store = SqlGameStore(url, keep_snapshots=3)
    store.sealer = Sealer(DataKeys(keys), {"poker": plan_of(PokerEngine.private_data)})
    return store


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[SqlGameStore]:
    made = keyed(database_url, KEY)
    await made.open()
    yield made
    await made.close()


async def test_no_hidden_hole_card_is_stored_in_the_clear(
    store: SqlGameStore, database_url: str
) -> None:
    played = [await play(store, hands=3, seed=seed) for seed in (1, 2)]
    hands = [hand for game in played for hand in game.hands()]
    assert sum(len(hand.hidden) for hand in hands) >= 6  # the running hands' at least
    assert leaks(database_url, hands) == []
    sealed = [value for _, _, _, value in rows(database_url) if SEALED in value]
    assert sealed, "something must be sealed"
    assert all(value[SEALED].startswith(key_id(decode_key(KEY)) + ".") for value in sealed)
    # The same game with no key: the cards are all there, so the scan above can fail.
    clear = SqlGameStore(database_url)
    await clear.open()
    try:
        again = await play(clear, hands=1)
    finally:
        await clear.close()
    assert leaks(database_url, again.hands())


async def test_a_sealed_game_restores_to_the_state_it_was(store: SqlGameStore) -> None:
    played = await play(store, hands=2)
    restored = await restore_game(store, KINDS, played.game_id)
    assert restored.rejected_snapshots == []
    assert restored.snapshot_version > 0
    assert restored.state.dump() == played.table.dump()
    events = await store.read_events(played.game_id, 0)
    assert [orjson.loads(e.data) for e in events] == [dict(e.data) for e in played.events]


async def test_rows_written_in_the_clear_read_as_before(database_url: str) -> None:
    clear = SqlGameStore(database_url)
    await clear.open()
    try:
        played = await play(clear, hands=1)
    finally:
        await clear.close()
    store = keyed(database_url, KEY)
    await store.open()
    try:
        restored = await restore_game(store, KINDS, played.game_id)
    finally:
        await store.close()
    assert restored.state.dump() == played.table.dump()


def _flip(value: dict[str, object]) -> str:
    """The row with one character of its ciphertext changed."""
    envelope = str(value[SEALED])
    last = envelope[-2]
    changed = dict(value, **{SEALED: envelope[:-2] + ("A" if last != "A" else "B") + envelope[-1]})
    return orjson.dumps(changed).decode()


def _sealed_event(url: str, game_id: str) -> tuple[int, dict[str, object]]:
    found = [(n, v) for t, g, n, v in rows(url) if t == "event" and g == game_id and SEALED in v]
    return found[0]


async def test_a_tampered_event_corrupts_its_game_only(
    store: SqlGameStore, database_url: str
) -> None:
    victim, bystander = await play(store, hands=1), await play(store, hands=1, seed=3)
    seq, value = _sealed_event(database_url, victim.game_id)
    statement = (
        f"UPDATE events SET data = {json_param(database_url)} WHERE game_id = :g AND seq = :s"
    )
    assert execute(database_url, statement, value=_flip(value), g=victim.game_id, s=seq) == 1
    read = [e for e in await store.read_events(victim.game_id, 0) if e.seq == seq]
    with pytest.raises(StateCorrupted, match=f"event {seq}: its private data does not decrypt"):
        decode_event(victim.game_id, read[0])
    # From seq 1: the snapshots are dropped, so that the replay reads the changed event.
    execute(database_url, "DELETE FROM snapshots WHERE game_id = :g", g=victim.game_id)
    with pytest.raises(StateCorrupted) as caught:
        await restore_game(store, KINDS, victim.game_id)
    assert caught.value.code.value == "state_corrupted"
    other = await restore_game(store, KINDS, bystander.game_id)
    assert other.state.dump() == bystander.table.dump()


async def test_a_ciphertext_moved_to_another_game_does_not_decrypt(
    store: SqlGameStore, database_url: str
) -> None:
    a, b = await play(store, hands=1, seed=4), await play(store, hands=1, seed=5)
    seq, value = _sealed_event(database_url, a.game_id)
    b_row = [v for t, g, n, v in rows(database_url) if t == "event" and g == b.game_id and n == seq]
    assert len(b_row) == 1
    assert SEALED in b_row[0], "both games deal at the same seqs"
    statement = (
        f"UPDATE events SET data = {json_param(database_url)} WHERE game_id = :g AND seq = :s"
    )
    execute(database_url, statement, value=orjson.dumps(value).decode(), g=b.game_id, s=seq)
    moved = (await store.read_events(b.game_id, seq - 1))[0]
    with pytest.raises(StateCorrupted, match="moved from another row"):
        decode_event(b.game_id, moved)
    assert len(await store.read_events(a.game_id, 0)) == len(a.events)


async def test_a_tampered_snapshot_falls_back_to_an_older_one(
    store: SqlGameStore, database_url: str
) -> None:
    played = await play(store, hands=2)
    snapshots = [
        (n, v) for t, g, n, v in rows(database_url) if t == "snapshot" and g == played.game_id
    ]
    newest, value = max(snapshots, key=lambda s: int(s[0]))
    assert SEALED in value  # mid-hand: the cards dealt are sealed
    statement = "UPDATE snapshots SET state = :value WHERE game_id = :g AND version = :v"
    assert execute(database_url, statement, value=_flip(value), g=played.game_id, v=newest) == 1
    restored = await restore_game(store, KINDS, played.game_id)
    assert len(restored.rejected_snapshots) == 1
    assert restored.rejected_snapshots[0].startswith(f"snapshot {newest}: checksum mismatch")
    assert restored.snapshot_version < newest
    assert restored.state.dump() == played.table.dump()


async def test_a_snapshot_moved_to_another_version_is_passed_over(
    store: SqlGameStore, database_url: str
) -> None:
    played = await play(store, hands=2)
    snapshots = sorted(
        (
            (int(n), v)
            for t, g, n, v in rows(database_url)
            if t == "snapshot" and g == played.game_id
        ),
    )
    (older, _), (newest, _) = snapshots[-2], snapshots[-1]
    # The newest's sealed state under an older version (checksum and all): it must not open.
    execute(
        database_url,
        "DELETE FROM snapshots WHERE game_id = :g AND version = :v",
        g=played.game_id,
        v=older,
    )
    execute(
        database_url,
        "UPDATE snapshots SET version = :o WHERE game_id = :g AND version = :v",
        o=older,
        g=played.game_id,
        v=newest,
    )
    restored = await restore_game(store, KINDS, played.game_id)
    assert any("does not decrypt" in line for line in restored.rejected_snapshots)
    assert restored.state.dump() == played.table.dump()


async def test_data_keys_are_registered_and_retired(store: SqlGameStore) -> None:
    assert await store.data_keys() == []
    await store.register_data_key("aaaa", 5)
    await store.register_data_key("bbbb", 6)
    await store.register_data_key("aaaa", 7)  # again: kept as it was
    assert [(r.key_id, r.created_at, r.retired_at) for r in await store.data_keys()] == [
        ("aaaa", 5, None),
        ("bbbb", 6, None),
    ]
    assert await store.retire_data_keys(["aaaa", "cccc"], 9) == 1
    assert await store.retire_data_keys(["aaaa"], 10) == 0
    assert [r.retired_at for r in await store.data_keys()] == [9, None]
    await store.register_data_key("aaaa", 11)  # writes again: no longer retired
    assert [r.retired_at for r in await store.data_keys()] == [None, None]


async def test_a_game_that_declares_nothing_is_sealed_whole_and_restores(
    database_url: str,
) -> None:
    engine = CounterEngine()
    kinds = GameKinds([engine])
    store = SqlGameStore(database_url)
    store.sealer = Sealer(DataKeys([KEY]), {k: plan_of(kinds.private_data(k)) for k in kinds.kinds})
    await store.open()
    try:
        await store.create_game("counter1", "counter", {}, 1)
        state = engine.new_game("counter1", {})
        for n in (3, 4, 5):
            events = state.handle(Act("p", "add", {"amount": n}), 1)
            snap = take_snapshot(state) if state.seq == 2 else None
            await store.append("counter1", events, status=state.status, now_ms=1, snapshot=snap)
        stored = [value for _, g, _, value in rows(database_url) if g == "counter1"]
        assert stored
        assert all(list(value) == [SEALED] for value in stored)  # nothing of it in the clear
        restored = await restore_game(store, kinds, "counter1")
        assert restored.snapshot_version == 2
        assert restored.state.dump() == state.dump()
    finally:
        await store.close()


async def test_a_kind_changed_in_the_database_is_state_corrupted_never_served(
    store: SqlGameStore, database_url: str
) -> None:
    played = await play(store, hands=1)
    seq = next(e.seq for e in played.events if e.kind == "hole_cards")
    statement = "UPDATE events SET kind = 'timeout' WHERE game_id = :g AND seq = :s"
    assert execute(database_url, statement, g=played.game_id, s=seq) == 1
    (read,) = [e for e in await store.read_events(played.game_id, seq - 1, 1)]
    assert read.kind == "timeout"
    assert "cards" not in orjson.loads(read.data) or orjson.loads(read.data)["cards"] is None
    with pytest.raises(StateCorrupted, match=f"event {seq}: its private data does not decrypt"):
        decode_event(played.game_id, read)


def _snapshot_rows(url: str, game_id: str) -> list[tuple[int, str, dict[str, Any]]]:
    """(version, checksum column, state) of a game's snapshots, oldest first."""
    engine = sa.create_engine(sqlalchemy_url(url))
    cast = "::text" if url.startswith("postgresql") else ""
    with engine.connect() as conn:
        found = conn.execute(
            sa.text(f"SELECT version, checksum, state{cast} FROM snapshots WHERE game_id = :g"),
            {"g": game_id},
        ).all()
    engine.dispose()
    return sorted((int(v), str(c), orjson.loads(t)) for v, c, t in found)


async def test_the_checksum_column_cannot_test_a_guess_of_the_hole_cards(
    store: SqlGameStore, database_url: str
) -> None:
    played = await play(store, hands=1)
    version, column, state = _snapshot_rows(database_url, played.game_id)[-1]
    assert SEALED in state
    assert version == played.table.seq  # the newest snapshot is the state the game ended in
    # The brute force: the public part with the true cards in their places. No match.
    truth = canonical_json(played.table.dump())
    assert column != checksum(truth)
    assert column == checksum(canonical_json(state))  # the stored text's: corruption still shows
    restored = await restore_game(store, KINDS, played.game_id)
    assert (restored.rejected_snapshots, restored.snapshot_version) == ([], version)


async def test_a_snapshot_s_public_part_edited_is_passed_over(
    store: SqlGameStore, database_url: str
) -> None:
    played = await play(store, hands=2)
    newest, _, value = _snapshot_rows(database_url, played.game_id)[-1]
    assert SEALED in value
    # A public value changed and the column recomputed, as any reader of the row can.
    value["n"] = value["n"] + 1 if isinstance(value["n"], int) else 7
    text = canonical_json(value)
    statement = (
        "UPDATE snapshots SET state = :value, checksum = :c WHERE game_id = :g AND version = :v"
    )
    params = {"value": text.decode(), "c": checksum(text), "g": played.game_id, "v": newest}
    assert execute(database_url, statement, **params) == 1
    restored = await restore_game(store, KINDS, played.game_id)
    assert any("does not decrypt" in line for line in restored.rejected_snapshots)
    assert restored.snapshot_version < newest
    assert restored.state.dump() == played.table.dump()
