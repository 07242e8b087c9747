"""`GET /openapi.json`: the OpenAPI 3.1 description of DESIGN §2's table, written out by hand
(the endpoints validate their bodies themselves, so there are no models to derive it from)."""

from __future__ import annotations

from functools import cache
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from rejoin_protocol.errors import ErrorCode
from rejoin_server.api import bodies
from rejoin_server.api.responses import ok
from rejoin_server.games.poker.settings import MAX_NAME_LENGTH

_GAME_ID = {"name": "gameId", "in": "path", "required": True, "schema": {"type": "string"}}
_INT = {"type": "integer"}
_STR = {"type": "string"}
_BOOL = {"type": "boolean"}
_OBJ = {"type": "object"}


def _name() -> dict[str, Any]:
    return {
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_NAME_LENGTH,
        "pattern": bodies.name_pattern(),
        "description": f"1 to {MAX_NAME_LENGTH} characters once surrounding spaces are trimmed; "
        "no control or invisible formatting characters (zero-width joiner and non-joiner "
        "allowed), and at least one visible character.",
    }


def _body(props: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    schema = {"type": "object", "properties": props, "required": list(required)}
    return {"required": bool(required), "content": {"application/json": {"schema": schema}}}


def _answer(status: int, props: dict[str, Any], description: str) -> dict[str, Any]:
    schema = {"type": "object", "properties": props}
    return {
        str(status): {
            "description": description,
            "content": {"application/json": {"schema": schema}},
        }
    }


_TOKEN_PROPS: dict[str, Any] = {"token": _STR, "expiresAt": _STR, "playerId": _STR}
_TOKEN = {"type": "object", "properties": _TOKEN_PROPS}


def _endpoints() -> list[tuple[str, str, str, str, dict[str, Any] | None, int, dict[str, Any]]]:
    """(method, path, summary, who may call, request body, success status, answer properties);
    built on demand, as the name's pattern scans Unicode."""
    return [
        ("post", "/api/games", "Create a poker table", "anyone",
         _body({"seats": _INT, "smallBlind": _INT, "bigBlind": _INT, "startingStack": _INT,
                "actionTimeoutMs": _INT, "autoNextHand": _BOOL, "nextHandDelayMs": _INT}),
         201, {"gameId": _STR, "status": _STR}),
        ("post", "/api/game/{gameId}/join", "Take a seat", "anyone",
         _body({"name": _name(), "seat": _INT}, ("name",)),
         201, {"playerId": _STR, "seat": _INT, "sessionToken": _STR, "connectionToken": _TOKEN}),
        ("post", "/api/game/{gameId}/start", "Start the next hand", "seated player", None,
         200, {"success": _BOOL, "handNumber": _INT, "seq": _INT}),
        ("post", "/api/game/{gameId}/action", "Act (idempotent by actionId)", "seated player",
         _body({"actionId": _STR, "type": {"enum": ["fold", "check", "call", "bet", "raise", "allin"]},
                "amount": _INT, "atSeq": _INT}, ("actionId", "type")),
         200, {"success": _BOOL, "seq": _INT, "duplicate": _BOOL, "durable": _BOOL}),
        ("get", "/api/game/{gameId}/state", "The player's view", "seated player", None,
         200, {"gameState": _OBJ, "seq": _INT}),
        ("get", "/api/game/{gameId}/events", "Events after ?after= (SSE, or JSON with Accept)",
         "seated player (?session= allowed)", None, 200, {"events": {"type": "array"}, "seq": _INT}),
        ("get", "/api/game/{gameId}/connection-token", "A fresh reconnect token", "seated player",
         None, 200, _TOKEN_PROPS),
        ("post", "/api/game/{gameId}/reconnect", "Resume a seat with a reconnect token",
         "holder of a reconnect token",
         _body({"gameId": _STR, "playerId": _STR, "reconnectToken": _STR, "lastSeq": _INT,
                "clientId": _STR}, ("playerId", "reconnectToken")),
         200, {"success": _BOOL, "gameState": _OBJ, "reconnectedAt": _STR,
               "missedEvents": {"type": "array"}, "resync": _BOOL, "seq": _INT,
               "connectionToken": _TOKEN, "sessionToken": _STR}),
        ("post", "/api/game/{gameId}/persist", "Snapshot the game now", "admin or seated player",
         _body({"gameId": _STR, "forceOverwrite": _BOOL}),
         200, {"success": _BOOL, "persistedAt": _STR, "version": _INT}),
        ("get", "/api/game/{gameId}/restore", "The stored game (loaded if not in memory)",
         "admin (full state) or seated player (own view)", None,
         200, {"success": _BOOL, "gameState": _OBJ, "version": _INT, "persistedAt": _STR}),
        ("delete", "/api/game/{gameId}/persist", "Delete a game and everything stored of it",
         "admin; a seated player once completed", None,
         200, {"success": _BOOL, "deleted": {"type": "object", "properties": {
             "events": _INT, "snapshots": _INT, "tokens": _INT}}}),
        ("get", "/healthz", "Health and degraded state", "anyone", None,
         200, {"status": {"enum": ["ok", "degraded"]}, "storage": _STR, "pendingWrites": _INT}),
    ]  # fmt: skip


@cache
def build() -> dict[str, Any]:
    error = {
        "type": "object",
        "properties": {
            "success": {"const": False},
            "error": {
                "type": "object",
                "properties": {"code": {"enum": [c.value for c in ErrorCode]}, "message": _STR},
                "required": ["code", "message"],
            },
        },
    }
    paths: dict[str, Any] = {}
    for method, path, summary, who, body, status, props in _endpoints():
        operation: dict[str, Any] = {
            "summary": summary,
            "description": f"Who: {who}.",
            "responses": {
                **_answer(status, props, "Success"),
                "default": {
                    "description": "An error with a stable code (DESIGN §2)",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                    },
                },
            },
        }
        if "{gameId}" in path:
            operation["parameters"] = [_GAME_ID]
        if body is not None:
            operation["requestBody"] = body
        if who != "anyone":
            operation["security"] = [{"bearer": []}]
        paths.setdefault(path, {})[method] = operation
    paths["/metrics"] = {
        "get": {
            "summary": "Prometheus metrics (loopback, else admin)",
            "responses": {"200": {"description": "Prometheus text"}},
        }
    }
    paths["/openapi.json"] = {
        "get": {"summary": "This schema", "responses": {"200": {"description": "OpenAPI 3.1"}}}
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "rejoin reference server", "version": "0.1.0"},
        "paths": paths,
        "components": {
            "schemas": {"Error": error},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


async def schema(request: Request) -> Response:
    return ok(build())
