"""`GameHost` over the in-memory store with the poker engine and a clock the test moves: the one
path by which a game changes (`execute`), lazy loading, action clocks, and the operator actions."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Sequence
from typing import Any

import pytest

from rejoin_protocol.errors import ErrorCode
from rejoin_server.errors import ApiError, GameNotFound, SeqConflict, StorageUnavailable
from rejoin_server.games.base import (
    Act,
    Event,
    GameRuleError,
    GameStatus,
    Join,
    Start,
)
from rejoin_server.games.poker import PokerSettings
from rejoin_server.host import live as live_module
from rejoin_server.host import operations as operations_module
from rejoin_server.host.host import GameHost, Outcome
from rejoin_server.host.live import LiveGame, Outgoing
from rejoin_server.store.base import StoredLog, TokenRow

from .scripted_store import ScriptedStore
from .support import T0, FakeClock, HostFactory, new_table, started_table, to_act
from .waiting import settle, wait_until


def waiting_player(live: LiveGame, players: Sequence[str]) -> str:
    actor = to_act(live)
    return next(p for p in players if p != actor)


def legal(live: LiveGame) -> dict[str, dict[str, Any]]:
    actions = live.state.view(to_act(live))["you"]["legalActions"]
    return {action["type"]: action for action in actions}


def status_of(live: LiveGame) -> str:
    return live.state.status


def kinds(events: Sequence[Event]) -> list[str]:
    return [event.kind for event in events]


async def refused(call: Awaitable[Outcome], code: ErrorCode) -> ApiError:
    with pytest.raises(ApiError) as caught:
        await call
    assert caught.value.code == code, caught.value.message
    return caught.value


def stored_kinds(store: ScriptedStore, game_id: str) -> list[str]:
    return [kind for _, kind, _ in store.stored(game_id)]


# --- create, join, start, act --------------------------------------------------------------------


async def test_create_join_start_and_act(host: GameHost, store: ScriptedStore) -> None:
    live = await host.create_game({"seats": 3})
    game_id = live.game_id
    assert status_of(live) == "waiting"
    assert live.state.seq == 0
    record = await store.get_game(game_id)
    assert record is not None
    assert record.kind == "poker"
    assert record.settings["seats"] == 3  # and the rest completed with poker's defaults
    assert record.settings == live.settings == PokerSettings.parse({"seats": 3}).to_json()

    joined = await host.execute(game_id, Join("p0", "Ann"))
    assert kinds(joined.events) == ["player_joined"]
    assert (joined.seq, joined.durable, joined.duplicate) == (1, True, False)
    await host.execute(game_id, Join("p1", "Bob"))

    started = await host.execute(game_id, Start("p0"))
    assert kinds(started.events)[:3] == ["hand_started", "blind_posted", "blind_posted"]
    assert kinds(started.events).count("hole_cards") == 2
    assert started.seq == live.state.seq == started.events[-1].seq
    assert started.durable
    assert status_of(live) == "playing"

    acted = await host.execute(game_id, Act(to_act(live), "call"), action_id="a1")
    assert kinds(acted.events)[0] == "action"
    assert acted.durable
    assert not acted.duplicate
    assert store.stored_seqs(game_id) == list(range(1, acted.seq + 1))
    assert await store.recent_actions(game_id) == {"a1": acted.seq}
    record = await store.get_game(game_id)
    assert record is not None
    assert (record.status, record.last_seq) == ("playing", acted.seq)


async def test_create_game_refuses_bad_settings(host: GameHost) -> None:
    with pytest.raises(GameRuleError) as caught:
        await host.create_game({"seats": 1})
    assert caught.value.code == "invalid_request"
    assert host.games_active == 0


async def test_a_duplicate_action_id_answers_the_first_result_and_applies_once(
    host: GameHost, store: ScriptedStore
) -> None:
    game_id, _ = await started_table(host)
    live = await host.get(game_id)
    actor = to_act(live)
    first = await host.execute(game_id, Act(actor, "call"), action_id="a1")
    seqs = store.stored_seqs(game_id)
    attempts = len(store.attempts)

    again = await host.execute(game_id, Act(actor, "call"), action_id="a1")
    assert (again.seq, again.duplicate, again.durable, again.events) == (first.seq, True, True, [])
    # A resend is answered even when its atSeq is stale or the action would be refused now.
    stale = await host.execute(game_id, Act(actor, "fold"), action_id="a1", at_seq=0)
    assert (stale.seq, stale.duplicate) == (first.seq, True)
    assert live.state.seq == first.seq
    assert store.stored_seqs(game_id) == seqs
    assert len(store.attempts) == attempts


async def test_a_refused_action_id_is_not_remembered(host: GameHost) -> None:
    game_id, players = await started_table(host)
    live = await host.get(game_id)
    await refused(
        host.execute(game_id, Act(waiting_player(live, players), "call"), action_id="x"),
        ErrorCode.NOT_YOUR_TURN,
    )
    outcome = await host.execute(game_id, Act(to_act(live), "call"), action_id="x")
    assert not outcome.duplicate
    assert outcome.events


async def test_a_stale_at_seq_is_refused_and_the_current_one_accepted(
    host: GameHost, store: ScriptedStore
) -> None:
    game_id, _ = await started_table(host)
    live = await host.get(game_id)
    seq = live.state.seq
    error = await refused(
        host.execute(game_id, Act(to_act(live), "call"), action_id="a", at_seq=seq - 1),
        ErrorCode.STALE_STATE,
    )
    assert str(seq) in error.message
    assert live.state.seq == seq
    assert store.stored_seqs(game_id)[-1] == seq
    outcome = await host.execute(game_id, Act(to_act(live), "call"), action_id="a", at_seq=seq)
    assert outcome.seq > seq


async def test_rule_errors_map_to_their_codes(host: GameHost, store: ScriptedStore) -> None:
    game_id, players = await new_table(host, 2, seats=2)
    live = await host.get(game_id)
    seq = live.state.seq
    await refused(host.execute(game_id, Act("p0", "call")), ErrorCode.NO_HAND_IN_PROGRESS)
    await refused(host.execute(game_id, Join("p9", "Zed")), ErrorCode.TABLE_FULL)
    await refused(host.execute(game_id, Start("stranger")), ErrorCode.PLAYER_NOT_IN_GAME)
    await refused(host.execute(game_id, Join("p0", "Ann")), ErrorCode.INVALID_REQUEST)
    assert live.state.seq == seq  # nothing refused reached the state …
    assert store.stored_seqs(game_id) == list(range(1, seq + 1))  # … or the store

    await host.execute(game_id, Start("p0"))
    await refused(host.execute(game_id, Start("p1")), ErrorCode.HAND_IN_PROGRESS)
    await refused(
        host.execute(game_id, Act(waiting_player(live, players), "call")), ErrorCode.NOT_YOUR_TURN
    )
    await refused(host.execute(game_id, Act(to_act(live), "check")), ErrorCode.INVALID_ACTION)
    low = legal(live)["raise"]["min"]
    await refused(
        host.execute(game_id, Act(to_act(live), "raise", {"amount": low - 1})),
        ErrorCode.INVALID_ACTION,
    )

    other, _ = await new_table(host, 1)
    await refused(host.execute(other, Join("late", "Late", seat=0)), ErrorCode.SEAT_TAKEN)
    await refused(host.execute(other, Join("late", "x" * 40)), ErrorCode.INVALID_REQUEST)
    await refused(host.execute(other, Start("p0")), ErrorCode.INVALID_ACTION)  # alone at the table
    await host.abandon(other)
    await refused(host.execute(other, Join("late", "Late")), ErrorCode.GAME_COMPLETED)


async def test_commands_of_an_unknown_game_are_game_not_found(host: GameHost) -> None:
    with pytest.raises(GameNotFound):
        await host.execute("nope", Join("p0", "Ann"))


# --- loading -------------------------------------------------------------------------------------


async def test_a_forgotten_game_reloads_on_first_touch_with_the_same_view(
    host: GameHost, store: ScriptedStore
) -> None:
    game_id, players = await started_table(host, 3)
    live = await host.get(game_id)
    await host.execute(game_id, Act(to_act(live), "call"))
    views = {p: host.view(live, p) for p in [*players, None]}
    deadline = live.state.next_deadline()
    dump = live.state.dump()

    host.forget(game_id)
    assert host.loaded(game_id) is None
    assert host.games_active == 0
    loads = store.loads

    reloaded = await host.get(game_id)
    assert reloaded is not live
    assert store.loads == loads + 1
    assert host.loaded(game_id) is reloaded
    assert {p: host.view(reloaded, p) for p in [*players, None]} == views
    assert reloaded.state.next_deadline() == deadline
    assert reloaded.state.dump() == dump
    assert reloaded.marks.durable_seq == reloaded.state.seq
    # And it plays on from there.
    outcome = await host.execute(game_id, Act(to_act(reloaded), "call"))
    assert outcome.seq > live.state.seq


async def test_concurrent_gets_of_an_unloaded_game_load_it_once(
    host: GameHost, store: ScriptedStore
) -> None:
    game_id, _ = await started_table(host)
    host.forget(game_id)
    loads = store.loads
    found = await asyncio.gather(*(host.get(game_id) for _ in range(20)))
    assert store.loads == loads + 1
    assert all(live is found[0] for live in found)


async def test_an_unknown_game_is_not_found_every_time(host: GameHost) -> None:
    for _ in range(2):  # a failed load leaves nothing behind
        with pytest.raises(GameNotFound):
            await host.get("missing")
    results = await asyncio.gather(*(host.get("missing") for _ in range(5)), return_exceptions=True)
    assert all(isinstance(result, GameNotFound) for result in results)


async def test_actions_are_remembered_across_a_reload(host: GameHost) -> None:
    game_id, _ = await started_table(host)
    live = await host.get(game_id)
    actor = to_act(live)
    first = await host.execute(game_id, Act(actor, "call"), action_id="resent")
    host.forget(game_id)
    again = await host.execute(game_id, Act(actor, "call"), action_id="resent")
    assert (again.seq, again.duplicate, again.durable) == (first.seq, True, True)
    assert (await host.get(game_id)).state.seq == first.seq


async def test_actions_are_remembered_by_a_restarted_host(
    make_host: HostFactory, store: ScriptedStore
) -> None:
    before = make_host()
    game_id, _ = await started_table(before)
    live = await before.get(game_id)
    actor = to_act(live)
    first = await before.execute(game_id, Act(actor, "call"), action_id="resent")
    await before.stop()
    after = make_host()
    again = await after.execute(game_id, Act(actor, "call"), action_id="resent")
    assert (again.seq, again.duplicate) == (first.seq, True)


async def test_another_writer_of_the_game_fences_this_one(
    make_host: HostFactory, store: ScriptedStore
) -> None:
    """Two hosts with the same game: the second to write a seq fails instead of forking the log,
    drops its stale copy, and the next touch loads the log as stored."""
    one, two = make_host(), make_host()
    game_id, _players = await started_table(one)
    live_one = await one.get(game_id)
    live_two = await two.get(game_id)
    actor = to_act(live_two)
    winner = await two.execute(game_id, Act(actor, "call"))
    with pytest.raises(SeqConflict) as caught:
        await one.execute(game_id, Act(actor, "fold"))
    assert caught.value.code == ErrorCode.STALE_STATE
    assert one.loaded(game_id) is None
    reloaded = await one.get(game_id)
    assert reloaded is not live_one
    assert reloaded.state.seq == winner.seq
    assert reloaded.state.dump() == live_two.state.dump()


# --- degraded and relaxed durability -------------------------------------------------------------


async def test_a_store_outage_makes_answers_not_durable_until_the_queue_drains(
    host: GameHost, store: ScriptedStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(operations_module, "PERSIST_FLUSH_S", 0.01)
    game_id, _ = await started_table(host)
    live = await host.get(game_id)
    store.down = True
    outcome = await host.execute(game_id, Act(to_act(live), "call"), action_id="a1")
    assert not outcome.durable
    assert host.writer.degraded
    assert live.marks.durable_seq < outcome.seq
    again = await host.execute(game_id, Act("p0", "call"), action_id="a1")
    assert (again.duplicate, again.durable) == (True, False)
    with pytest.raises(ApiError) as refused:
        await host.persist(game_id, force=True)
    assert refused.value.code == ErrorCode.STORAGE_UNAVAILABLE

    store.down = False
    assert await host.writer.flush(5.0)
    assert live.marks.durable_seq == outcome.seq
    assert store.stored_seqs(game_id) == list(range(1, outcome.seq + 1))
    again = await host.execute(game_id, Act("p0", "call"), action_id="a1")
    assert (again.duplicate, again.durable) == (True, True)
    assert not host.writer.degraded


async def test_relaxed_durability_answers_before_the_write(
    make_host: HostFactory, store: ScriptedStore
) -> None:
    host = make_host(durability="relaxed")
    game_id, _ = await started_table(host)
    live = await host.get(game_id)
    outcome = await host.execute(game_id, Act(to_act(live), "call"))
    assert not outcome.durable
    assert not host.writer.degraded
    assert await host.writer.flush(5.0)
    assert store.stored_seqs(game_id) == list(range(1, outcome.seq + 1))
    assert live.marks.durable_seq == outcome.seq


async def test_stop_stores_what_is_queued(make_host: HostFactory, store: ScriptedStore) -> None:
    host = make_host()
    game_id, _ = await started_table(host)
    live = await host.get(game_id)
    store.down = True
    outcome = await host.execute(game_id, Act(to_act(live), "call"))
    store.down = False
    await host.stop(flush_timeout_s=5.0)
    assert store.stored_seqs(game_id) == list(range(1, outcome.seq + 1))
    assert live.timer is None or live.timer.cancelled()


async def test_a_queued_write_that_can_never_be_stored_unloads_the_game(
    host: GameHost, store: ScriptedStore
) -> None:
    game_id, _ = await started_table(host)
    live = await host.get(game_id)
    store.down = True
    await host.execute(game_id, Act(to_act(live), "call"))
    await store.delete_game(game_id)  # gone meanwhile (the operator deleted it)
    store.down = False
    assert await host.writer.flush(5.0)
    assert host.loaded(game_id) is None
    with pytest.raises(GameNotFound):
        await host.get(game_id)


# --- clocks --------------------------------------------------------------------------------------


async def test_an_action_clock_fires_a_timeout_event(
    host: GameHost, store: ScriptedStore, clock: FakeClock
) -> None:
    game_id, _ = await started_table(host, actionTimeoutMs=20)
    live = await host.get(game_id)
    seq = live.state.seq
    actor_seat = live.state.view(None)["toAct"]
    assert live.state.next_deadline() == T0 + 20
    clock.advance(20)
    await wait_until(lambda: live.state.seq > seq, what="the action clock to fire")
    fired = store.stored(game_id)[seq:]
    assert [kind for _, kind, _ in fired] == ["timeout", "pot_awarded", "hand_ended"]
    assert fired[0][2] == {"seat": actor_seat, "action": "fold"}  # facing the big blind: fold
    assert live.marks.durable_seq == live.state.seq
    assert live.state.next_deadline() == T0 + 20 + 3_000  # the next hand, by the game's clock


async def test_an_action_clock_does_not_fire_before_its_deadline(
    host: GameHost, clock: FakeClock
) -> None:
    game_id, _ = await started_table(host, actionTimeoutMs=10)
    live = await host.get(game_id)
    seq = live.state.seq
    first = live.timer
    assert first is not None
    # The timer goes off by the loop's clock, but the game's clock has not moved: it re-arms.
    await wait_until(lambda: live.timer is not None and live.timer is not first, what="a re-arm")
    assert live.state.seq == seq
    clock.advance(10)
    await wait_until(lambda: live.state.seq > seq, what="the action clock to fire")


async def test_a_command_rearms_the_clock_for_the_next_player(
    host: GameHost, clock: FakeClock
) -> None:
    game_id, _ = await started_table(host, 3, actionTimeoutMs=30_000)
    live = await host.get(game_id)
    clock.advance(1_000)
    await host.execute(game_id, Act(to_act(live), "call"))
    assert live.state.next_deadline() == T0 + 1_000 + 30_000
    assert live.timer is not None


async def test_a_deadline_already_past_at_load_fires_exactly_once(
    make_host: HostFactory, store: ScriptedStore
) -> None:
    before = make_host(at=FakeClock(T0))
    game_id, _ = await started_table(before, actionTimeoutMs=30_000)
    seq = (await before.get(game_id)).state.seq
    await before.stop()

    later = FakeClock(T0 + 60_000)  # the server was down past the deadline
    after = make_host(at=later)
    live = await after.get(game_id)
    await wait_until(lambda: live.state.seq > seq, what="the overdue clock to fire")
    await settle()
    assert (await after.get(game_id)) is live
    await settle()
    kinds_after = stored_kinds(store, game_id)[seq:]
    assert kinds_after == ["timeout", "pot_awarded", "hand_ended"]
    assert store.stored(game_id)[seq][0] == seq + 1
    assert [e.at for e in await after.events_after(live, seq)] == [T0 + 60_000] * 3


async def test_after_a_restart_the_warm_up_fires_overdue_clocks_without_a_touch(
    make_host: HostFactory, store: ScriptedStore
) -> None:
    before = make_host(at=FakeClock(T0))
    game_id, _ = await started_table(before, actionTimeoutMs=30_000)
    idle_id, _ = await new_table(before)  # waiting: nothing to load
    seq = (await before.get(game_id)).state.seq
    await before.stop()

    after = make_host(at=FakeClock(T0 + 60_000))
    after.start()
    await wait_until(lambda: "timeout" in stored_kinds(store, game_id), what="the warm-up")
    assert stored_kinds(store, game_id)[seq:].count("timeout") == 1
    assert after.loaded(idle_id) is None


async def test_zero_clocks_do_not_starve_the_event_loop(make_host: HostFactory) -> None:
    """actionTimeoutMs=0 and nextHandDelayMs=0 are accepted settings (POST /api/games is open to
    anyone). Every clock is then always due: the host must not play hand after hand inside one
    timer callback, holding the event loop (with a store that does not yield, nothing else runs;
    with one that does, the game writes events without end)."""

    class Guarded(ScriptedStore):
        async def append(self, game_id: str, events: Sequence[Event], **kw: Any) -> None:
            if len(self.attempts) >= 300:
                raise RuntimeError("guard: the game played on without end")
            await super().append(game_id, events, **kw)

    guarded = Guarded()
    host = make_host(on=guarded)
    try:
        game_id, _ = await new_table(host, 2, actionTimeoutMs=0, nextHandDelayMs=0)
    except GameRuleError:
        return  # refusing zero clocks is a fix as good as firing them one at a time
    await host.execute(game_id, Start("p0"))
    writes_after_start = len(guarded.attempts)
    for _ in range(10):
        await asyncio.sleep(0)
    played = len(guarded.attempts) - writes_after_start
    assert played < 50, f"{played} writes before the loop ran anything else"


# --- persist, delete, abandon --------------------------------------------------------------------


async def test_persist_snapshots_on_demand_and_skips_a_current_snapshot(
    host: GameHost, store: ScriptedStore
) -> None:
    game_id, _ = await new_table(host)
    assert (await store.load(game_id)).snapshots == []
    assert await host.persist(game_id, force=False) == 2
    log = await store.load(game_id)
    assert [s.version for s in log.snapshots] == [2]
    writes = len(store.attempts)

    assert await host.persist(game_id, force=False) == 2  # already snapshotted at this seq
    assert len(store.attempts) == writes
    assert await host.persist(game_id, force=True) == 2  # written again on demand
    assert len(store.attempts) == writes + 1
    assert [s.version for s in (await store.load(game_id)).snapshots] == [2]

    host.forget(game_id)
    reloaded = await host.get(game_id)
    assert reloaded.marks.last_snapshot_seq == 2
    assert await host.persist(game_id, force=False) == 2


async def test_persist_of_a_game_at_seq_zero(host: GameHost, store: ScriptedStore) -> None:
    live = await host.create_game({})
    assert await host.persist(live.game_id, force=False) == 0
    assert [s.version for s in (await store.load(live.game_id)).snapshots] == [0]


async def test_persist_while_the_store_is_down_is_storage_unavailable(
    host: GameHost, store: ScriptedStore
) -> None:
    game_id, _ = await new_table(host)
    store.down = True
    with pytest.raises(StorageUnavailable):
        await host.persist(game_id, force=True)


async def test_a_hand_boundary_snapshots_by_itself(host: GameHost, store: ScriptedStore) -> None:
    game_id, _ = await started_table(host)
    live = await host.get(game_id)
    ended = await host.execute(game_id, Act(to_act(live), "fold"))
    assert "hand_ended" in kinds(ended.events)
    log = await store.load(game_id)
    assert [s.version for s in log.snapshots] == [ended.seq]
    assert live.marks.last_snapshot_seq == ended.seq


async def test_delete_removes_everything_of_the_game(host: GameHost, store: ScriptedStore) -> None:
    game_id, _ = await started_table(host)
    live = await host.get(game_id)
    seq = live.state.seq
    await host.persist(game_id, force=True)
    await store.insert_token(TokenRow("jti-1", game_id, "p0", T0, T0 + 1_000))
    subscriber = host.subscribe(live, "p0")

    deleted = await host.delete(game_id)
    assert (deleted.events, deleted.snapshots, deleted.games, deleted.tokens) == (seq, 1, 1, 1)
    assert host.loaded(game_id) is None
    assert subscriber.queue.get_nowait() is None  # its stream ends
    assert await store.get_game(game_id) is None
    assert await store.get_token("jti-1") is None
    with pytest.raises(GameNotFound):
        await host.get(game_id)
    with pytest.raises(GameNotFound):
        await host.delete(game_id)


async def test_delete_of_a_game_not_in_memory(host: GameHost, store: ScriptedStore) -> None:
    game_id, _ = await new_table(host)
    host.forget(game_id)
    deleted = await host.delete(game_id)
    assert (deleted.events, deleted.games) == (2, 1)
    assert await store.get_game(game_id) is None


async def test_abandon_completes_the_game_once(host: GameHost, store: ScriptedStore) -> None:
    game_id, _ = await started_table(host, actionTimeoutMs=30_000)
    live = await host.get(game_id)
    seq = live.state.seq
    await host.abandon(game_id)
    assert live.state.status == "completed"
    assert stored_kinds(store, game_id)[seq:] == ["game_completed"]
    assert store.stored(game_id)[-1][2].get("reason") == "abandoned"
    record = await store.get_game(game_id)
    assert record is not None
    status: GameStatus = record.status
    assert status == "completed"
    assert record.completed_at == T0
    assert live.state.next_deadline() is None
    assert live.timer is None

    await host.abandon(game_id)  # already completed: nothing more happens
    assert live.state.seq == seq + 1
    with pytest.raises(GameNotFound):
        await host.abandon("missing")


async def test_abandon_loads_a_game_not_in_memory(host: GameHost, store: ScriptedStore) -> None:
    game_id, _ = await new_table(host)
    host.forget(game_id)
    await host.abandon(game_id)
    record = await store.get_game(game_id)
    assert record is not None
    assert record.status == "completed"


# --- reading -------------------------------------------------------------------------------------


async def test_events_after_from_memory(host: GameHost, store: ScriptedStore) -> None:
    game_id, _ = await started_table(host)
    live = await host.get(game_id)
    seq = live.state.seq
    found = await host.events_after(live, 0)
    assert [e.seq for e in found] == list(range(1, seq + 1))
    assert [(e.seq, e.kind) for e in found] == [(s, k) for s, k, _ in store.stored(game_id)]
    assert [e.seq for e in await host.events_after(live, 2)] == list(range(3, seq + 1))
    assert [e.seq for e in await host.events_after(live, 0, limit=2)] == [1, 2]
    assert await host.events_after(live, seq) == []
    assert await host.events_after(live, seq + 10) == []


async def test_events_after_joins_stored_and_queued_events_without_gap(
    host: GameHost, store: ScriptedStore
) -> None:
    game_id, _ = await started_table(host, 3)
    host.forget(game_id)
    live = await host.get(game_id)  # memory holds no events: the older ones come from the store
    stored_up_to = live.state.seq
    store.down = True
    await host.execute(game_id, Act(to_act(live), "call"))
    await host.execute(game_id, Act(to_act(live), "call"))
    assert store.stored_seqs(game_id)[-1] == stored_up_to  # the new ones are only in memory
    store.down = False  # readable again; the queue may or may not have drained yet

    found = await host.events_after(live, 0)
    assert [e.seq for e in found] == list(range(1, live.state.seq + 1))
    found = await host.events_after(live, 1, limit=stored_up_to)
    assert [e.seq for e in found] == list(range(2, stored_up_to + 2))


async def test_a_full_page_from_the_store_needs_nothing_from_memory(
    host: GameHost, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by the protocol fuzz: a game with more than twice the events memory keeps answered
    a page from its start with storage_unavailable, because the page's end was asked of memory,
    which no longer held what follows it."""
    monkeypatch.setattr(live_module, "RECENT_EVENTS", 3)
    game_id, _ = await started_table(host, 3)
    live = await host.get(game_id)
    for _ in range(2):
        await host.execute(game_id, Act(to_act(live), "call"))
    assert live.recent[0].seq > 6  # memory holds the last few; a page of 3 from 0 ends before
    page = await host.events_after(live, 0, limit=3)
    assert [e.seq for e in page] == [1, 2, 3]


async def test_events_after_reads_the_store_for_events_memory_no_longer_holds(
    host: GameHost, store: ScriptedStore
) -> None:
    game_id, _ = await new_table(host)
    host.forget(game_id)
    live = await host.get(game_id)
    await host.execute(game_id, Start("p0"))
    found = await host.events_after(live, 0)
    assert [e.seq for e in found] == list(range(1, live.state.seq + 1))
    assert found[0].kind == "player_joined"


async def test_subscribers_get_new_events_and_mark_the_player_connected(host: GameHost) -> None:
    game_id, _ = await new_table(host)
    live = await host.get(game_id)
    subscriber = host.subscribe(live, "p0")
    seat0 = host.view(live, "p1")["seats"][0]
    assert (seat0["playerId"], seat0["connected"]) == ("p0", True)
    outcome = await host.execute(game_id, Start("p1"))
    received = [subscriber.queue.get_nowait() for _ in outcome.events]
    assert [item.event for item in received if isinstance(item, Outgoing)] == outcome.events
    host.unsubscribe(live, subscriber)
    assert host.view(live, "p1")["seats"][0]["connected"] is False


async def test_last_activity_counts_player_commands_only(host: GameHost, clock: FakeClock) -> None:
    game_id, players = await new_table(host, actionTimeoutMs=20)
    live = await host.get(game_id)
    clock.advance(5)
    await host.execute(game_id, Start(players[0]))
    assert live.last_activity_ms == T0 + 5
    seq = live.state.seq
    clock.advance(100)
    await wait_until(lambda: live.state.seq > seq, what="the clock to fire")
    assert live.last_activity_ms == T0 + 5  # a timeout is not a player's doing


async def test_after_a_load_the_last_activity_is_the_last_stored_write(
    host: GameHost, clock: FakeClock
) -> None:
    """A load is not activity: otherwise every restart (or eviction and reload) would give an
    abandoned game a fresh allowance, and it would never be abandoned while it kept being
    touched."""
    game_id, _ = await new_table(host)
    written_at = clock.now
    clock.advance(3_600_000)
    host.forget(game_id)
    live = await host.get(game_id)
    assert live.last_activity_ms == written_at


async def test_persist_writes_a_snapshot_whose_checksum_verifies(
    host: GameHost, store: ScriptedStore
) -> None:
    game_id, _ = await new_table(host)
    await host.persist(game_id, force=True)
    snap = (await store.load(game_id)).snapshots[0]
    assert hashlib.sha256(snap.state.encode()).hexdigest() == snap.checksum


async def test_concurrent_resends_of_one_action_apply_it_once(
    host: GameHost, store: ScriptedStore
) -> None:
    game_id, _ = await started_table(host)
    live = await host.get(game_id)
    actor = to_act(live)
    seq = live.state.seq
    outcomes = await asyncio.gather(
        *(host.execute(game_id, Act(actor, "call"), action_id="same") for _ in range(5))
    )
    assert [o.duplicate for o in outcomes].count(False) == 1
    assert len({o.seq for o in outcomes}) == 1
    assert stored_kinds(store, game_id)[seq:].count("action") == 1


async def test_persist_does_not_report_a_queued_snapshot_as_persisted(
    host: GameHost, store: ScriptedStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hand ends while the store is down: its boundary snapshot is only queued. `persist`
    without force must not answer as if the game were stored at that seq."""
    game_id, _ = await started_table(host)
    live = await host.get(game_id)
    store.down = True
    ended = await host.execute(game_id, Act(to_act(live), "fold"))
    assert "hand_ended" in kinds(ended.events)
    assert not ended.durable
    monkeypatch.setattr(operations_module, "PERSIST_FLUSH_S", 0.01)
    with pytest.raises(ApiError) as refused:
        await host.persist(game_id, force=False)
    assert refused.value.code == ErrorCode.STORAGE_UNAVAILABLE


async def test_events_after_with_more_queued_events_than_memory_keeps(
    host: GameHost, store: ScriptedStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A long outage: more events are queued than the in-memory window holds. `events_after`
    must still return every event (the queued ones are in the writer's queue) or fail loudly;
    it must not end at the store's last seq as if that were all (a JSON pager then stops short,
    and an SSE stream hits a gap and ends, again and again)."""
    monkeypatch.setattr(live_module, "RECENT_EVENTS", 4)
    game_id, players = await started_table(host)
    host.forget(game_id)
    live = await host.get(game_id)  # memory now keeps 4 events
    stored_up_to = live.state.seq
    store.down = True
    await host.execute(game_id, Act(to_act(live), "fold"))
    await host.execute(game_id, Start(players[0]))
    assert live.state.seq - stored_up_to > 4
    assert store.stored_seqs(game_id)[-1] == stored_up_to
    found = await host.events_after(live, 0)
    assert [e.seq for e in found] == list(range(1, live.state.seq + 1))


# --- a table nobody is at (issue 12: a table that plays itself) -----------------------------------


async def waiting_table(
    host: GameHost, store: ScriptedStore, clock: FakeClock
) -> tuple[LiveGame, list[str]]:
    """A heads-up hand nobody plays (`unattended_after_ms` 5 s): its clock folds it, and the
    next hand, due 1 s later, waits for a player."""
    game_id, players = await started_table(host, actionTimeoutMs=1_000, nextHandDelayMs=1_000)
    live = await host.get(game_id)
    clock.advance(6_000)  # the players' last command (the start) is now 6 s old
    await wait_until(lambda: "hand_ended" in stored_kinds(store, game_id), what="the timeout")
    clock.advance(1_000)  # the next hand is due, but nobody is at the table
    await wait_until(lambda: live.parked, what="the table to wait for a player")
    return live, players


async def test_a_table_nobody_is_at_finishes_its_hand_but_deals_no_next_one(
    make_host: HostFactory, store: ScriptedStore, clock: FakeClock
) -> None:
    """Nobody connected and nobody acting for `unattended_after`: the hand in play still ends by
    its clocks, but no new hand is dealt; a player connecting deals it at once."""
    host = make_host(unattended_after_ms=5_000)
    live, players = await waiting_table(host, store, clock)
    game_id = live.game_id
    ended = live.state.seq
    assert stored_kinds(store, game_id)[-1] == "hand_ended"
    assert live.timer is None
    assert live.state.seq == ended
    assert stored_kinds(store, game_id).count("hand_started") == 1

    subscriber = host.subscribe(live, players[1])  # an SSE stream: a player is back
    await wait_until(lambda: live.state.seq > ended, what="the next hand")
    assert stored_kinds(store, game_id).count("hand_started") == 2
    assert not live.parked
    host.unsubscribe(live, subscriber)


async def test_a_player_starting_the_hand_over_http_wakes_a_table_that_waited(
    make_host: HostFactory, store: ScriptedStore, clock: FakeClock
) -> None:
    """At a table that waits there is no hand to act in: `start` is how an HTTP player is back."""
    host = make_host(unattended_after_ms=5_000)
    live, players = await waiting_table(host, store, clock)
    await host.execute(live.game_id, Start(players[1]))
    assert stored_kinds(store, live.game_id).count("hand_started") == 2
    assert not live.parked


async def test_a_player_acting_over_http_keeps_the_table_dealing(
    make_host: HostFactory, store: ScriptedStore, clock: FakeClock
) -> None:
    """No connection at all, but a player acted within `unattended_after`: that counts."""
    host = make_host(unattended_after_ms=5_000)
    game_id, _ = await started_table(host, actionTimeoutMs=30_000, nextHandDelayMs=1_000)
    live = await host.get(game_id)
    clock.advance(4_000)
    await host.execute(game_id, Act(to_act(live), "fold"))  # ends the hand heads-up
    ended = live.state.seq
    clock.advance(1_000)
    await wait_until(lambda: live.state.seq > ended, what="the next hand")
    assert stored_kinds(store, game_id).count("hand_started") == 2


async def test_a_connection_closed_lately_still_counts_as_there(
    make_host: HostFactory, clock: FakeClock
) -> None:
    host = make_host(unattended_after_ms=5_000)
    game_id, players = await started_table(host, actionTimeoutMs=30_000)
    live = await host.get(game_id)
    subscriber = host.subscribe(live, players[0])
    clock.advance(60_000)
    assert live.attended(clock(), 5_000)  # connected now, whatever the last command
    host.unsubscribe(live, subscriber)
    clock.advance(4_999)
    assert live.attended(clock(), 5_000)
    clock.advance(1)
    assert not live.attended(clock(), 5_000)


async def test_a_game_past_its_event_budget_is_completed_with_a_reason(
    make_host: HostFactory, store: ScriptedStore
) -> None:
    host = make_host(max_events_per_game=12)
    game_id, players = await started_table(host)
    live = await host.get(game_id)
    while live.state.status != "completed":
        player = to_act(live)
        legal = {a["type"] for a in live.state.view(player)["you"]["legalActions"]}
        kind = "check" if "check" in legal else "call"
        outcome = await host.execute(
            game_id, Act(player, kind), action_id=f"{player}:{kind}{live.state.seq}"
        )
        # The action's own seq, not the game_completed the budget added after it.
        assert store.stored(game_id)[outcome.seq - 1][1] != "game_completed"
    # Sent again: the same answer (what the duplicate filter remembered).
    again = await host.execute(
        game_id, Act(player, kind), action_id=f"{player}:{kind}{outcome.seq - len(outcome.events)}"
    )
    assert (again.seq, again.duplicate) == (outcome.seq, True)
    kinds = stored_kinds(store, game_id)
    assert kinds[-1] == "game_completed"
    assert store.stored(game_id)[-1][2] == {"reason": "event_limit"}
    # Completed right after the command that crossed the budget (a command may add a few events).
    assert 12 < len(kinds) < 12 + 8
    with pytest.raises(ApiError) as refused:
        await host.execute(game_id, Act(players[0], "check"))
    assert refused.value.code == ErrorCode.GAME_COMPLETED


async def test_a_claim_taken_while_its_game_loads_is_not_lost(make_host: HostFactory) -> None:
    """A reconnect that won the seat while the game was being loaded again: the load may have
    read the claims before the win was stored, and must not bring the older claim back."""

    class SlowLoad(ScriptedStore):
        def __init__(self) -> None:
            super().__init__()
            self.gate = asyncio.Event()

        async def load(self, game_id: str) -> StoredLog:
            found = await super().load(game_id)  # read now, handed over later
            await self.gate.wait()
            return found

    store = SlowLoad()
    host = make_host(on=store)
    game_id, players = await new_table(host)
    old = await host.get(game_id)
    host.forget(game_id)
    loading = asyncio.create_task(host.get(game_id))
    await settle()
    host.note_claim(old, players[0], "won-meanwhile")
    store.gate.set()
    reloaded = await loading
    assert reloaded is not old
    assert reloaded.claims[players[0]] == "won-meanwhile"
