"""The cleanup job over the in-memory store, with a clock the test moves: idle games are
abandoned, completed games are deleted after the retention, the quota never takes a game in play,
expired tokens go, and what is stored is measured for /metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from rejoin_protocol.errors import ErrorCode
from rejoin_server.cleanup import CleanupJob
from rejoin_server.errors import ApiError, GameNotFound
from rejoin_server.games.base import Join, Start
from rejoin_server.games.kinds import GameKinds
from rejoin_server.games.poker import PokerEngine
from rejoin_server.host.host import GameHost
from rejoin_server.metrics import Metrics
from rejoin_server.settings import ServerSettings
from rejoin_server.store.base import TokenRow
from rejoin_server.store.memory import MemoryGameStore

T0 = 1_700_000_000_000
MINUTE = 60_000
TABLE = {"seats": 2, "actionTimeoutMs": 600_000, "autoNextHand": False}


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> int:
        return self.now


class World:
    def __init__(self, **settings: Any) -> None:
        self.clock = Clock()
        self.store = MemoryGameStore()
        self.metrics = Metrics()
        self.settings = ServerSettings(
            abandon_after_ms=60 * MINUTE, retention_ms=24 * 60 * MINUTE, **settings
        )
        self.host = GameHost(
            self.store, GameKinds([PokerEngine()]), self.settings, self.metrics, clock=self.clock
        )
        self.job = CleanupJob(self.store, self.host, self.settings, self.metrics)

    async def table(self, players: int = 2, start: bool = False) -> str:
        live = await self.host.create_game(TABLE)
        for n in range(players):
            await self.host.execute(live.game_id, Join(f"p{n}", f"player {n}"))
        if start:
            await self.host.execute(live.game_id, Start("p0"))
        return live.game_id

    def later(self, ms: int) -> None:
        self.clock.now += ms

    def gauge(self, name: str) -> float:
        value = self.metrics.registry.get_sample_value(name)
        assert value is not None
        return value


@pytest.fixture
async def world() -> AsyncIterator[World]:
    made = World()
    yield made
    await made.host.stop()


async def status(world: World, game_id: str) -> str:
    record = await world.store.get_game(game_id)
    assert record is not None
    return record.status


async def test_a_game_idle_past_the_limit_is_abandoned_then_deleted_after_retention(
    world: World,
) -> None:
    idle = await world.table(start=True)
    world.later(59 * MINUTE)
    busy = await world.table(start=True)
    world.later(2 * MINUTE)  # idle: 61 minutes without a player action; busy: 2

    await world.job.run_once()

    assert await status(world, idle) == "completed"
    assert await status(world, busy) == "playing"
    live = await world.host.get(idle)
    assert live.state.view(None)["status"] == "completed"
    last = (await world.store.read_events(idle, live.state.seq - 1))[-1]
    assert (last.kind, '"abandoned"' in last.data) == ("game_completed", True)

    world.later(23 * 60 * MINUTE)  # not yet a day since it completed
    await world.job.run_once()
    assert await world.store.get_game(idle) is not None

    world.later(61 * MINUTE)  # now a day and a minute
    await world.job.run_once()
    assert await world.store.get_game(idle) is None
    assert world.host.loaded(idle) is None, "an evicted game must leave memory too"
    with pytest.raises(GameNotFound):
        await world.host.get(idle)
    assert await status(world, busy) == "completed", "busy went idle meanwhile"


async def test_a_player_action_resets_the_idle_clock(world: World) -> None:
    game = await world.table(players=1)
    world.later(50 * MINUTE)
    await world.host.execute(game, Join("late", "late comer"))
    world.later(50 * MINUTE)
    await world.job.run_once()
    assert await status(world, game) == "waiting"


async def test_an_idle_game_not_in_memory_is_loaded_to_be_abandoned(world: World) -> None:
    game = await world.table(start=True)
    world.host.forget(game)
    world.later(61 * MINUTE)
    await world.job.run_once()
    assert await status(world, game) == "completed"


async def test_expired_tokens_are_deleted(world: World) -> None:
    game = await world.table()
    old = TokenRow("a" * 32, game, "p0", T0, T0 + MINUTE)
    fresh = TokenRow("b" * 32, game, "p0", T0, T0 + 60 * MINUTE)
    await world.store.insert_token(old)
    await world.store.insert_token(fresh)
    world.later(2 * MINUTE)
    await world.job.run_once()
    assert await world.store.get_token(old.jti) is None
    assert await world.store.get_token(fresh.jti) is not None


async def test_the_quota_takes_completed_games_first_and_never_one_in_play() -> None:
    world = World(max_games=2)
    try:
        done = await world.table(start=True)
        await world.host.abandon(done)
        playing = await world.table(start=True)

        # A third game needs room: the completed one goes, the one in play stays.
        third = await world.table()
        assert await world.store.get_game(done) is None
        assert await world.store.get_game(playing) is not None
        assert await world.store.get_game(third) is not None

        # Now both stored games are in play: a new one is refused, nothing is evicted.
        with pytest.raises(ApiError) as refused:
            await world.table()
        assert refused.value.code == ErrorCode.STORAGE_FULL
        assert await world.store.get_game(playing) is not None
        assert await world.store.get_game(third) is not None
    finally:
        await world.host.stop()


async def test_usage_is_measured_for_metrics(world: World) -> None:
    await world.table(start=True)
    await world.table()
    await world.job.run_once()
    assert world.gauge("rejoin_stored_games") == 2
    assert world.gauge("rejoin_stored_bytes") > 0


async def test_idle_games_without_a_clock_leave_memory_and_come_back(world: World) -> None:
    waiting = await world.table(players=1)
    watched = await world.table(players=1)
    playing = await world.table(start=True)  # its action clock runs: it must stay
    subscriber = world.host.subscribe(
        world.host.loaded(watched) or await world.host.get(watched), "p0"
    )
    world.later(11 * 60_000)

    await world.job.run_once()

    assert world.host.loaded(waiting) is None
    assert world.host.loaded(watched) is not None, "someone is streaming it"
    assert world.host.loaded(playing) is not None
    back = await world.host.get(waiting)
    assert back.state.seat_of("p0") is not None
    world.host.unsubscribe(await world.host.get(watched), subscriber)


async def test_a_node_that_does_not_lead_the_cleanup_only_drops_its_idle_games(
    world: World,
) -> None:
    game = await world.table()
    old = TokenRow("c" * 32, game, "p0", T0, T0 + MINUTE)
    await world.store.insert_token(old)

    async def follower() -> bool:
        return False

    job = CleanupJob(world.store, world.host, world.settings, world.metrics, leads=follower)
    world.later(24 * 60 * MINUTE)
    await job.run_once()
    assert await world.store.get_token(old.jti) is not None  # the store's work is the leader's
    assert await status(world, game) == "waiting"  # not abandoned here
    assert world.host.loaded(game) is None  # but this node's idle game left its memory
