"""The operator console's part of `/openapi.json`: `GET /api/admin/overview`,
`GET /api/admin/games/{gameId}` and `GET /api/admin/games/{gameId}/snapshots` (api/console.py;
docs/http-api.md, "The operator console").

Apart from `openapi`'s table so that the console's answers, which are long, are described in one
place; `openapi.build` adds them with the same `Operation` as every other endpoint.
"""

from __future__ import annotations

from rejoin_server.api.console import MAX_WINDOW_S, MIN_WINDOW_S
from rejoin_server.api.openapi_parts import (
    BOOL,
    DURABILITY,
    GAME_ID,
    OBJ,
    SEQ,
    STR,
    TIME,
    TRUE,
    Operation,
    Schema,
    integer,
    schema_object,
)

_COUNT_OR_NULL: Schema = {"type": ["integer", "null"], "minimum": 0}
_MS_OR_NULL: Schema = {**_COUNT_OR_NULL, "description": "ms; null: no sample"}
_LATENCY = schema_object(
    {"count": SEQ, "p50Ms": _MS_OR_NULL, "p99Ms": _MS_OR_NULL, "maxMs": _MS_OR_NULL},
    ("count", "p50Ms", "p99Ms", "maxMs"),
)
_PLAYER = schema_object(
    {
        "seat": {},
        "playerId": STR,
        "name": {},
        "stack": {},
        "connected": BOOL,
    },
    ("playerId", "connected"),
)
_HOSTED = schema_object(
    {
        "gameId": GAME_ID,
        "kind": STR,
        "status": {"enum": ["waiting", "playing", "completed"]},
        "phase": {"description": "The view's `phase`, if the kind has one."},
        "handNumber": {},
        "seq": {**SEQ, "description": "The last event published to players."},
        "durableSeq": {**SEQ, "description": "The last event stored."},
        "snapshotSeq": {**SEQ, "description": "The newest stored snapshot's version."},
        "durability": DURABILITY,
        "lastActionAt": TIME,
        "players": {"type": "array", "items": _PLAYER},
        "connected": SEQ,
    },
    ("gameId", "kind", "status", "seq", "durableSeq", "snapshotSeq", "durability", "players"),
)
_STORAGE = schema_object(
    {
        "available": BOOL,
        "degraded": BOOL,
        "pendingWrites": SEQ,
        "quota": schema_object(
            {"maxGames": _COUNT_OR_NULL, "maxBytes": _COUNT_OR_NULL}, ("maxGames", "maxBytes")
        ),
        "games": _COUNT_OR_NULL,
        "snapshots": _COUNT_OR_NULL,
        "bytes": _COUNT_OR_NULL,
        "measuredAt": {
            "type": ["string", "null"],
            "format": "date-time",
            "description": "When the store counted `games`, `snapshots` and `bytes`: measured "
            "at most every 15 s, so up to that old; null while the store cannot be counted.",
        },
        "error": {
            "type": ["string", "null"],
            "description": "Why the store could not be counted (it is down); the figures are "
            "then null.",
        },
    },
    (
        "available",
        "degraded",
        "pendingWrites",
        "quota",
        "games",
        "snapshots",
        "bytes",
        "measuredAt",
    ),
)
_POINT = schema_object(
    {
        "at": {**SEQ, "description": "The 5-second bucket's start, ms since the epoch."},
        "actions": SEQ,
        "resumes": SEQ,
        "resyncs": SEQ,
        "outageP50Ms": _MS_OR_NULL,
        "outageMaxMs": _MS_OR_NULL,
    },
    ("at", "actions", "resumes", "resyncs", "outageP50Ms", "outageMaxMs"),
)
_OVERVIEW = schema_object(
    {
        "success": TRUE,
        "node": STR,
        "backend": STR,
        "durability": STR,
        "now": TIME,
        "startedAt": TIME,
        "games": schema_object(
            {
                "hosted": SEQ,
                "players": {**SEQ, "description": "Players seated, over every game hosted."},
                "connected": {
                    **SEQ,
                    "description": "Players with a live connection, over every game hosted.",
                },
                "listed": {"type": "array", "items": _HOSTED},
            },
            ("hosted", "players", "connected", "listed"),
        ),
        "storage": _STORAGE,
        "resumes": schema_object(
            {
                "windowS": {"type": "number"},
                "count": SEQ,
                "resyncs": SEQ,
                "untimed": SEQ,
                "outage": schema_object(
                    {"drop": _LATENCY, "restart": _LATENCY, "all": _LATENCY},
                    ("drop", "restart", "all"),
                ),
            },
            ("windowS", "count", "resyncs", "untimed", "outage"),
        ),
        "actions": schema_object(
            {"windowS": {"type": "number"}, "count": SEQ, "perSecond": {"type": "number"}},
            ("windowS", "count", "perSecond"),
        ),
        "series": schema_object(
            {"bucketS": SEQ, "points": {"type": "array", "items": _POINT}},
            ("bucketS", "points"),
        ),
        "tokens": schema_object(
            {
                "issued": SEQ,
                "consumed": SEQ,
                "refused": {"type": "object", "additionalProperties": SEQ},
                "refusedTotal": SEQ,
            },
            ("issued", "consumed", "refused", "refusedTotal"),
        ),
    },
    ("success", "games", "storage", "resumes", "actions", "series", "tokens"),
)
_SNAPSHOTS = schema_object(
    {
        "success": TRUE,
        "gameId": GAME_ID,
        "snapshots": {
            "type": "array",
            "items": schema_object(
                {
                    "version": SEQ,
                    "createdAt": TIME,
                    "bytes": {
                        **SEQ,
                        "description": "What the row takes in the database: as stored, sealed "
                        "when private data is encrypted at rest.",
                    },
                    "verified": BOOL,
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
_FULL_GAME = schema_object(
    {
        "success": TRUE,
        "gameId": GAME_ID,
        "kind": STR,
        "status": {"enum": ["waiting", "playing", "completed"]},
        "seq": SEQ,
        "durability": DURABILITY,
        "durableSeq": SEQ,
        "snapshotSeq": SEQ,
        "storedAt": {"type": ["string", "null"], "format": "date-time"},
        "version": {**SEQ, "description": "With `?version=`: the snapshot shown."},
        "snapshotAt": {**TIME, "description": "With `?version=`: when it was taken."},
        "lastActionAt": TIME,
        "settings": OBJ,
        "table": {
            **OBJ,
            "description": "The spectator's view, each seat as its own player sees it.",
        },
        "recentEvents": {"type": "array", "items": OBJ},
        "dump": {**OBJ, "description": "The compact state a snapshot stores."},
    },
    ("success", "gameId", "kind", "status", "seq", "table", "recentEvents", "dump"),
)


def console_operations(security: tuple[str, ...]) -> list[Operation]:
    window = {
        "name": "windowS",
        "in": "query",
        "required": False,
        "schema": integer(
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
        "schema": {**SEQ, "description": "A stored snapshot's version (see …/snapshots)."},
    }
    return [
        Operation(
            "get",
            "/api/admin/overview",
            "The operator console: games hosted, storage, degraded state, resumes, tokens",
            "admin",
            200,
            _OVERVIEW,
            security=security,
            parameters=(window,),
        ),
        Operation(
            "get",
            "/api/admin/games/{gameId}",
            "One game's whole state, readable (every seat's cards); loaded from storage if needed",
            "admin",
            200,
            _FULL_GAME,
            security=security,
            parameters=(version,),
            description="With `?version=`, that stored snapshot instead, opened apart from the "
            "game: a version not kept, or one that fails its checks, is invalid_request. A game "
            "another live node of a cluster holds is left there: game_active, its node in "
            "`details.node`.",
        ),
        Operation(
            "get",
            "/api/admin/games/{gameId}/snapshots",
            "The game's stored snapshots, newest first, each checked as a restore would",
            "admin",
            200,
            _SNAPSHOTS,
            security=security,
        ),
    ]
