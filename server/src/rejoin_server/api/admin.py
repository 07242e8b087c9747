"""Snapshots on demand and cleanup: `POST/DELETE …/persist`, `GET …/restore`.

The operator (admin token) may do everything; a seated player may persist, read back their own
view, and delete a game only once it is completed.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from rejoin_protocol.errors import ErrorCode
from rejoin_server.api import bodies
from rejoin_server.api.auth import is_admin, player_claims, seated
from rejoin_server.api.context import services
from rejoin_server.api.responses import ok
from rejoin_server.errors import ApiError
from rejoin_server.timefmt import iso_ms


async def persist(request: Request) -> Response:
    svc = services(request)
    game_id = request.path_params["game_id"]
    admin = is_admin(request, svc)
    claims = None if admin else player_claims(request, svc, game_id)
    body = await bodies.read(request, bodies.Persist, svc.settings.max_body_bytes)
    if claims is not None:
        seated(await svc.host.get(game_id), claims)
    if body.force_overwrite:
        # A forced snapshot rewrites the whole state: cheap to ask for, dear to do.
        caller = "admin" if claims is None else f"{game_id}/{claims.player_id}"
        svc.limiter.check(
            "force_persist", svc.settings.rate_force_persist, caller, "forced persists"
        )
    version = await svc.host.persist(game_id, body.force_overwrite)
    return ok({"success": True, "persistedAt": iso_ms(svc.host.clock()), "version": version})


async def restore_state(request: Request) -> Response:
    svc = services(request)
    game_id = request.path_params["game_id"]
    admin = is_admin(request, svc)
    claims = None if admin else player_claims(request, svc, game_id)
    live = await svc.host.get(game_id)
    async with svc.host.reading(live) as game:
        if claims is None:
            game_state = game.dump()
        else:
            seated(live, claims)
            game_state = svc.host.view(live, claims.player_id)
        return ok(
            {
                "success": True,
                "gameState": game_state,
                "version": game.seq,
                # Below `version` while writes are queued (degraded mode, relaxed durability).
                "durableVersion": live.marks.durable_seq,
                # A game kept in memory only was never stored.
                "persistedAt": None if live.in_memory_only else iso_ms(live.marks.stored_at_ms),
                "durability": live.durability,
            }
        )


async def delete(request: Request) -> Response:
    svc = services(request)
    game_id = request.path_params["game_id"]
    if not is_admin(request, svc):
        claims = player_claims(request, svc, game_id)
        live = await svc.host.get(game_id)
        seated(live, claims)
        if live.state.status != "completed":
            raise ApiError(
                ErrorCode.GAME_ACTIVE,
                "This game is still in play; a player may delete it only once it is completed.",
            )
    deleted = await svc.host.delete(game_id)
    return ok(
        {
            "success": True,
            "deleted": {
                "events": deleted.events,
                "snapshots": deleted.snapshots,
                "tokens": deleted.tokens,
            },
        }
    )
