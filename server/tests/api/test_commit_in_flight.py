"""HTTP requests while a game's commit is held in the store: a read (state, reconnect, events,
restore) waits for the commit and never shows events whose commit is in flight; under relaxed
durability `persist` waits for the game's queued writes.

Requests that must stay open behind a held commit run as tasks on the test's own loop
(`running_async`).
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from rejoin_server.host import writer as writer_module

from ..host.scripted_store import ScriptedStore
from ..host.waiting import wait_until
from .support import ADMIN_AUTH, Player, running_async

# How long a request that must wait is given to (wrongly) answer: a bound on a negative, so
# short; a wrong answer comes within a few loop turns.
MUST_WAIT_S = 0.2


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(writer_module, "FIRST_RETRY_S", 0.001)
    monkeypatch.setattr(writer_module, "MAX_RETRY_S", 0.002)


def hole_cards(view: dict[str, Any], player: Player) -> list[str] | None:
    seat = next(s for s in view["seats"] if s["playerId"] == player.player_id)
    cards: list[str] | None = seat["holeCards"]
    return cards


async def test_reads_wait_for_an_in_flight_commit_and_then_show_it() -> None:
    """No read answers from memory ahead of the store: showing the deal's seq and the player's
    hole cards while the deal's append has not returned would let a kill -9 lose events a client
    had seen."""
    store = ScriptedStore()
    async with running_async(store) as api:
        p0, p1 = await api.table(2)
        game_id = p0.game_id
        client = api.client
        committed = (await api.state(p1))["seq"]
        store.block(game_id)
        start = asyncio.create_task(client.post(f"/api/game/{game_id}/start", headers=p0.auth))
        await wait_until(lambda: store.held(game_id) == 1, what="the deal's append to be held")
        live = api.services.host.loaded(game_id)
        assert live is not None
        in_flight = live.state.seq  # applied in memory, not committed
        assert in_flight > committed
        assert store.stored_seqs(game_id)[-1] == committed

        base = f"/api/game/{game_id}"
        reads = {
            "state": client.get(f"{base}/state", headers=p1.auth),
            # p0's: a reconnect wins the seat anew, so p1's session token would race it.
            "reconnect": client.post(
                f"{base}/reconnect",
                json={"playerId": p0.player_id, "reconnectToken": p0.reconnect, "lastSeq": 0},
            ),
            "events": client.get(
                f"{base}/events?after=0", headers={**p1.auth, "Accept": "application/json"}
            ),
            "admin restore": client.get(f"{base}/restore", headers=ADMIN_AUTH),
            "player restore": client.get(f"{base}/restore", headers=p1.auth),
        }
        tasks = {name: asyncio.create_task(call) for name, call in reads.items()}
        done, _ = await asyncio.wait(tasks.values(), timeout=MUST_WAIT_S)
        leaked = {name: t.result().json() for name, t in tasks.items() if t in done}
        assert not leaked, f"answered while the deal's commit was in flight: {leaked}"

        store.release(game_id)
        started = await start
        assert started.status_code == 200, started.text
        assert started.json()["seq"] == in_flight
        answers: dict[str, httpx.Response] = {n: await t for n, t in tasks.items()}
        for name, reply in answers.items():
            assert reply.status_code == 200, (name, reply.text)
        assert store.stored_seqs(game_id) == list(range(1, in_flight + 1))

        state = answers["state"].json()
        assert state["seq"] == in_flight
        cards = hole_cards(state["gameState"], p1)
        assert cards is not None
        assert len(cards) == 2
        assert hole_cards(state["gameState"], p0) is None
        reconnect = answers["reconnect"].json()
        assert reconnect["seq"] == in_flight
        assert [e["seq"] for e in reconnect["missedEvents"]] == list(range(1, in_flight + 1))
        mine = hole_cards(reconnect["gameState"], p0)  # p0's own view: its cards of the deal
        assert mine is not None
        assert len(mine) == 2
        assert hole_cards(reconnect["gameState"], p1) is None
        events = answers["events"].json()
        assert events["seq"] == in_flight
        assert [e["seq"] for e in events["events"]] == list(range(1, in_flight + 1))
        assert answers["admin restore"].json()["version"] == in_flight
        assert answers["player restore"].json()["version"] == in_flight


async def test_a_read_waiting_for_a_commit_never_shows_the_uncommitted_deal() -> None:
    """The same, checked from the reader's side at the moment it answers: whatever it shows is in
    the store already (never p1's hole cards of a deal not stored yet)."""
    store = ScriptedStore()
    async with running_async(store) as api:
        p0, p1 = await api.table(2)
        game_id = p0.game_id
        store.block(game_id)
        start = asyncio.create_task(api.start(p0))
        await wait_until(lambda: store.held(game_id) == 1, what="the deal's append to be held")
        seen: list[tuple[int, list[int]]] = []

        async def read() -> None:
            reply = await api.client.get(f"/api/game/{game_id}/state", headers=p1.auth)
            seen.append((reply.json()["seq"], store.stored_seqs(game_id)))

        reader = asyncio.create_task(read())
        await asyncio.wait([reader], timeout=MUST_WAIT_S)
        store.release(game_id)
        await start
        await reader
        [(seq, stored_then)] = seen
        assert seq in stored_then, f"seq {seq} was shown while the store held {stored_then}"


async def test_relaxed_persist_waits_for_the_games_queued_writes() -> None:
    """`persist` waits for the queue instead of answering storage_unavailable (503) whenever a
    relaxed game has writes queued, i.e. right after almost any command, with the store
    healthy."""
    store = ScriptedStore()
    async with running_async(store, durability="relaxed") as api:
        p0, _ = await api.table(2)
        game_id = p0.game_id
        host = api.services.host
        await wait_until(lambda: not host.writer.has_pending(game_id), what="the joins stored")
        store.block(game_id)  # a slow but healthy store
        started = await api.start(p0)  # relaxed: answered before it is stored
        assert host.writer.has_pending(game_id)

        persist = asyncio.create_task(
            api.client.post(f"/api/game/{game_id}/persist", headers=p0.auth)
        )
        done, _ = await asyncio.wait([persist], timeout=MUST_WAIT_S)
        if done:
            reply = persist.result()
            pytest.fail(
                f"persist answered while the queue was held: {reply.status_code} {reply.text}"
            )
        store.release(game_id)
        reply = await persist
        assert reply.status_code == 200, reply.text
        assert reply.json()["version"] == started["seq"]
        assert store.stored_seqs(game_id) == list(range(1, started["seq"] + 1))
        snapshot = (await store.load(game_id)).snapshots[0]
        assert snapshot.version == started["seq"]
