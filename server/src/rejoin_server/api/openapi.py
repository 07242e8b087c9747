"""`GET /openapi.json`: the OpenAPI 3.1 description of docs/http-api.md's table.

Request bodies are described from the declarations the endpoints read them with (`bodies`, and
the settings of each kind of game served), so every bound documented is the one enforced; the
answers are described here. e2e/server/test_openapi_conformance.py holds the document to what the
server does with schemathesis against a running server: whatever the schema admits the server
accepts but for rules between fields or with the game's state that JSON Schema cannot state (said
in each field's description). Answers stay open: fields may be added to them. The rate-limited
endpoints document 429 with `Retry-After`.

Longer than 400 lines: most of it is `_operations`, one declaration per endpoint of the HTTP API,
read top to bottom like docs/http-api.md's table; split, the table would be in pieces.
"""

from __future__ import annotations

import asyncio
from functools import cache
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from rejoin_server.api import bodies
from rejoin_server.api.context import services
from rejoin_server.api.openapi_console import console_operations
from rejoin_server.api.openapi_parts import (
    BOOL,
    DURABILITY,
    ERROR,
    GAME_ID,
    OBJ,
    SEQ,
    STR,
    TIME,
    TRUE,
    Operation,
    RequestBody,
    Schema,
    declared,
    integer,
    schema_object,
)  # fmt: skip
from rejoin_server.api.openapi_rollback import rollback_operations
from rejoin_server.api.responses import ok
from rejoin_server.durability import DURABILITIES
from rejoin_server.games.kinds import GameKinds

# A key the server reads itself, like `kind` (docs/games.md, "Rolling out").
_NEW_DURABILITY: Schema = {
    **DURABILITY,
    "description": "memory: never stored, lost on a restart; relaxed: written behind; strict: "
    "committed before anyone sees it. Left out: the server's rollout rule (--persist-fraction) "
    "chooses.",
}


_TOKEN = schema_object(
    {"token": STR, "expiresAt": TIME, "playerId": STR}, ("token", "expiresAt", "playerId")
)
_SEAT = schema_object(
    {"playerId": STR, "seat": SEQ, "sessionToken": STR, "connectionToken": _TOKEN},
    ("playerId", "seat", "sessionToken", "connectionToken"),
)
_SEATS_OR_NULL: Schema = {
    "anyOf": [SEQ, {"type": "null"}],
    "description": "null when the game does not say (a kind without a `seats` setting).",
}
_TABLE = schema_object(
    {
        "gameId": GAME_ID,
        "kind": STR,
        "status": {"enum": ["waiting", "playing", "completed"]},
        "seats": _SEATS_OR_NULL,
        "seated": _SEATS_OR_NULL,
        "freeSeats": {
            "anyOf": [{"type": "array", "items": SEQ}, {"type": "null"}],
            "description": "The free seats, numbered from 0 (people read them from 1).",
        },
        "open": {
            "anyOf": [{"type": "boolean"}, {"type": "null"}],
            "description": "Whether a join would be taken now: not completed, a seat free, and "
            "waiting (or playing, for a kind that takes players then). null when not known.",
        },
        "createdAt": {
            "anyOf": [TIME, {"type": "null"}],
            "description": "null when not known (the store could not be read).",
        },
        "settings": OBJ,
    },
    ("gameId", "kind", "status", "seats", "seated", "freeSeats", "open", "createdAt", "settings"),
    description="A table as anyone may see it before sitting down.",
)
_EVENT = schema_object(
    {"seq": SEQ, "kind": STR, "at": {**SEQ, "description": "ms since the epoch"}, "data": OBJ},
    ("seq", "kind", "at", "data"),
    description="An event as this player may see it.",
)
# One Server-Sent Event (OpenAPI 3.1 describes a stream's items with the media type's schema).
_SSE_EVENT = schema_object(
    {
        "id": {"type": "string", "pattern": "^[0-9]+$", "description": "The event's seq."},
        "event": {"type": "string", "description": "The event's kind."},
        "data": {
            "type": "string",
            "contentMediaType": "application/json",
            "description": "The event as JSON, as in the JSON answer's `events`.",
        },
    },
    ("data",),
)


def _new_game_body(kinds: GameKinds) -> Schema:
    """`POST /api/games`: `kind`, `durability` and the settings of that kind, as its engine
    declares them (the default kind's settings may come without `kind`)."""
    variants = []
    for kind in kinds.kinds:
        settings = kinds.schema(kind)
        kind_key: Schema = {"type": "string", "const": kind, "description": "The kind of game."}
        properties = {
            "kind": kind_key,
            "durability": _NEW_DURABILITY,
            **settings.get("properties", {}),
        }
        variant = {**settings, "type": "object", "properties": properties}
        if kind != kinds.default:
            variant["required"] = ["kind", *settings.get("required", [])]
        variants.append(variant)
    return variants[0] if len(variants) == 1 else {"oneOf": variants}


def _operations(kinds: GameKinds, login: bool) -> list[Operation]:
    """docs/http-api.md's table, with this server's kinds of game and their settings, and
    `…/reclaim` when players log in (elsewhere it only answers that they do not); built on
    demand, as the name's pattern scans Unicode."""
    session = ("bearer",)
    return [
        Operation(
            "post", "/api/games", "Create a game", "anyone", 201,
            schema_object(
                {"gameId": GAME_ID, "kind": STR, "status": STR, "durability": DURABILITY},
                ("gameId", "kind", "status", "durability"),
            ),
            body=RequestBody(_new_game_body(kinds), required=False),
            rate_limited=True,
        ),
        Operation(
            "get", "/api/games/kinds", "The kinds of game served", "anyone", 200,
            schema_object(
                {"kinds": {"type": "array", "items": schema_object(
                    {"kind": STR, "settings": OBJ}, ("kind", "settings")
                )}},
                ("kinds",),
            ),
        ),
        Operation(
            "get", "/api/games/open", "The open tables (the lobby)", "anyone", 200,
            schema_object({"games": {"type": "array", "items": _TABLE}}, ("games",)),
            parameters=(
                {
                    "name": "limit",
                    "in": "query",
                    "required": False,
                    "schema": integer(1, 100, "How many, newest first (left out: 50)."),
                },
            ),
            description="Games not completed with a free seat, newest first; one indexed "
            "query on the stored games, so a cluster lists every node's. No player ids, "
            "tokens or names. A game kept in memory only is not listed.",
        ),
        Operation(
            "get", "/api/game/{gameId}", "One table before joining", "anyone", 200, _TABLE,
            description="A completed game answers game_completed (410) with `details.game` "
            "(this table) and `details.gameState` (the spectator's final view, the result).",
        ),
        Operation(
            "post", "/api/game/{gameId}/join", "Take a seat",
            "anyone; on a server with player login, a logged-in player", 201, _SEAT,
            body=declared(bodies.Join),
            rate_limited=True,
            description="With player login: the login as `Authorization: Bearer`, `name` "
            "optional (the login's), and a player already seated takes that seat back "
            "(200, `reclaimed: true`) as with POST …/reclaim.",
        ),
        Operation(
            "post", "/api/game/{gameId}/start", "Start the next hand", "seated player", 200,
            schema_object(
                {"success": TRUE, "handNumber": SEQ, "seq": SEQ},
                ("success", "handNumber", "seq"),
            ),
            security=session,
        ),
        Operation(
            "post", "/api/game/{gameId}/action", "Act (idempotent by actionId)", "seated player",
            200,
            schema_object(
                {"success": TRUE, "seq": SEQ, "duplicate": BOOL, "durable": BOOL},
                ("success", "seq", "duplicate", "durable"),
            ),
            body=declared(bodies.Action),
            security=session,
        ),
        Operation(
            "get", "/api/game/{gameId}/state", "The player's view", "seated player", 200,
            schema_object({"gameState": OBJ, "seq": SEQ}, ("gameState", "seq")),
            security=session,
        ),
        Operation(
            "get", "/api/game/{gameId}/events", "Events after ?after=", "seated player", 200,
            schema_object({"events": {"type": "array", "items": _EVENT}, "seq": SEQ}, ("events", "seq")),
            security=(*session, "sessionQuery"),
            parameters=(
                {
                    "name": "after",
                    "in": "query",
                    "schema": integer(0, 10**bodies.SEQ_DIGITS - 1),
                    "description": "The last seq the client has (default 0).",
                },
                {
                    "name": "Last-Event-ID",
                    "in": "header",
                    "schema": STR,
                    "description": "An EventSource resuming: a seq replaces `after`; anything "
                    "else is ignored.",
                },
            ),
            description="Server-Sent Events (`id:` is the seq) unless the request accepts "
            "application/json and not text/event-stream: then one page of events as JSON.",
        ),
        Operation(
            "get", "/api/game/{gameId}/connection-token",
            "The seat's current reconnect token, and a fresh session token", "seated player", 200,
            schema_object(
                {**_TOKEN["properties"], "sessionToken": STR},
                (*_TOKEN["required"], "sessionToken"),
            ),
            security=session, rate_limited=True,
        ),
        Operation(
            "post", "/api/game/{gameId}/reconnect", "Resume a seat with a reconnect token",
            "holder of a reconnect token (in the body)", 200,
            schema_object(
                {
                    "success": TRUE,
                    "seat": SEQ,
                    "gameState": OBJ,
                    "reconnectedAt": TIME,
                    "missedEvents": {"type": "array", "items": _EVENT},
                    "resync": BOOL,
                    "seq": SEQ,
                    "epoch": {**STR, "description": "The history epoch: send it back as "
                              "`lastEpoch` with `lastSeq` next time."},
                    "connectionToken": _TOKEN,
                    "sessionToken": STR,
                },
                ("success", "seat", "gameState", "reconnectedAt", "missedEvents", "resync",
                 "seq", "epoch", "connectionToken", "sessionToken"),
            ),
            body=declared(bodies.Reconnect),
        ),
        *([Operation(
            "post", "/api/game/{gameId}/reclaim", "Take your seat back with your login",
            "a logged-in player holding a seat", 200,
            schema_object({**_SEAT["properties"], "reclaimed": TRUE}, (*_SEAT["required"], "reclaimed")),
            security=("login",), rate_limited=True,
            description="A new reconnect token and session token; the seat's other device is "
            "superseded (WebSocket 4409).",
        )] if login else []),
        Operation(
            "post", "/api/game/{gameId}/persist", "Snapshot the game now",
            "admin or seated player", 200,
            schema_object(
                {"success": TRUE, "persistedAt": TIME, "version": SEQ},
                ("success", "persistedAt", "version"),
            ),
            body=declared(bodies.Persist),
            security=session,
            rate_limited=True,
        ),
        Operation(
            "get", "/api/game/{gameId}/restore", "The stored game (loaded if not in memory)",
            "admin (full state) or seated player (own view)", 200,
            schema_object(
                {
                    "success": TRUE,
                    "gameState": OBJ,
                    "version": SEQ,
                    "durableVersion": SEQ,
                    "persistedAt": {
                        "anyOf": [TIME, {"type": "null"}],
                        "description": "null for a game kept in memory only (never stored).",
                    },
                    "durability": DURABILITY,
                },
                ("success", "gameState", "version", "durableVersion", "persistedAt"),
            ),
            security=session,
        ),
        Operation(
            "delete", "/api/game/{gameId}/persist", "Delete a game and everything stored of it",
            "admin; a seated player once completed", 200,
            schema_object(
                {
                    "success": TRUE,
                    "deleted": schema_object(
                        {"events": SEQ, "snapshots": SEQ, "tokens": SEQ},
                        ("events", "snapshots", "tokens"),
                    ),
                },
                ("success", "deleted"),
            ),
            security=session,
        ),
        Operation(
            "get", "/healthz", "Health and degraded state", "anyone", 200,
            schema_object(
                {
                    "status": {"enum": ["ok", "degraded", "draining", "rejoining"]},
                    "storage": {"enum": ["available", "unavailable"]},
                    "backend": STR,
                    "durability": {"enum": ["strict", "relaxed"]},
                    "persistFraction": {"type": "number", "minimum": 0, "maximum": 1},
                    "pendingWrites": SEQ,
                    "gamesActive": SEQ,
                    "gamesByDurability": schema_object(
                        {durability: SEQ for durability in DURABILITIES}, DURABILITIES
                    ),
                    "node": STR,
                    "games": SEQ,
                    # Whether hole cards (a game's declared private data) are encrypted in the
                    # database (REJOIN_DATA_KEYS) or stored in the clear.
                    "privateData": {"enum": ["encrypted", "clear"]},
                },
                ("status", "storage", "pendingWrites", "privateData"),
            ),
            description="503 with the same body while the node is draining or rejoining its "
            "cluster (docs/cluster.md): a proxy takes it out of rotation.",
        ),
        Operation(
            "get", "/api/cluster", "The nodes of the cluster", "admin", 200,
            schema_object(
                {
                    "nodes": {
                        "type": "array",
                        "items": schema_object(
                            {
                                "node": STR,
                                "url": STR,
                                "heartbeatAt": TIME,
                                "games": SEQ,
                                "draining": {"type": "boolean"},
                                "alive": {"type": "boolean"},
                            },
                            ("node", "url", "heartbeatAt", "games", "draining", "alive"),
                        ),
                    }
                },
                ("nodes",),
            ),
            security=session,
        ),
        Operation(
            "post", "/api/cluster/drain", "Hand every game of this node over, take no new ones",
            "admin", 202,
            schema_object({"node": STR, "draining": TRUE}, ("node", "draining")),
            security=session,
            description="On SQLite there is no other node to take the games: invalid_request.",
        ),
    ]  # fmt: skip


def _json(schema: Schema) -> Schema:
    return {"application/json": {"schema": schema}}


def _operation(op: Operation) -> Schema:
    success: Schema = {"description": "Success", "content": _json(op.answer)}
    if op.path.endswith("/events"):
        success["content"]["text/event-stream"] = {"schema": _SSE_EVENT}
    responses: Schema = {
        str(op.status): success,
        "default": {
            "description": "An error with a stable code (docs/http-api.md)",
            "content": _json({"$ref": "#/components/schemas/Error"}),
        },
    }
    if op.rate_limited:
        responses["429"] = {
            "description": "rate_limited: too many of these from this address or player",
            "headers": {
                "Retry-After": {
                    "description": "Seconds until the next one is accepted.",
                    "required": True,
                    "schema": {"type": "integer", "minimum": 0},
                }
            },
            "content": _json({"$ref": "#/components/schemas/Error"}),
        }
    operation: Schema = {
        "summary": op.summary,
        "description": f"Who: {op.who}. {op.description}".strip(),
        "responses": responses,
        # Anyone may call an operation without a scheme (join, reconnect: its token is in the body).
        "security": [{scheme: []} for scheme in op.security],
    }
    parameters = list(op.parameters)
    if "{gameId}" in op.path:
        parameters.insert(
            0,
            {
                "name": "gameId",
                "in": "path",
                "required": True,
                "schema": GAME_ID,
                "description": "Any other id is game_not_found.",
            },
        )
    if parameters:
        operation["parameters"] = parameters
    if op.body is not None:
        operation["requestBody"] = {"required": op.body.required, "content": _json(op.body.schema)}
    return operation


@cache
def build(kinds: GameKinds, login: bool = False) -> dict[str, Any]:
    """The document of a server with these kinds of game, and with player login or not."""
    paths: dict[str, Any] = {}
    ops = [*_operations(kinds, login), *rollback_operations(("bearer",))]
    for op in [*ops, *console_operations(("bearer",))]:
        paths.setdefault(op.path, {})[op.method] = _operation(op)
    paths["/metrics"] = {
        "get": {
            "summary": "Prometheus metrics",
            "description": "Who: anyone from the server's own host (loopback); elsewhere admin.",
            "security": [{}, {"bearer": []}],
            "responses": {
                "200": {
                    "description": "Prometheus text exposition format",
                    "content": {"text/plain": {"schema": STR}},
                },
                "default": {
                    "description": "An error with a stable code (docs/http-api.md)",
                    "content": _json({"$ref": "#/components/schemas/Error"}),
                },
            },
        }
    }
    paths["/openapi.json"] = {
        "get": {
            "summary": "This schema",
            "security": [],
            "responses": {"200": {"description": "OpenAPI 3.1", "content": _json(OBJ)}},
        }
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "rejoin reference server", "version": "0.1.0"},
        "paths": paths,
        "components": {
            "schemas": {"Error": ERROR},
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A seated player's session token (from join or reconnect), "
                    "or the operator's admin token.",
                },
                "login": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "On a server with player login: the player's login, a JWT "
                    "of the identity provider it trusts.",
                },
                "sessionQuery": {
                    "type": "apiKey",
                    "in": "query",
                    "name": "session",
                    "description": "The session token as `?session=`, for an EventSource, which "
                    "cannot send headers.",
                },
            },
        },
    }


async def schema(request: Request) -> Response:
    # The first build scans Unicode for the name's pattern: off the event loop.
    svc = services(request)
    document = await asyncio.to_thread(build, svc.host.games, svc.login is not None)
    prefix = request.scope.get("root_path", "")
    if prefix:
        # Mounted under a prefix (rejoin_server.embed): the paths stay the app's own, and the
        # server they are relative to is the prefix (OpenAPI resolves it against this document's
        # address).
        document = {**document, "servers": [{"url": prefix}]}
    return ok(document)
