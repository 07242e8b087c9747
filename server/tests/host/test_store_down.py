"""The host while its store is down: a `delete` that cannot reach the store leaves the game as it
was; a game dropped from memory while its writes are queued is not loaded from the (stale) store;
the warm-up retries until the store answers, so the clocks of games in play still fire."""

from __future__ import annotations

import pytest

from rejoin_protocol.errors import ErrorCode
from rejoin_server.errors import CodedError, GameNotFound, StorageUnavailable
from rejoin_server.games.base import Act
from rejoin_server.host.host import GameHost
from rejoin_server.host.live import LiveGame, Subscriber

from .scripted_store import ScriptedStore
from .support import FakeClock, HostFactory, started_table, to_act
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


@pytest.mark.parametrize("failing", ["get_game", "delete_game"])
async def test_delete_with_the_store_down_leaves_the_game_loaded_and_playable(
    host: GameHost, store: ScriptedStore, failing: str
) -> None:
    """`delete` asks the store first: dropping the game from memory (clock stopped, streams
    closed) before a store that then fails would leave a game nobody deleted gone from memory."""
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


async def test_a_game_dropped_with_writes_queued_is_not_loaded_until_they_are_stored(
    host: GameHost, store: ScriptedStore
) -> None:
    """Loading at once from the store, which lacks the queued events, would reuse players' seqs
    and make the queued writes conflict (a fork): the game waits for its queue instead."""
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


async def test_the_warm_up_retries_until_the_store_answers_and_the_clock_fires(
    make_host: HostFactory, store: ScriptedStore, clock: FakeClock
) -> None:
    """One failed `list_games` must not end the warm-up: a game in play would stay unloaded and
    its action clock would not fire until someone touched the game."""
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
