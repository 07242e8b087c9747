"""`create_app(settings)`: the Starlette app of docs/http-api.md, with its resources opened in the lifespan.

Every error reaches the client as the documented error body with a stable code; only a bug answers 500,
and then without a traceback (the traceback goes to the server log). A client that hangs up before
its request is read is no bug: one INFO line.

The app may be mounted under a prefix in another Starlette application (`rejoin_server.embed`):
its lifespan then runs inside the host's, and its answers name paths under the prefix
(`root_path`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, WebSocketRoute

from rejoin_protocol.errors import ErrorCode
from rejoin_server.api import (
    admin,
    bodies,
    cluster,
    console,
    events,
    games,
    health,
    lobby,
    logins,
    openapi,
    reconnect,
    rollback,
    web,
    ws,
)
from rejoin_server.api.context import Services
from rejoin_server.api.games import table_limits
from rejoin_server.api.node import NodeHeader
from rejoin_server.api.responses import error
from rejoin_server.cleanup import CleanupJob
from rejoin_server.errors import CodedError, GameNotFound, StateCorrupted, StorageUnavailable
from rejoin_server.games.base import GameEngine
from rejoin_server.games.kinds import GameKinds, load_engine
from rejoin_server.games.poker import PokerEngine
from rejoin_server.host.host import GameHost
from rejoin_server.login.identity import Authenticate, Login
from rejoin_server.metrics import Metrics
from rejoin_server.privatedata import open_sealer, saying_which_key_writes
from rejoin_server.settings import ServerSettings
from rejoin_server.store.base import GameStore
from rejoin_server.store.single_node import SqliteHold, hold_sqlite_file
from rejoin_server.tokens.keys import open_signer
from rejoin_server.tokens.service import ReconnectTokens

if TYPE_CHECKING:
    from rejoin_server.cluster.membership import Membership

log = logging.getLogger("rejoin_server")


def _sql_store(settings: ServerSettings) -> GameStore:
    from rejoin_server.store.sql import SqlGameStore

    return SqlGameStore(settings.database_url, keep_snapshots=settings.keep_snapshots)


def _migrate(url: str) -> None:
    from rejoin_server.store import migrate

    if not migrate.is_current(url):
        migrate.upgrade(url)


def _membership(settings: ServerSettings, host: GameHost) -> Membership:
    from rejoin_server.cluster.membership import Membership
    from rejoin_server.store.urls import parse_url, without_pooler_flag

    url = without_pooler_flag(parse_url(settings.cluster_database_url or settings.database_url))
    # The address other people reach this node at, for GET /api/cluster: the host name when it
    # listens on every interface.
    every_interface = ("0.0.0.0", "::", "")  # noqa: S104 - compared with, not bound to
    address = settings.host if settings.host not in every_interface else socket.gethostname()
    address = f"[{address}]" if ":" in address else address
    return Membership(
        url.render(),
        settings.node,
        f"http://{address}:{settings.port}",
        hand_over=host.handovers.hand_over,
        hosted=host.handovers.hosted,
        drop_lost=host.handovers.drop_lost,
        adopt=host.adopt,
        degraded=lambda: not host.storage.available,
        unreachable=lambda exc: host.note_failure(StorageUnavailable(str(exc))),
        kinds=host.games.kinds,
    )


def _hold(url: str) -> SqliteHold | None:
    """This app's hold on its SQLite file. A file that is not there yet has no tables either
    (`migrate=False`): the store's first query says so."""
    try:
        return hold_sqlite_file(url)
    except FileNotFoundError:
        return None


def _kinds(settings: ServerSettings, games: Iterable[GameEngine]) -> GameKinds:
    """Poker first (the default kind), unless replaced by an engine of that kind; then the
    engines given to `create_app`, then `--game`'s, in their order."""
    given = [*games, *(load_engine(spec) for spec in settings.games)]
    poker: list[GameEngine] = [PokerEngine(table_limits(settings))]
    if any(engine.kind == PokerEngine.kind for engine in given):
        poker = []
    return GameKinds([*poker, *given])


def _login(settings: ServerSettings, authenticate: Authenticate | None) -> Login | None:
    """Player login: the authenticator given to `create_app`, or the JWT one of `--auth-jwt-…`
    (imported only then: PyJWT and cryptography are start-up time), or none."""
    if authenticate is not None and settings.jwt_login:
        raise ValueError(
            "create_app(authenticate=…) and the --auth-jwt-… settings both say how players log "
            "in; give one of them"
        )
    if settings.jwt_login:
        from rejoin_server.login.jwt_login import JwtLogin

        authenticate = JwtLogin.from_settings(settings)
    return None if authenticate is None else Login(authenticate)


def _backend(store: GameStore) -> str:
    postgres = getattr(store, "postgres", None)
    if postgres is None:
        return "memory"
    return "postgresql" if postgres else "sqlite"


def create_app(
    settings: ServerSettings,
    *,
    games: Iterable[GameEngine] = (),
    store_factory: Callable[[ServerSettings], GameStore] = _sql_store,
    authenticate: Authenticate | None = None,
    sqlite_hold: SqliteHold | None = None,
) -> Starlette:
    """The app. `games`: the engines of the kinds of game it hosts besides poker (always
    there, and the default kind unless `games` holds another engine of kind "poker", which then
    replaces it, with the table limits it was made with, not the `--min-…`/`--max-…` settings);
    `settings.games` (`--game`) adds more. `store_factory` lets unit tests use the in-memory
    store. With the SQL store and `settings.migrate`, the lifespan brings the database up to date
    first (the CLI migrates before it builds the app, and turns this off).

    `authenticate` (`rejoin_server.login.Authenticate`): players log in, and a join needs an
    identity whose subject is the seat's player id (docs/games.md, "Players from your login");
    the `--auth-jwt-…` settings make the built-in JWT one instead. Raises ValueError for both.

    On SQLite the lifespan holds the database file for this app (`store.single_node`), so that
    a host app started with several workers stops instead of serving one file twice;
    `sqlite_hold` is the CLI's, taken before it builds the app."""
    kinds = _kinds(settings, games)
    login = _login(settings, authenticate)
    # The node id, resolved once: its default asks the system for the host name, and /healthz
    # and the X-Rejoin-Node header would each ask again.
    settings = replace(settings, node_id=settings.node)

    running = False

    @asynccontextmanager
    async def lifespan(host_app: object) -> AsyncIterator[None]:
        nonlocal running
        if running:
            raise RuntimeError(
                "this rejoin app's lifespan is already running: enter it once "
                "(rejoin_server.embed), and build one app per mount"
            )
        running = True
        sql = store_factory is _sql_store
        try:
            if settings.migrate and sql:
                await asyncio.to_thread(_migrate, settings.database_url)
            hold = _hold(settings.database_url) if sql and sqlite_hold is None else None
            try:
                async with serving(host_app):
                    yield
            finally:
                if hold is not None:
                    hold.release()
        finally:
            running = False

    @asynccontextmanager
    async def serving(_host_app: object) -> AsyncIterator[None]:
        # The services go on this app, not on the app the lifespan is handed: a host app that
        # runs it inside its own (`embed.running`) may hand its own, and the routes read this
        # one's state.
        async with _services(settings, kinds, store_factory, login) as services:
            app.state.services = services
            yield

    bundle = web.WebBundle.at(settings.web_dir)
    app = Starlette(
        routes=[*_routes(login is not None), *web.routes(bundle), *console.routes(bundle)],
        middleware=[Middleware(NodeHeader, node=settings.node)],
        lifespan=lifespan,
        exception_handlers={
            CodedError: _coded_error,
            HTTPException: _http_error,
            ClientDisconnect: _client_gone,
            Exception: _bug,
        },
    )
    return app


@asynccontextmanager
async def _services(
    settings: ServerSettings,
    kinds: GameKinds,
    store_factory: Callable[[ServerSettings], GameStore],
    login: Login | None,
) -> AsyncIterator[Services]:
    """The app's resources, opened and started, then stopped and closed in reverse order (also
    when starting one of them fails: the store opened first is closed last)."""
    store = store_factory(settings)
    await store.open()
    async with contextlib.AsyncExitStack() as stack:
        stack.push_async_callback(store.close)
        store.sealer = await open_sealer(store, settings, kinds)
        await stack.enter_async_context(saying_which_key_writes(store, store.sealer))
        signer = await open_signer(store, settings)
        metrics = Metrics()
        host = GameHost(store, kinds, settings, metrics)
        tokens = ReconnectTokens(
            store,
            signer,
            ttl_ms=settings.token_ttl_ms,
            memory_store=host.memory_tokens,
            metrics=metrics,
        )
        backend = _backend(store)
        # A node on PostgreSQL is a member of a cluster (of one, until others join).
        cluster = _membership(settings, host) if backend == "postgresql" else None
        if cluster is not None:
            host.ownership.coordinator = cluster
            await cluster.start()
            stack.push_async_callback(cluster.stop)
        cleanup = CleanupJob(
            store,
            host,
            settings,
            metrics,
            leads=cluster.leads_cleanup if cluster is not None else None,
        )
        host.start()
        stack.push_async_callback(host.stop)
        cleanup.start()
        stack.push_async_callback(cleanup.stop)
        yield Services(
            settings, store, host, signer, tokens, metrics, backend, cluster=cluster, login=login
        )


def _game_route(path: str, endpoint: Callable[[Request], object], methods: list[str]) -> Route:
    async def checked(request: Request) -> Response:
        game_id = request.path_params["game_id"]
        if not bodies.GAME_ID.fullmatch(game_id):
            raise GameNotFound(game_id[:80])
        response: Response = await endpoint(request)  # type: ignore[misc]
        return response

    return Route(path, checked, methods=methods, name=getattr(endpoint, "__name__", None))


def _routes(login: bool) -> list[BaseRoute]:
    game = "/api/game/{game_id}"
    return [
        WebSocketRoute(f"{game}/ws", ws.websocket_endpoint),
        Route("/api/games", games.create_game, methods=["POST"]),
        Route("/api/games/kinds", games.kinds, methods=["GET"]),
        Route("/api/games/open", lobby.open_games, methods=["GET"]),
        _game_route(game, lobby.game, ["GET"]),
        _game_route(f"{game}/join", logins.join if login else games.join, ["POST"]),
        _game_route(f"{game}/reclaim", logins.reclaim, ["POST"]),
        _game_route(f"{game}/start", games.start, ["POST"]),
        _game_route(f"{game}/action", games.action, ["POST"]),
        _game_route(f"{game}/state", games.state, ["GET"]),
        _game_route(f"{game}/events", events.events, ["GET"]),
        _game_route(f"{game}/connection-token", reconnect.connection_token, ["GET"]),
        _game_route(f"{game}/reconnect", reconnect.reconnect, ["POST"]),
        _game_route(f"{game}/persist", admin.persist, ["POST"]),
        _game_route(f"{game}/persist", admin.delete, ["DELETE"]),
        _game_route(f"{game}/restore", admin.restore_state, ["GET"]),
        _game_route(f"{game}/versions", rollback.versions, ["GET"]),
        _game_route(f"{game}/rollback", rollback.rollback, ["POST"]),
        Route("/api/cluster", cluster.nodes, methods=["GET"]),
        Route("/api/cluster/drain", cluster.drain, methods=["POST"]),
        Route("/healthz", health.healthz, methods=["GET"]),
        Route("/metrics", health.metrics, methods=["GET"]),
        Route("/openapi.json", openapi.schema, methods=["GET"]),
    ]


async def _coded_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, CodedError)
    services = getattr(request.app.state, "services", None)
    if services is not None:
        services.host.note_failure(exc)
    if isinstance(exc, StateCorrupted):
        log.error("%s %s: %s", request.method, request.url.path, exc)
    return error(exc.code, exc.message, exc.details)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    # Under a mount, the path as the client sent it and the schema under the same prefix.
    schema = f"{request.scope.get('root_path', '')}/openapi.json"
    if exc.status_code == 404:
        message = f"No endpoint {request.method} {request.url.path}; see {schema}."
    elif exc.status_code == 405:
        message = f"{request.method} is not allowed on {request.url.path}; see {schema}."
    else:
        message = str(exc.detail)
    response = error(ErrorCode.INVALID_REQUEST, message)
    response.status_code = exc.status_code
    if exc.status_code == 405:
        # RFC 9110: a 405 lists what the resource does allow. Starlette's names only the first
        # route it matched, and `…/persist` is two routes (POST and DELETE). The static folders'
        # own 405 already says GET, HEAD.
        response.headers["Allow"] = ", ".join(_allowed_methods(request, exc))
    return response


async def _client_gone(request: Request, exc: Exception) -> Response:
    # Reading the body found the connection closed: the client hung up mid-request, or missed
    # --body-timeout (`connections`). Handled here, for every endpoint that reads a body, rather
    # than by `_bug`, whose ERROR and traceback would say the server failed.
    log.info(
        "%s %s: the connection closed before the request body arrived",
        request.method,
        request.url.path,
    )
    # Nobody reads it (uvicorn drops what is sent on a closed connection).
    return error(ErrorCode.INVALID_REQUEST, "The request body did not arrive.")


def _allowed_methods(request: Request, exc: HTTPException) -> list[str]:
    allowed = {m.strip() for m in (exc.headers or {}).get("Allow", "").split(",") if m.strip()}
    path = _route_path(request)
    for route in request.app.routes:
        if isinstance(route, Route) and route.methods and route.path_regex.match(path):
            allowed |= route.methods
    return sorted(allowed)


def _route_path(request: Request) -> str:
    """The path the app's routes match: under a mount, the part after the prefix."""
    path: str = request.scope.get("path", "")
    prefix: str = request.scope.get("root_path", "")
    return path[len(prefix) :] if prefix and path.startswith(prefix) else path


async def _bug(request: Request, exc: Exception) -> Response:
    # The traceback goes to the server log (Starlette re-raises to uvicorn), never to the client.
    log.error("%s %s failed: %r", request.method, request.url.path, exc)
    return error(ErrorCode.INTERNAL, "The server failed on this request; it has been logged.")
