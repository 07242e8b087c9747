"""Request bodies: reading one (bounded in size, a JSON object), and the declaration of every
endpoint's body (`Join`, `Action`, `Reconnect`, `Persist`, `Rollback`), which is at once what the
endpoint checks and what `/openapi.json` documents (`fields` says how). `POST /api/games` takes a
table's settings, which the game declares and checks (`PokerSettings`).

Every refusal is `invalid_request` with a message naming the field and what it must be.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, TypeVar

import orjson
from starlette.requests import Request

from rejoin_protocol.messages import ACTION_TYPES
from rejoin_server.api.fields import (
    Body,
    Flag,
    Integer,
    Name,
    PathEcho,
    Text,
    invalid,
    read_fields,
)
from rejoin_server.games.poker import settings as poker
from rejoin_server.store import widths
from rejoin_server.store.codec import check_storable
from rejoin_server.store.rollback import MAX_REASON, reason_problem

# What a game id can be (anything else is not found); the store's column holds the longest.
GAME_ID = re.compile(rf"^[A-Za-z0-9_-]{{1,{widths.GAME_ID}}}$")
SEQ_DIGITS = 15  # the most digits a seq in a query or header may have
# ASCII only: str.isdigit() accepts "²", int() does not.
_DIGITS = re.compile(rf"^[0-9]{{1,{SEQ_DIGITS}}}$")

# The longest values a request may carry, over HTTP and WebSocket alike: ids are bounded by the
# store's columns. An actionId is stored scoped by player, `{playerId}:{actionId}`, so it gets
# less than its column: with the server's 32-character player ids (uuid4 hex) that is at most 97
# characters of `widths.ACTION_ID`'s 128.
MAX_ACTION_ID = 64
MAX_NAME = 64  # the longest name a join reads, before the game's own rule
MAX_PLAYER_ID = widths.PLAYER_ID
MAX_CLIENT_ID = widths.CLIENT_ID
MAX_TOKEN = 1024
MAX_EPOCH = 64
MAX_ACTION_TYPE = 32
MAX_SEAT = 999  # the highest seat a join may ask for, whatever the game; the game refuses the rest
_ACTION_OWN_KEYS = frozenset({"actionId", "type", "atSeq"})
_POKER_TYPES = ", ".join(ACTION_TYPES)

B = TypeVar("B", bound=Body)

# A body's `gameId`, which may repeat the game in the path and must then be it.
_GAME_IN_PATH = PathEcho("game_id", GAME_ID.pattern, widths.GAME_ID)


async def read(request: Request, body: type[B], limit: int) -> B:
    """The request's body, at most `limit` bytes, read as a `body`."""
    raw = await read_object(request, limit, optional=body.may_be_empty)
    return read_fields(body, raw, request.path_params)


@dataclass(frozen=True, slots=True)
class Join(Body):
    """`POST …/join`."""

    name: Annotated[str, Name(MAX_NAME, poker.MAX_NAME_LENGTH)]
    seat: Annotated[
        int | None,
        Integer(
            0,
            MAX_SEAT,
            "A seat of the game (poker: below the table's `seats`); left out: the first free "
            "seat. Which seats exist is the game's to say.",
        ),
    ] = None


@dataclass(frozen=True, slots=True)
class Action(Body):
    """`POST …/action`: flat, unlike the WebSocket's `action` message, whose move is nested."""

    description: ClassVar[str] = (
        "What is legal right now is the game's: a move against the rules is refused with "
        "invalid_action, out of turn with not_your_turn."
    )

    action_id: Annotated[str, Text(MAX_ACTION_ID)]
    type: Annotated[
        str, Text(MAX_ACTION_TYPE, "The move; the game's (poker: " + _POKER_TYPES + ").")
    ]
    amount: Annotated[
        int | None, Integer(description="Poker: the total bet to, for bet and raise.")
    ] = None
    at_seq: Annotated[int | None, Integer()] = None

    @classmethod
    def check_shape(cls, body: Mapping[str, Any]) -> None:
        # A client that speaks the WebSocket too may send that message here, as it is or without
        # its `type`; "`type` is required" would send it looking for a field it believes it sent.
        if "action" in body and body.get("type") in (None, "action"):
            raise invalid(
                "The HTTP action body is flat: send "
                '{"actionId": "a-1", "type": "raise", "amount": 40} (amount and atSeq optional), '
                'not the WebSocket message\'s nested {"action": {"type": …}, "actionId": …}.'
            )


@dataclass(frozen=True, slots=True)
class Reconnect(Body):
    """`POST …/reconnect`."""

    player_id: Annotated[str, Text(MAX_PLAYER_ID)]
    reconnect_token: Annotated[str, Text(MAX_TOKEN)]
    game_id: Annotated[str | None, _GAME_IN_PATH] = None
    last_seq: Annotated[
        int | None, Integer(description="The last seq the client has; null: send the state.")
    ] = None
    client_id: Annotated[str | None, Text(MAX_CLIENT_ID)] = None
    last_epoch: Annotated[
        str | None,
        Text(
            MAX_EPOCH,
            "The `epoch` of the answer (or welcome) the client's events up to `lastSeq` came "
            "with: a history the server lost in a crash is answered with a resync.",
        ),
    ] = None


@dataclass(frozen=True, slots=True)
class Persist(Body):
    """`POST …/persist`."""

    description: ClassVar[str] = "May be left out."
    may_be_empty: ClassVar[bool] = True

    game_id: Annotated[str | None, _GAME_IN_PATH] = None
    force_overwrite: Annotated[bool, Flag()] = False


@dataclass(frozen=True, slots=True)
class Reason(Text):
    """A rollback's `reason`: `Text`, and not blank (the CLI's `--reason` has the same rule)."""

    def read(self, value: object, key: str, path: Mapping[str, Any]) -> str:
        text = Text.read(self, value, key, path)
        problem = reason_problem(text)
        if problem:
            raise invalid(f"`{key}` {problem}.")
        return text


@dataclass(frozen=True, slots=True)
class Rollback(Body):
    """`POST …/rollback`."""

    description: ClassVar[str] = (
        "Rolls the game back to a kept snapshot (GET …/versions lists them): the log stays "
        "append-only, a snapshot_restored event is appended."
    )

    to_version: Annotated[
        int, Integer(description="A kept snapshot's version (the seq it includes).")
    ]
    reason: Annotated[
        str, Reason(MAX_REASON, "Why, not blank: stored in the snapshot_restored event.")
    ]
    reopen: Annotated[bool, Flag()] = False


async def read_action(request: Request, limit: int) -> tuple[Action, dict[str, Any]]:
    """`POST …/action`'s body, and the action's fields for the game: every key but the body's own
    (`actionId`, `type`, `atSeq`), `amount` included when not null."""
    raw = await read_object(request, limit)
    action = read_fields(Action, raw, request.path_params)
    data = {
        key: value
        for key, value in raw.items()
        if key not in _ACTION_OWN_KEYS and not (key == "amount" and value is None)
    }
    return action, storable_fields(data)


def storable_fields(data: dict[str, Any]) -> dict[str, Any]:
    """An action's fields for the game, over HTTP and WebSocket alike, refused unless they are
    JSON the store can write: a game may copy them into its events as they are."""
    try:
        check_storable([data])
    except TypeError as exc:
        raise invalid(
            f"The action's fields must be plain JSON with whole numbers within 64 bits ({exc})."
        ) from exc
    return data


async def read_object(request: Request, limit: int, *, optional: bool = False) -> dict[str, Any]:
    """The body as a JSON object. An empty body is `{}` when `optional`."""
    declared = request.headers.get("content-length")
    if declared is not None and _DIGITS.fullmatch(declared) and int(declared) > limit:
        raise invalid(f"The request body is larger than {limit} bytes; send less.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise invalid(f"The request body is larger than {limit} bytes; send less.")
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        if optional:
            return {}
        raise invalid("The request needs a JSON object body.")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise invalid(f"The body is not valid JSON ({exc}); send a JSON object.") from exc
    if not isinstance(data, dict):
        raise invalid(f"The body must be a JSON object, not {type(data).__name__}.")
    return data


def query_int(request: Request, key: str) -> int | None:
    """An optional non-negative integer in the query string, given at most once: `?after=` with
    nothing, or `?after=1&after=2`, is a client bug, not "no value" nor the last one."""
    given = request.query_params.getlist(key)
    if not given:
        return None
    if len(given) > 1:
        raise invalid(f"`{key}` must be given once, not {len(given)} times.")
    if not _DIGITS.fullmatch(given[0]):
        raise invalid(f"`{key}` must be a non-negative integer of at most {SEQ_DIGITS} digits.")
    return int(given[0])


def is_seq(text: str) -> bool:
    """True for a plain ASCII number of at most `SEQ_DIGITS` digits."""
    return bool(_DIGITS.fullmatch(text))
