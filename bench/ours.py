"""Our side: `SqlGameStore` appends, `restore_game`, and the stored snapshot size.

Appends are timed per command as the server will do them: the snapshot at a hand boundary
(`take_snapshot`, canonical JSON + SHA-256) and `await store.append(...)`. With many tables, one
asyncio task per table plays and awaits its own appends, so the store group-commits whatever is
ready at the same moment.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bench.play import BASE_MS, Bot, has_hand_end, settings
from bench.workload import SEATS, AppendRun, Batch, Recording, RestoreRun, merge
from rejoin_server.games.base import GameEngine
from rejoin_server.games.kinds import GameKinds
from rejoin_server.store import migrate
from rejoin_server.store.codec import canonical_json, checksum, decode_object
from rejoin_server.store.restore import decode_event, restore_game, take_snapshot
from rejoin_server.store.sql import SqlGameStore


def prepare(url: str) -> None:
    migrate.upgrade(url)


async def _new_table(
    store: SqlGameStore, engine: GameEngine, game_id: str, seed: int, recording: Recording | None
) -> Bot:
    bot = Bot(engine, game_id, settings(SEATS), seed)
    await store.create_game(game_id, engine.kind, settings(SEATS), BASE_MS)
    for events in bot.seat_players():
        batch = Batch(events, bot.state.status, bot.now_ms, None)
        await _write(store, game_id, batch)
        if recording is not None:
            recording.setup.append(batch)
    return bot


async def _write(store: SqlGameStore, game_id: str, batch: Batch) -> None:
    await store.append(
        game_id, batch.events, status=batch.status, now_ms=batch.now_ms, snapshot=batch.snapshot
    )


async def append_live(
    url: str, engine: GameEngine, label: str, tables: int, actions: int, *, record: bool = False
) -> AppendRun:
    """`tables` tables play `actions` commands each, concurrently; each append is timed."""
    store = SqlGameStore(url)
    await store.open()
    try:
        recordings: list[Recording] = []
        completed = 0
        game_s = 0.0

        async def seat(index: int, game_id: str) -> tuple[Bot, Recording | None]:
            rec = Recording(game_id, settings(SEATS)) if record else None
            if rec is not None:
                recordings.append(rec)
            return await _new_table(store, engine, game_id, index, rec), rec

        async def play(index: int, bot: Bot, rec: Recording | None) -> list[float]:
            nonlocal completed, game_s
            samples: list[float] = []
            for _ in range(actions):
                if bot.finished:  # one player won every chip: a new table takes its place
                    completed += 1
                    bot, rec = await seat(index + 1000 * completed, f"{label}-{index}-{completed}")
                began = time.perf_counter()
                events = bot.step()
                game_s += time.perf_counter() - began
                began = time.perf_counter()
                snap = take_snapshot(bot.state) if has_hand_end(events) else None
                batch = Batch(events, bot.state.status, bot.now_ms, snap)
                await _write(store, bot.state.game_id, batch)
                samples.append(time.perf_counter() - began)
                if rec is not None:
                    rec.timed.append(batch)
            return samples

        seated = [await seat(i, f"{label}-{i}") for i in range(tables)]
        began = time.perf_counter()
        per_table = await asyncio.gather(*(play(i, b, r) for i, (b, r) in enumerate(seated)))
        wall = time.perf_counter() - began
        return AppendRun(merge(per_table), wall, recordings, completed, game_s)
    finally:
        await store.close()


async def append_replay(url: str, label: str, recordings: list[Recording]) -> AppendRun:
    """The store alone: replay recorded batches (no game CPU), one task per table, timed."""
    store = SqlGameStore(url)
    await store.open()
    try:
        for rec in recordings:
            game_id = f"{label}-{rec.game_id}"
            await store.create_game(game_id, "poker", rec.settings, BASE_MS)
            for batch in rec.setup:
                await _write(store, game_id, batch)

        async def replay(rec: Recording) -> list[float]:
            game_id = f"{label}-{rec.game_id}"
            samples: list[float] = []
            for batch in rec.timed:
                began = time.perf_counter()
                await _write(store, game_id, batch)
                samples.append(time.perf_counter() - began)
            return samples

        began = time.perf_counter()
        per_table = await asyncio.gather(*(replay(rec) for rec in recordings))
        wall = time.perf_counter() - began
        return AppendRun(merge(per_table), wall)
    finally:
        await store.close()


async def restore_mid_hand(
    url: str, engine: GameEngine, game_id: str, hands: int, repeats: int
) -> tuple[RestoreRun, Recording, dict[str, Any]]:
    """Play `hands` hands (snapshots at hand boundaries), stop after the flop of the next one,
    then time `restore_game` `repeats` times; every restored state must equal the live one."""
    store = SqlGameStore(url)
    await store.open()
    try:
        rec = Recording(game_id, settings(SEATS))
        bot = await _new_table(store, engine, game_id, 7, rec)
        while bot.hand_number <= hands or not bot.mid_hand_after_flop():
            if bot.finished:
                raise RuntimeError(f"{game_id} ended after {bot.hand_number} hands; reseed")
            events = bot.step()
            snap = take_snapshot(bot.state) if has_hand_end(events) else None
            batch = Batch(events, bot.state.status, bot.now_ms, snap)
            await _write(store, game_id, batch)
            rec.timed.append(batch)
        live = bot.state.dump()

        first = await restore_game(store, GameKinds([engine]), game_id)
        assert first.state.dump() == live, "restore rebuilt a different state"
        assert first.snapshot_version > 0, "restore did not start from a snapshot"
        samples: list[float] = []
        for _ in range(repeats):
            began = time.perf_counter()
            restored = await restore_game(store, GameKinds([engine]), game_id)
            samples.append(time.perf_counter() - began)
            assert restored.state.dump() == live, "restore rebuilt a different state"
        # The storage part alone: what `restore_game` does before the game's own work (`engine.load`
        # of the snapshot and `apply` of the events after it).
        storage: list[float] = []
        for _ in range(repeats):
            began = time.perf_counter()
            log = await store.load(game_id)
            body = canonical_json(decode_object(log.snapshots[0].state))
            assert checksum(body) == log.snapshots[0].checksum
            decoded = [decode_event(game_id, raw) for raw in log.events]
            storage.append(time.perf_counter() - began)
            assert len(decoded) == first.events_replayed
        # The game's part: loading the snapshot (the dump of a hand boundary) into a table.
        newest = decode_object((await store.load(game_id)).snapshots[0].state)
        loads: list[float] = []
        for _ in range(repeats):
            began = time.perf_counter()
            engine.load(game_id, rec.settings, newest)
            loads.append(time.perf_counter() - began)
        run = RestoreRun(
            samples,
            events=bot.state.seq,
            snapshot_version=first.snapshot_version,
            replayed=first.events_replayed,
            extra={"storage": storage, "engine.load": loads},
        )
        return run, rec, live
    finally:
        await store.close()


async def snapshot_sizes(url: str, engine: GameEngine, seats: int, hands: int) -> dict[str, int]:
    """A `seats`-seat table after `hands` hands, stopped after the flop: the stored snapshot's
    canonical JSON length, the largest mid-hand snapshot seen on the way, and on PostgreSQL
    `pg_column_size` (JSONB, possibly compressed) and the length of its text form."""
    bot = Bot(engine, f"size-{seats}", settings(seats), 11)
    events = [e for batch in bot.seat_players() for e in batch]
    largest = 0
    while bot.hand_number <= hands or not bot.mid_hand_after_flop():
        if bot.finished:
            raise RuntimeError(f"the {seats}-seat table ended after {bot.hand_number} hands")
        events.extend(bot.step())
        if bot.state.view(None)["toAct"] is not None:
            largest = max(largest, len(canonical_json(bot.state.dump())))
    snap = take_snapshot(bot.state)
    out = {"canonical": len(snap.state), "largest mid-hand": largest}
    store = SqlGameStore(url)
    await store.open()
    try:
        await store.create_game(bot.state.game_id, engine.kind, settings(seats), BASE_MS)
        await store.append(
            bot.state.game_id, events, status=bot.state.status, now_ms=bot.now_ms, snapshot=snap
        )
    finally:
        await store.close()
    out.update(_stored_size(url, bot.state.game_id, snap.version, store.postgres))
    return out


def _stored_size(url: str, game_id: str, version: int, postgres: bool) -> dict[str, int]:
    from sqlalchemy import create_engine, text

    from rejoin_server.store.urls import sqlalchemy_url

    engine = create_engine(sqlalchemy_url(url))
    try:
        with engine.connect() as conn:
            if postgres:
                query = (
                    "SELECT pg_column_size(state), octet_length(state::text) FROM snapshots "
                    "WHERE game_id = :g AND version = :v"
                )
                row = conn.execute(text(query), {"g": game_id, "v": version}).one()
                return {"pg_column_size": int(row[0]), "jsonb as text": int(row[1])}
            query = "SELECT length(CAST(state AS BLOB)) FROM snapshots WHERE game_id = :g AND version = :v"
            row = conn.execute(text(query), {"g": game_id, "v": version}).one()
            return {"stored": int(row[0])}
    finally:
        engine.dispose()
