"""`SseBridge`, sans-I/O: the session's frames in, HTTP calls and the server's frames out.

Every frame the bridge delivers is read back with `decode_server`, as the session reads it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from rejoin.sse.bridge import Deliver, HttpCall, Lost, OpenStream, SseBridge
from rejoin_protocol.errors import (
    CLOSE_FORBIDDEN,
    CLOSE_GAME_COMPLETED,
    CLOSE_GAME_NOT_FOUND,
    CLOSE_PROTOCOL_ERROR,
    CLOSE_SERVER_BROKE_PROTOCOL,
    CLOSE_SUPERSEDED,
    CLOSE_UNAUTHORIZED,
)
from rejoin_protocol.messages import (
    Ack,
    Action,
    ActionBody,
    Error,
    EventMessage,
    Hello,
    Ping,
    Pong,
    Presence,
    ServerMessage,
    TokenMessage,
    Welcome,
    decode_server,
    encode,
)

GAME_URL = "http://example.test/pre/api/game/g%2F1"
GAME = "g/1"
PLAYER = "p1"


def reconnect_answer(seq: int = 5, missed: list[int] | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "success": True,
        "gameState": {"seq": seq, "you": {"seat": 2}},
        "reconnectedAt": "2026-12-05T10:00:00.250Z",
        "missedEvents": [event(n) for n in (missed or [])],
        "resync": False,
        "seq": seq,
        "epoch": "e1",
        "connectionToken": {"token": "r2", "expiresAt": "2026-12-05T11:00:00.000Z"},
        "sessionToken": "s1",
        "seat": 3,
    }
    body.update(extra)
    return body


def event(seq: int) -> dict[str, Any]:
    return {"seq": seq, "kind": "action", "at": 1000 + seq, "data": {"n": seq}}


def sse_event(seq: int) -> str:
    return f"id: {seq}\nevent: action\ndata: {json.dumps(event(seq))}\n\n"


def error_body(code: str, message: str = "said so", **details: Any) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if details:
        error["details"] = details
    return {"error": error}


def hello(last_seq: int | None = 4, last_epoch: str | None = "e0") -> str:
    return encode(Hello(PLAYER, "r1", "c1", last_seq, last_epoch=last_epoch))


def action(action_id: str, type: str = "raise", amount: int | None = 40, **fields: Any) -> str:
    return encode(Action(action_id, ActionBody(type, amount, fields), at_seq=5))


class Driven:
    """A bridge and everything it has put out, split by kind; frames decoded."""

    def __init__(self) -> None:
        self.bridge = SseBridge(GAME_URL, GAME)
        self.frames: list[ServerMessage] = []
        self.calls: list[HttpCall] = []
        self.streams: list[OpenStream] = []
        self.lost: list[Lost] = []

    def take(self) -> None:
        for output in self.bridge.outputs():
            match output:
                case Deliver(frame=frame):
                    self.frames.append(decode_server(frame))
                case HttpCall():
                    self.calls.append(output)
                case OpenStream():
                    self.streams.append(output)
                case Lost():
                    self.lost.append(output)

    def send(self, frame: str) -> None:
        self.bridge.client_frame(frame)
        self.take()

    def answer(self, call: HttpCall, status: int, body: Any, node: str | None = None) -> None:
        self.bridge.answered(call, status, body, node)
        self.take()

    def stream(self, text: str) -> None:
        self.bridge.stream_text(text)
        self.take()

    def frames_of(self, kind: type[Any]) -> list[Any]:
        return [frame for frame in self.frames if isinstance(frame, kind)]


def welcomed(seq: int = 5) -> Driven:
    """A bridge past its welcome, its stream open, with what that put out forgotten."""
    driven = Driven()
    driven.send(hello())
    driven.answer(driven.calls[0], 200, reconnect_answer(seq), node="n1")
    driven.bridge.stream_opened(200, None)
    driven.stream("retry: 300\n: connected\n\n")
    driven.take()
    driven.frames.clear()
    driven.calls.clear()
    return driven


# --- the reconnect -----------------------------------------------------------------------------


def test_hello_becomes_the_reconnect_call_with_the_same_token_and_position() -> None:
    driven = Driven()
    driven.send(hello(last_seq=4, last_epoch="e0"))
    [call] = driven.calls
    assert (call.kind, call.method, call.url, call.bearer) == (
        "reconnect",
        "POST",
        f"{GAME_URL}/reconnect",
        None,
    )
    assert call.body == {
        "gameId": GAME,
        "playerId": PLAYER,
        "reconnectToken": "r1",
        "clientId": "c1",
        "lastSeq": 4,
        "lastEpoch": "e0",
    }


def test_a_first_hello_sends_no_position() -> None:
    driven = Driven()
    driven.send(hello(last_seq=None, last_epoch=None))
    assert driven.calls[0].body is not None
    assert "lastSeq" not in driven.calls[0].body
    assert "lastEpoch" not in driven.calls[0].body


def test_the_reconnect_answer_becomes_the_welcome_then_the_stream_after_its_seq() -> None:
    driven = Driven()
    driven.send(hello())
    driven.answer(driven.calls[0], 200, reconnect_answer(7, missed=[5, 6, 7]), node="n1")
    [welcome] = driven.frames
    assert isinstance(welcome, Welcome)
    assert (welcome.player_id, welcome.seat, welcome.seq, welcome.epoch) == (PLAYER, 3, 7, "e1")
    assert [e["seq"] for e in welcome.missed_events] == [5, 6, 7]
    assert (welcome.token.token, welcome.session_token, welcome.node) == ("r2", "s1", "n1")
    assert welcome.server_time == 1_796_464_800_250
    assert driven.streams == [OpenStream(f"{GAME_URL}/events?after=7", "s1")]
    assert not driven.lost


def test_a_server_that_does_not_say_the_seat_gives_the_one_in_its_state() -> None:
    driven = Driven()
    driven.send(hello())
    answer = reconnect_answer()
    del answer["seat"]
    driven.answer(driven.calls[0], 200, answer)
    assert driven.frames_of(Welcome)[0].seat == 2


@pytest.mark.parametrize(
    ("status", "code", "close"),
    [
        (401, "token_reused", CLOSE_UNAUTHORIZED),
        (401, "token_expired", CLOSE_UNAUTHORIZED),
        (403, "player_not_in_game", CLOSE_FORBIDDEN),
        (404, "game_not_found", CLOSE_GAME_NOT_FOUND),
        (410, "game_completed", CLOSE_GAME_COMPLETED),
        (409, "seat_conflict", CLOSE_SUPERSEDED),
        (503, "storage_unavailable", 1013),
        (429, "rate_limited", 1013),
        (409, "stale_state", 1012),
    ],
)
def test_a_refused_reconnect_is_the_error_and_close_a_refused_hello_gets(
    status: int, code: str, close: int
) -> None:
    driven = Driven()
    driven.send(hello())
    driven.answer(driven.calls[0], status, error_body(code, "why", finalSeq=9))
    assert driven.frames == [Error(code, "why", details={"finalSeq": 9})]
    assert driven.lost == [Lost(close, code)]
    assert driven.streams == []


def test_a_reconnect_answered_without_an_error_code_is_a_plain_loss() -> None:
    driven = Driven()
    driven.send(hello())
    driven.answer(driven.calls[0], 502, None)  # a proxy's HTML page
    assert driven.frames == []
    assert [lost.code for lost in driven.lost] == [None]


def test_a_reconnect_answer_that_is_not_one_is_the_server_breaking_the_protocol() -> None:
    # Not the client's fault (4400 would end the session for good): a WebSocket client drops
    # a bad server frame with 1002 and dials again.
    driven = Driven()
    driven.send(hello())
    driven.answer(driven.calls[0], 200, {"success": True})
    assert [lost.code for lost in driven.lost] == [CLOSE_SERVER_BROKE_PROTOCOL]


def test_a_reconnect_with_no_answer_is_a_loss() -> None:
    driven = Driven()
    driven.send(hello())
    driven.bridge.call_failed(driven.calls[0], "ConnectError: refused")
    driven.take()
    assert [lost.code for lost in driven.lost] == [None]
    assert "refused" in driven.lost[0].reason


def test_what_the_session_sends_wrong_is_its_protocol_error() -> None:
    for frames in ([hello(), hello()], ["{"], [action("a1")]):
        driven = Driven()
        for frame in frames:
            driven.send(frame)
        assert [lost.code for lost in driven.lost] == [CLOSE_PROTOCOL_ERROR], frames


# --- actions -----------------------------------------------------------------------------------


def test_an_action_is_posted_flat_with_its_id_and_the_session_token() -> None:
    driven = welcomed()
    driven.send(action("a1", "bid", None, count=3, face=5))
    [call] = driven.calls
    assert (call.kind, call.url, call.bearer, call.action_id) == (
        "action",
        f"{GAME_URL}/action",
        "s1",
        "a1",
    )
    assert call.body == {"actionId": "a1", "type": "bid", "count": 3, "face": 5, "atSeq": 5}
    driven.send(action("a2", "raise", 40))
    assert driven.calls[1:] == []  # one at a time


def test_actions_go_one_at_a_time_in_order() -> None:
    driven = welcomed(seq=5)
    for n in range(1, 4):
        driven.send(action(f"a{n}"))
    assert [call.action_id for call in driven.calls] == ["a1"]
    driven.answer(
        driven.calls[0], 200, {"success": True, "seq": 6, "duplicate": False, "durable": True}
    )
    assert [call.action_id for call in driven.calls] == ["a1", "a2"]
    driven.answer(driven.calls[1], 422, error_body("invalid_action", "no"))
    assert [call.action_id for call in driven.calls] == ["a1", "a2", "a3"]
    assert driven.frames == [Error("invalid_action", "no", "a2")]


def test_an_ack_waits_for_its_event_on_the_stream() -> None:
    driven = welcomed(seq=5)
    driven.send(action("a1"))
    driven.answer(
        driven.calls[0], 200, {"success": True, "seq": 7, "duplicate": False, "durable": True}
    )
    assert driven.frames == []
    driven.stream(sse_event(6))
    assert driven.frames == [EventMessage(6, event(6))]
    driven.stream(sse_event(7))
    assert driven.frames[1:] == [EventMessage(7, event(7)), Ack("a1", 7, False, True)]


def test_a_duplicate_ack_of_an_event_already_seen_comes_at_once() -> None:
    driven = welcomed(seq=9)
    driven.send(action("a1"))
    driven.answer(
        driven.calls[0], 200, {"success": True, "seq": 6, "duplicate": True, "durable": True}
    )
    assert driven.frames == [Ack("a1", 6, True, True)]


def test_an_action_answer_that_is_not_one_is_the_server_breaking_the_protocol() -> None:
    driven = welcomed()
    driven.send(action("a1"))
    driven.answer(driven.calls[0], 200, {"success": True})
    assert [lost.code for lost in driven.lost] == [CLOSE_SERVER_BROKE_PROTOCOL]


@pytest.mark.parametrize(
    ("status", "code"),
    [(409, "not_your_turn"), (422, "invalid_action"), (429, "rate_limited"), (409, "stale_state")],
)
def test_an_action_refused_is_its_error_and_the_connection_stays(status: int, code: str) -> None:
    driven = welcomed()
    driven.send(action("a1"))
    driven.answer(driven.calls[0], status, error_body(code, "no", seq=5))
    assert driven.frames == [Error(code, "no", "a1", {"seq": 5})]
    assert driven.lost == []


@pytest.mark.parametrize("code", ["unauthorized", "token_expired"])
def test_a_refused_session_token_is_a_loss_the_session_recovers_from(code: str) -> None:
    driven = welcomed()
    driven.send(action("a1"))
    driven.answer(driven.calls[0], 401, error_body(code))
    assert driven.frames == []
    assert [lost.code for lost in driven.lost] == [None]


@pytest.mark.parametrize(
    ("status", "code", "close"),
    [
        (403, "player_not_in_game", CLOSE_FORBIDDEN),
        (403, "forbidden", CLOSE_FORBIDDEN),
        (404, "game_not_found", CLOSE_GAME_NOT_FOUND),
        (410, "game_completed", CLOSE_GAME_COMPLETED),
    ],
)
def test_an_action_refused_for_good_ends_the_session(status: int, code: str, close: int) -> None:
    driven = welcomed()
    driven.send(action("a1"))
    driven.answer(driven.calls[0], status, error_body(code, "over"))
    assert driven.frames == [Error(code, "over")]
    assert driven.lost == [Lost(close, code)]


def test_an_action_with_no_answer_is_a_loss() -> None:
    driven = welcomed()
    driven.send(action("a1"))
    driven.bridge.call_failed(driven.calls[0], "ReadTimeout")
    driven.take()
    assert [lost.code for lost in driven.lost] == [None]
    assert "a1" in driven.lost[0].reason


# --- the stream --------------------------------------------------------------------------------


def test_the_stream_brings_events_presence_and_heartbeats() -> None:
    driven = welcomed()
    driven.stream(sse_event(6))
    driven.stream('event: presence\ndata: {"playerId": "p2", "connected": false}\n\n')
    driven.stream(": ping\n\n")
    assert driven.frames == [EventMessage(6, event(6)), Presence("p2", False), Ping(0)]


def test_a_pushed_token_is_delivered_and_the_next_action_uses_its_session_token() -> None:
    driven = welcomed()
    token = {"token": "r3", "expiresAt": "2026-12-05T12:00:00.000Z", "sessionToken": "s2"}
    driven.stream(f"event: token\ndata: {json.dumps(token)}\n\n")
    assert driven.frames == [TokenMessage("r3", "2026-12-05T12:00:00.000Z", "s2")]
    driven.send(action("a1"))
    assert driven.calls[0].bearer == "s2"


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (CLOSE_SUPERSEDED, "superseded"),
        (CLOSE_FORBIDDEN, "player_not_in_game"),
        (1012, "restarting"),
    ],
)
def test_the_servers_close_event_is_the_loss_with_its_code(code: int, reason: str) -> None:
    driven = welcomed()
    data = {"code": code, "reason": reason, "message": "what to do"}
    driven.stream(f"event: close\ndata: {json.dumps(data)}\n\n{sse_event(6)}")
    assert driven.lost == [Lost(code, reason)]
    assert driven.frames == []  # nothing after the close


def test_a_close_for_too_many_streams_is_a_loss_the_session_resumes_from() -> None:
    """The player opened a fifth stream elsewhere and this, the oldest, was ended: a 4409, but the
    seat is still this session's. Not the fatal 4409 of a seat won elsewhere."""
    driven = welcomed()
    data = {"code": CLOSE_SUPERSEDED, "reason": "superseded: too many streams", "message": "m"}
    driven.stream(f"event: close\ndata: {json.dumps(data)}\n\n")
    assert driven.lost == [Lost(None, "superseded: too many streams")]


def test_the_stream_ending_is_a_loss() -> None:
    driven = welcomed()
    driven.bridge.stream_ended("RemoteProtocolError")
    driven.take()
    assert [lost.code for lost in driven.lost] == [None]


@pytest.mark.parametrize(
    ("status", "body", "close"),
    [
        (401, error_body("unauthorized"), None),
        (404, error_body("game_not_found"), CLOSE_GAME_NOT_FOUND),
        (502, None, None),
    ],
)
def test_a_stream_refused_at_its_start(status: int, body: Any, close: int | None) -> None:
    driven = Driven()
    driven.send(hello())
    driven.answer(driven.calls[0], 200, reconnect_answer())
    driven.bridge.stream_opened(status, body)
    driven.take()
    assert [lost.code for lost in driven.lost] == [close]


@pytest.mark.parametrize(
    "text",
    [
        "id: 6\ndata: not json\n\n",
        "id: six\ndata: {}\n\n",
        "id: 6\ndata: [1]\n\n",
        'event: presence\ndata: {"playerId": "p2"}\n\n',
        'event: token\ndata: {"token": "r3"}\n\n',
    ],
)
def test_a_stream_message_that_is_not_one_is_the_server_breaking_the_protocol(text: str) -> None:
    driven = welcomed()
    driven.stream(text)
    assert [lost.code for lost in driven.lost] == [CLOSE_SERVER_BROKE_PROTOCOL]


@pytest.mark.parametrize("kind", ["presence", "token", "close", "message"])
def test_a_message_with_an_id_is_an_event_whatever_its_kind(kind: str) -> None:
    """A game may name its events as it likes; the stream's notices never carry an `id:`."""
    driven = welcomed()
    seen = {"seq": 6, "kind": kind, "at": 1006, "data": {"code": 4409, "reason": "superseded"}}
    driven.stream(f"id: 6\nevent: {kind}\ndata: {json.dumps(seen)}\n\n" + sse_event(7))
    assert driven.frames == [EventMessage(6, seen), EventMessage(7, event(7))]
    assert driven.lost == []


def test_an_unnamed_message_without_an_id_is_passed_over() -> None:
    driven = welcomed()
    driven.stream('event: news\ndata: {"a": 1}\n\n' + sse_event(6))
    assert driven.frames == [EventMessage(6, event(6))]
    assert driven.lost == []


def test_nothing_comes_out_after_a_loss() -> None:
    driven = welcomed()
    driven.send(action("a1"))
    call = driven.calls[0]
    driven.bridge.stream_ended()
    driven.take()
    driven.answer(call, 200, {"success": True, "seq": 6, "duplicate": False, "durable": True})
    driven.stream(sse_event(6))
    driven.bridge.call_failed(call, "late")
    driven.bridge.stream_ended()
    driven.send(action("a2"))
    driven.take()
    assert len(driven.lost) == 1
    assert driven.frames == []
    assert driven.bridge.over


def test_nothing_comes_out_after_close_not_even_what_was_waiting() -> None:
    driven = Driven()
    driven.bridge.client_frame(hello())  # the reconnect call, not taken
    driven.bridge.close()
    driven.take()
    assert (driven.calls, driven.lost) == ([], [])
    driven.bridge.answered(HttpCall("reconnect", "POST", "", None, None), 200, reconnect_answer())
    driven.stream(sse_event(6))
    assert (driven.frames, driven.streams, driven.lost) == ([], [], [])


def test_the_sessions_pong_and_ping_go_nowhere() -> None:
    driven = welcomed()
    driven.send(encode(Pong(0)))
    driven.send(encode(Ping(1)))
    assert (driven.calls, driven.frames, driven.lost) == ([], [], [])
