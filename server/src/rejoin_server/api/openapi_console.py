"""The operator console's part of `/openapi.json`: `GET /api/admin/overview`,
`GET /api/admin/games/{gameId}` and `GET /api/admin/games/{gameId}/snapshots` (api/console.py;
docs/http-api.md, "The operator console").

Apart from `openapi`'s table so that the console's answers, which are long, are described in one
place; `openapi.build` adds them with the same `_Operation` as every other endpoint.
"""

from __future__ import annotations

from rejoin_server.api.console import MAX_WINDOW_S, MIN_WINDOW_S
from rejoin_server.api.openapi import (
    _BOOL,
    _DURABILITY,
    _GAME_ID,
    _OBJ,
    _SEQ,
    _STR,
    _TIME,
    _TRUE,
    Schema,
    _int,
    _object,
    _Operation,
)

_COUNT_OR_NULL: Schema = {"type": ["integer", "null"], "minimum": 0}
_MS_OR_NULL: Schema = {**_COUNT_OR_NULL, "description": "ms; null: no sample"}
_LATENCY = _object(
    {"count": _SEQ, "p50Ms": _MS_OR_NULL, "p99Ms": _MS_OR_NULL, "maxMs": _MS_OR_NULL},
    ("count", "p50Ms", "p99Ms", "maxMs"),
)
_PLAYER = _object(
    {
        "seat": {},
        "playerId": _STR,
        "name": {},
        "stack": {},
        "connected": _BOOL,
    },
    ("playerId", "connected"),
)
_HOSTED = _object(
    {
        "gameId": _GAME_ID,
        "kind": _STR,
        "status": {"enum": ["waiting", "playing", "completed"]},
        "phase": {"description": "The view's `phase`, if the kind has one."},
        "handNumber": {},
        "seq": {**_SEQ, "description": "The last event published to players."},
        "durableSeq": {**_SEQ, "description": "The last event stored."},
        "snapshotSeq": {**_SEQ, "description": "The newest stored snapshot's version."},
        "durability": _DURABILITY,
        "lastActionAt": _TIME,
        "players": {"type": "array", "items": _PLAYER},
        "connected": _SEQ,
    },
    ("gameId", "kind", "status", "seq", "durableSeq", "snapshotSeq", "durability", "players"),
)
_STORAGE = _object(
    {
        "available": _BOOL,
        "degraded": _BOOL,
        "pendingWrites": _SEQ,
        "quota": _object(
            {"maxGames": _COUNT_OR_NULL, "maxBytes": _COUNT_OR_NULL}, ("maxGames", "maxBytes")
        ),
        "games": _COUNT_OR_NULL,
        "snapshots": _COUNT_OR_NULL,
        "bytes": _COUNT_OR_NULL,
        "error": {
            "type": ["string", "null"],
            "description": "Why the store could not be counted (it is down); the figures are "
            "then null.",
        },
    },
    ("available", "degraded", "pendingWrites", "quota", "games", "snapshots", "bytes"),
)
_POINT = _object(
    {
        "at": {**_SEQ, "description": "The 5-second bucket's start, ms since the epoch."},
        "actions": _SEQ,
        "resumes": _SEQ,
        "resyncs": _SEQ,
        "outageP50Ms": _MS_OR_NULL,
        "outageMaxMs": _MS_OR_NULL,
    },
    ("at", "actions", "resumes", "resyncs", "outageP50Ms", "outageMaxMs"),
)
_OVERVIEW = _object(
    {
        "success": _TRUE,
        "node": _STR,
        "backend": _STR,
        "durability": _STR,
        "now": _TIME,
        "startedAt": _TIME,
        "games": _object(
            {"hosted": _SEQ, "listed": {"type": "array", "items": _HOSTED}}, ("hosted", "listed")
        ),
        "storage": _STORAGE,
        "resumes": _object(
            {
                "windowS": {"type": "number"},
                "count": _SEQ,
                "resyncs": _SEQ,
                "untimed": _SEQ,
                "outage": _object(
                    {"drop": _LATENCY, "restart": _LATENCY, "all": _LATENCY},
                    ("drop", "restart", "all"),
                ),
            },
            ("windowS", "count", "resyncs", "untimed", "outage"),
        ),
        "actions": _object(
            {"windowS": {"type": "number"}, "count": _SEQ, "perSecond": {"type": "number"}},
            ("windowS", "count", "perSecond"),
        ),
        "series": _object(
            {"bucketS": _SEQ, "points": {"type": "array", "items": _POINT}},
            ("bucketS", "points"),
        ),
        "tokens": _object(
            {
                "issued": _SEQ,
                "consumed": _SEQ,
                "refused": {"type": "object", "additionalProperties": _SEQ},
                "refusedTotal": _SEQ,
            },
            ("issued", "consumed", "refused", "refusedTotal"),
        ),
    },
    ("success", "games", "storage", "resumes", "actions", "series", "tokens"),
)
_SNAPSHOTS = _object(
    {
        "success": _TRUE,
        "gameId": _GAME_ID,
        "snapshots": {
            "type": "array",
            "items": _object(
                {
                    "version": _SEQ,
                    "createdAt": _TIME,
                    "bytes": _SEQ,
                    "verified": _BOOL,
                    "problem": {
                        "type": ["string", "null"],
                        "description": "Why a restore would pass it over (checksum, JSON, the "
                        "game refusing it).",
                    },
                },
                ("version", "createdAt", "bytes", "verified", "problem"),
            ),
        },
    },
    ("success", "gameId", "snapshots"),
)
_FULL_GAME = _object(
    {
        "success": _TRUE,
        "gameId": _GAME_ID,
        "kind": _STR,
        "status": {"enum": ["waiting", "playing", "completed"]},
        "seq": _SEQ,
        "durability": _DURABILITY,
        "durableSeq": _SEQ,
        "snapshotSeq": _SEQ,
        "storedAt": {"type": ["string", "null"], "format": "date-time"},
        "version": {**_SEQ, "description": "With `?version=`: the snapshot shown."},
        "snapshotAt": {**_TIME, "description": "With `?version=`: when it was taken."},
        "lastActionAt": _TIME,
        "settings": _OBJ,
        "table": {
            **_OBJ,
            "description": "The spectator's view, each seat as its own player sees it.",
        },
        "recentEvents": {"type": "array", "items": _OBJ},
        "dump": {**_OBJ, "description": "The compact state a snapshot stores."},
    },
    ("success", "gameId", "kind", "status", "seq", "table", "recentEvents", "dump"),
)


def console_operations(security: tuple[str, ...]) -> list[_Operation]:
    window = {
        "name": "windowS",
        "in": "query",
        "required": False,
        "schema": _int(
            MIN_WINDOW_S,
            MAX_WINDOW_S,
            "Seconds of the resume and action figures (default 300); the series is always the "
            "last 15 minutes.",
        ),
    }
    version = {
        "name": "version",
        "in": "query",
        "required": False,
        "schema": {**_SEQ, "description": "A stored snapshot's version (see …/snapshots)."},
    }
    return [
        _Operation(
            "get",
            "/api/admin/overview",
            "The operator console: games hosted, storage, degraded state, resumes, tokens",
            "admin",
            200,
            _OVERVIEW,
            security=security,
            parameters=(window,),
        ),
        _Operation(
            "get",
            "/api/admin/games/{gameId}",
            "One game's whole state, readable (every seat's cards); loaded from storage if needed",
            "admin",
            200,
            _FULL_GAME,
            security=security,
            parameters=(version,),
            description="With `?version=`, that stored snapshot instead, opened apart from the "
            "game: a version not kept, or one that fails its checks, is invalid_request.",
        ),
        _Operation(
            "get",
            "/api/admin/games/{gameId}/snapshots",
            "The game's stored snapshots, newest first, each checked as a restore would",
            "admin",
            200,
            _SNAPSHOTS,
            security=security,
        ),
    ]
