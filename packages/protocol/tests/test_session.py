"""The client session, one transition at a time. The generated interleavings of drops, replays
and duplicates against a fake server are in test_session_model.py."""

import ast
import itertools
import json
import random
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import pytest

from rejoin_protocol import backoff, outbox, session_outputs, session_states
from rejoin_protocol import session as session_module
from rejoin_protocol.backoff import BackoffPolicy
from rejoin_protocol.errors import (
    CLOSE_HEARTBEAT_TIMEOUT,
    CLOSE_SERVER_RESTARTING,
    FATAL_CLOSE_CODES,
    ErrorCode,
)
from rejoin_protocol.messages import (
    Ack,
    Error,
    EventMessage,
    Ping,
    Pong,
    Presence,
    ServerMessage,
    TokenInfo,
    TokenMessage,
    Welcome,
    encode,
)
from rejoin_protocol.session import (
    FATAL_ERROR_CODES,
    ClientSession,
    SessionConfig,
    SessionStateError,
)
from rejoin_protocol.session_outputs import (
    ActionAbandoned,
    ActionAcked,
    ActionRejected,
    CloseTransport,
    Dial,
    EventDelivered,
    PresenceChanged,
    Resumed,
    Resynced,
    Send,
    SessionFailed,
    SessionOutput,
    SessionState,
    StatusChanged,
    TokenIssued,
)

S = SessionState


def ids() -> Callable[[], str]:
    counter = itertools.count(1)
    return lambda: f"a{next(counter)}"


def new_session(
    last_seq: int | None = 3, draw: float = 1.0, epoch: str | None = None, **config: Any
) -> ClientSession:
    """A session whose backoff always draws `draw` (1.0: the top of each bound)."""
    return ClientSession(
        player_id="p1",
        token="t0",
        client_id="c1",
        last_seq=last_seq,
        epoch=epoch,
        config=SessionConfig(**config),
        random_source=lambda: draw,
        new_action_id=ids(),
    )


def event(seq: int) -> dict[str, Any]:
    return {"seq": seq, "kind": "action", "at": 1000 + seq, "data": {"n": seq}}


def welcome(
    seq: int,
    missed: Sequence[int] = (),
    resync: bool = False,
    token: str = "t1",
    epoch: str | None = None,
) -> str:
    return encode(
        Welcome(
            player_id="p1",
            seat=2,
            seq=seq,
            game_state={"seq": seq},
            missed_events=[event(n) for n in missed],
            resync=resync,
            token=TokenInfo(token, "2030-01-01T00:00:00.000Z"),
            session_token="s1",
            server_time=0,
            epoch=epoch,
        )
    )


def live(seq: int) -> str:
    return encode(EventMessage(seq, event(seq)))


def sent(outputs: list[SessionOutput]) -> list[dict[str, Any]]:
    return [json.loads(out.text) for out in outputs if isinstance(out, Send)]


T = TypeVar("T")


def of(kind: type[T], outputs: list[SessionOutput]) -> list[T]:
    return [out for out in outputs if isinstance(out, kind)]


def statuses(outputs: list[SessionOutput]) -> list[tuple[SessionState, SessionState]]:
    return [(out.previous, out.current) for out in of(StatusChanged, outputs)]


def receive(session: ClientSession, conn: int, message: ServerMessage | str, now: float) -> None:
    session.message_received(conn, message if isinstance(message, str) else encode(message), now)


def connect(session: ClientSession, now: float = 0.0, frame: str | None = None) -> int:
    """Start (or retry), open and welcome; the outputs are drained. Returns the connection."""
    if session.state is S.IDLE:
        session.start(now)
    elif session.state is S.BACKING_OFF:
        assert session.wake_at is not None
        now = max(now, session.wake_at)
        session.time_passed(now)
    (dial,) = of(Dial, session.outputs())
    session.connection_opened(dial.connection, now)
    last = session.last_seq or 0
    receive(session, dial.connection, frame or welcome(last), now)
    session.outputs()
    assert session.state is S.CONNECTED
    return dial.connection


# --- connecting and the handshake --------------------------------------------------------------


def test_start_dials_and_waits_at_most_the_silence_timeout_for_the_transport() -> None:
    session = new_session()
    session.start(100.0)
    assert session.outputs() == [
        StatusChanged(S.IDLE, S.CONNECTING, "started"),
        Dial(1),
    ]
    assert session.wake_at == 115.0


def test_an_open_transport_says_hello_with_the_token_client_id_and_last_seq() -> None:
    session = new_session(last_seq=7)
    session.start(0.0)
    session.outputs()
    session.connection_opened(1, 1.0)
    outputs = session.outputs()
    assert statuses(outputs) == [(S.CONNECTING, S.HANDSHAKING)]
    assert sent(outputs) == [
        {
            "type": "hello",
            "playerId": "p1",
            "token": "t0",
            "clientId": "c1",
            "lastSeq": 7,
            "protocol": 1,
        }
    ]
    assert session.wake_at == 16.0


def test_the_epoch_of_the_last_welcome_goes_back_with_the_last_seq() -> None:
    """Issue 12: the server tells a client of a history it lost (a crash) by its epoch."""
    session = new_session(last_seq=7, epoch="e0.1")
    session.start(0.0)
    session.connection_opened(1, 0.0)
    (hello,) = sent(session.outputs())
    assert (hello["lastSeq"], hello["lastEpoch"]) == (7, "e0.1")
    receive(session, 1, welcome(9, missed=[8, 9], epoch="e1.8"), 0.5)
    resumed = of(Resumed, session.outputs())
    assert [r.epoch for r in resumed] == ["e1.8"]
    assert session.epoch == "e1.8"
    session.connection_lost(1, 1.0, 1006)
    assert session.wake_at is not None
    session.time_passed(session.wake_at)
    session.connection_opened(2, session.wake_at)
    (hello,) = sent(session.outputs())
    assert (hello["lastSeq"], hello["lastEpoch"]) == (9, "e1.8")


def test_no_epoch_goes_without_a_last_seq() -> None:
    session = new_session(last_seq=None, epoch="e0.1")
    session.start(0.0)
    session.connection_opened(1, 0.0)
    (hello,) = sent(session.outputs())
    assert "lastSeq" not in hello
    assert "lastEpoch" not in hello


def test_a_fresh_client_says_hello_without_a_last_seq() -> None:
    session = new_session(last_seq=None)
    session.start(0.0)
    session.connection_opened(1, 0.0)
    (hello,) = sent(session.outputs())
    assert "lastSeq" not in hello


def test_welcome_adopts_the_tokens_delivers_the_missed_events_then_resumes() -> None:
    session = new_session(last_seq=3)
    session.start(0.0)
    session.connection_opened(1, 0.0)
    session.outputs()
    receive(session, 1, welcome(6, missed=[4, 5, 6], token="t1"), 0.5)
    assert session.outputs() == [
        TokenIssued("t1", "2030-01-01T00:00:00.000Z", "s1"),
        EventDelivered(4, event(4)),
        EventDelivered(5, event(5)),
        EventDelivered(6, event(6)),
        StatusChanged(S.HANDSHAKING, S.CONNECTED, "welcomed"),
        Resumed(seat=2, seq=6, game_state={"seq": 6}, resync=False, missed=3, offline_for=None),
    ]
    assert session.state is S.CONNECTED
    assert session.last_seq == 6
    assert session.token == "t1"


def test_missed_events_already_delivered_are_not_delivered_again() -> None:
    session = new_session(last_seq=5)
    session.start(0.0)
    session.connection_opened(1, 0.0)
    session.outputs()
    receive(session, 1, welcome(7, missed=[4, 5, 6, 7]), 0.0)
    outputs = session.outputs()
    assert [out.seq for out in of(EventDelivered, outputs)] == [6, 7]
    assert of(Resumed, outputs)[0].missed == 2


def test_a_resync_welcome_hands_over_the_fresh_state_and_moves_the_last_seq() -> None:
    session = new_session(last_seq=None)
    session.start(0.0)
    session.connection_opened(1, 0.0)
    session.outputs()
    receive(session, 1, welcome(40, resync=True), 0.0)
    outputs = session.outputs()
    assert of(Resynced, outputs) == [Resynced(40, {"seq": 40})]
    assert of(EventDelivered, outputs) == []
    assert of(Resumed, outputs)[0].resync
    assert session.last_seq == 40
    receive(session, 1, live(41), 0.0)
    assert session.outputs() == [EventDelivered(41, event(41))]


def test_a_gap_inside_the_replay_delivers_up_to_it_then_resumes_from_there() -> None:
    session = new_session(last_seq=3)
    session.start(0.0)
    session.connection_opened(1, 0.0)
    session.outputs()
    receive(session, 1, welcome(7, missed=[4, 5, 7], token="t1"), 2.0)
    outputs = session.outputs()
    assert [out.seq for out in of(EventDelivered, outputs)] == [4, 5]
    assert of(CloseTransport, outputs) == [
        CloseTransport(1, 1002, "event 7 after 5: resuming to fetch the gap")
    ]
    assert of(Resumed, outputs) == []
    assert session.state is S.BACKING_OFF
    assert session.wake_at is not None
    assert session.wake_at == pytest.approx(2.1)  # within the first-retry bound
    # The next hello asks for what is missing, with the token the refused welcome carried.
    session.time_passed(session.wake_at)
    session.connection_opened(2, session.wake_at)
    (hello,) = sent(session.outputs())
    assert (hello["lastSeq"], hello["token"]) == (5, "t1")


def test_the_same_gap_twice_asks_for_a_resync_instead_of_retrying_for_ever() -> None:
    """A server that cannot fill a gap (events lost in a relaxed-durability crash) must not be
    asked for the same events every 100 ms, for ever."""
    session = new_session(last_seq=3)
    session.start(0.0)
    for attempt, conn in enumerate((1, 2)):
        if attempt:
            assert session.wake_at is not None
            session.time_passed(session.wake_at)
        session.connection_opened(conn, session.wake_at or 0.0)
        (hello,) = sent(session.outputs())
        assert hello["lastSeq"] == 3
        receive(session, conn, welcome(9, missed=[7, 8, 9]), session.wake_at or 0.0)
        reasons = [out.reason for out in of(CloseTransport, session.outputs())]
    assert reasons == ["event 7 after 3: asking for a resync"]
    assert session.wake_at is not None
    session.time_passed(session.wake_at)
    session.connection_opened(3, session.wake_at)
    (hello,) = sent(session.outputs())
    assert "lastSeq" not in hello  # no last seq: the server answers with a resync
    receive(session, 3, welcome(9, resync=True), session.wake_at)
    outputs = session.outputs()
    assert of(Resynced, outputs)[0].seq == 9
    assert session.state is S.CONNECTED
    assert session.last_seq == 9


def test_a_replay_that_stops_short_of_the_welcome_seq_is_a_gap() -> None:
    session = new_session(last_seq=3)
    session.start(0.0)
    session.connection_opened(1, 0.0)
    session.outputs()
    receive(session, 1, welcome(6, missed=[4, 5]), 0.0)
    outputs = session.outputs()
    assert of(CloseTransport, outputs)[0].reason == "event 6 after 5: resuming to fetch the gap"
    assert session.state is S.BACKING_OFF
    assert session.last_seq == 5


def test_a_missed_event_without_a_seq_drops_the_connection() -> None:
    session = new_session(last_seq=3)
    session.start(0.0)
    session.connection_opened(1, 0.0)
    session.outputs()
    frame = json.loads(welcome(4, missed=[4]))
    frame["missedEvents"][0]["seq"] = True
    receive(session, 1, json.dumps(frame), 0.0)
    outputs = session.outputs()
    assert of(CloseTransport, outputs) == [CloseTransport(1, 1002, "a missed event without a seq")]
    assert of(EventDelivered, outputs) == []


def test_resumed_says_how_long_the_client_was_offline() -> None:
    session = new_session()
    conn = connect(session, now=0.0)
    session.connection_lost(conn, 10.0, 1006)
    connect(session, now=10.3)
    session.connection_lost(conn + 1, 20.0, 1006)
    session.time_passed(30.0)
    session.connection_opened(conn + 2, 30.0)
    session.outputs()
    receive(session, conn + 2, welcome(3), 30.25)
    (resumed,) = of(Resumed, session.outputs())
    assert resumed.offline_for == pytest.approx(10.25)


# --- events -------------------------------------------------------------------------------------


def test_live_events_are_delivered_in_order_and_duplicates_dropped() -> None:
    session = new_session(last_seq=3)
    conn = connect(session)
    for seq in [4, 4, 3, 5, 1, 5, 6]:
        receive(session, conn, live(seq), 0.0)
    assert session.outputs() == [EventDelivered(n, event(n)) for n in [4, 5, 6]]
    assert session.last_seq == 6


def test_a_live_gap_drops_the_connection_and_the_next_hello_resumes_from_the_last_seq() -> None:
    session = new_session(last_seq=3)
    conn = connect(session, now=0.0)
    receive(session, conn, live(4), 1.0)
    receive(session, conn, live(6), 1.0)
    outputs = session.outputs()
    assert of(EventDelivered, outputs) == [EventDelivered(4, event(4))]
    assert of(CloseTransport, outputs) == [
        CloseTransport(conn, 1002, "event 6 after 4: resuming to fetch the gap")
    ]
    assert statuses(outputs) == [(S.CONNECTED, S.BACKING_OFF)]
    assert session.wake_at is not None
    assert session.wake_at == pytest.approx(1.1)  # within the first-retry bound
    session.time_passed(session.wake_at)
    session.connection_opened(conn + 1, session.wake_at)
    (hello,) = sent(session.outputs())
    assert hello["lastSeq"] == 4
    receive(session, conn + 1, welcome(6, missed=[5, 6]), 2.0)
    assert [out.seq for out in of(EventDelivered, session.outputs())] == [5, 6]


def test_an_event_before_welcome_is_the_server_breaking_the_protocol() -> None:
    session = new_session()
    session.start(0.0)
    session.connection_opened(1, 0.0)
    session.outputs()
    receive(session, 1, live(4), 0.0)
    outputs = session.outputs()
    assert of(CloseTransport, outputs) == [CloseTransport(1, 1002, "an event before welcome")]
    assert of(EventDelivered, outputs) == []
    assert session.state is S.BACKING_OFF


def test_a_second_welcome_is_the_server_breaking_the_protocol() -> None:
    session = new_session()
    conn = connect(session)
    receive(session, conn, welcome(3), 0.0)
    assert of(CloseTransport, session.outputs()) == [CloseTransport(conn, 1002, "a second welcome")]
    assert session.state is S.BACKING_OFF


def test_a_frame_that_does_not_decode_drops_the_connection_and_retries() -> None:
    session = new_session()
    conn = connect(session)
    session.message_received(conn, '{"type": "event", "seq": "four"}', 0.0)
    (close,) = of(CloseTransport, session.outputs())
    assert close.code == 1002
    assert close.reason.startswith("the server sent a bad frame: event.seq")
    assert session.state is S.BACKING_OFF


# --- actions ------------------------------------------------------------------------------------


def test_an_action_goes_out_at_once_when_connected_and_its_ack_settles_it() -> None:
    session = new_session()
    conn = connect(session)
    action_id = session.request_action("raise", 40, at_seq=3)
    assert action_id == "a1"
    assert sent(session.outputs()) == [
        {
            "type": "action",
            "actionId": "a1",
            "action": {"type": "raise", "amount": 40},
            "atSeq": 3,
        }
    ]
    assert session.unsettled_actions == ["a1"]
    receive(session, conn, Ack("a1", 4, duplicate=False, durable=True), 0.0)
    receive(session, conn, Ack("a1", 4, duplicate=True, durable=True), 0.0)
    assert session.outputs() == [ActionAcked("a1", 4, duplicate=False, durable=True)]
    assert session.unsettled_actions == []


def test_actions_requested_offline_are_sent_after_the_welcome_in_order() -> None:
    session = new_session()
    assert session.request_action("call") == "a1"
    session.start(0.0)
    assert session.request_action("fold") == "a2"
    session.connection_opened(1, 0.0)
    assert session.request_action("check") == "a3"
    outputs = session.outputs()
    assert [m["type"] for m in sent(outputs)] == ["hello"]
    receive(session, 1, welcome(3), 0.0)
    outputs = session.outputs()
    assert [m.get("actionId") for m in sent(outputs)] == ["a1", "a2", "a3"]
    # After the resume is announced, so the application sees "connected" before acks.
    assert isinstance(outputs[-4], Resumed)


def test_unacknowledged_actions_are_resent_after_every_resume() -> None:
    session = new_session()
    conn = connect(session)
    session.request_action("call")
    session.request_action("check")
    session.request_action("fold")
    receive(session, conn, Ack("a2", 4, duplicate=False, durable=True), 0.0)
    session.outputs()
    for _ in range(2):
        session.connection_lost(conn, 1.0, 1006)
        conn = connect(session, now=1.0)
        session.time_passed(1.0)
    assert session.unsettled_actions == ["a1", "a3"]
    session.connection_lost(conn, 2.0, 1006)
    session.time_passed(3.0)
    session.connection_opened(conn + 1, 3.0)
    receive(session, conn + 1, welcome(3), 3.0)
    assert [m.get("actionId") for m in sent(session.outputs())] == [None, "a1", "a3"]


def test_an_error_naming_an_action_settles_it_once() -> None:
    session = new_session()
    conn = connect(session)
    session.request_action("check")
    session.outputs()
    refusal = Error("not_your_turn", "Wait for your turn.", "a1", {"toAct": 3})
    receive(session, conn, refusal, 0.0)
    receive(session, conn, refusal, 0.0)
    receive(session, conn, Ack("a1", 4, duplicate=True, durable=True), 0.0)
    assert session.outputs() == [
        ActionRejected("a1", "not_your_turn", "Wait for your turn.", {"toAct": 3})
    ]
    assert session.state is S.CONNECTED


def test_an_ack_for_an_unknown_action_is_ignored() -> None:
    session = new_session()
    conn = connect(session)
    receive(session, conn, Ack("zz", 4, duplicate=True, durable=True), 0.0)
    assert session.outputs() == []


def test_an_action_id_factory_that_repeats_itself_is_refused() -> None:
    session = ClientSession(player_id="p1", token="t0", client_id="c1", new_action_id=lambda: "x")
    session.request_action("call")
    with pytest.raises(ValueError, match="returned 'x' twice"):
        session.request_action("call")


def test_action_ids_are_unique_by_default() -> None:
    session = ClientSession(player_id="p1", token="t0", client_id="c1")
    action_ids = {session.request_action("call") for _ in range(100)}
    assert len(action_ids) == 100


# --- heartbeat ----------------------------------------------------------------------------------


def test_a_ping_is_answered_with_a_pong_carrying_its_t() -> None:
    session = new_session()
    conn = connect(session)
    receive(session, conn, Ping(1234), 0.0)
    assert sent(session.outputs()) == [{"type": "pong", "t": 1234}]


def test_silence_for_the_timeout_drops_the_link_and_backs_off() -> None:
    session = new_session(silence_timeout=15.0)
    conn = connect(session, now=0.0)
    receive(session, conn, Ping(1), 10.0)
    receive(session, conn, Pong(1), 12.0)
    session.outputs()
    assert session.wake_at == 27.0
    session.time_passed(26.9)
    assert session.outputs() == []
    session.time_passed(27.0)
    outputs = session.outputs()
    assert outputs[0] == CloseTransport(
        conn, CLOSE_HEARTBEAT_TIMEOUT, "heard nothing from the server for 15 s"
    )
    assert statuses(outputs) == [(S.CONNECTED, S.BACKING_OFF)]


def test_the_network_going_offline_drops_the_link_at_once_and_coming_back_dials_now() -> None:
    session = new_session(silence_timeout=15.0)
    conn = connect(session, now=0.0)
    session.network_changed(False, 3.0)
    outputs = session.outputs()
    assert outputs[0] == CloseTransport(conn, 1000, "the network went offline")
    assert statuses(outputs) == [(S.CONNECTED, S.BACKING_OFF)]
    # Offline again while backing off: nothing more to drop.
    session.network_changed(False, 3.01)
    assert session.outputs() == []
    assert session.wake_at is not None
    assert session.wake_at > 3.02
    # Back online before the backoff's deadline: dial now, not at the deadline.
    session.network_changed(True, 3.02)
    outputs = session.outputs()
    assert statuses(outputs) == [(S.BACKING_OFF, S.CONNECTING)]
    (dial,) = of(Dial, outputs)
    assert dial.connection == conn + 1
    # Online while already dialling: no second dial.
    session.network_changed(True, 3.03)
    assert session.outputs() == []
    session.connection_opened(dial.connection, 3.04)
    assert sent(session.outputs())[0]["type"] == "hello"


def test_network_changes_before_the_start_or_after_the_close_do_nothing() -> None:
    session = new_session()
    session.network_changed(True, 0.0)
    session.network_changed(False, 0.0)
    assert session.outputs() == []
    assert statuses_now(session) is S.IDLE
    connect(session, now=1.0)
    session.request_close()
    session.outputs()
    session.network_changed(False, 2.0)
    session.network_changed(True, 2.0)
    assert session.outputs() == []
    assert statuses_now(session) is S.CLOSED


def statuses_now(session: ClientSession) -> SessionState:
    """The state, read through a call (so that mypy does not keep an earlier narrowing)."""
    return session.state


def test_the_network_going_offline_while_dialling_gives_the_dial_up() -> None:
    session = new_session()
    session.start(0.0)
    (dial,) = of(Dial, session.outputs())
    session.network_changed(False, 0.5)
    outputs = session.outputs()
    assert of(CloseTransport, outputs) == [
        CloseTransport(dial.connection, 1000, "the network went offline")
    ]
    assert session.state is S.BACKING_OFF


def test_a_transport_that_never_opens_is_given_up_after_the_silence_timeout() -> None:
    session = new_session(silence_timeout=15.0)
    session.start(0.0)
    session.outputs()
    session.time_passed(15.0)
    outputs = session.outputs()
    assert outputs[0] == CloseTransport(
        1, CLOSE_HEARTBEAT_TIMEOUT, "the transport did not open within 15 s"
    )
    assert session.state is S.BACKING_OFF
    # The late open of the connection given up is ignored.
    session.connection_opened(1, 15.01)
    assert session.outputs() == []


def test_a_handshake_that_gets_no_welcome_is_given_up_after_the_silence_timeout() -> None:
    session = new_session(silence_timeout=15.0)
    session.start(0.0)
    session.connection_opened(1, 3.0)
    session.outputs()
    session.time_passed(18.0)
    assert of(CloseTransport, session.outputs())[0].code == CLOSE_HEARTBEAT_TIMEOUT
    assert session.state is S.BACKING_OFF


# --- backoff ------------------------------------------------------------------------------------


def retry_delays(session: ClientSession, failures: int, now: float) -> list[float]:
    """Fail this many dials in a row; the delay each backoff chose."""
    delays = []
    for _ in range(failures):
        (dial,) = of(Dial, session.outputs())
        session.connection_lost(dial.connection, now, 1006)
        assert session.wake_at is not None
        delays.append(session.wake_at - now)
        now = session.wake_at
        session.time_passed(now)
    return delays


def test_failed_dials_back_off_exponentially_up_to_the_cap() -> None:
    session = new_session()
    session.start(0.0)
    delays = retry_delays(session, 9, 0.0)
    assert delays == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0, 5.0])


def test_the_count_resets_after_a_connection_stayed_up() -> None:
    session = new_session(stable_after=5.0)
    session.start(0.0)
    retry_delays(session, 6, 0.0)
    conn = connect(session, now=100.0)
    session.connection_lost(conn, 105.0, 1006)
    assert session.wake_at == pytest.approx(105.1)


def test_the_count_does_not_reset_on_a_connection_that_drops_soon_after_its_welcome() -> None:
    # A server that accepts and then drops must not be dialled in a tight loop.
    session = new_session(stable_after=5.0)
    session.start(0.0)
    retry_delays(session, 6, 0.0)
    conn = connect(session, now=100.0)
    session.connection_lost(conn, 104.9, 1006)
    assert session.wake_at == pytest.approx(109.9)


def test_the_count_does_not_reset_on_open_alone() -> None:
    session = new_session()
    session.start(0.0)
    retry_delays(session, 3, 0.0)
    (dial,) = of(Dial, session.outputs())
    session.connection_opened(dial.connection, 50.0)
    session.connection_lost(dial.connection, 60.0, 1006)
    assert session.wake_at == pytest.approx(60.8)


def test_a_server_restart_is_retried_within_the_first_bound_whatever_the_count() -> None:
    session = new_session()
    session.start(0.0)
    retry_delays(session, 8, 0.0)
    conn = connect(session, now=100.0)
    session.connection_lost(conn, 101.0, CLOSE_SERVER_RESTARTING, "server restarting")
    outputs = session.outputs()
    assert statuses(outputs) == [(S.CONNECTED, S.BACKING_OFF)]
    assert of(StatusChanged, outputs)[0].reason == "closed with 1012 server restarting"
    assert session.wake_at == pytest.approx(101.1)


def drop_after_a_stable_connection(session: ClientSession) -> float:
    """Welcomed at 0, lost at 10 (1006: the server died); returns when the first retry dials."""
    conn = connect(session, now=0.0)
    session.connection_lost(conn, 10.0, 1006)
    session.outputs()
    assert session.wake_at is not None
    first = session.wake_at
    session.time_passed(first)
    return first


def test_dials_refused_right_after_a_drop_are_retried_quickly_then_the_ladder_resumes() -> None:
    # A killed server's port refuses only while the new process starts: after the first retry,
    # ten quick retries (50 to 150 ms, jittered), then the ladder from its second step.
    for draw, first, quick, ladder in [(1.0, 0.1, 0.15, [0.2, 0.4, 0.8]), (0.0, 0.0, 0.05, [0.0])]:
        session = new_session(draw=draw)
        assert drop_after_a_stable_connection(session) == pytest.approx(10.0 + first)
        delays = retry_delays(session, 10 + len(ladder), 10.0 + first)
        assert delays == pytest.approx([quick] * 10 + ladder)


@pytest.mark.parametrize(("bind", "ready"), [(0.2, 0.37), (0.8, 1.5)])
def test_after_a_kill_every_player_is_dialling_before_the_restarted_server_serves(
    bind: float, ready: float
) -> None:
    # The restart as the browser benchmark sees it (simulated time from the kill): the port
    # refuses (1006 in 3 ms) until the new process binds it, at `bind`; a dial after that waits
    # in the listen queue until the server serves, at `ready`. 200 players, each its own draws:
    # every one must have its dial waiting when the server serves. (The ladder alone left about
    # a third of them dialling after it, the last ones more than 0.5 s after: the tail of
    # kill -9 → page connected.)
    late = []
    for seed in range(200):
        session = ClientSession(
            player_id="p1", token="t0", client_id="c1", random_source=random.Random(seed).random
        )
        conn = connect(session, now=-10.0)
        session.connection_lost(conn, 0.004, 1006)  # the kill, seen 4 ms later
        while True:
            assert session.wake_at is not None
            now = session.wake_at
            session.time_passed(now)
            (dial,) = of(Dial, session.outputs())
            if now >= bind:
                break
            session.connection_lost(dial.connection, now + 0.003, 1006)
            session.outputs()
        if now > ready:
            late.append(round(now - ready, 3))
    assert late == []


def test_quick_retries_stay_jittered() -> None:
    draws = iter([0.0, 0.25, 0.5, 0.75, 1.0])
    session = ClientSession(
        player_id="p1", token="t0", client_id="c1", random_source=draws.__next__
    )
    drop_after_a_stable_connection(session)
    assert retry_delays(session, 4, 10.0) == pytest.approx([0.075, 0.1, 0.125, 0.15])


def test_a_connection_that_opened_and_dropped_is_not_retried_quickly() -> None:
    # The server answered (a refusal at hello, say 1013): the ladder decides, as for any drop.
    session = new_session()
    at = drop_after_a_stable_connection(session)
    (dial,) = of(Dial, session.outputs())
    session.connection_opened(dial.connection, at)
    session.connection_lost(dial.connection, at, 1013, "storage_unavailable")
    assert session.wake_at == pytest.approx(at + 0.2)


def test_a_link_open_at_once_whose_hello_got_no_answer_is_retried_quickly() -> None:
    # The SDK's SSE link has no handshake before its `hello` (an HTTP request): "open" at once,
    # then lost without a close code when that request got no answer (a port still refusing).
    session = new_session()
    at = drop_after_a_stable_connection(session)
    (dial,) = of(Dial, session.outputs())
    session.connection_opened(dial.connection, at)
    session.connection_lost(dial.connection, at + 0.003, None, "the reconnect got no answer")
    assert session.wake_at == pytest.approx(at + 0.003 + 0.15)


def test_dials_that_fail_before_the_first_welcome_are_not_retried_quickly() -> None:
    # Nothing says a server that never answered is coming back: the ladder from the first dial.
    session = new_session()
    session.start(0.0)
    assert retry_delays(session, 3, 0.0) == pytest.approx([0.1, 0.2, 0.4])


def test_quick_retries_come_back_only_after_a_connection_stayed_up() -> None:
    session = new_session(stable_after=5.0)
    at = drop_after_a_stable_connection(session)
    retry_delays(session, 10, at)  # the quick ones, used up
    conn = connect(session, now=50.0)
    session.connection_lost(conn, 51.0, 1006)  # up 1 s only: the count is not reset
    session.time_passed(session.wake_at or 0.0)
    assert retry_delays(session, 1, 60.0) == pytest.approx([0.4])  # the ladder's third step
    conn = connect(session, now=100.0)
    session.connection_lost(conn, 110.0, 1006)  # up 10 s: reset, quick retries again
    session.time_passed(session.wake_at or 0.0)
    assert retry_delays(session, 1, 120.0) == pytest.approx([0.15])


def test_quick_retries_can_be_turned_off() -> None:
    session = new_session(backoff=BackoffPolicy(quick_tries=0))
    at = drop_after_a_stable_connection(session)
    assert retry_delays(session, 3, at) == pytest.approx([0.2, 0.4, 0.8])


def test_the_backoff_policy_is_configurable() -> None:
    session = new_session(backoff=BackoffPolicy(first=1.0, cap=2.0))
    session.start(0.0)
    assert retry_delays(session, 3, 0.0) == pytest.approx([1.0, 2.0, 2.0])


def test_the_delay_is_jittered_by_the_injected_source() -> None:
    session = new_session(draw=0.25)
    session.start(0.0)
    assert retry_delays(session, 3, 0.0) == pytest.approx([0.025, 0.05, 0.1])


def test_backing_off_dials_again_when_the_wait_is_over_and_not_before() -> None:
    session = new_session()
    conn = connect(session, now=0.0)
    session.connection_lost(conn, 1.0, 1006)
    session.outputs()
    session.time_passed(1.05)
    assert session.outputs() == []
    session.time_passed(1.1)
    assert session.outputs() == [
        StatusChanged(S.BACKING_OFF, S.CONNECTING, "retry 1"),
        Dial(conn + 1),
    ]


@pytest.mark.parametrize("code", [None, 1000, 1001, 1006, 1011, 1012, 1013, 4408])
def test_a_close_that_is_not_fatal_backs_off_and_retries(code: int | None) -> None:
    session = new_session()
    conn = connect(session)
    session.connection_lost(conn, 0.0, code)
    assert session.state is S.BACKING_OFF
    assert of(CloseTransport, session.outputs()) == []  # it is closed already
    session.time_passed(5.0)
    assert of(Dial, session.outputs()) == [Dial(conn + 1)]


def test_a_refusal_that_is_not_fatal_waits_for_the_close_and_retries() -> None:
    session = new_session()
    session.start(0.0)
    session.connection_opened(1, 0.0)
    session.outputs()
    receive(session, 1, Error("storage_unavailable", "Try again in a moment."), 0.0)
    assert session.outputs() == []  # the close decides
    session.connection_lost(1, 0.0, 1013, "storage_unavailable")
    assert session.state is S.BACKING_OFF
    assert of(SessionFailed, session.outputs()) == []


# --- fatal refusals -----------------------------------------------------------------------------


def test_the_fatal_error_codes_are_the_ones_that_close_with_a_fatal_code() -> None:
    assert {
        "token_invalid",
        "token_expired",
        "token_reused",
        "game_completed",
        "player_not_in_game",
        "forbidden",
        "game_not_found",
        "seat_conflict",
    } <= FATAL_ERROR_CODES
    assert not {"storage_unavailable", "internal", "not_your_turn", "rate_limited"} & (
        FATAL_ERROR_CODES
    )


def assert_stopped_for_good(session: ClientSession) -> None:
    assert session.state is S.CLOSED
    assert session.wake_at is None
    session.time_passed(10_000.0)
    assert session.outputs() == []
    with pytest.raises(SessionStateError):
        session.request_action("fold")


@pytest.mark.parametrize("code", sorted(FATAL_ERROR_CODES))
def test_a_fatal_error_at_hello_stops_the_session(code: str) -> None:
    session = new_session()
    session.request_action("call")
    session.start(0.0)
    session.connection_opened(1, 0.0)
    session.outputs()
    details = {"gameState": {"status": "completed"}} if code == "game_completed" else None
    receive(session, 1, Error(code, "Join again.", details=details), 0.0)
    outputs = session.outputs()
    assert outputs == [
        StatusChanged(S.HANDSHAKING, S.CLOSED, code),
        SessionFailed(code, "Join again.", details, None),
        CloseTransport(1, 1000, f"session failed: {code}"),
        ActionAbandoned("a1", sent=False),
    ]
    # The close that follows the refusal comes from a connection already given up.
    session.connection_lost(1, 0.0, ErrorCode(code).close_code)
    assert session.outputs() == []
    assert_stopped_for_good(session)


@pytest.mark.parametrize("close_code", sorted(FATAL_CLOSE_CODES))
def test_a_fatal_close_stops_the_session(close_code: int) -> None:
    session = new_session()
    conn = connect(session)
    session.request_action("call")
    session.outputs()
    session.connection_lost(conn, 1.0, close_code, "superseded")
    assert session.outputs() == [
        StatusChanged(S.CONNECTED, S.CLOSED, "superseded"),
        SessionFailed("superseded", f"the server closed with {close_code}", None, close_code),
        ActionAbandoned("a1", sent=True),
    ]
    assert_stopped_for_good(session)


def test_a_fatal_close_without_a_reason_is_named_after_its_code() -> None:
    session = new_session()
    conn = connect(session)
    session.connection_lost(conn, 1.0, 4409)
    (failed,) = of(SessionFailed, session.outputs())
    assert failed.code == "close_4409"


def test_a_fatal_close_after_a_refusal_reports_what_the_refusal_said() -> None:
    session = new_session()
    conn = connect(session)
    receive(session, conn, Error("invalid_request", "Send hello once."), 0.0)
    assert session.state is S.CONNECTED
    session.connection_lost(conn, 0.0, 4400, "protocol error")
    (failed,) = of(SessionFailed, session.outputs())
    assert failed == SessionFailed("invalid_request", "Send hello once.", None, 4400)


def test_an_action_error_with_a_fatal_code_settles_the_action_but_keeps_the_session() -> None:
    session = new_session()
    conn = connect(session)
    session.request_action("call")
    session.outputs()
    receive(session, conn, Error("game_completed", "The game is over.", "a1"), 0.0)
    assert of(ActionRejected, session.outputs())[0].code == "game_completed"
    assert session.state is S.CONNECTED


# --- tokens and presence ------------------------------------------------------------------------


def test_a_pushed_token_is_adopted_and_sent_in_the_next_hello() -> None:
    session = new_session()
    conn = connect(session)
    receive(session, conn, TokenMessage("t9", "2031-01-01T00:00:00.000Z"), 0.0)
    assert session.outputs() == [TokenIssued("t9", "2031-01-01T00:00:00.000Z", None)]
    receive(session, conn, TokenMessage("t8", "2031-01-01T00:00:00.000Z", "s8"), 0.0)
    assert session.outputs() == [TokenIssued("t8", "2031-01-01T00:00:00.000Z", "s8")]
    receive(session, conn, TokenMessage("t9", "2031-01-01T00:00:00.000Z"), 0.0)
    session.outputs()
    session.connection_lost(conn, 0.0, 1006)
    session.time_passed(1.0)
    session.connection_opened(conn + 1, 1.0)
    (hello,) = sent(session.outputs())
    assert hello["token"] == "t9"


def test_presence_is_passed_to_the_application() -> None:
    session = new_session()
    conn = connect(session)
    receive(session, conn, Presence("p2", connected=False), 0.0)
    assert session.outputs() == [PresenceChanged("p2", connected=False)]


# --- closing ------------------------------------------------------------------------------------


def test_close_closes_the_transport_and_abandons_what_is_unsettled() -> None:
    session = new_session()
    conn = connect(session)
    session.request_action("call")
    session.connection_lost(conn, 0.0, 1006)
    session.request_action("fold")
    session.time_passed(1.0)
    session.outputs()
    session.request_close()
    assert session.outputs() == [
        StatusChanged(S.CONNECTING, S.CLOSED, "closed by the application"),
        CloseTransport(conn + 1, 1000, "closed by the client"),
        ActionAbandoned("a1", sent=True),
        ActionAbandoned("a2", sent=False),
    ]
    session.request_close()
    assert session.outputs() == []
    assert_stopped_for_good(session)


def test_an_idle_session_can_be_closed_without_ever_dialling() -> None:
    session = new_session()
    session.request_close()
    assert session.outputs() == [StatusChanged(S.IDLE, S.CLOSED, "closed by the application")]


# --- what the driver may not do -----------------------------------------------------------------


def test_starting_twice_is_refused_naming_the_state_and_what_it_expects() -> None:
    session = new_session()
    session.start(0.0)
    with pytest.raises(SessionStateError) as caught:
        session.start(0.0)
    assert str(caught.value) == (
        "a session in state 'connecting' cannot take 'start'; "
        "it expects one of: act, close, dropped, failed, opened"
    )


def test_opening_the_same_connection_twice_is_refused() -> None:
    session = new_session()
    session.start(0.0)
    session.connection_opened(1, 0.0)
    with pytest.raises(SessionStateError, match="'handshaking' cannot take 'opened'"):
        session.connection_opened(1, 0.0)


def test_a_frame_before_the_transport_opened_is_refused() -> None:
    session = new_session()
    session.start(0.0)
    with pytest.raises(SessionStateError, match="'connecting' cannot take 'frame'"):
        receive(session, 1, Ping(1), 0.0)


def test_a_connection_that_was_never_dialled_is_refused() -> None:
    session = new_session()
    session.start(0.0)
    with pytest.raises(ValueError, match="connection 2 was never dialled"):
        session.connection_opened(2, 0.0)


def test_nothing_from_a_connection_given_up_reaches_the_application() -> None:
    session = new_session(last_seq=3)
    old = connect(session, now=0.0)
    session.time_passed(15.0)  # silent: given up
    session.outputs()
    receive(session, old, live(4), 15.1)
    receive(session, old, Ack("a1", 4, duplicate=False, durable=True), 15.1)
    session.connection_lost(old, 15.1, 4409)
    assert session.outputs() == []
    assert session.state is S.BACKING_OFF
    assert session.last_seq == 3


# --- Pyodide --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "module",
    [session_module, session_states, session_outputs, outbox, backoff],
    ids=lambda module: module.__name__,
)
def test_the_session_imports_only_the_standard_library_and_its_own_package(module: Any) -> None:
    # Read from the source rather than sys.modules: in this process pytest and hypothesis are
    # loaded already, and the check must also run under Pyodide, which has no subprocess.
    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    imported |= {
        node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
    }
    tops = {name.partition(".")[0] for name in imported}
    assert tops - set(sys.stdlib_module_names) <= {"rejoin_protocol"}


def test_an_action_no_frame_can_carry_is_refused_and_nothing_is_queued() -> None:
    session = ClientSession(player_id="p1", token="t0", client_id="c1")
    with pytest.raises(ValueError, match="not JSON"):
        session.request_action("bid", fields={"tags": {1, 2}})
    with pytest.raises(ValueError, match="not JSON"):
        session.request_action("bid", fields={"odds": float("nan")})
    with pytest.raises(ValueError, match="larger than a frame"):
        session.request_action("bid", fields={"note": "x" * 70_000})
    assert session.request_action("bid", fields={"count": 3, "face": 5})  # still usable
