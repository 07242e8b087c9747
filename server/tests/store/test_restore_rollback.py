"""Restoring a game whose log holds operator rollbacks (`snapshot_restored`), on SQLite and
PostgreSQL: from the rollback's own snapshot, from an older one (the state at the rollback's
version taken from its snapshot), with that snapshot corrupt too (rebuilt by replaying up to it,
a rollback of a rollback included), and from seq 1 with every snapshot corrupt. Each equals the
live game."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from rejoin_server.errors import StateCorrupted
from rejoin_server.games.base import Act, Command, Event, GameState, Join, Start
from rejoin_server.games.kinds import GameKinds
from rejoin_server.games.poker import PokerEngine
from rejoin_server.store.base import SnapshotWrite
from rejoin_server.store.restore import restore_game, take_snapshot
from rejoin_server.store.rollback import build_rollback
from rejoin_server.store.sql import SqlGameStore
from rejoin_server.store.urls import sqlalchemy_url

NOW = 1_700_000_000_000
ENGINE = PokerEngine()
KINDS = GameKinds([ENGINE])


class Game:
    """A heads-up table played straight into a store, rolled back as the server does."""

    def __init__(self, store: SqlGameStore) -> None:
        self.store = store
        self.game_id = uuid.uuid4().hex[:16]
        self.state: GameState = ENGINE.new_game(self.game_id, {})
        self.now = NOW

    async def begin(self) -> None:
        await self.store.create_game(self.game_id, "poker", {}, NOW)

    async def do(self, command: Command, snapshot: bool = False) -> int:
        self.now += 1000
        events = self.state.handle(command, self.now)
        snap = take_snapshot(self.state) if snapshot else None
        await self.write(events, snap)
        return self.state.seq

    async def write(self, events: list[Event], snap: SnapshotWrite | None) -> None:
        await self.store.append(
            self.game_id, events, status=self.state.status, now_ms=self.now, snapshot=snap
        )

    def actor(self) -> str:
        view = self.state.view(None)
        return next(str(s["playerId"]) for s in view["seats"] if s["seat"] == view["toAct"])

    async def call(self) -> int:
        return await self.do(Act(self.actor(), "call"))

    async def roll_back(self, version: int) -> int:
        self.now += 1000
        log = await self.store.load(self.game_id)
        rolled = build_rollback(
            ENGINE,
            self.game_id,
            {},
            log.snapshots,
            version=version,
            seq=self.state.seq + 1,
            now_ms=self.now,
            reason="test",
        )
        self.state = rolled.state
        await self.write([rolled.event], rolled.snapshot)
        return self.state.seq


async def played(store: SqlGameStore) -> tuple[Game, int, int, int]:
    """Hand 1 started (snapshot V1), a call, rolled back to V1 (R1), a call, rolled back to R1
    (R2), a call. Three snapshots kept: V1, R1, R2."""
    game = Game(store)
    await game.begin()
    await game.do(Join("ann", "Ann"))
    await game.do(Join("bob", "Bob"))
    v1 = await game.do(Start("ann"), snapshot=True)
    await game.call()
    r1 = await game.roll_back(v1)
    await game.call()
    r2 = await game.roll_back(r1)
    await game.call()
    return game, v1, r1, r2


def spoil(url: str, game_id: str, versions: list[int]) -> None:
    engine = sa.create_engine(sqlalchemy_url(url))
    with engine.begin() as conn:
        for version in versions:
            done = conn.execute(
                sa.text(
                    "UPDATE snapshots SET checksum = 'spoiled' WHERE game_id = :g AND version = :v"
                ),
                {"g": game_id, "v": version},
            )
            assert done.rowcount == 1
    engine.dispose()


async def test_restore_after_rollbacks_equals_the_live_game(
    sql_store: SqlGameStore, database_url: str
) -> None:
    game, v1, r1, r2 = await played(sql_store)
    live = game.state.dump()
    restored = await restore_game(sql_store, KINDS, game.game_id)
    assert (restored.state.dump(), restored.snapshot_version) == (live, r2)
    # The rollback's own snapshot spoiled: from R1's, whose version's snapshot (V1) is kept.
    spoil(database_url, game.game_id, [r2])
    restored = await restore_game(sql_store, KINDS, game.game_id)
    assert (restored.state.dump(), restored.snapshot_version) == (live, r1)
    # R1's spoiled too: from V1, the rollback to R1 rebuilt by replaying up to it.
    spoil(database_url, game.game_id, [r1])
    restored = await restore_game(sql_store, KINDS, game.game_id)
    assert (restored.state.dump(), restored.snapshot_version) == (live, v1)
    # Every snapshot spoiled: from seq 1, each rollback's version rebuilt by replay.
    spoil(database_url, game.game_id, [v1])
    restored = await restore_game(sql_store, KINDS, game.game_id)
    assert (restored.state.dump(), restored.snapshot_version) == (live, 0)
    assert restored.events_replayed == game.state.seq


async def test_a_rollback_to_a_version_past_itself_is_corrupt(sql_store: SqlGameStore) -> None:
    game, _, _, _ = await played(sql_store)
    bad = Event(game.state.seq + 1, "snapshot_restored", game.now, {"version": game.state.seq + 1})
    await game.write([bad], None)
    with pytest.raises(StateCorrupted, match="snapshot_restored"):
        await restore_game(sql_store, KINDS, game.game_id)
