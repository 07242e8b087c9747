"""The rollback's part of `/openapi.json`: `GET /api/game/{gameId}/versions` and
`POST /api/game/{gameId}/rollback` (api/rollback.py; docs/http-api.md)."""

from __future__ import annotations

from rejoin_server.api import bodies
from rejoin_server.api.openapi_parts import (
    BOOL,
    SEQ,
    TRUE,
    Operation,
    Schema,
    declared,
    schema_object,
)

_INT_OR_NULL: Schema = {"type": ["integer", "null"]}
_STR_OR_NULL: Schema = {"type": ["string", "null"]}
_STACKS: Schema = {
    "anyOf": [
        {
            "type": "array",
            "items": schema_object(
                {"seat": _INT_OR_NULL, "name": _STR_OR_NULL, "stack": _INT_OR_NULL},
                ("seat", "name", "stack"),
            ),
        },
        {"type": "null"},
    ],
    "description": "From the snapshot's spectator view `seats`; null for a game without them.",
}
_VERSION = schema_object(
    {
        "version": {**SEQ, "description": "The seq the snapshot includes: a `toVersion`."},
        "at": {**SEQ, "description": "When the snapshot was taken, ms since the epoch."},
        "event": {**_STR_OR_NULL, "description": "The kind of the event at `version`."},
        "handBoundary": {
            **BOOL,
            "description": "The game is between hands (rounds) there: the event at `version` "
            "is one the game snapshots after (poker: hand_ended), or a rollback to such a state.",
        },
        "verified": {
            **BOOL,
            "description": "Its checksum verifies and the game loads it; only such a version can "
            "be rolled back to.",
        },
        "problem": {**_STR_OR_NULL, "description": "Why it does not verify."},
        "handNumber": _INT_OR_NULL,
        "phase": _STR_OR_NULL,
        "status": {"enum": ["waiting", "playing", "completed", None]},
        "stacks": _STACKS,
    },
    (
        "version",
        "at",
        "event",
        "handBoundary",
        "verified",
        "problem",
        "handNumber",
        "phase",
        "status",
        "stacks",
    ),
)


def rollback_operations(security: tuple[str, ...]) -> list[Operation]:
    return [
        Operation(
            "get",
            "/api/game/{gameId}/versions",
            "The versions a game can be rolled back to: its kept snapshots, newest first",
            "admin",
            200,
            schema_object({"versions": {"type": "array", "items": _VERSION}}, ("versions",)),
            security=security,
            description="Each with a summary read from the snapshot's spectator view; a game "
            "kept in memory only keeps none: invalid_request.",
        ),
        Operation(
            "post",
            "/api/game/{gameId}/rollback",
            "Roll a game back to a kept snapshot",
            "admin",
            200,
            schema_object(
                {"success": TRUE, "seq": SEQ, "version": SEQ},
                ("success", "seq", "version"),
            ),
            body=declared(bodies.Rollback),
            security=security,
            description="Appends a snapshot_restored event {version, reason, handNumber} at "
            "`seq`; the game is then the state at `version` with its clocks restarted, sent to "
            "every reader as an ordinary event. Refused: a version not kept (invalid_request "
            "naming those kept), a completed game without `reopen` (game_completed), the store "
            "down or behind (storage_unavailable, never queued), a game kept in memory only or "
            "of a kind that cannot roll back (invalid_request), a game another live node holds "
            "(game_active, its node in `details.node`).",
        ),
    ]


__all__ = ["rollback_operations"]
