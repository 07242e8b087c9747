"""Getting back into a seat: `GET …/connection-token` and `POST …/reconnect` (docs/architecture.md)."""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import Response

from rejoin_server.api import bodies
from rejoin_server.api.auth import player_claims, seated, session_token
from rejoin_server.api.context import Services, services
from rejoin_server.api.ratelimit import client_key
from rejoin_server.api.responses import ok
from rejoin_server.api.resume import ResumeRequest, resume
from rejoin_server.errors import CodedError
from rejoin_server.timefmt import iso_ms


async def connection_token(request: Request) -> Response:
    """The seat's live reconnect token (a new one once that is past half its life:
    `ReconnectTokens.current`), and a fresh session token: how a player who plays over plain
    HTTP keeps both alive."""
    svc = services(request)
    game_id = request.path_params["game_id"]
    claims = player_claims(request, svc, game_id)
    live = await svc.host.get(game_id)
    seated(live, claims)
    player_id = claims.player_id
    svc.limiter.check(
        "token",
        svc.settings.rate_token,
        f"{game_id}/{player_id}",
        "connection tokens for your seat",
    )
    token = await svc.tokens.current(game_id, player_id, svc.host.clock())
    return ok({**token.to_json(), "sessionToken": session_token(svc, live, player_id)})


async def reconnect(request: Request) -> Response:
    svc = services(request)
    started = time.perf_counter()
    try:
        response = await _reconnect(request, svc)
    except CodedError as exc:
        svc.metrics.reconnects.labels(exc.code.value).inc()
        raise
    svc.metrics.reconnects.labels("ok").inc()
    svc.metrics.reconnect_seconds.observe(time.perf_counter() - started)
    return response


async def _reconnect(request: Request, svc: Services) -> Response:
    svc.limiter.check(
        "connect_address",
        svc.settings.rate_connect_address,
        client_key(request),
        "reconnects from your address",
    )
    game_id = request.path_params["game_id"]
    body = await bodies.read(request, bodies.Reconnect, svc.settings.max_body_bytes)
    player_id, token = body.player_id, body.reconnect_token
    last_seq, last_epoch, client_id = body.last_seq, body.last_epoch, body.client_id

    resumed = await resume(
        svc,
        ResumeRequest(game_id, player_id, token, client_id, last_seq, last_epoch),
        subscribe=False,
    )
    svc.metrics.missed_events.inc(len(resumed.missed))
    live = resumed.live
    return ok(
        {
            "success": True,
            "seat": resumed.seat,
            "gameState": resumed.view,
            "reconnectedAt": iso_ms(resumed.now),
            "missedEvents": resumed.missed,
            "resync": resumed.resync,
            "seq": resumed.seq,
            "epoch": live.history.token(),
            "connectionToken": resumed.token.to_json(),
            "sessionToken": session_token(svc, live, player_id),
        }
    )
