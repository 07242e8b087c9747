"""The operator's rollback: `GET /api/game/{gameId}/versions` and `POST …/rollback`
(docs/operations.md, "Rolling a game back"; docs/http-api.md).

Both are the operator's alone (admin token: `unauthorized` without one, `forbidden` with another).
In a cluster they do what the operator console does: a game another live node holds is left
there, and answered 409 `game_active` naming that node (ask that node, or through the proxy, which
sends a game's requests to its node); a game no live node holds is loaded here. The versions are
read from the store and need no owner.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from rejoin_protocol.errors import ErrorCode
from rejoin_server.api import bodies
from rejoin_server.api.auth import require_admin
from rejoin_server.api.context import services
from rejoin_server.api.fields import invalid
from rejoin_server.api.responses import ok
from rejoin_server.durability import is_memory_id
from rejoin_server.errors import ApiError, MemoryGameGone, OwnedElsewhere
from rejoin_server.host.host import Rollback
from rejoin_server.store.rollback import kept_versions


async def versions(request: Request) -> Response:
    """The game's kept snapshots, newest first, each with a summary of its state."""
    svc = services(request)
    require_admin(request, svc)
    game_id: str = request.path_params["game_id"]
    live = svc.host.loaded(game_id)
    if live is None and is_memory_id(game_id):  # as every route says of such a game
        raise MemoryGameGone(game_id)
    if live is not None and live.in_memory_only:  # never stored: no row to read
        raise invalid(
            f'Game {game_id!r} is kept in memory only (durability "memory"): it keeps no '
            "snapshots, so it has no version to roll back to."
        )
    return ok({"versions": await kept_versions(svc.store, svc.host.games, game_id)})


async def rollback(request: Request) -> Response:
    svc = services(request)
    require_admin(request, svc)
    game_id: str = request.path_params["game_id"]
    body = await bodies.read(request, bodies.Rollback, svc.settings.max_body_bytes)
    asked = Rollback(body.to_version, body.reason, body.reopen)
    try:
        seq = await svc.host.rollback(game_id, asked)
    except OwnedElsewhere as exc:
        raise ApiError(
            ErrorCode.GAME_ACTIVE,
            f"Game {game_id!r} is in play on node {exc.owner!r}; roll it back there (or "
            "through the cluster's proxy, which sends a game's requests to its node).",
            details={"node": exc.owner},
        ) from exc
    return ok({"success": True, "seq": seq, "version": body.to_version})
