"""Durability per game in `GameHost` (docs/games.md, "Rolling out"): strict and relaxed games side
by side on one writer, the durability a stored game keeps across a reload, and games kept in
memory only, which never reach the store (every call to it is counted here), say so in their
views, are never unloaded as idle, go back to their last state when their engine fails, and are
gone with the process (`game_not_found` saying why)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Mapping
from typing import Any

import pytest

from rejoin_protocol.errors import ErrorCode
from rejoin_server.cleanup import UNLOAD_IDLE_MS, CleanupJob
from rejoin_server.durability import MEMORY_PREFIX, GameDurability
from rejoin_server.errors import ApiError, MemoryGameGone
from rejoin_server.games.base import Act, Command, Event, GameStatus, Join, JsonDict, Start
from rejoin_server.games.kinds import GameKinds
from rejoin_server.games.poker import PokerEngine
from rejoin_server.host import live as live_module
from rejoin_server.host.host import GameHost
from rejoin_server.metrics import Metrics
from rejoin_server.settings import ServerSettings
from rejoin_server.store.base import GameStore, TokenRow

from .scripted_store import ScriptedStore
from .support import T0, FakeClock, HostFactory, to_act
from .waiting import settle, wait_until

# Every public method of a store: what the host could ask of it.
STORE_METHODS = frozenset(
    name
    for name in dir(GameStore)
    if not name.startswith("_") and callable(getattr(GameStore, name))
)
TABLE = {"seats": 3, "actionTimeoutMs": 600_000, "autoNextHand": False}


class CountingStore(ScriptedStore):
    """The scripted store, counting every call of a `GameStore` method by name."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: Counter[str] = Counter()

    def __getattribute__(self, name: str) -> Any:
        if name in STORE_METHODS:
            object.__getattribute__(self, "calls")[name] += 1
        return super().__getattribute__(name)


async def table(
    host: GameHost, durability: GameDurability | None, players: int = 2, **settings: Any
) -> tuple[str, list[str]]:
    live = await host.create_game({**TABLE, **settings}, durability=durability)
    ids = [f"p{i}" for i in range(players)]
    for player in ids:
        await host.execute(live.game_id, Join(player, player.upper()))
    return live.game_id, ids


async def test_counting_store_counts_what_a_stored_game_costs(make_host: HostFactory) -> None:
    # The double itself: a stored game's play is counted, so zero below means none.
    counting = CountingStore()
    host = make_host(on=counting)
    game_id, players = await table(host, "strict")
    await host.execute(game_id, Start(players[0]))
    assert counting.calls["create_game"] == 1
    assert counting.calls["append"] >= 3


async def test_a_memory_game_costs_the_store_nothing(
    make_host: HostFactory, clock: FakeClock
) -> None:
    counting = CountingStore()
    # A snapshot would be due at every commit of a stored game.
    host = make_host(on=counting, snapshot_every=1)
    game_id, players = await table(host, "memory", actionTimeoutMs=1_000)
    live = await host.get(game_id)
    assert game_id.startswith(MEMORY_PREFIX)
    assert live.durability == "memory"
    await host.execute(game_id, Start(players[0]))
    outcome = await host.execute(game_id, Act(to_act(live), "call"), action_id="p:1")
    assert not outcome.durable  # nothing is ever stored
    again = await host.execute(game_id, Act(to_act(live), "call"), action_id="p:1")
    assert again.duplicate
    assert again.seq == outcome.seq
    seq = live.state.seq
    clock.advance(1_000)  # the action clock fires (the big blind checks), through the commit
    await wait_until(lambda: live.state.seq > seq, what="the action clock to fire")
    actor = to_act(live)
    bets = [a for a in live.state.view(actor)["you"]["legalActions"] if a["type"] == "bet"]
    await host.execute(game_id, Act(actor, "bet", {"amount": bets[0]["min"]}))
    await host.execute(game_id, Act(to_act(live), "fold"))  # a hand boundary
    assert live.state.view(None)["phase"] == "hand_over"
    assert host.writer.pending_events == 0
    assert counting.calls == Counter()
    assert counting.attempts == []
    assert live.marks.durable_seq == 0


async def test_strict_and_relaxed_games_are_acknowledged_each_as_it_chose(
    make_host: HostFactory, store: ScriptedStore
) -> None:
    host = make_host(durability="strict")  # the server's own choice matters not to either
    strict_id, strict_players = await table(host, "strict")
    relaxed_id, relaxed_players = await table(host, "relaxed")
    assert await host.writer.flush(5.0)

    # The store holds every write of both games: the relaxed game's action is answered anyway.
    store.block(strict_id)
    store.block(relaxed_id)
    relaxed = await host.execute(relaxed_id, Start(relaxed_players[0]))
    assert not relaxed.durable
    strict = asyncio.ensure_future(host.execute(strict_id, Start(strict_players[0])))
    await wait_until(lambda: store.held(strict_id) == 1, what="the strict commit to be held")
    await settle()
    assert not strict.done()  # the strict action waits for its commit
    store.release(strict_id)
    assert (await strict).durable
    store.release(relaxed_id)
    assert await host.writer.flush(5.0)
    assert store.stored_seqs(relaxed_id) == list(range(1, relaxed.seq + 1))


async def test_a_stored_game_keeps_its_durability_across_a_reload_and_a_restart(
    make_host: HostFactory, store: ScriptedStore
) -> None:
    host = make_host(durability="strict")
    game_id, players = await table(host, "relaxed")
    await host.writer.flush(5.0)
    record = await store.get_game(game_id)
    assert record is not None
    assert record.durability == "relaxed"
    host.forget(game_id)
    reloaded = await host.get(game_id)
    assert reloaded.durability == "relaxed"
    assert not (await host.execute(game_id, Start(players[0]))).durable

    # A server restarted with the other --durability: the game is still what it chose.
    await host.writer.flush(5.0)
    restarted = make_host(durability="relaxed")
    again = await restarted.get(game_id)
    assert again.durability == "relaxed"
    strict_id, _ = await table(restarted, "strict")
    restarted.forget(strict_id)
    assert (await restarted.get(strict_id)).durability == "strict"


async def test_a_game_stored_before_durability_was_per_game_follows_the_server(
    make_host: HostFactory, store: ScriptedStore
) -> None:
    await store.create_game("old", "poker", {}, T0)  # no durability in its row
    assert (await make_host(durability="relaxed").get("old")).durability == "relaxed"
    assert (await make_host(durability="strict").get("old")).durability == "strict"


async def test_the_rollout_rule_decides_for_games_that_do_not_say(
    make_host: HostFactory, store: ScriptedStore
) -> None:
    none_stored = make_host(persist_fraction=0.0, durability="relaxed")
    live = await none_stored.create_game(TABLE)
    assert live.durability == "memory"
    assert await store.get_game(live.game_id) is None
    asked = await none_stored.create_game(TABLE, durability="strict")
    assert asked.durability == "strict"  # a game that says is not subject to the rule
    assert await store.get_game(asked.game_id) is not None

    all_stored = make_host(persist_fraction=1.0, durability="relaxed")
    live = await all_stored.create_game(TABLE)
    assert live.durability == "relaxed"
    assert (await all_stored.create_game(TABLE, durability="memory")).durability == "memory"


async def test_every_view_says_the_durability(make_host: HostFactory) -> None:
    host = make_host()
    for durability in ("memory", "relaxed", "strict"):
        game_id, players = await table(host, durability)
        live = await host.get(game_id)
        for viewer in (*players, None):
            assert host.view(live, viewer)["durability"] == durability
    assert host.games_by_durability() == {"memory": 1, "relaxed": 1, "strict": 1}


async def test_the_games_are_counted_by_durability_as_they_come_and_go(
    make_host: HostFactory,
) -> None:
    host = make_host()
    memory, _ = await table(host, "memory")
    strict, _ = await table(host, "strict")
    await table(host, "strict")
    gauge = host.metrics.registry.get_sample_value
    assert host.games_by_durability() == {"memory": 1, "relaxed": 0, "strict": 2}
    assert gauge("rejoin_games_by_durability", {"durability": "strict"}) == 2
    host.forget(strict)
    await host.delete(memory)
    assert host.games_by_durability() == {"memory": 0, "relaxed": 0, "strict": 1}
    assert gauge("rejoin_games_by_durability", {"durability": "memory"}) == 0
    assert gauge("rejoin_games_by_durability", {"durability": "strict"}) == 1


async def test_a_memory_game_is_gone_with_the_process_and_says_so(
    make_host: HostFactory, store: ScriptedStore
) -> None:
    host = make_host()
    game_id, _ = await table(host, "memory")
    restarted = make_host()  # the same store, a new process
    loads = store.loads
    with pytest.raises(MemoryGameGone) as caught:
        await restarted.get(game_id)
    assert caught.value.code == ErrorCode.GAME_NOT_FOUND
    assert "kept in memory only" in caught.value.message
    assert "restarts" in caught.value.message
    assert store.loads == loads  # told from the id: the store was not asked
    with pytest.raises(MemoryGameGone):
        await restarted.delete(game_id)


async def test_a_memory_game_cannot_be_persisted_and_is_deleted_from_memory(
    make_host: HostFactory,
) -> None:
    host = make_host()
    game_id, players = await table(host, "memory")
    row = TokenRow("jti-of-p0", game_id, players[0], T0, T0 + 60_000)
    await host.memory_tokens.insert_token(row)
    with pytest.raises(ApiError) as caught:
        await host.persist(game_id, force=False)
    assert caught.value.code == ErrorCode.INVALID_REQUEST
    assert "memory only" in caught.value.message
    deleted = await host.delete(game_id)
    assert (deleted.events, deleted.snapshots, deleted.tokens) == (2, 0, 1)
    assert host.loaded(game_id) is None
    assert await host.memory_tokens.get_token(row.jti) is None
    with pytest.raises(MemoryGameGone):
        await host.get(game_id)


async def test_a_memory_game_is_never_unloaded_as_idle(
    make_host: HostFactory, clock: FakeClock
) -> None:
    host = make_host()
    memory, _ = await table(host, "memory")
    stored, _ = await table(host, "strict")
    await host.writer.flush(5.0)
    clock.advance(UNLOAD_IDLE_MS * 10)
    assert host.unload_idle(clock(), UNLOAD_IDLE_MS) == [stored]
    assert host.loaded(memory) is not None


async def test_the_cluster_never_sees_a_memory_game(make_host: HostFactory) -> None:
    host = make_host()
    memory, _ = await table(host, "memory")
    stored, _ = await table(host, "strict")
    # What the cluster's heartbeat checks and drops as lost, and what a drain hands over.
    assert set(host.handovers.hosted()) == {stored}
    assert await host.handovers.release_all() == 1
    assert host.loaded(memory) is not None
    assert host.loaded(stored) is None


async def test_a_memory_game_replays_what_memory_holds_then_resyncs(
    make_host: HostFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live_module, "RECENT_EVENTS", 5)
    host = make_host()
    game_id, players = await table(host, "memory", players=3)
    live = await host.get(game_id)
    await host.execute(game_id, Start(players[0]))
    await host.execute(game_id, Act(to_act(live), "call"))
    seq = live.state.seq
    assert len(live.recent) == 5  # no store behind it: only the newest are kept
    async with host.reading(live):
        missed, resync = await host.missed_events(live, players[0], seq - 5)
        assert ([e["seq"] for e in missed], resync) == (list(range(seq - 4, seq + 1)), False)
        assert await host.missed_events(live, players[0], 1) == ([], True)
        with pytest.raises(ApiError) as caught:
            await host.events_after(live, 1)
    assert caught.value.code == ErrorCode.STALE_STATE
    assert "memory only" in caught.value.message


async def test_the_cleanup_ends_memory_games_without_asking_the_store(
    make_host: HostFactory, clock: FakeClock
) -> None:
    counting = CountingStore()
    minute = 60_000
    host = make_host(on=counting, abandon_after_ms=60 * minute, retention_ms=30 * minute)
    job = CleanupJob(counting, host, host.settings, host.metrics)
    idle, _ = await table(host, "memory")
    await host.memory_tokens.insert_token(TokenRow("old", idle, "p0", T0, T0 + minute))
    clock.advance(59 * minute)
    busy, _ = await table(host, "memory")
    await job.run_once()
    assert host.loaded(idle).state.status == "waiting"  # type: ignore[union-attr]
    assert await host.memory_tokens.get_token("old") is None  # expired token rows go

    clock.advance(minute)  # an hour without a player action: abandoned, like any game
    await job.run_once()
    assert host.loaded(idle).state.status == "completed"  # type: ignore[union-attr]
    assert host.loaded(busy).state.status == "waiting"  # type: ignore[union-attr]
    clock.advance(29 * minute)
    await job.run_once()
    assert host.loaded(idle) is not None  # completed, kept for the retention
    clock.advance(minute)
    await job.run_once()
    assert host.loaded(idle) is None  # then dropped, as a stored game is deleted
    assert host.loaded(busy) is not None
    store_calls = {name for name in counting.calls if counting.calls[name]}
    # The store's own cleanup ran (tokens, retention, usage); nothing of a memory game did.
    assert "create_game" not in store_calls
    assert "append" not in store_calls
    assert "delete_game" not in store_calls
    assert counting.attempts == []


# --- an engine that fails ------------------------------------------------------------------------


class FragileState:
    """Counts like `CounterState`, and fails half-way through a command whose amount is 13 (or
    a tick, once armed)."""

    def __init__(self, game_id: str) -> None:
        self._game_id = game_id
        self.total = 0
        self._seq = 0
        self.deadline: int | None = None

    @property
    def game_id(self) -> str:
        return self._game_id

    @property
    def seq(self) -> int:
        return self._seq

    @property
    def status(self) -> GameStatus:
        return "playing"

    def handle(self, command: Command, now_ms: int) -> list[Event]:
        if isinstance(command, Act):
            amount = int(command.data["amount"])
            self.total += amount  # changed before it fails: a half-done command
            if amount == 13:
                raise RuntimeError("unlucky")
            self.total -= amount
            event = Event(self._seq + 1, "added", now_ms, {"n": amount, "arm": command.type})
            self.apply(event)
            return [event]
        self.total += 1000  # a tick, half done
        raise RuntimeError("the clock is broken too")

    def apply(self, event: Event) -> None:
        self.total += event.data["n"]
        self._seq = event.seq
        self.deadline = event.at + 10 if event.data.get("arm") == "arm" else None

    def next_deadline(self) -> int | None:
        return self.deadline

    def seat_of(self, player_id: str) -> int | None:
        return 0

    def view(self, player_id: str | None) -> JsonDict:
        return {"total": self.total, "seq": self._seq, "status": "playing"}

    def event_for(self, event: Event, player_id: str | None) -> Event:
        return event

    def dump(self) -> JsonDict:
        return {"total": self.total, "seq": self._seq, "deadline": self.deadline}


class FragileEngine:
    kind = "fragile"

    def new_game(self, game_id: str, settings: Mapping[str, Any]) -> FragileState:
        return FragileState(game_id)

    def load(
        self, game_id: str, settings: Mapping[str, Any], data: Mapping[str, Any]
    ) -> FragileState:
        state = FragileState(game_id)
        state.total, state._seq, state.deadline = data["total"], data["seq"], data["deadline"]
        return state


async def test_a_memory_game_whose_engine_fails_goes_back_to_its_last_state(
    clock: FakeClock,
) -> None:
    store = CountingStore()
    host = GameHost(
        store,
        GameKinds([PokerEngine(), FragileEngine()]),
        ServerSettings(),
        Metrics(),
        clock=clock,
    )
    try:
        live = await host.create_game({}, "fragile", "memory")
        game_id = live.game_id
        await host.execute(game_id, Act("p0", "add", {"amount": 5}))
        with pytest.raises(ApiError) as caught:
            await host.execute(game_id, Act("p0", "add", {"amount": 13}))
        assert caught.value.code == ErrorCode.INTERNAL
        kept = host.loaded(game_id)
        assert kept is not None  # not dropped: there is nothing to reload it from
        assert (kept.state.view(None)["total"], kept.state.seq) == (5, 1)

        await host.execute(game_id, Act("p0", "arm", {"amount": 1}))  # arms a clock
        armed = kept.state
        clock.advance(10)
        await wait_until(lambda: kept.state is not armed, what="the failed tick to be undone")
        await settle()
        assert host.loaded(game_id) is kept
        assert (kept.state.view(None)["total"], kept.state.seq) == (6, 2)  # the tick undone
        assert kept.timer is None  # and its clock stopped, not failing in a loop
        assert (await host.execute(game_id, Act("p0", "add", {"amount": 2}))).seq == 3
        assert store.calls == Counter()
    finally:
        await host.stop(flush_timeout_s=1.0)
