"""The host while a command's commit is in flight (its append held in the store): `reading` waits
for the commit; a replay serves only published events; a command whose caller is cancelled
mid-commit still completes."""

from __future__ import annotations

import asyncio

from rejoin_server.games.base import Act, Start
from rejoin_server.host.host import GameHost

from .scripted_store import ScriptedStore
from .support import new_table, started_table, to_act
from .waiting import wait_until


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
    """A WebSocket closing while its action commits cancels `execute` after the events were
    applied in memory but before they are published and the actionId kept. The commit must still
    complete: else the game stands ahead of every reader (a hole at the next publish), and the
    resent action applies a second time."""
    game_id, players = await new_table(host)
    live = await host.get(game_id)
    await host.execute(game_id, Start(players[0]))
    store.block(game_id)
    acting = asyncio.ensure_future(host.execute(game_id, Act(to_act(live), "call"), action_id="a1"))
    await wait_until(lambda: store.held(game_id) == 1, what="the commit to be under way")
    acting.cancel()
    await asyncio.sleep(0)
    store.release(game_id)
    await wait_until(
        lambda: live.marks.published_seq == live.state.seq, what="the events published"
    )
    assert acting.cancelled()
    assert live.actions.get("a1") == live.state.seq
    again = await host.execute(game_id, Act(players[0], "call"), action_id="a1")
    assert again.duplicate
    assert again.seq == live.state.seq
