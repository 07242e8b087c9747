"""The WebSocket messages of docs/protocol.md: one frozen dataclass each, their JSON encoding and decoding.

This module owns the wire shape of every frame on `GET /api/game/{gameId}/ws`: the `type` names,
the camelCase keys, which fields are optional, and what a well-formed value is. It does not own
game rules (whether a bet of 40 is legal is the server's business) nor the order in which messages
may arrive (that is the session state machine's).

Rules the decoders follow:

- A frame is a JSON object (UTF-8 text, `str` or `bytes`) with a string `type`. `decode_client`
  accepts only what a client may send, `decode_server` only what a server may send; a message of
  the other direction is an error, not a silent drop.
- Every failure raises `ProtocolError`, whose `field` is the wire path of the offending value
  (`"hello.lastSeq"`, `"action.action.type"`, `"welcome.missedEvents[3]"`) or None when the frame as
  a whole is bad, and whose message says what the value must be.
- Integers are JSON integers: `true` is not 1 and `1.0` is not 1. Sequence numbers, seats and
  amounts are non-negative. Ids and tokens are non-empty strings without control characters or
  lone surrogates.
- Optional fields (`lastSeq`, `amount`, `atSeq`, `actionId` and `details` of `error`) are
  omitted on encode when None and may be absent or null on decode.
- Unknown keys are ignored, at every level (but an action's: those are the game's fields), so
  that a newer peer can add fields without breaking an older one. Unknown `type` values are
  errors: a peer cannot act on a message it does not know.
- `hello.protocol` is decoded whatever its value, as long as it is a positive integer: whether a
  client speaking another version is welcome is the server's decision, not the parser's.
- A frame over the size bound is refused before it is parsed. Client frames are small
  (`MAX_FRAME_BYTES`); server frames carry a whole `gameState` and up to the replay limit of missed
  events, so they get the larger `MAX_SERVER_FRAME_BYTES` (the `websockets` library's default
  frame limit).

Constructing a message does not validate it (mypy checks the types; the receiving side's decoder
checks the values), so the hot path pays for validation once. Standard library only, so it runs
unchanged under CPython and Pyodide.

Longer than 400 lines because it is the one place that owns the wire shape: each message's
encoding sits beside its dataclass and its decoder beside the others, all reading through one
`_Reader` that holds the validation rules above; split, one message's fields, encoding and
checks would live in different files.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any, ClassVar, Literal, TypeAlias, TypeGuard, get_args

__all__ = [
    "ACTION_TYPES",
    "MAX_FRAME_BYTES",
    "MAX_SERVER_FRAME_BYTES",
    "PROTOCOL_VERSION",
    "Ack",
    "Action",
    "ActionBody",
    "ActionType",
    "ClientMessage",
    "Error",
    "EventMessage",
    "Hello",
    "Message",
    "Ping",
    "Pong",
    "Presence",
    "ProtocolError",
    "ServerMessage",
    "TokenInfo",
    "TokenMessage",
    "Welcome",
    "decode_client",
    "decode_server",
    "encode",
    "is_ident",
    "wire",
]

PROTOCOL_VERSION = 1
"""The protocol version this module speaks; a client sends it in `hello.protocol`."""

MAX_FRAME_BYTES = 64 * 1024
"""The largest client frame `decode_client` accepts, in UTF-8 bytes."""

MAX_SERVER_FRAME_BYTES = 1024 * 1024
"""The largest server frame `decode_server` accepts: a `welcome` with a full replay is big."""

ActionType: TypeAlias = Literal["fold", "check", "call", "bet", "raise", "allin"]
ACTION_TYPES: tuple[ActionType, ...] = get_args(ActionType)
"""Poker's action types; another game's `ActionBody.type` is any id of its own."""

RESERVED_ACTION_KEYS = frozenset({"type", "amount"})
"""The keys of an `action` object the protocol reads itself; a game's own fields are the rest."""


class ProtocolError(ValueError):
    """A frame that is not a well-formed message; `field` is the wire path at fault, if any."""

    def __init__(self, field: str | None, message: str) -> None:
        # Both go to ValueError so that the exception pickles and copies like any other.
        super().__init__(field, message)
        self.field = field
        self.message = message

    def __str__(self) -> str:
        return self.message


# --- client → server -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Hello:
    """`hello`: the first frame of a connection; resumes the seat with a reconnect token."""

    TYPE: ClassVar[str] = "hello"
    player_id: str
    token: str
    client_id: str
    last_seq: int | None
    protocol: int = PROTOCOL_VERSION
    # The `epoch` of the welcome that gave the client its history up to `last_seq`: the server
    # answers with a resync when that history is not its own any more (lost in a crash).
    last_epoch: str | None = None

    def _wire(self) -> dict[str, object]:
        wire: dict[str, object] = {
            "type": self.TYPE,
            "playerId": self.player_id,
            "token": self.token,
            "clientId": self.client_id,
        }
        if self.last_seq is not None:
            wire["lastSeq"] = self.last_seq
        if self.last_epoch is not None:
            wire["lastEpoch"] = self.last_epoch
        wire["protocol"] = self.protocol
        return wire


@dataclass(frozen=True, slots=True)
class ActionBody:
    """The `action` object inside an `action` message: `{type, …fields}`.

    `type` names the move (poker's are `ActionType`; another game has its own). `amount`, when
    given, is a non-negative integer (poker: the total bet to). Every other field is the game's,
    any JSON value, in `fields`; the server hands them to the game, which checks them."""

    type: str
    amount: int | None = None
    fields: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        clash = RESERVED_ACTION_KEYS.intersection(self.fields)
        if clash:
            raise ValueError(f"an action's fields cannot be named {', '.join(sorted(clash))}")

    @property
    def data(self) -> dict[str, Any]:
        """Every field but `type`, `amount` included when given: what the game reads."""
        data = dict(self.fields)
        if self.amount is not None:
            data["amount"] = self.amount
        return data

    def _wire(self) -> dict[str, object]:
        wire: dict[str, object] = {"type": self.type}
        if self.amount is not None:
            wire["amount"] = self.amount
        wire.update(self.fields)
        return wire


@dataclass(frozen=True, slots=True)
class Action:
    """`action`: a player's move, deduplicated by the server on `action_id`."""

    TYPE: ClassVar[str] = "action"
    action_id: str
    action: ActionBody
    at_seq: int | None = None

    def _wire(self) -> dict[str, object]:
        wire: dict[str, object] = {
            "type": self.TYPE,
            "actionId": self.action_id,
            "action": self.action._wire(),
        }
        if self.at_seq is not None:
            wire["atSeq"] = self.at_seq
        return wire


@dataclass(frozen=True, slots=True)
class Ping:
    """`ping`: a heartbeat either side may send; `t` is the sender's clock, echoed in `pong`."""

    TYPE: ClassVar[str] = "ping"
    t: int | float

    def _wire(self) -> dict[str, object]:
        return {"type": self.TYPE, "t": self.t}


@dataclass(frozen=True, slots=True)
class Pong:
    """`pong`: the answer to a `ping`, carrying its `t` back."""

    TYPE: ClassVar[str] = "pong"
    t: int | float

    def _wire(self) -> dict[str, object]:
        return {"type": self.TYPE, "t": self.t}


# --- server → client -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """A reconnect token and when it expires (ISO 8601), as inside `welcome`."""

    token: str
    expires_at: str

    def _wire(self) -> dict[str, object]:
        return {"token": self.token, "expiresAt": self.expires_at}


@dataclass(frozen=True, slots=True)
class Welcome:
    """`welcome`: the answer to `hello`: the seat, the player's view and the events missed."""

    TYPE: ClassVar[str] = "welcome"
    player_id: str
    seat: int
    seq: int
    game_state: dict[str, Any]
    missed_events: list[dict[str, Any]]
    resync: bool
    token: TokenInfo
    session_token: str
    server_time: int
    # The history epoch the client's events come from (opaque); kept, and sent back as
    # `hello.lastEpoch`. None from a server that has no epochs.
    epoch: str | None = None
    # The node that answered (its `--node-id`); a client sees a game move between nodes by it.
    # None from a server that does not say.
    node: str | None = None

    def _wire(self) -> dict[str, object]:
        wire: dict[str, object] = {
            "type": self.TYPE,
            "playerId": self.player_id,
            "seat": self.seat,
            "seq": self.seq,
            "gameState": self.game_state,
            "missedEvents": self.missed_events,
            "resync": self.resync,
            "token": self.token._wire(),
            "sessionToken": self.session_token,
            "serverTime": self.server_time,
        }
        if self.epoch is not None:
            wire["epoch"] = self.epoch
        if self.node is not None:
            wire["node"] = self.node
        return wire


@dataclass(frozen=True, slots=True)
class EventMessage:
    """`event`: one event of the game log, in the player's visibility."""

    TYPE: ClassVar[str] = "event"
    seq: int
    event: dict[str, Any]

    def _wire(self) -> dict[str, object]:
        return {"type": self.TYPE, "seq": self.seq, "event": self.event}


@dataclass(frozen=True, slots=True)
class Ack:
    """`ack`: an action took effect at `seq` (`durable` false while the store is away)."""

    TYPE: ClassVar[str] = "ack"
    action_id: str
    seq: int
    duplicate: bool
    durable: bool

    def _wire(self) -> dict[str, object]:
        return {
            "type": self.TYPE,
            "actionId": self.action_id,
            "seq": self.seq,
            "duplicate": self.duplicate,
            "durable": self.durable,
        }


@dataclass(frozen=True, slots=True)
class Error:
    """`error`: a request failed; `code` is one of docs/http-api.md's codes (kept a str for newer codes).

    `details`, when present, carries what the error is about, as in the HTTP error body: for
    `game_completed` at `hello`, the final `gameState`."""

    TYPE: ClassVar[str] = "error"
    code: str
    message: str
    action_id: str | None = None
    details: dict[str, Any] | None = None

    def _wire(self) -> dict[str, object]:
        wire: dict[str, object] = {"type": self.TYPE, "code": self.code, "message": self.message}
        if self.action_id is not None:
            wire["actionId"] = self.action_id
        if self.details is not None:
            wire["details"] = self.details
        return wire


@dataclass(frozen=True, slots=True)
class TokenMessage:
    """`token`: a fresh reconnect token, pushed well before the current one expires, with a
    fresh session token (the older one still works until it expires)."""

    TYPE: ClassVar[str] = "token"
    token: str
    expires_at: str
    session_token: str | None = None

    def _wire(self) -> dict[str, object]:
        wire: dict[str, object] = {
            "type": self.TYPE,
            "token": self.token,
            "expiresAt": self.expires_at,
        }
        if self.session_token is not None:
            wire["sessionToken"] = self.session_token
        return wire


@dataclass(frozen=True, slots=True)
class Presence:
    """`presence`: another player connected or dropped (not stored, not sequenced)."""

    TYPE: ClassVar[str] = "presence"
    player_id: str
    connected: bool

    def _wire(self) -> dict[str, object]:
        return {"type": self.TYPE, "playerId": self.player_id, "connected": self.connected}


ClientMessage: TypeAlias = Hello | Action | Ping | Pong
ServerMessage: TypeAlias = (
    Welcome | EventMessage | Ack | Error | TokenMessage | Presence | Ping | Pong
)
Message: TypeAlias = ClientMessage | ServerMessage


def wire(message: Message) -> dict[str, object]:
    """The message as the JSON-able object `encode` writes, for a peer with a faster encoder."""
    return message._wire()


def encode(message: Message) -> str:
    """The message as one compact JSON text frame."""
    # allow_nan=False: NaN and Infinity are not JSON, and the peer's decoder would refuse them.
    return json.dumps(message._wire(), separators=(",", ":"), allow_nan=False)


def decode_client(text: str | bytes, *, max_bytes: int = MAX_FRAME_BYTES) -> ClientMessage:
    """A frame a client sent, checked; raises ProtocolError naming the field at fault."""
    wire_type, reader = _open(text, max_bytes)
    decoder = _CLIENT_DECODERS.get(wire_type)
    if decoder is None:
        raise _unexpected_type(wire_type, "client")
    return decoder(reader)


def decode_server(text: str | bytes, *, max_bytes: int = MAX_SERVER_FRAME_BYTES) -> ServerMessage:
    """A frame a server sent, checked; raises ProtocolError naming the field at fault."""
    wire_type, reader = _open(text, max_bytes)
    decoder = _SERVER_DECODERS.get(wire_type)
    if decoder is None:
        raise _unexpected_type(wire_type, "server")
    return decoder(reader)


# --- decoding --------------------------------------------------------------------------------


def _refuse_constant(name: str) -> float:
    raise ProtocolError(None, f"frame must be JSON; {name} is not a JSON value")


# Deeper frames are refused before json.loads: its C scanner recurses once per level, and under
# Pyodide that overflows the JavaScript stack (a fatal error that kills the interpreter) at a few
# thousand levels, long before any RecursionError. No message of docs/protocol.md nests this deep.
MAX_NESTING = 100
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_BRACKET_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def _nested_too_deep(text: str) -> bool:
    """Whether the arrays and objects of a JSON text nest deeper than MAX_NESTING (C speed)."""
    if text.count("[") + text.count("{") <= MAX_NESTING:
        return False  # fewer openers than the bound: the common case, one pass each
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text))
    return max(accumulate(map(_BRACKET_STEP.__getitem__, brackets)), default=0) > MAX_NESTING


def _open(text: str | bytes, max_bytes: int) -> tuple[str, _Reader]:
    """Size check, UTF-8, JSON, object, `type`: what every frame must pass before its fields."""
    if isinstance(text, bytes):
        size = len(text)
        if size <= max_bytes:
            try:
                text = text.decode("utf-8")
            except UnicodeDecodeError:
                raise ProtocolError(None, "frame must be UTF-8 text") from None
    # A code point is 1 to 4 UTF-8 bytes: encode only when the length alone cannot decide.
    elif len(text) * 4 <= max_bytes or len(text) > max_bytes:
        size = len(text)
    else:
        size = len(text.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise ProtocolError(None, f"frame must be at most {max_bytes} bytes")
    assert isinstance(text, str)  # bytes within the bound were decoded above
    if _nested_too_deep(text):
        raise ProtocolError(None, f"frame must be a JSON text nested at most {MAX_NESTING} deep")
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except ProtocolError:
        raise
    except (ValueError, RecursionError):
        # ValueError: malformed JSON or an integer past the digit limit; RecursionError: nesting.
        raise ProtocolError(None, "frame must be a JSON text") from None
    if not isinstance(value, dict):
        raise ProtocolError(None, "frame must be a JSON object with a type")
    wire_type = value.get("type")
    if not isinstance(wire_type, str):
        raise ProtocolError("type", "type must be a string naming the message")
    return wire_type, _Reader(value, wire_type)


def _unexpected_type(wire_type: str, side: Literal["client", "server"]) -> ProtocolError:
    known, other, other_decoders = (
        (_CLIENT_DECODERS, "server", _SERVER_DECODERS)
        if side == "client"
        else (_SERVER_DECODERS, "client", _CLIENT_DECODERS)
    )
    if wire_type in other_decoders:
        return ProtocolError("type", f"type {wire_type!r} is a {other} message, not a {side} one")
    return ProtocolError("type", f"type must be one of {', '.join(known)} for a {side} message")


def _is_int(value: object) -> TypeGuard[int]:
    # bool is a subclass of int, but `true` is not a number on this wire.
    return isinstance(value, int) and not isinstance(value, bool)


# Ids, tokens and codes end up in databases and logs: a control character or a lone surrogate
# (which no UTF-8 text can hold) has no business in one.
_NOT_IN_IDS = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")
_IDENT = "a non-empty string without control characters"


def is_ident(value: object) -> TypeGuard[str]:
    """Whether `value` is what an id, a token or a code may be on this wire."""
    return isinstance(value, str) and bool(value) and _NOT_IN_IDS.search(value) is None


class _Reader:
    """Reads the fields of one JSON object, raising ProtocolError with the field's wire path."""

    __slots__ = ("_obj", "_where")

    def __init__(self, obj: dict[str, Any], where: str) -> None:
        self._obj = obj
        self._where = where

    def _fail(self, key: str, what: str, *, optional: bool = False) -> ProtocolError:
        path = f"{self._where}.{key}"
        if key not in self._obj:
            return ProtocolError(path, f"{path} is missing; it must be {what}")
        return ProtocolError(path, f"{path} must be {what}{' or null' if optional else ''}")

    def _get(self, key: str, what: str) -> object:
        if key not in self._obj:
            raise self._fail(key, what)
        return self._obj[key]

    def string(self, key: str) -> str:
        value = self._get(key, "a string")
        if not isinstance(value, str):
            raise self._fail(key, "a string")
        return value

    def ident(self, key: str) -> str:
        value = self._get(key, _IDENT)
        if not is_ident(value):
            raise self._fail(key, _IDENT)
        return value

    def optional_ident(self, key: str) -> str | None:
        value = self._obj.get(key)
        if value is None:
            return None
        if not is_ident(value):
            raise self._fail(key, _IDENT, optional=True)
        return value

    def integer(self, key: str) -> int:
        value = self._get(key, "an integer")
        if not _is_int(value):
            raise self._fail(key, "an integer")
        return value

    def count(self, key: str) -> int:
        value = self._get(key, "a non-negative integer")
        if not _is_int(value) or value < 0:
            raise self._fail(key, "a non-negative integer")
        return value

    def optional_count(self, key: str) -> int | None:
        value = self._obj.get(key)
        if value is None:
            return None
        if not _is_int(value) or value < 0:
            raise self._fail(key, "a non-negative integer", optional=True)
        return value

    def positive(self, key: str) -> int:
        value = self._get(key, "a positive integer")
        if not _is_int(value) or value < 1:
            raise self._fail(key, "a positive integer")
        return value

    def number(self, key: str) -> int | float:
        value = self._get(key, "a finite number")
        # 1e999 parses to inf, which could not be encoded back.
        if _is_int(value) or (isinstance(value, float) and math.isfinite(value)):
            return value
        raise self._fail(key, "a finite number")

    def flag(self, key: str) -> bool:
        value = self._get(key, "true or false")
        if not isinstance(value, bool):
            raise self._fail(key, "true or false")
        return value

    def obj(self, key: str) -> dict[str, Any]:
        value = self._get(key, "an object")
        if not isinstance(value, dict):
            raise self._fail(key, "an object")
        return value

    def optional_obj(self, key: str) -> dict[str, Any] | None:
        value = self._obj.get(key)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise self._fail(key, "an object", optional=True)
        return value

    def objects(self, key: str) -> list[dict[str, Any]]:
        value = self._get(key, "a list of objects")
        if not isinstance(value, list):
            raise self._fail(key, "a list of objects")
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                path = f"{self._where}.{key}[{index}]"
                raise ProtocolError(path, f"{path} must be an object")
        return value

    def nested(self, key: str) -> _Reader:
        return _Reader(self.obj(key), f"{self._where}.{key}")

    def rest(self, known: frozenset[str]) -> dict[str, Any]:
        """The object's other fields, as they are."""
        return {key: value for key, value in self._obj.items() if key not in known}


def _decode_hello(r: _Reader) -> Hello:
    return Hello(
        player_id=r.ident("playerId"),
        token=r.ident("token"),
        client_id=r.ident("clientId"),
        last_seq=r.optional_count("lastSeq"),
        protocol=r.positive("protocol"),
        last_epoch=r.optional_ident("lastEpoch"),
    )


def _decode_action(r: _Reader) -> Action:
    action_id = r.ident("actionId")
    body = r.nested("action")
    return Action(
        action_id=action_id,
        action=ActionBody(
            type=body.ident("type"),
            amount=body.optional_count("amount"),
            fields=body.rest(RESERVED_ACTION_KEYS),
        ),
        at_seq=r.optional_count("atSeq"),
    )


def _decode_ping(r: _Reader) -> Ping:
    return Ping(t=r.number("t"))


def _decode_pong(r: _Reader) -> Pong:
    return Pong(t=r.number("t"))


def _decode_welcome(r: _Reader) -> Welcome:
    player_id = r.ident("playerId")
    seat = r.count("seat")
    seq = r.count("seq")
    game_state = r.obj("gameState")
    missed_events = r.objects("missedEvents")
    resync = r.flag("resync")
    token = r.nested("token")
    return Welcome(
        player_id=player_id,
        seat=seat,
        seq=seq,
        game_state=game_state,
        missed_events=missed_events,
        resync=resync,
        token=TokenInfo(token=token.ident("token"), expires_at=token.ident("expiresAt")),
        session_token=r.ident("sessionToken"),
        server_time=r.integer("serverTime"),
        epoch=r.optional_ident("epoch"),
        node=r.optional_ident("node"),
    )


def _decode_event(r: _Reader) -> EventMessage:
    return EventMessage(seq=r.count("seq"), event=r.obj("event"))


def _decode_ack(r: _Reader) -> Ack:
    return Ack(
        action_id=r.ident("actionId"),
        seq=r.count("seq"),
        duplicate=r.flag("duplicate"),
        durable=r.flag("durable"),
    )


def _decode_error(r: _Reader) -> Error:
    return Error(
        code=r.ident("code"),
        message=r.string("message"),
        action_id=r.optional_ident("actionId"),
        details=r.optional_obj("details"),
    )


def _decode_token(r: _Reader) -> TokenMessage:
    return TokenMessage(
        token=r.ident("token"),
        expires_at=r.ident("expiresAt"),
        session_token=r.optional_ident("sessionToken"),
    )


def _decode_presence(r: _Reader) -> Presence:
    return Presence(player_id=r.ident("playerId"), connected=r.flag("connected"))


_CLIENT_DECODERS: dict[str, Callable[[_Reader], ClientMessage]] = {
    "hello": _decode_hello,
    "action": _decode_action,
    "ping": _decode_ping,
    "pong": _decode_pong,
}
_SERVER_DECODERS: dict[str, Callable[[_Reader], ServerMessage]] = {
    "welcome": _decode_welcome,
    "event": _decode_event,
    "ack": _decode_ack,
    "error": _decode_error,
    "token": _decode_token,
    "presence": _decode_presence,
    "ping": _decode_ping,
    "pong": _decode_pong,
}
