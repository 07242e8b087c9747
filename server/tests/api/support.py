"""The app in-process behind Starlette's `TestClient`, and the calls every HTTP test makes."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import httpx
import httpx2
from starlette.applications import Starlette
from starlette.testclient import TestClient

from rejoin_protocol.errors import ErrorCode
from rejoin_server.api.context import Services
from rejoin_server.app import create_app
from rejoin_server.errors import StorageUnavailable
from rejoin_server.games.base import Event, GameEngine
from rejoin_server.host.host import GameHost
from rejoin_server.settings import ServerSettings
from rejoin_server.store.memory import MemoryGameStore
from rejoin_testkit.api import Api as HttpApi
from rejoin_testkit.api import Reply

ADMIN = "admin-secret-token"
ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
CARD = re.compile(r"^[2-9TJQKA][cdhs]$")
T = TypeVar("T")
# An answer as a test reads it. Starlette's `TestClient` is an httpx2 client (with httpx alone it
# warns that this is deprecated): its answers are httpx2's. The async tests drive the app through
# httpx's ASGI transport, and rejoin_testkit, shared with the e2e tests and the benchmarks, is typed
# on httpx: their answers are httpx's. The two have the same interface.
Response = httpx.Response | httpx2.Response


@dataclass(frozen=True, slots=True)
class Player:
    game_id: str
    player_id: str
    seat: int
    session: str
    reconnect: str

    @property
    def auth(self) -> dict[str, str]:
        return bearer(self.session)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


ADMIN_AUTH = bearer(ADMIN)


def answer(reply: Response, status: int = 200) -> dict[str, Any]:
    """The JSON object of a reply that must have `status` (the sync and the async `Api` alike)."""
    assert reply.status_code == status, reply.text
    data: dict[str, Any] = reply.json()
    return data


def _response(reply: Reply) -> httpx.Response:
    """The httpx response behind a testkit reply: these tests assert on httpx's form."""
    assert reply.response is not None, reply.describe()
    return reply.response


def joined(game_id: str, reply: Response) -> Player:
    """The player a `POST …/join` answer seated."""
    data = answer(reply, 201)
    token = data["connectionToken"]["token"]
    return Player(game_id, data["playerId"], data["seat"], data["sessionToken"], token)


class _Served:
    """An app whose lifespan is entered, and its services (the sync and the async driver)."""

    def __init__(self, app: Starlette) -> None:
        self.app = app

    @property
    def services(self) -> Services:
        found: Services = self.app.state.services
        return found


class Api(_Served):
    """A running app (lifespan entered) and shortcuts for its endpoints.

    The requests themselves (path, body, headers) are `rejoin_testkit`'s, the driver the e2e tests
    and the benchmarks use, sent through the `TestClient` so that they reach this app in-process;
    this class adds what only an in-process app allows (`run`, `raw_get`, `stream_until`)."""

    def __init__(self, client: TestClient, app: Starlette) -> None:
        super().__init__(app)
        self.client = client
        # httpx2's client has httpx's interface (see `Response`); the testkit is typed on httpx.
        self.http = HttpApi(str(client.base_url), ADMIN, client=cast(httpx.Client, client))

    def run(self, func: Any, *args: Any) -> Any:
        """Call `func(*args)` (sync or async) on the app's event loop."""
        portal = self.client.portal
        assert portal is not None, "the client's lifespan is not running"
        return portal.call(func, *args)

    def create(self, **settings: Any) -> str:
        return str(answer(_response(self.http.create_game(**settings)), 201)["gameId"])

    def join(self, game_id: str, name: str = "Ann", seat: int | None = None) -> Player:
        return joined(game_id, _response(self.http.join(game_id, name, seat)))

    def table(self, players: int = 2, **settings: Any) -> list[Player]:
        game_id = self.create(**settings)
        return [self.join(game_id, f"Player {i}") for i in range(players)]

    def start(self, player: Player) -> dict[str, Any]:
        return answer(_response(self.http.start(player.game_id, player.session)))

    def state(self, player: Player) -> dict[str, Any]:
        return answer(_response(self.http.state(player.game_id, player.session)))

    def to_act(self, players: list[Player]) -> Player:
        seat = self.state(players[0])["gameState"]["toAct"]
        assert seat is not None, "nobody is to act"
        return next(p for p in players if p.seat == seat)

    def act(
        self, player: Player, type_: str, amount: int | None = None, action_id: str | None = None
    ) -> httpx.Response:
        reply = self.http.act(player.game_id, player.session, type_, amount, action_id=action_id)
        return _response(reply)

    def events(self, player: Player, after: int | None = None) -> dict[str, Any]:
        return answer(_response(self.http.events(player.game_id, player.session, after)))

    def reconnect(self, player: Player, token: str | None = None, **body: Any) -> httpx.Response:
        """POST reconnect with exactly this body: no `gameId` unless given, and any field as given
        (malformed ones too), which testkit's typed `reconnect` would not send."""
        payload = {
            "playerId": player.player_id,
            "reconnectToken": token or player.reconnect,
            **body,
        }
        url = f"/api/game/{player.game_id}/reconnect"
        return _response(self.http.request("POST", url, json_body=payload))

    def raw_get(self, path: str, headers: list[tuple[bytes, bytes]]) -> tuple[int, bytes]:
        """GET `path` with header bytes exactly as given (TestClient re-encodes non-ASCII header
        values as UTF-8; a real client may send Latin-1 bytes). Returns the status and the first
        body bytes; a stream is then disconnected."""
        scope = _get_scope(path, b"", headers)
        result: tuple[int, bytes] = self.run(_drive, self.app, scope, b"", 10.0, True)
        return result

    def stream_until(
        self, path: str, headers: Mapping[str, str], until: bytes, timeout_s: float = 5.0
    ) -> tuple[int, bytes]:
        """GET `path` (query string allowed); the status and the body read until `until` is in
        it, the response ends, or `timeout_s` passes (a bound, not a wait). Then disconnect."""
        result: tuple[int, bytes] = self.run(read_stream, self.app, path, headers, until, timeout_s)
        return result

    def abandon(self, game_id: str) -> None:
        self.run(self.services.host.abandon, game_id)

    def forget(self, game_id: str) -> None:
        self.run(self.services.host.forget, game_id)


def _get_scope(path: str, query: bytes, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    """The ASGI scope of a plain GET, with header bytes exactly as given."""
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("testclient", 50000),
        "server": ("testserver", 80),
    }


async def _drive(
    app: Starlette, scope: dict[str, Any], until: bytes, timeout_s: float, must_answer: bool
) -> tuple[int, bytes]:
    """Run one request on the app directly and read its body until `until` is in it (any first
    bytes when `until` is empty) or the response ends; then hang up. After `timeout_s`, return
    what came so far, or raise TimeoutError when `must_answer`."""
    disconnected = asyncio.Event()
    answered = asyncio.Event()
    status = 0
    body = bytearray()
    requested = False

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await disconnected.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            body.extend(message.get("body", b""))
            if (body and until in body) or not message.get("more_body", False):
                answered.set()

    task = asyncio.create_task(app(scope, receive, send))  # type: ignore[arg-type]
    waiter = asyncio.create_task(answered.wait())
    try:
        await asyncio.wait([task, waiter], timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED)
    finally:
        disconnected.set()
        waiter.cancel()
        task.cancel()
        await asyncio.gather(task, waiter, return_exceptions=True)
    if must_answer and not answered.is_set():
        raise TimeoutError(f"no answer within {timeout_s} s")
    return status, bytes(body)


async def read_stream(
    app: Starlette,
    path: str,
    headers: Mapping[str, str],
    until: bytes,
    timeout_s: float = 5.0,
) -> tuple[int, bytes]:
    """GET `path` on the app directly (a stream is never buffered whole, unlike httpx's
    `ASGITransport`): the status, and the body read until `until` appears in it, the response
    ends, or `timeout_s` passes (then what came so far). The client then hangs up."""
    route, _, query = path.partition("?")
    encoded = [(name.lower().encode(), value.encode()) for name, value in headers.items()]
    return await _drive(app, _get_scope(route, query.encode(), encoded), until, timeout_s, False)


class _Written(httpx.BaseTransport):
    """A transport that sends nothing: it keeps the request it is handed (see `AsyncApi`)."""

    def __init__(self) -> None:
        self.request: httpx.Request | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.request = request
        return httpx.Response(204)


class AsyncApi(_Served):
    """The app with its lifespan entered, driven by an `httpx.AsyncClient` on the test's own loop:
    requests can be started as tasks and held open (e.g. behind a commit the store holds).

    testkit's driver is synchronous, so it only writes each request here (into `_Written`); the
    async client sends it. Path, body and headers are thus the same as `Api`'s and the e2e tests'."""

    def __init__(self, client: httpx.AsyncClient, app: Starlette) -> None:
        super().__init__(app)
        self.client = client
        self._written = _Written()
        writer = httpx.Client(base_url=client.base_url, transport=self._written)
        self._http = HttpApi(str(client.base_url), ADMIN, client=writer)

    async def _send(self, call: Callable[[HttpApi], Reply]) -> httpx.Response:
        """Send the request `call` makes with testkit's driver, through the async client."""
        call(self._http)
        request, self._written.request = self._written.request, None
        assert request is not None, "the call wrote no request"
        return await self.client.send(request)

    async def create(self, **settings: Any) -> str:
        reply = await self._send(lambda http: http.create_game(**settings))
        return str(answer(reply, 201)["gameId"])

    async def join(self, game_id: str, name: str = "Ann") -> Player:
        return joined(game_id, await self._send(lambda http: http.join(game_id, name)))

    async def table(self, players: int = 2, **settings: Any) -> list[Player]:
        game_id = await self.create(**settings)
        return [await self.join(game_id, f"Player {i}") for i in range(players)]

    async def start(self, player: Player) -> dict[str, Any]:
        return answer(await self._send(lambda http: http.start(player.game_id, player.session)))

    async def state(self, player: Player) -> dict[str, Any]:
        return answer(await self._send(lambda http: http.state(player.game_id, player.session)))


@asynccontextmanager
async def running_async(
    store: MemoryGameStore | None = None, **settings: Any
) -> AsyncIterator[AsyncApi]:
    """Like `running`, on the caller's event loop (`app.router.lifespan_context`)."""
    settings.setdefault("admin_token", ADMIN)
    app = create_app(
        ServerSettings(**settings),
        store_factory=memory_store if store is None else (lambda _: store),
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield AsyncApi(client, app)


def memory_store(settings: ServerSettings) -> MemoryGameStore:
    return MemoryGameStore()


class DownableStore(MemoryGameStore):
    """The memory store, with appends failing as `StorageUnavailable` while `down` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False

    async def append(self, game_id: str, events: Sequence[Event], **kw: Any) -> None:
        if self.down:
            raise StorageUnavailable("scripted outage")
        await super().append(game_id, events, **kw)


@contextmanager
def running(
    store: MemoryGameStore | None = None, games: Sequence[GameEngine] = (), **settings: Any
) -> Iterator[Api]:
    settings.setdefault("admin_token", ADMIN)
    app = create_app(
        ServerSettings(**settings),
        games=games,
        store_factory=memory_store if store is None else (lambda _: store),
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Api(client, app)


def assert_error(
    reply: Response, code: ErrorCode | str, status: int | None = None
) -> dict[str, Any]:
    """The reply is docs/http-api.md's error body with `code`, and the status that code has."""
    code = ErrorCode(code)
    expected = status if status is not None else code.http_status
    assert reply.status_code == expected, f"{reply.status_code} {reply.text}"
    assert reply.headers["content-type"].startswith("application/json")
    body = reply.json()
    assert body["success"] is False
    error = body["error"]
    assert error["code"] == code.value, error
    assert isinstance(error["message"], str)
    assert error["message"]
    assert set(error) <= {"code", "message", "details"}
    assert set(body) == {"success", "error"}
    result: dict[str, Any] = error
    return result


def strings(value: object) -> Iterator[str]:
    """Every string anywhere in a JSON value (keys excluded)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


class Clock:
    """The host's clock, moved forward at will (token lifetimes are measured on it)."""

    def __init__(self, host: GameHost) -> None:
        self._real: Callable[[], int] = host.clock
        self.offset = 0
        host.clock = self

    def __call__(self) -> int:
        return self._real() + self.offset
