"""The operator console: the page `/admin` and its JSON, `GET /api/admin/overview`,
`GET /api/admin/games/{gameId}` (`?version=` for a stored snapshot) and
`GET /api/admin/games/{gameId}/snapshots` (docs/operations.md, "The operator console").

The endpoints are the operator's alone (admin token, `unauthorized` without one, `forbidden` with
another). The page itself is public and holds nothing: it asks for the token and keeps it in the
tab (sessionStorage), never in localStorage or a cookie, so closing the tab forgets it. It is plain
script and style from `/static/` under the pages' Content-Security-Policy; it needs no Pyodide.
Snapshot, inspect-from-storage and delete are the existing `POST/DELETE …/persist` and
`GET …/restore`, which the page calls with the same token.
"""

from __future__ import annotations

import html

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from rejoin_server.api import bodies, web
from rejoin_server.api.auth import require_admin
from rejoin_server.api.context import services
from rejoin_server.api.fields import invalid
from rejoin_server.api.responses import ok
from rejoin_server.console.activity import BUCKET_MS, BUCKETS
from rejoin_server.console.full_state import readable
from rejoin_server.console.overview import overview
from rejoin_server.console.snapshots import inspect_snapshot, stored_snapshots
from rejoin_server.errors import GameNotFound

ADMIN_PAGE = "admin.html"
# `?windowS=` of the overview: the last 5 minutes unless asked, at most the 15 the ring keeps.
DEFAULT_WINDOW_S = 300
MAX_WINDOW_S = BUCKETS * BUCKET_MS // 1000
MIN_WINDOW_S = BUCKET_MS // 1000


async def admin_overview(request: Request) -> Response:
    svc = services(request)
    require_admin(request, svc)
    window_s = bodies.query_int(request, "windowS")
    if window_s is None:
        window_s = DEFAULT_WINDOW_S
    if not MIN_WINDOW_S <= window_s <= MAX_WINDOW_S:
        raise invalid(
            f"`windowS` must be from {MIN_WINDOW_S} to {MAX_WINDOW_S} seconds (the console "
            f"keeps the last {MAX_WINDOW_S // 60} minutes)."
        )
    return ok(
        await overview(
            svc.host,
            svc.store,
            svc.settings,
            svc.metrics,
            window_ms=window_s * 1000,
            backend=svc.backend,
        )
    )


def _game_id(request: Request) -> str:
    game_id: str = request.path_params["game_id"]
    if not bodies.GAME_ID.fullmatch(game_id):
        raise GameNotFound(game_id[:80])
    return game_id


async def admin_game(request: Request) -> Response:
    """One game in full: loaded from storage first if it is not in memory (a restore). With
    `?version=N`, its stored snapshot N instead, opened apart from the game being played."""
    svc = services(request)
    require_admin(request, svc)
    game_id = _game_id(request)
    version = bodies.query_int(request, "version")
    if version is not None:
        return ok(await inspect_snapshot(svc.store, svc.host.games, game_id, version))
    live = await svc.host.get(game_id)
    async with svc.host.reading(live) as game:
        return ok(readable(svc.host, live, game))


async def admin_snapshots(request: Request) -> Response:
    """The game's stored snapshots, newest first, each checked as a restore would."""
    svc = services(request)
    require_admin(request, svc)
    game_id = _game_id(request)
    live = svc.host.loaded(game_id)
    if live is not None and live.in_memory_only:  # never stored: no row to read
        return ok({"success": True, "gameId": game_id, "snapshots": []})
    return ok(await stored_snapshots(svc.store, svc.host.games, game_id))


def routes(bundle: web.WebBundle) -> list[BaseRoute]:
    async def page(request: Request) -> Response:
        found = bundle.static / ADMIN_PAGE
        if not found.is_file():  # a --web-dir without the repository's pages
            message = f"<p>The console's page is not in {html.escape(str(bundle.static))}.</p>"
            return HTMLResponse(message, status_code=503, headers=web.PAGE_HEADERS)
        return FileResponse(found, headers={"Cache-Control": "no-cache", **web.PAGE_HEADERS})

    return [
        Route("/admin", page, methods=["GET"]),
        Route("/api/admin/overview", admin_overview, methods=["GET"]),
        Route("/api/admin/games/{game_id}", admin_game, methods=["GET"]),
        Route("/api/admin/games/{game_id}/snapshots", admin_snapshots, methods=["GET"]),
    ]
