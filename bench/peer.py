"""The peer: the same work done with the `eventsourcing` library (9.5.6) on the same databases.

One aggregate per table (`PokerGame`). Per command, each event our game produced is triggered on
the aggregate as a `Recorded` event carrying the same payload (seq, kind, at, the same data dict),
and `app.save(game)` writes them in one transaction. At a hand boundary a snapshot is put in the
application's snapshot store, as our server snapshots then.

The aggregate holds a live `PokerTable`: applying a `Recorded` event folds it into the table, so a
reconstruction (`app.repository.get`) does the same game work as our `restore_game` (load the snapshot's
dump, apply the events after it). While a table is played live the table already holds the event
(it made it), and applying it again is skipped, so the peer's timed appends carry no extra game work.

Configuration is eventsourcing's own: `PERSISTENCE_MODULE` and its `SQLITE_*`/`POSTGRES_*` keys
through `Application(env=...)`; everything else is left at its defaults.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate
from eventsourcing.domain import Snapshot as BaseSnapshot
from eventsourcing.utils import get_topic

from bench.play import Bot, has_hand_end, settings
from bench.workload import SEATS, AppendRun, Recording, RestoreRun
from rejoin_server.games.base import Event, GameEngine, GameState
from rejoin_server.games.poker import PokerEngine

ENGINE: GameEngine = PokerEngine()

# Threads writing at once in the 100-table run share one PostgreSQL pool. eventsourcing's recorder
# takes `LOCK TABLE … IN EXCLUSIVE MODE` in every insert transaction, so its writes are serialized
# in the database whatever the pool size; 20 connections let every thread that is ready to write
# queue on that lock without waiting for a connection first (2 cores cannot run more than a few
# at once), and stay well under the server's max_connections (100) that 100 would exhaust.
POSTGRES_POOL_SIZE_100 = 20


class Mode:
    """`rebuild_tables = False` reconstructs without the game work (the storage part alone)."""

    rebuild_tables = True


class PokerGame(Aggregate):
    def __init__(self, game_id: str, settings: dict[str, Any]) -> None:
        self.game_id = game_id
        self.settings = settings
        self.table: GameState | None = ENGINE.new_game(game_id, settings)

    class Recorded(Aggregate.Event):
        seq: int
        kind: str
        at: int
        data: dict[str, Any]

        def apply(self, aggregate: Any) -> None:
            table = aggregate.table
            if table is not None and table.seq < self.seq:
                table.apply(Event(self.seq, self.kind, self.at, self.data))

    class Snapshot(BaseSnapshot):
        """The aggregate's attributes with the table as its `dump()`; mutate loads it back."""

        def mutate(self, _: None) -> PokerGame:
            game = super().mutate(None)
            assert isinstance(game, PokerGame)
            dump = game.__dict__.pop("dump")
            game.table = (
                ENGINE.load(game.game_id, game.settings, dump) if Mode.rebuild_tables else None
            )
            return game

    def record(self, event: Event) -> None:
        self.trigger_event(
            self.Recorded, seq=event.seq, kind=event.kind, at=event.at, data=dict(event.data)
        )


def snapshot_of(game: PokerGame, dump: dict[str, Any] | None = None) -> PokerGame.Snapshot:
    """The snapshot of `game` at its current version (`dump` when the table is not kept)."""
    state = {
        k: v
        for k, v in vars(game).items()
        if k not in ("_id", "_version", "_pending_events", "table")
    }
    if dump is None:
        assert game.table is not None
        dump = game.table.dump()
    state["dump"] = dump
    snapshot: PokerGame.Snapshot = PokerGame.Snapshot(
        originator_id=game.id,
        originator_version=game.version,
        timestamp=PokerGame.Snapshot.create_timestamp(),
        topic=get_topic(PokerGame),
        state=state,
    )
    return snapshot


class PeerApp(Application[UUID]):
    name = "PeerBench"  # PostgreSQL tables peerbench_events and peerbench_snapshots
    is_snapshotting_enabled = True


def sqlite_env(path: str) -> dict[str, str]:
    return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": path}


def postgres_env(
    host: str, port: int, dbname: str, user: str, password: str, pool_size: int | None = None
) -> dict[str, str]:
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_HOST": host,
        "POSTGRES_PORT": str(port),
        "POSTGRES_DBNAME": dbname,
        "POSTGRES_USER": user,
        "POSTGRES_PASSWORD": password,
    }
    if pool_size is not None:
        env["POSTGRES_POOL_SIZE"] = str(pool_size)
        env["POSTGRES_MAX_OVERFLOW"] = "0"
    return env


def sqlite_synchronous(app: PeerApp) -> int:
    """The `PRAGMA synchronous` of eventsourcing's SQLite connections (0 OFF, 1 NORMAL, 2 FULL)."""
    datastore: Any = app.factory.datastore  # type: ignore[attr-defined]
    with datastore.transaction(commit=False) as cursor:
        cursor.execute("PRAGMA synchronous")
        return int(cursor.fetchone()[0])


def _save(
    app: PeerApp,
    game: PokerGame,
    events: list[Event],
    snapshot: bool,
    dump: dict[str, Any] | None = None,
) -> None:
    """Record `events` on `game` and save them; then, at a hand boundary, put its snapshot."""
    for event in events:
        game.record(event)
    app.save(game)
    if snapshot:
        assert app.snapshots is not None
        app.snapshots.put([snapshot_of(game, dump)])


def _new_table(app: PeerApp, game_id: str, seed: int) -> tuple[Bot, PokerGame]:
    bot = Bot(ENGINE, game_id, settings(SEATS), seed)
    game = PokerGame(game_id, settings(SEATS))
    game.table = bot.state  # the live table: events it made are not applied twice
    app.save(game)
    for events in bot.seat_players():
        _save(app, game, events, False)
    return bot, game


def append_live(env: dict[str, str], label: str, tables: int, actions: int) -> AppendRun:
    """`tables` threads each play a table and save every command's events; each save is timed."""
    app = PeerApp(env=env)
    try:
        completed = 0
        lock = threading.Lock()

        def play(bot: Bot, game: PokerGame, index: int, samples: list[float]) -> None:
            nonlocal completed
            for _ in range(actions):
                if bot.finished:
                    with lock:
                        completed += 1
                        number = completed
                    bot, game = _new_table(app, f"{label}-{index}-{number}", index + 1000 * number)
                events = bot.step()
                began = time.perf_counter()
                _save(app, game, events, has_hand_end(events))
                samples.append(time.perf_counter() - began)

        tables_ = [_new_table(app, f"{label}-{i}", i) for i in range(tables)]
        jobs = [partial(play, bot, game, i) for i, (bot, game) in enumerate(tables_)]
        per_table, wall = _run_threads(jobs)
        run = AppendRun([x for s in per_table for x in s], wall)
        run.games_completed = completed
        return run
    finally:
        app.close()


def append_replay(env: dict[str, str], label: str, recordings: list[Recording]) -> AppendRun:
    """The library alone: threads replay the recorded batches (no game work), each save timed."""
    app = PeerApp(env=env)
    try:
        games: list[PokerGame] = []
        for rec in recordings:
            game = PokerGame(f"{label}-{rec.game_id}", rec.settings)
            game.table = None  # no game work: the events are only stored
            for batch in rec.setup:
                for event in batch.events:
                    game.record(event)
            app.save(game)
            games.append(game)

        def replay(game: PokerGame, rec: Recording, samples: list[float]) -> None:
            for batch in rec.timed:
                began = time.perf_counter()
                snap = batch.snapshot
                dump = None if snap is None else orjson.loads(snap.state)
                _save(app, game, batch.events, snap is not None, dump)
                samples.append(time.perf_counter() - began)

        jobs = [partial(replay, g, r) for g, r in zip(games, recordings, strict=True)]
        per_table, wall = _run_threads(jobs)
        return AppendRun([x for s in per_table for x in s], wall)
    finally:
        app.close()


def _run_threads(jobs: Sequence[Callable[[list[float]], None]]) -> tuple[list[list[float]], float]:
    """Run each job on its own thread, all released at once; their samples and the wall time."""
    results: list[list[float]] = [[] for _ in jobs]
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(jobs) + 1)

    def run(job: Callable[[list[float]], None], out: list[float]) -> None:
        barrier.wait()
        try:
            job(out)
        except BaseException as exc:
            errors.append(exc)

    threads = [
        threading.Thread(target=run, args=(job, out), daemon=True)
        for job, out in zip(jobs, results, strict=True)
    ]
    for thread in threads:
        thread.start()
    barrier.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    if errors:
        raise errors[0]
    return results, wall


def reconstruct(
    env: dict[str, str], rec: Recording, live: dict[str, Any], repeats: int
) -> RestoreRun:
    """Store the same game as our restore benchmark (same events, snapshots after the same hand
    boundaries), then time `app.repository.get` of it; every result must equal the live state."""
    app = PeerApp(env=env)
    try:
        game = PokerGame(rec.game_id, rec.settings)  # its own table: events are applied to it
        app.save(game)
        for batch in rec.setup + rec.timed:
            _save(app, game, batch.events, batch.snapshot is not None)

        def get() -> PokerGame:
            got: Any = app.repository.get(game.id)
            assert isinstance(got, PokerGame)
            return got

        first = get()
        assert first.table is not None
        assert first.table.dump() == live, "the peer rebuilt a different state"
        snapshots = app.snapshots
        assert snapshots is not None
        newest = list(snapshots.get(game.id, desc=True, limit=1))
        assert newest, "the peer stored no snapshot"
        samples: list[float] = []
        for _ in range(repeats):
            began = time.perf_counter()
            got = get()
            samples.append(time.perf_counter() - began)
            assert got.table is not None
            assert got.table.dump() == live, "the peer rebuilt a different state"
        storage: list[float] = []
        Mode.rebuild_tables = False
        try:
            for _ in range(repeats):
                began = time.perf_counter()
                got = get()
                storage.append(time.perf_counter() - began)
                assert got.version == game.version
        finally:
            Mode.rebuild_tables = True
        return RestoreRun(
            samples,
            events=game.version,
            snapshot_version=newest[0].originator_version,
            replayed=game.version - newest[0].originator_version,
            extra={"storage": storage},
        )
    finally:
        app.close()
