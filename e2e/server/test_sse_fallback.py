"""`transport="auto"` behind a real HAProxy that refuses WebSocket upgrades (as corporate and hotel
proxies do), in front of a real server: the SDK falls back to SSE and HTTP actions, plays, and
survives a kill -9 and restart of the server with every event once and an action sent during the
outage applied once; a second client of the same server goes straight to SSE (the process's
`TransportMemory`). HAProxy missing fails the test (`rejoin_testkit.haproxy`), never skips it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from rejoin import GameClient, SessionState
from rejoin.auto_link import REMEMBERED
from rejoin_protocol.messages import ActionType
from rejoin_testkit.api import Api
from rejoin_testkit.haproxy import start_proxy
from rejoin_testkit.processes import ServerProcess

WAIT_S = 30.0  # an upper bound for hangs, never a measure of anything
NO_UPGRADES = "http-request deny deny_status 403 if { hdr(upgrade) -i websocket }"


def memory_key(proxy: ServerProcess) -> str:
    """The server as `AutoLink` names it in the process-wide memory of SSE choices."""
    return proxy.url.replace("http://", "ws://", 1)


@pytest.fixture
def blocking_proxy(server: ServerProcess, tmp_path: Path) -> Iterator[ServerProcess]:
    """A proxy refusing WebSocket upgrades. `REMEMBERED` (process-wide) forgets its address before
    (an earlier test's proxy may have had this port) and after (a later test's may have it)."""
    proxy, config = start_proxy(tmp_path, [server.url], frontend_rules=[NO_UPGRADES])
    REMEMBERED.forget(memory_key(proxy))
    try:
        assert NO_UPGRADES in config
        proxy.wait_ready()
        yield proxy
    finally:
        REMEMBERED.forget(memory_key(proxy))
        proxy.cleanup()


async def to_act(clients: list[GameClient]) -> tuple[GameClient, ActionType]:
    """The client whose turn it is and a passive legal action (check, else call)."""
    for client in clients:
        view = await client.fetch_state()
        if view["toAct"] == client.seat:
            legal = {action["type"] for action in view["you"]["legalActions"]}
            return client, "check" if "check" in legal else "call"
    raise AssertionError("nobody is to act")


class Seen:
    """The events each client's `events()` gave, with a condition to wait on."""

    def __init__(self, clients: list[GameClient]) -> None:
        self.events: dict[int, list[dict[str, Any]]] = {id(client): [] for client in clients}
        self._arrived = asyncio.Condition()
        self.tasks = [asyncio.create_task(self._collect(client)) for client in clients]

    async def _collect(self, client: GameClient) -> None:
        async for event in client.events():
            async with self._arrived:
                self.events[id(client)].append(event)
                self._arrived.notify_all()

    async def of(self, client: GameClient, count: int) -> list[dict[str, Any]]:
        """`client`'s events once it has `count` of them."""
        into = self.events[id(client)]
        async with asyncio.timeout(WAIT_S), self._arrived:
            await self._arrived.wait_for(lambda: len(into) >= count)
        return into


def auto_link_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "rejoin.auto_link"]


async def seat_two(
    proxy: ServerProcess, api: Api, caplog: pytest.LogCaptureFixture
) -> list[GameClient]:
    """Alice finds SSE after the WebSocket is refused; Bob, a moment later, goes straight to it."""
    game_id = api.create_game(seats=2, actionTimeoutMs=600_000, autoNextHand=False).ok(201)
    alice = GameClient(proxy.url, game_id["gameId"])  # transport="auto", the default
    await alice.join("alice")
    await asyncio.wait_for(alice.connect(), WAIT_S)
    assert alice.transport == "sse"
    tried = auto_link_lines(caplog)
    assert any("websocket attempt lost" in line for line in tried), tried
    # Remembered once the probe that followed the fallback was refused too (the proxy's 403).
    async with asyncio.timeout(WAIT_S):
        while not REMEMBERED.prefers_sse(memory_key(proxy)):  # noqa: ASYNC110 - no event to wait on
            await asyncio.sleep(0.01)

    caplog.clear()
    bob = GameClient(proxy.url, alice.game_id)
    await bob.join("bob")
    await asyncio.wait_for(bob.connect(), WAIT_S)
    assert bob.transport == "sse"
    # No WebSocket attempt at all (only the probe that asks again once it is welcomed).
    assert not [line for line in auto_link_lines(caplog) if "attempt lost" in line]
    return [alice, bob]


async def test_auto_falls_back_to_sse_behind_a_proxy_refusing_upgrades_and_remembers(
    server: ServerProcess, blocking_proxy: ServerProcess, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="rejoin.auto_link")
    proxy = blocking_proxy
    with pytest.raises(InvalidStatus) as refused:  # the network really refuses the upgrade
        async with connect(f"{proxy.url.replace('http', 'ws', 1)}/api/game/g/ws"):
            pass
    assert refused.value.response.status_code == 403

    api = Api(proxy.url)
    try:
        clients = await seat_two(proxy, api, caplog)
        seen = Seen(clients)
        game_id = clients[0].game_id
        api.start(game_id, clients[0].session_token).ok(200)
        acted = 0
        for _ in range(2):
            actor, action = await to_act(clients)
            assert not (await asyncio.wait_for(actor.act(action), WAIT_S)).duplicate
            acted += 1

        # kill -9 behind the proxy (which stays up, answering 503 meanwhile); an action is
        # requested during the outage.
        actor, action = await to_act(clients)
        down = asyncio.Event()
        actor.on_status(
            lambda change: down.set() if change.current is SessionState.BACKING_OFF else None
        )
        server.kill9()
        await asyncio.wait_for(down.wait(), WAIT_S)
        offline_act = asyncio.create_task(actor.act(action))
        await asyncio.to_thread(server.restart)
        result = await asyncio.wait_for(offline_act, WAIT_S)
        api.reset()
        next_actor, next_action = await to_act(clients)
        await asyncio.wait_for(next_actor.act(next_action), WAIT_S)
        acted += 2

        for client in clients:
            log = api.events(game_id, client.session_token, after=0).ok(200)["events"]
            events = await seen.of(client, len(log))
            assert events == log, client.player_id
            assert [e["seq"] for e in events] == list(range(1, len(log) + 1))
            resume = client.last_resume
            assert resume is not None
            assert (client.transport, resume.transport) == ("sse", "sse")
        log = api.events(game_id, actor.session_token, after=0).ok(200)["events"]
        assert sum(e["kind"] == "action" for e in log) == acted  # each act() took effect once
        applied = [e for e in log if e["kind"] == "action" and e["seq"] <= result.seq][-1]
        assert applied["data"]["seat"] == actor.seat

        for client in clients:
            await client.close()
        await asyncio.gather(*seen.tasks)
    finally:
        api.close()
