"""Regressions of the review fixes, at the `GameHost`:

- `delete` deletes in the store first: a store that is down leaves the game as it was;
- a game dropped from memory while its writes are queued is not loaded from the (stale) store;
- the warm-up retries while the store is down, so the clocks of games in play still fire;
- after a load, a game's last activity is its last stored write (not the load);
- `reading` waits for an in-flight commit.
"""

from __future__ import annotations

import asyncio

import pytest

from rejoin_protocol.errors import ErrorCode
from rejoin_server.errors import CodedError, GameNotFound, StorageUnavailable
from rejoin_server.games.base import Act, Start
from rejoin_server.host.host import GameHost
from rejoin_server.host.live import LiveGame, Subscriber

from .scripted_store import ScriptedStore
from .support import FakeClock, HostFactory, new_table, started_table, to_act
from .waiting import wait_until


def passive(live: LiveGame) -> Act:
    """Check if the player to act may, else call."""
    player = to_act(live)
    types = {a["type"] for a in live.state.view(player)["you"]["legalActions"]}
    return Act(player, "check" if "check" in types else "call")


def ended(subscriber: Subscriber) -> bool:
    return subscriber.end is not None


def stored_kinds(store: ScriptedStore, game_id: str) -> list[str]:
    return [kind for _, kind, _ in store.stored(game_id)]


# --- 5. delete stores first ----------------------------------------------------------------------


@pytest.mark.parametrize("failing", ["get_game", "delete_game"])
async def test_delete_with_the_store_down_leaves_the_game_loaded_and_playable(
    host: GameHost, store: ScriptedStore, failing: str
) -> None:
    """Before the fix `delete` dropped the game from memory (clock stopped, streams closed) and
    only then asked the store, which failed: a game nobody deleted was gone from memory."""
    game_id, _ = await started_table(host)
    live = host.loaded(game_id)
    assert live is not None
    assert live.timer is not None  # its action clock runs
    subscriber = host.subscribe(live, "p0")
    if failing == "get_game":
        store.fail_get_game_next(1)
    else:
        store.fail_delete_next(1)

    with pytest.raises(StorageUnavailable):
        await host.delete(game_id)
    assert host.loaded(game_id) is live
    assert live.timer is not None
    assert not ended(subscriber)  # its stream was not ended
    outcome = await host.execute(game_id, passive(live), action_id="after-a-failed-delete")
    assert outcome.durable
    assert store.stored_seqs(game_id) == list(range(1, outcome.seq + 1))
    assert subscriber.queue.qsize() == len(outcome.events)

    deleted = await host.delete(game_id)  # the store is back
    assert deleted.events == outcome.seq
    assert host.loaded(game_id) is None
    assert ended(subscriber)  # the stream is ended now
    assert store.stored(game_id) == []
    with pytest.raises(GameNotFound):
        await host.get(game_id)


# --- 6. no load while the game's writes are queued ----------------------------------------------


async def test_a_game_dropped_with_writes_queued_is_not_loaded_until_they_are_stored(
    host: GameHost, store: ScriptedStore
) -> None:
    """Before the fix the game loaded at once from the store, which lacked the queued events:
    players' seqs were reused and the queued writes then conflicted (a fork)."""
    game_id, _ = await started_table(host)
    live = host.loaded(game_id)
    assert live is not None
    store.down = True
    outcome = await host.execute(game_id, passive(live))
    assert not outcome.durable
    assert host.writer.has_pending(game_id)
    assert store.stored_seqs(game_id)[-1] < outcome.seq
    host.forget(game_id)  # evicted, or lost its place in memory
    loads = store.loads

    # storage_unavailable (as `StorageUnavailable`, or an `ApiError` with its code)
    with pytest.raises(CodedError) as caught:
        await host.get(game_id)
    assert caught.value.code == ErrorCode.STORAGE_UNAVAILABLE
    assert host.loaded(game_id) is None
    assert store.loads == loads  # the stale store was not even read

    store.down = False
    await wait_until(lambda: not host.writer.has_pending(game_id), what="the queue to drain")
    reloaded = await host.get(game_id)
    assert reloaded is not live
    assert reloaded.state.seq == outcome.seq  # every event, the queued ones included
    assert store.stored_seqs(game_id) == list(range(1, outcome.seq + 1))
    after = await host.execute(game_id, passive(reloaded))
    assert after.events[0].seq == outcome.seq + 1
    assert store.stored_seqs(game_id) == list(range(1, after.seq + 1))


# --- 8. the warm-up retries ----------------------------------------------------------------------


async def test_the_warm_up_retries_until_the_store_answers_and_the_clock_fires(
    make_host: HostFactory, store: ScriptedStore, clock: FakeClock
) -> None:
    """Before the fix one failed `list_games` ended the warm-up: a game in play stayed unloaded
    and its action clock never fired until someone touched the game."""
    before = make_host()
    game_id, _ = await started_table(before, actionTimeoutMs=1_000)
    seq = (await before.get(game_id)).state.seq
    await before.stop()  # the server goes down …
    clock.advance(5_000)  # … past the action deadline

    store.fail_list_games_next(2)
    after = make_host()
    after.start()
    # The warm-up's retry delay (0.1 s, doubling) is not a module constant: ~0.3 s here.
    await wait_until(
        lambda: after.loaded(game_id) is not None, timeout_s=5.0, what="the warm-up to load it"
    )
    assert store.list_games_calls == 3
    await wait_until(lambda: "timeout" in stored_kinds(store, game_id)[seq:], what="the clock")
    assert stored_kinds(store, game_id)[seq:].count("timeout") == 1


# --- last activity after a load -----------------------------------------------------------------


async def test_after_a_load_the_last_activity_is_the_last_stored_write(
    host: GameHost, clock: FakeClock
) -> None:
    """Before the fix a load counted as activity: every restart (or eviction and reload) gave an
    abandoned game a fresh allowance, so it was never abandoned while it kept being touched."""
    game_id, _ = await new_table(host)
    written_at = clock.now
    clock.advance(3_600_000)
    host.forget(game_id)
    live = await host.get(game_id)
    assert live.last_activity_ms == written_at


# --- reading waits for a commit ------------------------------------------------------------------


async def test_reading_waits_for_an_in_flight_commit(host: GameHost, store: ScriptedStore) -> None:
    game_id, _ = await new_table(host)
    live = host.loaded(game_id)
    assert live is not None
    committed = live.state.seq
    store.block(game_id)
    start = asyncio.create_task(host.execute(game_id, Start("p0")))
    await wait_until(lambda: store.held(game_id) == 1, what="the deal's append to be held")
    assert live.state.seq > committed  # applied in memory, not stored

    async def read() -> tuple[int, list[int]]:
        async with host.reading(live) as game:
            return game.seq, store.stored_seqs(game_id)

    reader = asyncio.create_task(read())
    done, _ = await asyncio.wait([reader], timeout=0.05)
    assert not done, reader.result()
    store.release(game_id)
    outcome = await start
    seq, stored = await reader
    assert seq == outcome.seq
    assert stored[-1] == seq


async def test_events_after_on_a_fresh_load_with_a_command_in_flight(
    host: GameHost, store: ScriptedStore
) -> None:
    """A freshly loaded game holds no events in memory; a command in flight has applied events
    nobody may see yet. Replay must serve the published ones from the store, not fail for want of
    the unpublished ones."""
    game_id, _ = await started_table(host)
    host.forget(game_id)
    live = await host.get(game_id)
    published = live.state.seq
    store.block(game_id)
    command = asyncio.create_task(host.execute(game_id, Act(to_act(live), "call")))
    await wait_until(lambda: store.held(game_id) == 1, what="the action's append to be held")
    assert live.state.seq > published, "the command applied its events in memory"

    events = await host.events_after(live, 0)

    assert [event.seq for event in events] == list(range(1, published + 1))
    store.release(game_id)
    outcome = await command
    assert outcome.seq == live.state.seq


async def test_a_command_whose_caller_is_cancelled_mid_commit_still_completes(
    host: GameHost, store: ScriptedStore
) -> None:
    """Found in review: a WebSocket closing while its action committed cancelled `execute` after
    the events were applied in memory but before they were published and the actionId kept. The
    game then stood ahead of every reader (a hole at the next publish), and the resent action
    applied a second time."""
    game_id, players = await new_table(host)
    live = await host.get(game_id)
    await host.execute(game_id, Start(players[0]))
    store.block(game_id)
    acting = asyncio.ensure_future(host.execute(game_id, Act(to_act(live), "call"), action_id="a1"))
    await wait_until(lambda: store.held(game_id) == 1, what="the commit to be under way")
    acting.cancel()
    await asyncio.sleep(0)
    store.release(game_id)
    await wait_until(lambda: live.published_seq == live.state.seq, what="the events published")
    assert acting.cancelled()
    assert live.actions.get("a1") == live.state.seq
    again = await host.execute(game_id, Act(players[0], "call"), action_id="a1")
    assert again.duplicate
    assert again.seq == live.state.seq
