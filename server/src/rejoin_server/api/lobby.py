"""What anyone may read of the tables before sitting down: `GET /api/games/open` (the lobby's list
of open tables) and `GET /api/game/{gameId}` (one table, for its page before the join form).

Both read the games' rows (`GameStore.open_games`, `get_game`), so in a cluster they list the
games every node hosts, and after a restart the tables that were open still are, without
loading a game: the list is one indexed query, bounded by `limit`. A game in this node's memory
is described from its state (fresher than its row while a write is on its way, and the only
place a game kept in memory only is). A game kept in memory only is never listed: it has no row.

Nothing private: seat numbers (0-based, as everywhere in the API), how many are taken, the
game's settings (its creator's choice of table, which every player sees), and for a completed
game its spectator's final view. No player id, token or name is in a listing (names are public
at the table, but a listing goes to anyone who asks); the final view names the players, as the
table showed them to anyone watching.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import Response

from rejoin_protocol.errors import ErrorCode
from rejoin_server.api.context import Services, services
from rejoin_server.api.responses import ok
from rejoin_server.durability import is_memory_id
from rejoin_server.errors import ApiError, GameNotFound, MemoryGameGone, StorageUnavailable
from rejoin_server.host.seating import free_seats, seating_of
from rejoin_server.store.base import GameRecord
from rejoin_server.timefmt import iso_ms

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "game", "open_games"]

log = logging.getLogger(__name__)

DEFAULT_LIMIT: Final = 50
MAX_LIMIT: Final = 100


def _limit(request: Request) -> int:
    values = request.query_params.getlist("limit")
    if not values:
        return DEFAULT_LIMIT
    text = values[-1]
    number = int(text) if text.isascii() and text.isdecimal() and len(text) <= 4 else 0
    if len(values) > 1 or not 1 <= number <= MAX_LIMIT:
        raise ApiError(
            ErrorCode.INVALID_REQUEST,
            f"`limit` must be one whole number from 1 to {MAX_LIMIT} (left out: "
            f"{DEFAULT_LIMIT}), not {', '.join(repr(v[:20]) for v in values)}.",
        )
    return number


def _table(
    game_id: str,
    kind: str,
    status: str,
    *,
    settings: Mapping[str, Any],
    created_at: int | None,
    seating: Mapping[str, Any] | None,
    is_open: bool | None,
) -> dict[str, Any]:
    """One table as the lobby shows it. `seats`, `seated`, `freeSeats` are null when the game
    does not say (a kind without a `seats` setting, or a row stored before seatings were);
    `open` (whether a join would be taken: `host.seating`) is null when there is no seating."""
    taken = seating.get("taken") if seating is not None else None
    seats = seating.get("seats") if seating is not None else None
    return {
        "gameId": game_id,
        "kind": kind,
        "status": status,
        "seats": seats if isinstance(seats, int) else None,
        "seated": len(taken) if isinstance(taken, list) else None,
        "freeSeats": free_seats(seating) if seating is not None else None,
        "open": is_open if seating is not None else None,
        "createdAt": iso_ms(created_at) if created_at is not None else None,
        "settings": dict(settings),
    }


def _listed(record: GameRecord) -> dict[str, Any]:
    return _table(
        record.game_id,
        record.kind,
        record.status,
        settings=record.settings,
        created_at=record.created_at,
        seating=record.seating,
        is_open=record.open_at is not None and record.open_at > 0,
    )


async def open_games(request: Request) -> Response:
    """`GET /api/games/open?limit=N`: the newest open tables (not completed, a seat free)."""
    svc = services(request)
    limit = _limit(request)
    records = await svc.store.open_games(limit)
    return ok({"games": [_listed(record) for record in records]})


async def game(request: Request) -> Response:
    """`GET /api/game/{gameId}`: one table as anyone may see it before joining. A completed
    game is `game_completed` (410), its table and final view in the details."""
    svc = services(request)
    game_id = request.path_params["game_id"]
    table, final = await _described(svc, game_id)
    if table["status"] == "completed":
        raise ApiError(
            ErrorCode.GAME_COMPLETED,
            "This game is over; its result is in `details.gameState`. Create or join another game.",
            details={"game": table, "gameState": final},
        )
    return ok(table)


async def _described(svc: Services, game_id: str) -> tuple[dict[str, Any], Any]:
    """The table, and its final view (None unless completed and kept)."""
    live = svc.host.loaded(game_id)
    if live is not None:
        async with svc.host.reading(live) as state:
            seating = seating_of(
                state,
                live.settings,
                joins_while_playing=svc.host.games.joins_while_playing(live.kind),
            )
            status = state.status
        data = seating.data if seating is not None else None
        table = _table(
            game_id,
            live.kind,
            status,
            settings=live.settings,
            created_at=await _created_at(svc, live.in_memory_only, game_id),
            seating=data,
            is_open=seating is not None and seating.open,
        )
        return table, (data or {}).get("final")
    record = await svc.store.get_game(game_id)
    if record is None:
        raise MemoryGameGone(game_id) if is_memory_id(game_id) else GameNotFound(game_id)
    return _listed(record), (record.seating or {}).get("final")


async def _created_at(svc: Services, in_memory_only: bool, game_id: str) -> int | None:
    """A live game's creation time: its row's, as memory does not keep it (None for a game kept
    in memory only, which has no row). A store that cannot be read costs the table its time,
    not its description: memory holds the rest."""
    if in_memory_only:
        return None
    try:
        record = await svc.store.get_game(game_id)
    except StorageUnavailable as exc:
        log.warning(
            "game %s described without createdAt, the store is unavailable: %s", game_id, exc
        )
        return None
    return record.created_at if record is not None else None
