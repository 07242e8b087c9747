"""`GameClient` against a scripted server (`scripted_link`): what it sends, what it hands the
application and the store, on a clock the test moves. No network and no real time, so each test
runs in milliseconds; the same behaviour against real server processes is in test_client_*.py."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import pytest

from rejoin import (
    RESYNC,
    ActionAbandonedError,
    ActionRejectedError,
    ActionResult,
    ClientClosedError,
    GameClient,
    HttpApiError,
    MemoryTokenStore,
    NotJoinedError,
    SavedSeat,
    SessionFailedError,
    SessionState,
)
from rejoin_protocol.backoff import BackoffPolicy
from rejoin_protocol.messages import Ack, Error, Message, Ping, Presence, TokenMessage
from rejoin_protocol.session import SessionConfig

from .scripted_link import (
    GAME,
    PLAYER,
    TOKEN_EXPIRES,
    ManualClock,
    ScriptedServer,
    event,
    live,
    welcome,
)

SERVER_URL = "http://game.test:8000"
HANG_S = 5.0
T = TypeVar("T")
CONFIG = SessionConfig()
BACKOFF_CAP = BackoffPolicy().cap  # every backoff wait ends within this
assert CONFIG.silence_timeout > BACKOFF_CAP  # so waiting it out never trips the silence timer


@dataclass
class Rig:
    client: GameClient
    server: ScriptedServer
    clock: ManualClock
    store: MemoryTokenStore

    def status(self) -> SessionState:
        return self.client.status

    def saved(self) -> SavedSeat:
        seat = self.store.load(GAME)
        assert seat is not None
        return seat

    async def connect(self, *messages: Message | str) -> None:
        """`connect()`, the first link opens and the server answers with `messages`."""
        connecting = asyncio.ensure_future(self.client.connect())
        await asyncio.sleep(0)  # connect() runs until it waits for the welcome: it has dialled
        self.server.link.open()
        self.server.link.play(*messages)
        await within(connecting)

    def redial(self) -> None:
        """Wait out the backoff: the client dials again, and the new link opens."""
        dialled = len(self.server.links)
        self.clock.advance(BACKOFF_CAP)
        assert len(self.server.links) == dialled + 1
        self.server.link.open()


@pytest.fixture
def rig() -> Rig:
    store = MemoryTokenStore()
    store.save(SavedSeat(GAME, PLAYER, "c0", "t0", "s0"))
    server, clock = ScriptedServer(), ManualClock()
    client = GameClient(SERVER_URL, GAME, store=store, link_factory=server, clock=clock)
    return Rig(client, server, clock, store)


async def within(awaitable: Awaitable[T]) -> T:
    """`awaitable`, which the scripted server has already settled or is about to: a bound for a
    client that would hang instead of failing, never a measure of anything."""
    return await asyncio.wait_for(awaitable, HANG_S)


async def taken(client: GameClient) -> list[dict[str, Any]]:
    """Close the client and return every item its event stream still yields."""
    await client.close()
    return await within(_collect(client.events()))


async def _collect(stream: AsyncIterator[dict[str, Any]]) -> list[dict[str, Any]]:
    return [item async for item in stream]


# --- hello and welcome ------------------------------------------------------------------------


async def test_hello_resumes_the_saved_seat_and_the_welcome_ends_connect(rig: Rig) -> None:
    connecting = asyncio.ensure_future(rig.client.connect())
    await asyncio.sleep(0)
    link = rig.server.link
    assert link.url == "ws://game.test:8000/api/game/g1/ws"
    assert link.sent == []  # nothing before the transport opens
    link.open()
    assert link.sent == [
        {"type": "hello", "playerId": "p1", "token": "t0", "clientId": "c0", "lastSeq": 0,
         "protocol": 1},
    ]  # fmt: skip
    assert not connecting.done()
    link.play(welcome(2, missed=[1, 2], token="t1", session_token="s1", epoch="e7"))
    await within(connecting)
    client = rig.client
    assert client.status is SessionState.CONNECTED
    assert (client.seat, client.seq, client.state) == (1, 2, {"seq": 2, "seats": []})
    assert client.session_token == "s1"
    assert client.last_resume is not None
    assert (client.last_resume.seq, client.last_resume.missed) == (2, 2)
    saved = rig.saved()
    assert (saved.reconnect_token, saved.session_token, saved.epoch) == ("t1", "s1", "e7")


async def test_connect_without_a_saved_seat_is_not_joined() -> None:
    client = GameClient(SERVER_URL, GAME, link_factory=ScriptedServer(), clock=ManualClock())
    with pytest.raises(NotJoinedError):
        await client.connect()


async def test_a_ping_is_answered_with_its_t(rig: Rig) -> None:
    await rig.connect(welcome(0))
    rig.server.link.play(Ping(42))
    assert rig.server.link.sent[-1] == {"type": "pong", "t": 42}


# --- events -----------------------------------------------------------------------------------


async def test_events_reach_the_application_in_seq_order_each_once(rig: Rig) -> None:
    await rig.connect(welcome(2, missed=[1, 2]))
    rig.server.link.play(live(2), live(3), live(3), live(1), live(4))
    assert rig.client.seq == 4
    assert await taken(rig.client) == [event(n) for n in (1, 2, 3, 4)]


async def test_a_resync_is_an_item_of_the_stream_with_the_fresh_view(rig: Rig) -> None:
    await rig.connect(welcome(9, resync=True))
    assert rig.client.state == {"seq": 9, "seats": []}
    assert await taken(rig.client) == [
        {"seq": 9, "kind": RESYNC, "at": None, "data": {"gameState": {"seq": 9, "seats": []}}}
    ]


async def test_the_last_seq_is_saved_as_the_application_takes_events(rig: Rig) -> None:
    await rig.connect(welcome(0))
    rig.server.link.play(live(1), live(2))
    assert rig.saved().last_seq == 0  # queued, not taken: a crash now must replay them
    stream = rig.client.events()
    assert await within(anext(stream)) == event(1)
    assert rig.saved().last_seq == 0  # event 2 is still queued
    assert await within(anext(stream)) == event(2)
    assert rig.saved().last_seq == 2  # caught up
    rig.server.link.play(live(3), live(4))
    assert await within(anext(stream)) == event(3)
    assert rig.saved().last_seq == 2
    await rig.client.close()
    assert rig.saved().last_seq == 3  # what the application took, saved for good


# --- reconnecting -----------------------------------------------------------------------------


async def test_a_dropped_link_is_redialled_after_the_backoff_and_resumes_from_the_last_seq(
    rig: Rig,
) -> None:
    await rig.connect(welcome(2, missed=[1, 2], token="t1"))
    rig.server.link.play(live(3))
    rig.server.link.drop(None, "connection lost")
    assert rig.status() is SessionState.BACKING_OFF
    assert len(rig.server.links) == 1  # nothing is dialled until the backoff has passed
    rig.redial()
    link = rig.server.link
    assert link.connection == 2
    (hello,) = link.sent_of("hello")
    assert (hello["token"], hello["clientId"], hello["lastSeq"]) == ("t1", "c0", 3)
    assert hello["lastEpoch"] == "e1"
    link.play(welcome(5, missed=[3, 4, 5], token="t2"))  # the replay overlaps what it had
    assert rig.status() is SessionState.CONNECTED
    assert rig.client.last_resume is not None
    assert rig.client.last_resume.missed == 2
    assert rig.saved().reconnect_token == "t2"
    assert await taken(rig.client) == [event(n) for n in (1, 2, 3, 4, 5)]


async def test_a_game_moved_to_another_node_is_an_ordinary_resume_reported_as_moved(
    rig: Rig,
) -> None:
    await rig.connect(welcome(2, missed=[1, 2], node="n1"))
    assert rig.client.last_resume is not None
    assert (rig.client.last_resume.node, rig.client.last_resume.moved) == ("n1", False)
    rig.server.link.drop(1012, "game reloaded: resume from your last seq")
    rig.redial()
    rig.server.link.play(welcome(3, missed=[3], token="t2", node="n2"))
    assert rig.status() is SessionState.CONNECTED
    assert rig.client.last_resume is not None
    assert (rig.client.last_resume.node, rig.client.last_resume.moved) == ("n2", True)
    assert await taken(rig.client) == [event(n) for n in (1, 2, 3)]


async def test_a_gap_in_the_stream_drops_the_link_and_the_next_hello_asks_for_it(
    rig: Rig,
) -> None:
    await rig.connect(welcome(1, missed=[1]))
    first = rig.server.link
    first.play(live(3))
    closed = first.closed()
    assert closed is not None  # the client gave the link up at the gap
    assert closed[0] == 1002
    rig.redial()
    assert rig.server.link.sent_of("hello")[0]["lastSeq"] == 1
    rig.server.link.play(welcome(3, missed=[2, 3]))
    assert await taken(rig.client) == [event(n) for n in (1, 2, 3)]


async def test_a_silent_link_is_given_up_at_the_silence_timeout(rig: Rig) -> None:
    await rig.connect(welcome(0))
    first = rig.server.link
    rig.clock.advance(CONFIG.silence_timeout - 0.5)
    first.play(Ping(1))  # any frame pushes the deadline back
    rig.clock.advance(CONFIG.silence_timeout - 0.5)
    assert first.closed() is None
    rig.clock.advance(0.5)
    closed = first.closed()
    assert closed is not None
    assert closed[0] == 4408  # heartbeat timeout
    assert rig.status() is SessionState.BACKING_OFF
    rig.redial()
    assert rig.server.link.sent_of("hello")


# --- tokens -----------------------------------------------------------------------------------


async def test_a_rotated_token_is_stored_and_used_by_the_next_hello(rig: Rig) -> None:
    await rig.connect(welcome(0, token="t1", session_token="s1"))
    link = rig.server.link
    link.play(TokenMessage("t2", TOKEN_EXPIRES, "s2"))
    saved = rig.saved()
    assert (saved.reconnect_token, saved.session_token) == ("t2", "s2")
    assert rig.client.session_token == "s2"
    link.play(TokenMessage("t3", TOKEN_EXPIRES))  # without a session token: the held one stays
    saved = rig.saved()
    assert (saved.reconnect_token, saved.session_token) == ("t3", "s2")
    link.drop(1012, "restarting")
    rig.redial()
    assert rig.server.link.sent_of("hello")[0]["token"] == "t3"


# --- actions ----------------------------------------------------------------------------------


async def test_an_action_is_acked_exactly_once_across_a_reconnect(rig: Rig) -> None:
    await rig.connect(welcome(0))
    acting = asyncio.ensure_future(rig.client.act("raise", 40, at_seq=0))
    await asyncio.sleep(0)
    (action,) = rig.server.link.sent_of("action")
    assert action["action"] == {"type": "raise", "amount": 40}
    assert action["atSeq"] == 0
    rig.server.link.drop(None)  # the ack was lost with the link
    assert not acting.done()
    rig.redial()
    link = rig.server.link
    assert link.sent_of("action") == []  # not before the welcome
    link.play(welcome(1, missed=[1]))
    (resent,) = link.sent_of("action")
    assert resent == action  # the same actionId: the server applies it once
    link.play(Ack(action["actionId"], 1, duplicate=True, durable=True))
    assert await within(acting) == ActionResult(action["actionId"], 1, True, True)
    link.play(Ack(action["actionId"], 1, duplicate=True, durable=True))  # a late second ack
    assert link.sent_of("action") == [action]
    assert rig.status() is SessionState.CONNECTED


async def test_an_action_asked_while_disconnected_goes_out_after_the_welcome(rig: Rig) -> None:
    await rig.connect(welcome(0))
    rig.server.link.drop(None)
    acting = asyncio.ensure_future(rig.client.act("check"))
    await asyncio.sleep(0)
    rig.redial()
    link = rig.server.link
    link.play(welcome(0))
    assert [frame["type"] for frame in link.sent] == ["hello", "action"]
    link.play(Ack(link.sent[1]["actionId"], 1, duplicate=False, durable=False))
    result = await within(acting)
    assert (result.seq, result.duplicate, result.durable) == (1, False, False)


async def test_a_refused_action_raises_action_rejected(rig: Rig) -> None:
    await rig.connect(welcome(0))
    acting = asyncio.ensure_future(rig.client.act("check"))
    await asyncio.sleep(0)
    (action,) = rig.server.link.sent_of("action")
    rig.server.link.play(
        Error("not_your_turn", "wait", action_id=action["actionId"], details={"seat": 2})
    )
    with pytest.raises(ActionRejectedError) as refused:
        await within(acting)
    assert (refused.value.code, refused.value.details) == ("not_your_turn", {"seat": 2})
    assert rig.status() is SessionState.CONNECTED  # a refused action is not a failure


async def test_close_abandons_the_unanswered_actions_saying_if_they_were_sent(rig: Rig) -> None:
    await rig.connect(welcome(0))
    sent = asyncio.ensure_future(rig.client.act("check"))
    await asyncio.sleep(0)
    rig.server.link.drop(None)
    unsent = asyncio.ensure_future(rig.client.act("fold"))
    await asyncio.sleep(0)
    await rig.client.close()
    with pytest.raises(ActionAbandonedError) as was_sent:
        await within(sent)
    with pytest.raises(ActionAbandonedError) as never_sent:
        await within(unsent)
    assert (was_sent.value.sent, never_sent.value.sent) == (True, False)
    with pytest.raises(ClientClosedError):
        await rig.client.act("check")


# --- the end ----------------------------------------------------------------------------------


async def test_superseded_ends_the_client_for_good(rig: Rig) -> None:
    await rig.connect(welcome(1, missed=[1]))
    acting = asyncio.ensure_future(rig.client.act("check"))
    await asyncio.sleep(0)
    rig.server.link.drop(4409, "superseded")
    assert rig.status() is SessionState.CLOSED
    with pytest.raises(SessionFailedError) as failed:
        await within(acting)
    assert (failed.value.code, failed.value.close_code) == ("superseded", 4409)
    stream = rig.client.events()
    assert await within(anext(stream)) == event(1)  # what it could still deliver, then the failure
    with pytest.raises(SessionFailedError):
        await within(anext(stream))
    with pytest.raises(SessionFailedError):
        await rig.client.act("check")
    rig.clock.advance(10 * CONFIG.silence_timeout)
    assert len(rig.server.links) == 1  # never dialled again
    assert rig.clock.pending == []


async def test_a_refusal_at_hello_fails_connect_with_the_servers_code(rig: Rig) -> None:
    final = {"seq": 30, "seats": []}
    connecting = asyncio.ensure_future(rig.client.connect())
    await asyncio.sleep(0)
    link = rig.server.link
    link.open()
    link.play(Error("game_completed", "the game is over", details={"gameState": final}))
    link.drop(4410, "game_completed")
    with pytest.raises(SessionFailedError) as failed:
        await within(connecting)
    assert failed.value.code == "game_completed"
    assert failed.value.details == {"gameState": final}
    assert rig.status() is SessionState.CLOSED
    rig.clock.advance(10 * CONFIG.silence_timeout)
    assert len(rig.server.links) == 1


async def test_a_close_that_is_not_fatal_is_retried(rig: Rig) -> None:
    await rig.connect(welcome(0))
    rig.server.link.play(Error("storage_unavailable", "the store is away"))
    rig.server.link.drop(1013, "try again later")
    assert rig.status() is SessionState.BACKING_OFF
    rig.redial()
    rig.server.link.play(welcome(0))
    assert rig.status() is SessionState.CONNECTED


async def test_close_before_the_first_welcome_ends_connect(rig: Rig) -> None:
    connecting = asyncio.ensure_future(rig.client.connect())
    await asyncio.sleep(0)
    await rig.client.close()
    with pytest.raises(ClientClosedError):
        await within(connecting)
    assert rig.server.link.closed() == (1000, "closed by the client")


# --- callbacks and the HTTP view --------------------------------------------------------------


async def test_status_and_presence_reach_every_callback_despite_a_failing_one(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    statuses: list[SessionState] = []
    presence: list[tuple[str, bool]] = []

    def broken(*_: object) -> None:
        raise RuntimeError("an application bug")

    rig.client.on_status(broken)
    rig.client.on_presence(broken)
    rig.client.on_status(lambda change: statuses.append(change.current))
    unsubscribe = rig.client.on_presence(lambda who, up: presence.append((who, up)))
    await rig.connect(welcome(0))
    rig.server.link.play(Presence("p2", False))
    unsubscribe()
    rig.server.link.play(Presence("p2", True))
    assert statuses == [SessionState.CONNECTING, SessionState.HANDSHAKING, SessionState.CONNECTED]
    assert presence == [("p2", False)]
    assert rig.client.presence == {"p2": True}
    assert "callback" in caplog.text


async def test_fetch_state_asks_again_with_the_token_a_welcome_brought(rig: Rig) -> None:
    await rig.connect(welcome(0, session_token="s1"))
    bearers: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        bearers.append(request.headers["Authorization"])
        if len(bearers) == 1:
            # The seat resumed while the call was out: the welcome replaced the session token.
            rig.server.link.play(TokenMessage("t2", TOKEN_EXPIRES, "s2"))
            return httpx.Response(401, json={"error": {"code": "token_reused", "message": "x"}})
        return httpx.Response(200, json={"gameState": {"seq": 7}})

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        assert await rig.client.fetch_state(http=http) == {"seq": 7}
    assert bearers == ["Bearer s1", "Bearer s2"]


async def test_fetch_state_refused_raises_http_api_error(rig: Rig) -> None:
    await rig.connect(welcome(0))

    def answer(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"error": {"code": "token_reused", "message": "spent"}})

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        with pytest.raises(HttpApiError) as refused:
            await rig.client.fetch_state(http=http)
    assert (refused.value.status, refused.value.code) == (401, "token_reused")
