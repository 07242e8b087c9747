"""`GameClient` against a real server that is SIGKILLed and restarted mid-hand.

Two clients sit at a heads-up table and play over the WebSocket (or over SSE and HTTP); the server
dies with kill -9; one client requests an action while it is disconnected; the server comes back
on the same port.
The clients must resume by themselves, the offline action must be applied exactly once, and each
client's events must equal, one for one, what the server's event log gives that player.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rejoin import FileTokenStore, GameClient, MemoryTokenStore, SessionFailedError, SessionState
from rejoin.transport import Transport
from rejoin_protocol.messages import ActionType
from rejoin_protocol.session import SessionConfig
from rejoin_protocol.session_outputs import StatusChanged
from rejoin_testkit.api import Api
from rejoin_testkit.processes import ServerProcess

WAIT_S = 30.0  # an upper bound for hangs, never a measure of anything


@pytest.fixture
def api(server: ServerProcess) -> Iterator[Api]:
    """The HTTP driver for what the test does beside its clients (create, deal, read the log)."""
    driver = Api(server.url)
    yield driver
    driver.close()


def server_events(api: Api, client: GameClient) -> list[dict[str, Any]]:
    """The server's log as `client`'s player may read it."""
    answer = api.events(client.game_id, client.session_token, after=0).ok(200)
    events: list[dict[str, Any]] = answer["events"]
    return events


async def to_act(clients: list[GameClient]) -> tuple[GameClient, ActionType]:
    """The client whose turn it is and a passive legal action (check, else call)."""
    for client in clients:
        view = await client.fetch_state()
        if view["toAct"] == client.seat:
            legal = {action["type"] for action in view["you"]["legalActions"]}
            return client, "check" if "check" in legal else "call"
    raise AssertionError("nobody is to act")


async def collect(
    client: GameClient, into: list[dict[str, Any]], arrived: asyncio.Condition
) -> None:
    async for event in client.events():
        async with arrived:
            into.append(event)
            arrived.notify_all()


async def caught_up(arrived: asyncio.Condition, events: list[Any], count: int) -> None:
    async with asyncio.timeout(WAIT_S), arrived:
        await arrived.wait_for(lambda: len(events) >= count)


@pytest.mark.parametrize(
    ("transport", "runs_over"), [("auto", "websocket"), ("websocket", "websocket"), ("sse", "sse")]
)
async def test_clients_resume_after_kill9_with_every_event_once(
    server: ServerProcess, api: Api, tmp_path: Path, transport: Transport, runs_over: str
) -> None:
    game = api.create_game(seats=2, actionTimeoutMs=600_000, autoNextHand=False).ok(201)
    game_id = game["gameId"]
    # A short silence timeout would only make the test slower to notice a hang, not faster.
    config = SessionConfig()
    alice = GameClient(
        server.url,
        game_id,
        store=FileTokenStore(tmp_path / "a.json"),
        config=config,
        transport=transport,
    )
    bob = GameClient(
        server.url, game_id, store=MemoryTokenStore(), config=config, transport=transport
    )
    clients = [alice, bob]
    seen: dict[str, list[dict[str, Any]]] = {"alice": [], "bob": []}
    offline = {"alice": asyncio.Event(), "bob": asyncio.Event()}
    back = {"alice": asyncio.Event(), "bob": asyncio.Event()}
    arrived = asyncio.Condition()
    for name, client in zip(seen, clients, strict=True):
        await client.join(name)

        def track(change: StatusChanged, name: str = name) -> None:
            if change.current is SessionState.BACKING_OFF:
                offline[name].set()
            elif change.current is SessionState.CONNECTED and offline[name].is_set():
                back[name].set()

        client.on_status(track)
        await client.connect()
    collectors = [
        asyncio.create_task(collect(client, seen[name], arrived))
        for name, client in zip(seen, clients, strict=True)
    ]
    assert alice.last_resume is not None
    assert alice.last_resume.outage is None
    assert alice.last_resume.transport == runs_over
    assert [client.transport for client in clients] == [runs_over, runs_over]

    api.start(game_id, alice.session_token).ok(200)
    acted = 0
    for _ in range(3):  # preflop call and check, a check on the flop
        actor, action = await to_act(clients)
        result = await actor.act(action)
        assert not result.duplicate
        acted += 1

    actor, action = await to_act(clients)
    server.kill9()
    async with asyncio.timeout(WAIT_S):
        for event in offline.values():
            await event.wait()
    offline_act = asyncio.create_task(actor.act(action))
    await asyncio.sleep(0)  # let act() queue the action while there is no connection
    assert actor.status is not SessionState.CONNECTED

    await asyncio.to_thread(server.restart)
    api.reset()  # its pooled connections died with the server
    result = await asyncio.wait_for(offline_act, WAIT_S)
    acted += 1
    async with asyncio.timeout(WAIT_S):
        for event in back.values():
            await event.wait()

    next_actor, next_action = await to_act(clients)
    await next_actor.act(next_action)  # the live stream works after the resume too
    acted += 1

    for name, client in zip(seen, clients, strict=True):
        expected = server_events(api, client)
        await caught_up(arrived, seen[name], len(expected))
        assert seen[name] == expected, name
        assert [e["seq"] for e in seen[name]] == list(range(1, len(expected) + 1))
        resume = client.last_resume
        assert resume is not None
        assert resume.outage is not None
        assert resume.outage > 0
        assert not resume.resync
        assert resume.transport == runs_over  # auto: a restart is no reason to leave the WebSocket

    log = server_events(api, actor)
    # The ack's seq is the last event the action produced (a street may follow its `action`).
    applied = [e for e in log if e["kind"] == "action" and e["seq"] <= result.seq][-1]
    assert applied["data"] == {**applied["data"], "seat": actor.seat, "type": action}
    assert sum(e["kind"] == "action" for e in log) == acted  # each act() took effect once

    # The file store holds what the client would resume from next time.
    saved = FileTokenStore(tmp_path / "a.json").load(game_id)
    assert saved is not None
    assert saved.last_seq == alice.seq

    for client in clients:
        await client.close()
    await asyncio.gather(*collectors)


@pytest.mark.parametrize("transport", ["auto", "sse"])
async def test_a_spent_token_fails_connect_and_act_with_the_servers_code(
    server: ServerProcess, api: Api, transport: Transport
) -> None:
    game_id = api.create_game(seats=2).ok(201)["gameId"]
    store = MemoryTokenStore()
    first = GameClient(server.url, game_id, store=store)
    joined = await first.join("alice")
    await first.connect()  # spends the joined token
    # Another device with the old token (and its own client id) is refused for good.
    stale = MemoryTokenStore()
    stale.save(joined.with_changes(client_id="another-device"))
    second = GameClient(server.url, game_id, store=stale, transport=transport)
    # The server answers seat_conflict while the seat's holder is connected (docs/protocol.md:
    # concurrent attempts), token_reused otherwise; both are refusals retrying cannot fix.
    refusals = {"seat_conflict", "token_reused"}
    with pytest.raises(SessionFailedError) as failed_connect:
        await second.connect()
    assert failed_connect.value.code in refusals
    with pytest.raises(SessionFailedError) as failed_act:
        await second.act("check")
    assert failed_act.value is failed_connect.value
    assert first.status is SessionState.CONNECTED  # the holder keeps its seat
    await first.close()
    await second.close()
