"""A real `ClientSession` (inside `GameClient`) over the real SSE bridge and driver, against
scripted HTTP answers and a scripted event stream, on a clock that moves only when told:
events exactly once across a loss and a resume, an unanswered action resent with its id, an
ack held until its event, the server's close event ending the session, and the links' tasks
all ending."""

from __future__ import annotations

import asyncio
import json
from typing import Any, cast

import httpx
import pytest

from rejoin import GameClient, MemoryTokenStore, SavedSeat, SessionFailedError, SessionState
from rejoin.link import LinkListener
from rejoin.sse.link import SseLink
from rejoin_protocol.errors import CLOSE_SUPERSEDED
from rejoin_protocol.session_outputs import StatusChanged

from .scripted_link import ManualClock
from .scripted_sse import (
    ScriptedSseServer,
    acked,
    reconnect_answer,
    settle,
    sse_event,
)

SERVER = "http://game.test:8000"
GAME = "g1"
WAIT_S = 5.0  # a bound for hangs only: no real time passes in these tests
COLLECTING: set[asyncio.Future[None]] = set()  # the tasks reading events, held while they run


async def connected() -> tuple[GameClient, ScriptedSseServer, ManualClock, list[int]]:
    store = MemoryTokenStore()
    store.save(SavedSeat(GAME, "p1", "c1", "r1", "s0"))
    server, clock = ScriptedSseServer(), ManualClock()
    client = GameClient(SERVER, GAME, store=store, link_factory=server, clock=clock)
    connecting = asyncio.ensure_future(client.connect())
    await settle()
    call = server.link.answer("reconnect", 200, reconnect_answer(2, [1, 2], "r2", "s1"))
    assert call.url == f"{SERVER}/api/game/{GAME}/reconnect"
    assert call.body is not None
    assert (call.body["reconnectToken"], call.body["clientId"]) == ("r1", "c1")
    await asyncio.wait_for(connecting, WAIT_S)
    await settle()
    assert server.link.streams[0].url == f"{SERVER}/api/game/{GAME}/events?after=2"
    seen: list[int] = []

    async def collect() -> None:
        try:
            async for item in client.events():
                seen.append(item["seq"])
        except SessionFailedError:
            pass  # the test that makes the session fail checks it where it acts

    COLLECTING.add(asyncio.ensure_future(collect()))
    await settle()
    assert seen == [1, 2]  # replayed by the welcome
    return client, server, clock, seen


async def test_events_once_and_an_unanswered_action_resent_with_its_id_after_a_resume() -> None:
    client, server, clock, seen = await connected()
    first = server.link
    first.write(sse_event(3) + ": ping\n\n" + sse_event(4))
    await settle()
    assert seen == [1, 2, 3, 4]

    acting = asyncio.ensure_future(client.act("raise", 40))
    await settle()
    [(posted, _)] = first.pending
    assert posted.kind == "action"
    assert posted.bearer == "s1"
    assert posted.body is not None
    action_id = posted.body["actionId"]
    # The server applies it (event 5) but the stream dies before the answer comes back.
    first.end_stream()
    await settle()
    assert client.status is SessionState.BACKING_OFF
    assert first.task.done()
    assert first.released

    clock.advance(clock.pending[0] - clock.time())  # the backoff runs out: dial again
    await settle()
    second = server.link
    assert second is not first
    call = second.answer("reconnect", 200, reconnect_answer(5, [3, 4, 5], "r3", "s2"))
    assert call.body is not None
    assert (call.body["reconnectToken"], call.body["lastSeq"]) == ("r2", 4)
    await settle()
    # The session resends the action with the same id; the server says it is a duplicate.
    [(resent, _)] = second.pending
    assert resent.body is not None
    assert (resent.body["actionId"], resent.bearer) == (action_id, "s2")
    second.answer("action", 200, acked(5, duplicate=True))
    result = await asyncio.wait_for(acting, WAIT_S)
    assert (result.action_id, result.seq, result.duplicate) == (action_id, 5, True)
    assert seen == [1, 2, 3, 4, 5]
    assert second.streams[0].url.endswith("/events?after=5")

    # A new action's ack waits for its event on the stream.
    acting = asyncio.ensure_future(client.act("call"))
    await settle()
    second.answer("action", 200, acked(6))
    await settle()
    assert not acting.done()
    second.write(sse_event(6))
    result = await asyncio.wait_for(acting, WAIT_S)
    assert result.seq == 6
    assert seen == [1, 2, 3, 4, 5, 6]
    assert client.transport == "sse"
    await asyncio.wait_for(client.close(), WAIT_S)
    assert second.task.done()
    assert second.released


async def test_a_pushed_token_is_kept_and_used_for_the_next_action() -> None:
    client, server, _, _ = await connected()
    token = {"token": "r9", "expiresAt": "2030-01-02T00:00:00.000Z", "sessionToken": "s9"}
    server.link.write(f"event: token\ndata: {json.dumps(token)}\n\n")
    await settle()
    assert client.session_token == "s9"
    acting = asyncio.ensure_future(client.act("check"))
    await settle()
    assert server.link.pending[0][0].bearer == "s9"
    server.link.answer("action", 200, acked(2, duplicate=True))
    await asyncio.wait_for(acting, WAIT_S)
    await asyncio.wait_for(client.close(), WAIT_S)


@pytest.mark.parametrize("stream_stays_open", [True, False])
async def test_the_servers_close_event_ends_the_session_and_every_task(
    stream_stays_open: bool,
) -> None:
    client, server, _, _ = await connected()
    link = server.link
    data: dict[str, Any] = {"code": CLOSE_SUPERSEDED, "reason": "superseded", "message": "m"}
    link.write(f"event: close\ndata: {json.dumps(data)}\n\n")
    if not stream_stays_open:
        link.end_stream()
    await settle()
    assert client.status is SessionState.CLOSED
    with pytest.raises(SessionFailedError) as failed:
        await client.act("check")
    assert failed.value.close_code == CLOSE_SUPERSEDED
    # The stream that brought the close is not read any more, even if the server keeps it open.
    await asyncio.wait_for(client.close(), WAIT_S)
    assert link.task.done()
    assert link.released


async def test_a_reconnect_with_no_answer_backs_off_and_dials_again() -> None:
    store = MemoryTokenStore()
    store.save(SavedSeat(GAME, "p1", "c1", "r1", "s0"))
    server, clock = ScriptedSseServer(), ManualClock()
    client = GameClient(SERVER, GAME, store=store, link_factory=server, clock=clock)
    connecting = asyncio.ensure_future(client.connect())
    await settle()
    server.link.no_answer()
    await settle()
    assert client.status is SessionState.BACKING_OFF
    clock.advance(clock.pending[0] - clock.time())
    await settle()
    assert len(server.links) == 2
    server.link.answer("reconnect", 200, reconnect_answer(0, [], "r2", "s1"))
    await asyncio.wait_for(connecting, WAIT_S)
    await asyncio.wait_for(client.close(), WAIT_S)
    assert all(link.task.done() for link in server.links)


async def test_a_request_that_breaks_off_on_a_bug_is_a_loss_that_says_which() -> None:
    """Not the network (that is a request with no answer) but the link's own error: the session
    resumes, and the reason names the request, not the event stream."""
    client, server, _, _ = await connected()
    changes: list[StatusChanged] = []
    client.on_status(changes.append)
    acting = asyncio.ensure_future(client.act("check"))
    await settle()
    call, answer = server.link.pending.pop(0)
    assert call.body is not None
    answer.set_exception(RuntimeError("a bug"))
    await settle()
    assert client.status is SessionState.BACKING_OFF
    lost = changes[0]
    assert lost.current is SessionState.BACKING_OFF
    assert f"action {call.body['actionId']} failed: RuntimeError: a bug" in lost.reason
    acting.cancel()
    await asyncio.wait_for(client.close(), WAIT_S)


async def test_a_link_for_a_url_that_names_no_game_opens_no_http_client(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made: list[object] = []
    monkeypatch.setattr(httpx, "AsyncClient", lambda *args, **kwargs: made.append(args))
    listener = cast(LinkListener, object())  # not reached: the URL is refused first
    with pytest.raises(ValueError, match="is not a game's WebSocket URL"):
        SseLink("ws://game.test/not/a/game", 1, listener)
    assert made == []
