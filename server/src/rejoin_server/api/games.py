"""Creating, joining and playing a game: `POST /api/games`, `…/join`, `…/start`, `…/action`,
`GET …/state`."""

from __future__ import annotations

import time
import uuid

from starlette.requests import Request
from starlette.responses import Response

from rejoin_protocol.errors import ErrorCode
from rejoin_server.api import bodies
from rejoin_server.api.auth import player_claims, seated, session_token
from rejoin_server.api.context import Services, services
from rejoin_server.api.ratelimit import client_key
from rejoin_server.api.responses import ok
from rejoin_server.durability import DURABILITIES, GameDurability
from rejoin_server.errors import ApiError
from rejoin_server.games.base import Act, GameRuleError, Join, Start
from rejoin_server.games.poker import TableLimits
from rejoin_server.settings import ServerSettings
from rejoin_server.tokens.service import IssuedToken, new_claim


def scoped_action_id(player_id: str, action_id: str) -> str:
    """Action ids are the client's; scoped by player, so two clients numbering 1, 2, 3 never
    collide. HTTP and WebSocket scope alike: an action resent over either is one action."""
    return f"{player_id}:{action_id}"


def table_limits(settings: ServerSettings) -> TableLimits:
    """The bounds this server keeps a new table within (its `--min-…`/`--max-…` flags)."""
    return TableLimits(
        settings.min_action_timeout_ms,
        settings.min_next_hand_delay_ms,
        settings.max_starting_stack,
    )


async def create_game(request: Request) -> Response:
    svc = services(request)
    svc.limiter.check(
        "create", svc.settings.rate_create, client_key(request), "games created from your address"
    )
    body = await bodies.read_object(request, svc.settings.max_body_bytes, optional=True)
    kind = body.pop("kind", svc.host.games.default)
    if not isinstance(kind, str):
        raise ApiError(
            ErrorCode.INVALID_REQUEST,
            f"`kind` must be the name of a kind of game, one of {', '.join(svc.host.games.kinds)}.",
        )
    durability = _durability(body.pop("durability")) if "durability" in body else None
    try:
        live = await svc.host.create_game(body, kind, durability)
    except GameRuleError as exc:
        raise ApiError(ErrorCode.INVALID_REQUEST, exc.message) from exc
    return ok(
        {
            **live.settings,
            # After the settings: a game's setting of one of these names cannot hide them.
            "gameId": live.game_id,
            "kind": live.kind,
            "status": live.state.status,
            "durability": live.durability,
        },
        201,
    )


def _durability(value: object) -> GameDurability:
    """`durability`, a key the server reads itself (like `kind`), not a setting of the game; left
    out (not null), the server's rollout rule chooses."""
    for durability in DURABILITIES:
        if value == durability:
            return durability
    raise ApiError(
        ErrorCode.INVALID_REQUEST,
        f"`durability` must be one of {', '.join(DURABILITIES)} (or left out, for this "
        "server's choice): memory is never stored and is lost on a restart; relaxed is written "
        "behind; strict is committed before anyone sees it.",
    )


async def kinds(request: Request) -> Response:
    """`GET /api/games/kinds`: the kinds of game served, the default first, with the JSON Schema
    of each one's settings."""
    return ok({"kinds": services(request).host.games.describe()})


async def join(request: Request) -> Response:
    """`POST …/join` on a server without player login: a new player each time. (With login,
    `logins.join` takes the route.)"""
    svc = services(request)
    svc.limiter.check(
        "join", svc.settings.rate_join, client_key(request), "joins from your address"
    )
    game_id = request.path_params["game_id"]
    # The game has its own rule for the name's length (poker: 1 to 32 once trimmed); the body's
    # bound only keeps a name from being stored at any length.
    body = await bodies.read(request, bodies.Join, svc.settings.max_body_bytes)
    return await seat_player(svc, game_id, uuid.uuid4().hex, body)


async def seat_player(svc: Services, game_id: str, player_id: str, body: bodies.Join) -> Response:
    """Seat `player_id` as `body` asks, with its first reconnect token: the join's answer."""
    live = await svc.host.get(game_id)
    issued: list[IssuedToken] = []

    async def issue_token() -> None:
        # Once the game has taken the seat, before it is stored: a refused join writes no token
        # row, and if the store cannot take the row, nobody has joined. The seat's first claim
        # is stored with the row.
        now = svc.host.clock()
        issued.append(await svc.tokens.issue(game_id, player_id, now, claim=new_claim()))

    await svc.host.execute(game_id, Join(player_id, body.name, body.seat), prepare=issue_token)
    token = issued[0]
    svc.host.note_claim(live, player_id, token.claimed)
    return ok(
        {
            "playerId": player_id,
            "seat": live.state.seat_of(player_id),
            "sessionToken": session_token(svc, live, player_id),
            "connectionToken": token.to_json(),
        },
        201,
    )


async def start(request: Request) -> Response:
    svc = services(request)
    game_id = request.path_params["game_id"]
    claims = player_claims(request, svc, game_id)
    live = await svc.host.get(game_id)
    seated(live, claims)
    outcome = await svc.host.execute(game_id, Start(claims.player_id))
    hand_number = live.state.view(None).get("handNumber")
    return ok({"success": True, "handNumber": hand_number, "seq": outcome.seq})


async def action(request: Request) -> Response:
    started = time.perf_counter()
    svc = services(request)
    game_id = request.path_params["game_id"]
    claims = player_claims(request, svc, game_id)
    body, data = await bodies.read_action(request, svc.settings.max_body_bytes)
    live = await svc.host.get(game_id)
    seated(live, claims)
    outcome = await svc.host.execute(
        game_id,
        Act(claims.player_id, body.type, data),
        action_id=scoped_action_id(claims.player_id, body.action_id),
        at_seq=body.at_seq,
    )
    svc.metrics.action_seconds.observe(time.perf_counter() - started)
    return ok(
        {
            "success": True,
            "seq": outcome.seq,
            "duplicate": outcome.duplicate,
            "durable": outcome.durable,
        }
    )


async def state(request: Request) -> Response:
    svc = services(request)
    game_id = request.path_params["game_id"]
    claims = player_claims(request, svc, game_id)
    live = await svc.host.get(game_id)
    async with svc.host.reading(live) as game:
        seated(live, claims)
        view = svc.host.view(live, claims.player_id)
        return ok({"gameState": view, "seq": game.seq})
