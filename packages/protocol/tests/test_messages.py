import contextlib
import json
import pickle
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rejoin_protocol.messages import (
    ACTION_TYPES,
    MAX_FRAME_BYTES,
    MAX_SERVER_FRAME_BYTES,
    PROTOCOL_VERSION,
    Ack,
    Action,
    ActionBody,
    ClientMessage,
    Error,
    EventMessage,
    Hello,
    Message,
    Ping,
    Pong,
    Presence,
    ProtocolError,
    ServerMessage,
    TokenInfo,
    TokenMessage,
    Welcome,
    decode_client,
    decode_server,
    encode,
)

Decoder = Callable[[str | bytes], Message]

# --- strategies: valid messages ---------------------------------------------------------------

# What an id may hold: any text but control characters and lone surrogates.
ids = st.text(
    st.characters(codec="utf-8", exclude_characters="".join(map(chr, [*range(32), 127]))),
    min_size=1,
    max_size=20,
)
counts = st.integers(min_value=0, max_value=2**53)
optional_counts = st.none() | counts
times = st.integers(min_value=-(2**53), max_value=2**53) | st.floats(
    allow_nan=False, allow_infinity=False
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
json_objects = st.dictionaries(st.text(max_size=8), json_values, max_size=5)

hellos = st.builds(
    Hello,
    player_id=ids,
    token=ids,
    client_id=ids,
    last_seq=optional_counts,
    protocol=st.integers(min_value=1, max_value=1000),
    last_epoch=st.none() | ids,
)
actions = st.builds(
    Action,
    action_id=ids,
    action=st.builds(ActionBody, type=st.sampled_from(ACTION_TYPES), amount=optional_counts),
    at_seq=optional_counts,
)
pings = st.builds(Ping, t=times)
pongs = st.builds(Pong, t=times)
welcomes = st.builds(
    Welcome,
    player_id=ids,
    seat=st.integers(min_value=0, max_value=9),
    seq=counts,
    game_state=json_objects,
    missed_events=st.lists(json_objects, max_size=3),
    resync=st.booleans(),
    token=st.builds(TokenInfo, token=ids, expires_at=ids),
    session_token=ids,
    server_time=st.integers(min_value=0, max_value=2**53),
    epoch=st.none() | ids,
)
events = st.builds(EventMessage, seq=counts, event=json_objects)
acks = st.builds(Ack, action_id=ids, seq=counts, duplicate=st.booleans(), durable=st.booleans())
errors = st.builds(Error, code=ids, message=st.text(max_size=40), action_id=st.none() | ids)
tokens = st.builds(TokenMessage, token=ids, expires_at=ids, session_token=st.none() | ids)
presences = st.builds(Presence, player_id=ids, connected=st.booleans())

CLIENT_STRATEGIES: dict[str, st.SearchStrategy[ClientMessage]] = {
    "hello": hellos,
    "action": actions,
    "ping": pings,
    "pong": pongs,
}
SERVER_STRATEGIES: dict[str, st.SearchStrategy[ServerMessage]] = {
    "welcome": welcomes,
    "event": events,
    "ack": acks,
    "error": errors,
    "token": tokens,
    "presence": presences,
    "ping": pings,
    "pong": pongs,
}


# --- round trips ------------------------------------------------------------------------------


@pytest.mark.parametrize("wire_type", list(CLIENT_STRATEGIES))
@given(data=st.data())
def test_every_client_message_survives_a_round_trip(wire_type: str, data: st.DataObject) -> None:
    message = data.draw(CLIENT_STRATEGIES[wire_type])
    text = encode(message)
    assert json.loads(text)["type"] == wire_type
    assert decode_client(text) == message
    assert decode_client(text.encode()) == message


@pytest.mark.parametrize("wire_type", list(SERVER_STRATEGIES))
@given(data=st.data())
def test_every_server_message_survives_a_round_trip(wire_type: str, data: st.DataObject) -> None:
    message = data.draw(SERVER_STRATEGIES[wire_type])
    text = encode(message)
    assert json.loads(text)["type"] == wire_type
    assert decode_server(text) == message
    assert decode_server(text.encode()) == message


def test_encode_is_compact_camel_case_and_omits_none() -> None:
    assert encode(Hello("p1", "tok", "c1", None)) == (
        '{"type":"hello","playerId":"p1","token":"tok","clientId":"c1","protocol":1}'
    )
    assert encode(Action("a1", ActionBody("fold"))) == (
        '{"type":"action","actionId":"a1","action":{"type":"fold"}}'
    )
    assert encode(Action("a2", ActionBody("raise", 40), at_seq=17)) == (
        '{"type":"action","actionId":"a2","action":{"type":"raise","amount":40},"atSeq":17}'
    )
    assert encode(Error("not_your_turn", "Wait for your turn.")) == (
        '{"type":"error","code":"not_your_turn","message":"Wait for your turn."}'
    )
    assert encode(TokenMessage("t2", "2030-01-01T00:00:00Z")) == (
        '{"type":"token","token":"t2","expiresAt":"2030-01-01T00:00:00Z"}'
    )
    assert Hello("p", "t", "c", 3).protocol == PROTOCOL_VERSION == 1
    assert encode(Hello("p1", "tok", "c1", 7, last_epoch="a1b2.5")) == (
        '{"type":"hello","playerId":"p1","token":"tok","clientId":"c1","lastSeq":7,'
        '"lastEpoch":"a1b2.5","protocol":1}'
    )
    assert encode(TokenMessage("t2", "2030-01-01T00:00:00Z", session_token="s2")) == (
        '{"type":"token","token":"t2","expiresAt":"2030-01-01T00:00:00Z","sessionToken":"s2"}'
    )


# --- docs/protocol.md shaped examples ---------------------------------------------------------

GAME_STATE: dict[str, Any] = {
    "gameId": "g1",
    "seq": 42,
    "status": "playing",
    "handNumber": 3,
    "phase": "flop",
    "board": ["As", "Td", "7c"],
    "pots": [{"amount": 12, "eligibleSeats": [0, 1]}],
    "button": 0,
    "toAct": 1,
    "actionDeadline": "2030-01-01T00:00:30Z",
    "minRaiseTo": 4,
    "seats": [
        {"seat": 0, "playerId": "p0", "name": "Ann", "stack": 194, "bet": 0, "folded": False,
         "allIn": False, "connected": True, "holeCards": None},
        {"seat": 1, "playerId": "p1", "name": "Bob", "stack": 194, "bet": 0, "folded": False,
         "allIn": False, "connected": True, "holeCards": ["Kh", "Kd"]},
    ],
    "you": {"playerId": "p1", "seat": 1, "legalActions": [
        {"type": "check"}, {"type": "bet", "min": 2, "max": 194}, {"type": "allin", "amount": 194},
    ]},
}  # fmt: skip
MISSED = [
    {"seq": 41, "kind": "street", "at": "2030-01-01T00:00:00Z", "data": {"cards": ["As", "Td"]}},
    {"seq": 42, "kind": "hole_cards", "at": "2030-01-01T00:00:00Z", "data": {"cards": None}},
]


def test_design_shaped_client_frames_decode() -> None:
    hello = decode_client(
        '{"type": "hello", "playerId": "p1", "token": "eyJnIjoiZzEifQ.abc", '
        '"clientId": "tab-7", "lastSeq": 40, "protocol": 1}'
    )
    assert hello == Hello("p1", "eyJnIjoiZzEifQ.abc", "tab-7", 40, 1)
    fresh = decode_client(
        '{"type":"hello","playerId":"p1","token":"t","clientId":"c","lastSeq":null,"protocol":1}'
    )
    assert fresh == Hello("p1", "t", "c", None)
    assert decode_client(
        '{"type":"action","actionId":"a-1","action":{"type":"raise","amount":40},"atSeq":42}'
    ) == Action("a-1", ActionBody("raise", 40), 42)
    assert decode_client(
        '{"type":"action","actionId":"a-2","action":{"type":"check","amount":null}}'
    ) == Action("a-2", ActionBody("check"))
    assert decode_client('{"type":"ping","t":1712345678901}') == Ping(1712345678901)
    assert decode_client('{"type":"pong","t":12.5}') == Pong(12.5)


def test_design_shaped_server_frames_decode() -> None:
    welcome = {
        "type": "welcome", "playerId": "p1", "seat": 1, "seq": 42, "gameState": GAME_STATE,
        "missedEvents": MISSED, "resync": False,
        "token": {"token": "tok2", "expiresAt": "2030-01-01T00:30:00Z"},
        "sessionToken": "sess", "serverTime": 1893456000000, "epoch": "9f3c1a2b.17",
    }  # fmt: skip
    assert decode_server(json.dumps(welcome)) == Welcome(
        player_id="p1",
        seat=1,
        seq=42,
        game_state=GAME_STATE,
        missed_events=MISSED,
        resync=False,
        token=TokenInfo("tok2", "2030-01-01T00:30:00Z"),
        session_token="sess",
        server_time=1893456000000,
        epoch="9f3c1a2b.17",
    )
    assert decode_server(json.dumps({"type": "event", "seq": 43, "event": MISSED[0]})) == (
        EventMessage(43, MISSED[0])
    )
    assert decode_server(
        '{"type":"ack","actionId":"a-1","seq":43,"duplicate":false,"durable":true}'
    ) == Ack("a-1", 43, duplicate=False, durable=True)
    assert decode_server(
        '{"type":"error","code":"not_your_turn","message":"Wait.","actionId":"a-1"}'
    ) == Error("not_your_turn", "Wait.", "a-1")
    assert decode_server('{"type":"error","code":"internal","message":""}') == Error("internal", "")
    assert decode_server('{"type":"token","token":"t3","expiresAt":"2030-01-01T01:00:00Z"}') == (
        TokenMessage("t3", "2030-01-01T01:00:00Z")
    )
    assert decode_server('{"type":"presence","playerId":"p0","connected":false}') == Presence(
        "p0", connected=False
    )
    assert decode_server('{"type":"ping","t":5}') == Ping(5)


def test_unknown_keys_are_ignored_at_every_level() -> None:
    assert decode_client(
        '{"type":"action","actionId":"a","action":{"type":"call","hint":1},"atSeq":2,"v2":[]}'
    ) == Action("a", ActionBody("call", fields={"hint": 1}), 2)  # an action's keys are the game's
    assert decode_server('{"type":"presence","playerId":"p","connected":true,"since":1}') == (
        Presence("p", connected=True)
    )


def test_another_protocol_version_decodes_and_the_server_decides() -> None:
    hello = decode_client('{"type":"hello","playerId":"p","token":"t","clientId":"c","protocol":2}')
    assert isinstance(hello, Hello)
    assert hello.protocol == 2
    assert hello.protocol != PROTOCOL_VERSION


# --- validation errors ------------------------------------------------------------------------

HELLO: dict[str, Any] = {
    "type": "hello", "playerId": "p", "token": "t", "clientId": "c", "lastSeq": 1, "protocol": 1
}  # fmt: skip
ACTION: dict[str, Any] = {
    "type": "action", "actionId": "a", "action": {"type": "bet", "amount": 4}, "atSeq": 3
}  # fmt: skip
WELCOME: dict[str, Any] = {
    "type": "welcome", "playerId": "p", "seat": 0, "seq": 0, "gameState": {}, "missedEvents": [],
    "resync": True, "token": {"token": "t", "expiresAt": "x"}, "sessionToken": "s",
    "serverTime": 1,
}  # fmt: skip
ACK: dict[str, Any] = {"type": "ack", "actionId": "a", "seq": 1, "duplicate": False,
                       "durable": True}  # fmt: skip


def _with(base: dict[str, Any], path: str, value: Any) -> str:
    """`base` as JSON with the value at dotted `path` replaced (`...` deletes it)."""
    frame = json.loads(json.dumps(base))
    *parents, key = path.split(".")
    target = frame
    for parent in parents:
        target = target[parent]
    if value is ...:
        del target[key]
    else:
        target[key] = value
    return json.dumps(frame)


BAD_FRAMES: list[tuple[str, str, str | None, str]] = [
    # (direction, frame, field, words the message must contain)
    ("client", "{not json", None, "must be a JSON text"),
    ("client", "NaN", None, "not a JSON value"),
    ("client", "[1, 2]", None, "must be a JSON object"),
    ("server", '"welcome"', None, "must be a JSON object"),
    ("client", "{}", "type", "type must be a string"),
    ("client", '{"type": 1}', "type", "type must be a string"),
    ("client", '{"type": "jump"}', "type", "type must be one of hello, action, ping, pong"),
    ("server", '{"type": "jump"}', "type", "type must be one of welcome, event"),
    ("client", _with(WELCOME, "seat", 0), "type", "'welcome' is a server message"),
    ("server", _with(HELLO, "protocol", 1), "type", "'hello' is a client message"),
    ("client", _with(HELLO, "playerId", ...), "hello.playerId", "is missing; it must be a non"),
    ("client", _with(HELLO, "playerId", ""), "hello.playerId", "must be a non-empty string"),
    ("client", _with(HELLO, "token", 7), "hello.token", "must be a non-empty string"),
    ("client", _with(HELLO, "clientId", None), "hello.clientId", "must be a non-empty string"),
    ("client", _with(HELLO, "lastSeq", -1), "hello.lastSeq",
     "hello.lastSeq must be a non-negative integer or null"),
    ("client", _with(HELLO, "lastSeq", True), "hello.lastSeq", "non-negative integer or null"),
    ("client", _with(HELLO, "lastSeq", 1.0), "hello.lastSeq", "non-negative integer or null"),
    ("client", _with(HELLO, "lastSeq", "3"), "hello.lastSeq", "non-negative integer or null"),
    ("client", _with(HELLO, "protocol", ...), "hello.protocol", "missing; it must be a positive"),
    ("client", _with(HELLO, "protocol", 0), "hello.protocol", "must be a positive integer"),
    ("client", _with(HELLO, "protocol", "1"), "hello.protocol", "must be a positive integer"),
    ("client", _with(ACTION, "actionId", ""), "action.actionId", "must be a non-empty string"),
    ("client", _with(ACTION, "action", ...), "action.action", "is missing; it must be an object"),
    ("client", _with(ACTION, "action", "fold"), "action.action", "must be an object"),
    # Any game's move is a type; which ones are legal is the game's to say, not the wire's.
    ("client", _with(ACTION, "action.type", ""), "action.action.type",
     "must be a non-empty string"),
    ("client", _with(ACTION, "action.type", ...), "action.action.type", "is missing"),
    ("client", _with(ACTION, "action.type", ["fold"]), "action.action.type", "must be a non-empty"),
    ("client", _with(ACTION, "action.amount", -5), "action.action.amount",
     "must be a non-negative integer or null"),
    ("client", _with(ACTION, "action.amount", 4.5), "action.action.amount", "non-negative integer"),
    ("client", _with(ACTION, "action.amount", False), "action.action.amount", "non-negative"),
    ("client", _with(ACTION, "atSeq", -1), "action.atSeq", "must be a non-negative integer or"),
    ("client", '{"type": "ping"}', "ping.t", "ping.t is missing; it must be a finite number"),
    ("client", '{"type": "ping", "t": true}', "ping.t", "must be a finite number"),
    ("client", '{"type": "pong", "t": 1e999}', "pong.t", "must be a finite number"),
    ("client", '{"type": "pong", "t": "now"}', "pong.t", "must be a finite number"),
    ("server", _with(WELCOME, "seat", -1), "welcome.seat", "must be a non-negative integer"),
    ("server", _with(WELCOME, "seq", None), "welcome.seq", "must be a non-negative integer"),
    ("server", _with(WELCOME, "gameState", []), "welcome.gameState", "must be an object"),
    ("server", _with(WELCOME, "missedEvents", {}), "welcome.missedEvents",
     "must be a list of objects"),
    ("server", _with(WELCOME, "missedEvents", [{}, 3]), "welcome.missedEvents[1]",
     "welcome.missedEvents[1] must be an object"),
    ("server", _with(WELCOME, "resync", 0), "welcome.resync", "must be true or false"),
    ("server", _with(WELCOME, "token", "t"), "welcome.token", "must be an object"),
    ("server", _with(WELCOME, "token.expiresAt", ...), "welcome.token.expiresAt", "is missing"),
    ("server", _with(WELCOME, "sessionToken", ""), "welcome.sessionToken", "non-empty string"),
    ("server", _with(WELCOME, "serverTime", 1.5), "welcome.serverTime", "must be an integer"),
    ("server", '{"type": "event", "seq": -1, "event": {}}', "event.seq", "non-negative integer"),
    ("server", '{"type": "event", "seq": 1, "event": null}', "event.event", "must be an object"),
    ("server", _with(ACK, "duplicate", "no"), "ack.duplicate", "must be true or false"),
    ("server", _with(ACK, "durable", ...), "ack.durable", "ack.durable is missing"),
    ("server", _with(ACK, "seq", -3), "ack.seq", "must be a non-negative integer"),
    ("server", '{"type": "error", "code": "", "message": "m"}', "error.code", "non-empty"),
    ("server", '{"type": "error", "code": "c"}', "error.message", "missing; it must be a string"),
    ("server", '{"type": "error", "code": "c", "message": "m", "actionId": 1}', "error.actionId",
     "must be a non-empty string without control characters or null"),
    ("server", '{"type": "token", "token": "t"}', "token.expiresAt", "is missing"),
    ("server", '{"type": "presence", "playerId": "p", "connected": 1}', "presence.connected",
     "must be true or false"),
]  # fmt: skip


@pytest.mark.parametrize(("direction", "frame", "field", "words"), BAD_FRAMES)
def test_a_bad_frame_is_refused_naming_its_field(
    direction: str, frame: str, field: str | None, words: str
) -> None:
    decode: Decoder = decode_client if direction == "client" else decode_server
    with pytest.raises(ProtocolError) as caught:
        decode(frame)
    assert caught.value.field == field
    assert words in str(caught.value)
    assert words in caught.value.message
    assert isinstance(caught.value, ValueError)


def test_bytes_must_be_utf8() -> None:
    with pytest.raises(ProtocolError, match="must be UTF-8") as caught:
        decode_client(b'{"type":"ping","t":"\xff"}')
    assert caught.value.field is None


def test_deep_nesting_is_a_protocol_error_not_a_recursion_error() -> None:
    with pytest.raises(ProtocolError, match="must be a JSON text"):
        decode_server("[" * 60_000 + "]" * 60_000)


@pytest.mark.parametrize("as_bytes", [False, True])
def test_frames_over_the_size_bound_are_refused_before_parsing(as_bytes: bool) -> None:
    padding = MAX_FRAME_BYTES - len('{"type":"ping","t":1,"x":""}')
    fits = '{"type":"ping","t":1,"x":"' + "a" * padding + '"}'
    over = fits.replace('"x":"', '"x":"a')
    # Three bytes per code point: the length in code points alone cannot decide.
    wide = fits.replace("a" * 3, "€")
    wide_over = wide.replace('"x":"', '"x":"a')
    assert len(fits.encode()) == len(wide.encode()) == MAX_FRAME_BYTES
    assert len(wide) * 4 > MAX_FRAME_BYTES > len(wide)

    def frame(text: str) -> str | bytes:
        return text.encode() if as_bytes else text

    assert decode_client(frame(fits)) == decode_client(frame(wide)) == Ping(1)
    for too_big in (over, wide_over):
        with pytest.raises(ProtocolError, match=f"at most {MAX_FRAME_BYTES} bytes") as caught:
            decode_client(frame(too_big))
        assert caught.value.field is None
    # A welcome with a long replay is bigger than any client frame, and still decodes.
    assert decode_server(frame(over)) == Ping(1)
    assert MAX_SERVER_FRAME_BYTES > MAX_FRAME_BYTES
    with pytest.raises(ProtocolError, match="at most 10 bytes"):
        decode_server(over, max_bytes=10)


def test_protocol_errors_pickle_like_any_value_error() -> None:
    error = ProtocolError("hello.lastSeq", "hello.lastSeq must be a non-negative integer")
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.field, copy.message, str(copy)) == (error.field, error.message, str(error))


# --- fuzz: anything in, only ProtocolError out ------------------------------------------------


def _only_protocol_errors(frame: str | bytes) -> None:
    for decode in (decode_client, decode_server):
        with contextlib.suppress(ProtocolError):
            decode(frame)


@given(json_values)
def test_any_json_value_decodes_or_raises_protocol_error(value: Any) -> None:
    _only_protocol_errors(json.dumps(value))


@given(st.text())
def test_any_text_decodes_or_raises_protocol_error(text: str) -> None:
    _only_protocol_errors(text)


@given(st.binary())
def test_any_bytes_decode_or_raise_protocol_error(data: bytes) -> None:
    _only_protocol_errors(data)


FUZZ_PATHS = [(base, key) for base in (HELLO, ACTION, WELCOME, ACK) for key in base] + [
    (ACTION, "action.type"),
    (ACTION, "action.amount"),
    (WELCOME, "token.token"),
    (WELCOME, "token.expiresAt"),
]


@given(st.sampled_from(FUZZ_PATHS), json_values | st.just(...))
def test_a_valid_frame_with_one_value_replaced_decodes_or_raises_protocol_error(
    base_and_path: tuple[dict[str, Any], str], value: Any
) -> None:
    _only_protocol_errors(_with(*base_and_path, value))


# --- standard library only ---------------------------------------------------------------------


def test_messages_imports_nothing_outside_the_standard_library() -> None:
    script = (
        "import sys\n"
        "before = set(sys.modules)\n"
        "import rejoin_protocol.messages\n"
        "tops = {name.partition('.')[0] for name in set(sys.modules) - before}\n"
        "print('\\n'.join(sorted(tops - set(sys.stdlib_module_names) - {'rejoin_protocol'})))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == []


@pytest.mark.parametrize("bad", ["\x00", "a\nb", "\x7f", "\ud800", "x\udfff"])
@pytest.mark.parametrize("field", ["playerId", "token", "clientId"])
def test_ids_with_control_characters_or_lone_surrogates_are_refused(field: str, bad: str) -> None:
    """They would reach a database column or a log line: refused at the door, naming the field."""
    hello = {"type": "hello", "playerId": "p", "token": "t", "clientId": "c", "protocol": 1}
    hello[field] = bad
    with pytest.raises(ProtocolError) as refused:
        decode_client(json.dumps(hello))
    assert refused.value.field == f"hello.{field}"
    assert "control characters" in refused.value.message


def test_an_action_id_with_a_lone_surrogate_is_refused() -> None:
    frame = json.dumps({"type": "action", "actionId": "\ud800", "action": {"type": "fold"}})
    with pytest.raises(ProtocolError) as refused:
        decode_client(frame)
    assert refused.value.field == "action.actionId"
