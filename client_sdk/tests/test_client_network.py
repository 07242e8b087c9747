"""`network_changed`: the platform's word that the network went away or came back (a browser's
`offline`/`online` events) drops the link at once and dials again at once."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from rejoin import GameClient, SessionState
from rejoin.http_api import post_json
from rejoin_protocol.backoff import BackoffPolicy
from rejoin_protocol.session import SessionConfig
from rejoin_protocol.session_outputs import StatusChanged
from rejoin_testkit.processes import ServerProcess


def status(client: GameClient) -> SessionState:
    """Read through a call, so that mypy does not carry a narrowing past `network_changed`."""
    return client.status


async def test_offline_drops_the_link_and_online_resumes_at_once_with_what_was_missed(
    server: ServerProcess,
) -> None:
    game_id = (await post_json(f"{server.url}/api/games", {"seats": 2}))["gameId"]
    # A backoff far longer than the test: only `network_changed(True)` can make alice dial.
    patient = SessionConfig(backoff=BackoffPolicy(first=60.0, cap=60.0))
    alice = GameClient(server.url, game_id, config=patient)
    bob = GameClient(server.url, game_id)
    await alice.join("alice")
    await bob.join("bob")
    await asyncio.wait_for(alice.connect(), 10)
    await asyncio.wait_for(bob.connect(), 10)
    changes: list[StatusChanged] = []
    alice.on_status(changes.append)

    alice.network_changed(False)
    assert status(alice) is SessionState.BACKING_OFF
    assert changes[-1].reason == "the network went offline"
    # Events happen while alice is away.
    await post_json(f"{server.url}/api/game/{game_id}/start", {}, bearer=bob.session_token)
    async with asyncio.timeout(10):
        async for item in bob.events():
            if item["kind"] == "hole_cards" and item["data"].get("cards"):
                break
    missed_up_to = bob.seq
    assert missed_up_to is not None

    alice.network_changed(True)
    # Dialled now, not after the backoff (a backoff that drew a short delay may have dialled
    # already: either way it is not waiting any more).
    assert status(alice) in (SessionState.CONNECTING, SessionState.HANDSHAKING)
    seqs: list[int] = []
    async with asyncio.timeout(10):
        async for item in alice.events():
            seqs.append(item["seq"])
            if item["seq"] >= missed_up_to:
                break
    assert status(alice) is SessionState.CONNECTED
    assert seqs == list(range(seqs[0], missed_up_to + 1))
    resume = alice.last_resume
    assert resume is not None
    assert resume.missed >= 1
    await alice.close()
    await bob.close()
    # After the close the client ignores the network.
    alice.network_changed(True)
    assert status(alice) is SessionState.CLOSED


async def test_a_wake_up_already_due_when_armed_is_scheduled_not_refused(
    server: ServerProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pyodide's event loop refuses `call_at` with a time already past (CPython's runs it at
    once). A backoff of ~0 s is past by the time the client arms its timer; a client that
    used `call_at` stopped there for good, stuck reconnecting (seen in the browser)."""
    loop = asyncio.get_running_loop()
    assert isinstance(loop, asyncio.BaseEventLoop)

    def call_at(when: float, callback: Any, *args: Any, context: Any = None) -> Any:
        if when < loop.time():
            raise ValueError("Can't schedule in the past")
        return asyncio.BaseEventLoop.call_at(loop, when, callback, *args, context=context)

    def call_later(delay: float, callback: Any, *args: Any, context: Any = None) -> Any:
        if delay < 0:
            raise ValueError("Can't schedule in the past")
        return asyncio.BaseEventLoop.call_at(
            loop, loop.time() + delay, callback, *args, context=context
        )

    monkeypatch.setattr(loop, "call_at", call_at)
    monkeypatch.setattr(loop, "call_later", call_later)
    game_id = (await post_json(f"{server.url}/api/games", {"seats": 2}))["gameId"]
    instant = SessionConfig(backoff=BackoffPolicy(first=1e-9, cap=1e-9))
    client = GameClient(server.url, game_id, config=instant)
    await client.join("alice")
    await asyncio.wait_for(client.connect(), 10)
    welcomed = asyncio.Event()

    def on_status(change: StatusChanged) -> None:
        if change.current is SessionState.CONNECTED:
            welcomed.set()

    client.on_status(on_status)
    client.network_changed(False)  # backs off for ~1 ns: due before the timer is armed
    await asyncio.wait_for(welcomed.wait(), 10)
    await client.close()
