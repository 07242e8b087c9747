"""Running the `rejoin-server` command that `cli` has parsed: bind the port, prepare the database,
configure logging and serve the app with uvicorn until SIGTERM (`serve`), or run the migrations
alone (`run_migrate`).

It owns everything after the command line: `StartupError` (a problem the operator can fix, which
`cli.main` prints as one line, exit 2, or 4 for a database that cannot be opened), the database
check and migrations, the open-file limit, the listening socket, the collector (`gctune`), the
server's loggers (`serverlogs`), and uvicorn: its connections (`connections.BoundedH11Protocol`,
the keep-alive timeout), the proxies whose X-Forwarded-For it believes, and its graceful
shutdown.

`cli.main` imports this module only when there is something to run; this module never imports
`cli` (what both need, `Invocation`, lies below them in `invocation`). At the top it imports only
the standard library, `invocation` and a few small helpers; uvicorn, Starlette, SQLAlchemy and the
app are imported inside the functions, after the port is bound: while they load (most of a
restart), reconnecting clients wait in the listen queue instead of being refused.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING, NoReturn, TextIO

from rejoin_server import filelimit, gctune, serverlogs
from rejoin_server.invocation import EXIT_DATABASE, EXIT_USAGE, PROG, Invocation, mask_url

if TYPE_CHECKING:
    import socket
    from types import FrameType

    from starlette.applications import Starlette

    from rejoin_server.settings import ServerSettings
    from rejoin_server.store.single_node import SqliteHold

# Seconds uvicorn waits, after SIGTERM, for open connections and tasks before cancelling them.
# Open requests get this long to finish; event streams are ended at once (see run_uvicorn).
GRACEFUL_SHUTDOWN_S = 10
# How long the shutdown waits for the games' handover and their sockets' closes before uvicorn
# closes what is left (the handover itself is bounded by the host, 10 s).
SHUTDOWN_CLOSE_S = 11.0
# Connections that arrive while the server loads and starts wait in this queue instead of being
# refused: after a restart, clients dial again within 100 ms and should not be turned away.
LISTEN_BACKLOG = 2048
# uvicorn's WebSocket protocol: the sans-I/O one on the `websockets` library, which uvicorn's "auto"
# picks today; named, so that neither a missing `websockets` (auto falls back to wsproto) nor a
# new uvicorn default changes the frames, limits and close codes we serve. bench/asgi_suite.py
# measures it beside uvicorn's two others and Granian (README, "ASGI server").
WS_PROTOCOL = "websockets-sansio"


log = logging.getLogger("rejoin_server")


class StartupError(Exception):
    """A reason to stop before serving that the operator can fix; shown as one line, exit
    `status`: 2, or 4 for a database that cannot be opened (it may come back by itself)."""

    def __init__(self, message: str, status: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.status = status


def one_line(exc: BaseException) -> str:
    problem = getattr(exc, "problem", None)  # StorageUnavailable keeps the driver's words apart
    if not isinstance(problem, str):
        problem = str(getattr(exc, "orig", None) or exc)
    return " ".join(problem.split())


def database_error(exc: BaseException) -> bool:
    """Errors that mean "this database cannot be opened", as opposed to a bug."""
    import sqlite3

    import psycopg
    from sqlalchemy import exc as sa_exc

    from rejoin_server.errors import StorageUnavailable

    return isinstance(
        exc,
        StorageUnavailable
        | sa_exc.DBAPIError
        | sa_exc.ArgumentError
        | sqlite3.Error
        | psycopg.Error
        | OSError,
    )


def prepare_database(url: str, *, migrate: bool) -> str | None:
    """Migrate the database at `url` unless it is current (the common restart: one cheap query,
    no Alembic import). Returns the revision it migrated to, None if it was already current.
    With `migrate=False`, a database that is not current is an error: the server would fail on
    its first query instead. Raises `StartupError` when the database cannot be opened."""
    from rejoin_server.store import migrate as migrations

    try:
        if migrations.is_current(url):
            return None
        if migrate:
            migrations.upgrade(url)
            return migrations.HEAD_REVISION
    except Exception as exc:
        if not database_error(exc):
            raise
        raise StartupError(
            f"cannot open the database {mask_url(url)}: {one_line(exc)}", EXIT_DATABASE
        ) from None
    raise StartupError(
        f"the database {mask_url(url)} is not at schema revision {migrations.HEAD_REVISION} "
        f"(it is new or older): run `{PROG} migrate` first, or start without --no-migrate"
    )


def _check_data_keys(settings: ServerSettings) -> None:
    """Refuse to serve a database holding private data sealed with a key not given (it could
    not read those games): one line saying which key and what to do, exit 2."""
    from rejoin_server.privatedata import refusal

    try:
        problem = refusal(settings)
    except Exception as exc:
        if not database_error(exc):
            raise
        url = mask_url(settings.database_url)
        raise StartupError(
            f"cannot open the database {url}: {one_line(exc)}", EXIT_DATABASE
        ) from None
    if problem is not None:
        raise StartupError(problem)


def _hold_database(url: str) -> SqliteHold | None:
    """A SQLite file is served by one process (`store.single_node`); held until the process
    ends."""
    from rejoin_server.store.single_node import DatabaseInUse, hold_sqlite_file

    try:
        return hold_sqlite_file(url)
    except DatabaseInUse as exc:
        raise StartupError(str(exc)) from None


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket. Bound before the app starts, so the port accepts (and queues)
    connections at once and `--port 0` can print the port it got."""
    import errno
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio turns on TCP_NODELAY only for sockets whose `proto` says
    # TCP, and accepted sockets inherit it. With proto 0 every answer's body waited ~40 ms for the
    # client's delayed ACK (measured: /healthz 44 ms against 0.6 ms).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(LISTEN_BACKLOG)
    except OSError as exc:
        sock.close()
        hint = ""
        if exc.errno == errno.EADDRINUSE:
            hint = ": another process (another rejoin-server?) listens there; choose another --port"
        raise StartupError(f"cannot listen on {host}:{port}: {exc.strerror or exc}{hint}") from None
    return sock


def _forwarded_allow_ips(trusted_proxies: tuple[str, ...]) -> list[str]:
    """--trusted-proxy values as networks uvicorn reads: it parses `10.0.0.1/8` strictly, finds
    it no network, and would then compare it as text with client addresses, trusting nobody."""
    import ipaddress

    return [str(ipaddress.ip_network(proxy, strict=False)) for proxy in trusted_proxies]


class _Terminated(BaseException):
    """SIGTERM, once uvicorn has shut down gracefully (see `run_uvicorn`)."""


def _terminated(signum: int, frame: FrameType | None) -> NoReturn:
    raise _Terminated


def run_uvicorn(
    app: Starlette,
    sock: socket.socket,
    log_level: str,
    settings: ServerSettings,
    max_connections: int,
    *,
    accepts_per_turn: int = filelimit.FEWEST_ACCEPTS,
) -> None:
    """Serve until SIGTERM or SIGINT; uvicorn then stops accepting, ends event streams,
    waits up to GRACEFUL_SHUTDOWN_S and runs the app's lifespan shutdown (which flushes writes).
    At most `max_connections` are open at once (--max-connections, lowered under the open-file
    limit by `serve`); the others of `settings` that uvicorn applies are the timeouts and proxies.

    Afterwards uvicorn re-raises the signal under the handler that was there before it. For
    SIGTERM that handler is ours and only ends `run`: a completed graceful shutdown exits 0, not
    by the signal (which `nox -s serve` and some supervisors report as a failure)."""
    import asyncio
    import contextlib
    import signal

    import uvicorn

    from rejoin_protocol.messages import MAX_FRAME_BYTES
    from rejoin_server.connections import BoundedH11Protocol, ConnectionLimits

    limits = ConnectionLimits(
        max_connections=max_connections,
        header_timeout_s=settings.header_timeout_ms / 1000,
        body_timeout_s=settings.body_timeout_ms / 1000,
    )
    host, port = sock.getsockname()[:2]
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        lifespan="on",
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        # Connections asyncio accepts in one turn of its loop: it takes create_server's `backlog`
        # for this as well as for the listen queue, which is LISTEN_BACKLOG again once started
        # (Server.startup below). As many as the open-file limit leaves room for: accepting more
        # than that at once would take descriptors before the first could be refused (past the
        # limit accept() fails), fewer slows a restart's reconnect storm (`filelimit`).
        backlog=accepts_per_turn,
        # h11, with the connection cap and the request deadlines uvicorn lacks.
        http=BoundedH11Protocol.with_limits(limits),
        # uvicorn types it int, but only hands it to loop.call_later, which takes any seconds.
        timeout_keep_alive=settings.keep_alive_timeout_ms / 1000,  # type: ignore[arg-type]
        # X-Forwarded-For (and -Proto) only from the operator's proxies: the client address is
        # what /metrics and the rate limits judge by. Never None, which would have uvicorn trust
        # the FORWARDED_ALLOW_IPS variable or, by default, any local process.
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=_forwarded_allow_ips(settings.trusted_proxies),
        ws=WS_PROTOCOL,
        # The channel has its own heartbeat (`ping` messages, docs/protocol.md), which browsers can see
        # and answer; protocol-level pings would only double it.
        ws_ping_interval=None,
        ws_ping_timeout=None,
        # A client frame is small; a bigger one is refused by the protocol layer (close 1009).
        ws_max_size=MAX_FRAME_BYTES,
        # Compression would be per socket: it undoes encoding each event once for every reader.
        ws_per_message_deflate=False,
    )

    class Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            # Only now: loading pokerkit beside the imports and the lifespan slowed both (one
            # interpreter lock), so the health check and games without a hand waited for it too.
            _warm_up()
            # create_server listened with `accepts_per_turn`; a restart's reconnecting clients
            # need the whole queue. (listen() on a listening socket only sets its length.)
            for listening in sockets or ():
                listening.listen(LISTEN_BACKLOG)

        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            # uvicorn's own shutdown closes every WebSocket at once (1012, no reason): first
            # let the games be handed over and every socket be closed saying why, so that its
            # client resumes at once (bounded: a hung handover does not hold the exit).
            for server in self.servers:
                server.close()
            services = getattr(app.state, "services", None)
            if services is not None:
                await services.host.shutdown_done(timeout_s=SHUTDOWN_CLOSE_S)
            await super().shutdown(sockets)

        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            super().handle_exit(sig, frame)
            # uvicorn waits for open connections before the lifespan shutdown; event streams
            # never end by themselves, so end them now.
            services = getattr(app.state, "services", None)
            if services is not None:
                with contextlib.suppress(RuntimeError):
                    asyncio.get_running_loop().call_soon_threadsafe(services.host.begin_shutdown)

    # After uvicorn.Config, which sets up uvicorn's loggers.
    logging.getLogger("uvicorn.access").addFilter(serverlogs.mask_session_in_access_log)
    serverlogs.collapse_repeats(logging.getLogger("uvicorn.error"))
    previous = signal.signal(signal.SIGTERM, _terminated)
    try:
        Server(config).run(sockets=[sock])
    except _Terminated:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)


def serve(invocation: Invocation, out: TextIO) -> int:
    """Migrate (or check), build the app, print where it listens and the admin token, and serve
    until SIGTERM. The port is bound first: while the database is checked and the app's modules
    load (most of a restart), reconnecting clients wait in the listen queue instead of being
    refused and backing off."""
    settings = invocation.settings
    # First, so that what follows may open as many files as the process is allowed.
    files = filelimit.raise_soft_limit()
    max_connections = filelimit.connection_cap(settings.max_connections, files)
    if max_connections < 1:
        raise StartupError(
            f"the open-file limit is {files.soft}, too low to serve: the server keeps "
            f"{filelimit.RESERVE} files for itself; raise it (`ulimit -n "
            f"{filelimit.needed(settings.max_connections)}`, or LimitNOFILE= in a systemd unit)"
        )
    sock = bind(settings.host, settings.port)
    hold: SqliteHold | None = None
    try:
        prepare_database(settings.database_url, migrate=settings.migrate)
        hold = _hold_database(settings.database_url)
        _check_data_keys(settings)
        # Past the migrations (their garbage is collected as usual): what loads from here on
        # stays, and is frozen once the app is built (`gctune`).
        gctune.hold()
        if settings.admin_token is None:
            import secrets

            settings = replace(settings, admin_token=secrets.token_urlsafe(24))
        # The migrations have run (or been checked), so the app does not run them; and it is
        # told the port it really has (`--port 0`).
        settings = replace(settings, migrate=False, port=sock.getsockname()[1])

        from rejoin_server.games.poker import lean_import

        lean_import.install()  # before anything imports pokerkit
        from rejoin_server.app import create_app

        try:
            app = create_app(settings, sqlite_hold=hold)
        except ValueError as exc:  # a --game that does not load, two engines of one kind, …
            raise StartupError(str(exc)) from exc
        gctune.settle()
    except BaseException:
        gctune.release()
        sock.close()
        if hold is not None:
            hold.release()
        raise
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    token = (
        f"(given by {invocation.admin_token_from})"
        if invocation.admin_token_from
        else settings.admin_token
    )
    print(
        f"{PROG} listening on http://{host}:{settings.port} "
        f"(database: {mask_url(settings.database_url)})",
        file=out,
        flush=True,
    )
    print(f"admin token: {token}", file=out, flush=True)
    print(_demo_line(settings, host), file=out, flush=True)
    serverlogs.configure(invocation.log_level)
    from rejoin_server.privatedata import say_at_start

    say_at_start(settings)
    short = filelimit.shortfall(settings.max_connections, files)
    if short is not None:
        log.warning("%s", short)
    accepts = filelimit.accepts_per_turn(files, max_connections)
    run_uvicorn(
        app, sock, invocation.log_level, settings, max_connections, accepts_per_turn=accepts
    )
    return 0


def _warm_up() -> None:
    """Start loading the poker rules (pokerkit) in the background, once the server answers: it is
    most of a restart's CPU, and only games with a hand on the table wait for it (`warmup`)."""
    from rejoin_server.games.poker import warmup

    warmup.start()


def _demo_line(settings: ServerSettings, host: str) -> str:
    from rejoin_server.api.web import BUILD_HINT, WebBundle

    bundle = WebBundle.at(settings.web_dir)
    where = f"http://{host}:{settings.port}/"
    if bundle.missing():
        return f"demo table: {where} (browser bundle not built in {bundle.root}: {BUILD_HINT})"
    return f"demo table: {where} (browser bundle: {bundle.root})"


def run_migrate(invocation: Invocation, out: TextIO) -> int:
    """Migrate the database (if it is not current) and print the revision it is at."""
    url = invocation.settings.database_url
    from rejoin_server.store.migrate import HEAD_REVISION

    migrated = prepare_database(url, migrate=True)
    state = "migrated to" if migrated else "already at"
    print(f"database {mask_url(url)} {state} revision {HEAD_REVISION}", file=out, flush=True)
    return 0
