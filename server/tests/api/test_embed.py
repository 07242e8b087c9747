"""rejoin mounted under `/games` in a host Starlette app (`rejoin_server.embed`): its lifespan runs
once, inside the host's; its API, WebSocket, errors, header, schema and pages all work under the
prefix, next to the host's own routes."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route
from starlette.testclient import TestClient

from rejoin_protocol.errors import ErrorCode
from rejoin_server.api.node import HEADER
from rejoin_server.api.web import CONTENT_SECURITY_POLICY, default_web_dir
from rejoin_server.app import create_app
from rejoin_server.embed import lifespan, running
from rejoin_server.settings import ServerSettings
from rejoin_server.store.memory import MemoryGameStore
from rejoin_server.store.single_node import DatabaseInUse

from .support import ADMIN, Api, AsyncApi, assert_error
from .test_web import GAME_ID, built_bundle
from .ws_support import WsClient, hello_frame

PREFIX = "/games"
HOST = "http://testserver"


class CountingStores:
    """A store factory that counts the stores it made (one per lifespan run) and keeps them."""

    def __init__(self) -> None:
        self.made: list[MemoryGameStore] = []

    def __call__(self, settings: ServerSettings) -> MemoryGameStore:
        self.made.append(MemoryGameStore())
        return self.made[-1]


async def home(request: Request) -> PlainTextResponse:
    return PlainTextResponse("my site")


def host_app(games: Starlette, events: list[str]) -> Starlette:
    """The host of docs/games.md's example: a route of its own and rejoin under /games, with
    rejoin's lifespan inside its own (`events` records the order)."""

    @asynccontextmanager
    async def host_lifespan(app: Starlette) -> AsyncIterator[None]:
        async with running(games):
            events.append("host started")
            yield
            events.append("host stopping")
        events.append("rejoin stopped")

    return Starlette(routes=[Route("/", home), Mount(PREFIX, app=games)], lifespan=host_lifespan)


class Site:
    """Requests to the host app by their whole path (`/`, `/games/…`), through the client whose
    relative paths go under the prefix."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(f"{HOST}{path}", **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.client.post(f"{HOST}{path}", **kwargs)

    def put(self, path: str) -> Any:
        return self.client.put(f"{HOST}{path}")


@contextmanager
def mounted(**settings: Any) -> Iterator[tuple[Api, Site, CountingStores]]:
    """The host app running, rejoin under /games on the memory store. `Api` speaks to rejoin
    (its requests go under the prefix); `Site` to the host by whole paths."""
    stores = CountingStores()
    settings.setdefault("admin_token", ADMIN)
    games = create_app(ServerSettings(**settings), store_factory=stores)
    site = host_app(games, [])
    with TestClient(site, base_url=f"{HOST}{PREFIX}", raise_server_exceptions=False) as client:
        yield Api(client, games), Site(client), stores


def test_the_game_api_answers_under_the_prefix_and_the_host_keeps_its_routes() -> None:
    with mounted() as (api, site, stores):
        assert site.get("/").text == "my site"
        assert HEADER not in site.get("/").headers  # the host's answers are its own
        first, second = api.table(2)
        api.start(first)
        actor = api.to_act([first, second])
        reply = api.act(actor, "call")
        assert reply.status_code == 200, reply.text
        view = api.state(first)["gameState"]
        assert view["seq"] == reply.json()["seq"]
        events = api.events(first, after=0)["events"]
        assert [e["seq"] for e in events] == list(range(1, view["seq"] + 1))
        # The requests went to the prefix: the same path at the host's root is not rejoin's.
        assert site.post("/api/games", json={}).status_code == 404
        assert site.get(f"{PREFIX}/healthz").json()["games"] == 1
        assert site.get(f"{PREFIX}/healthz").headers[HEADER] == api.services.settings.node
        assert len(stores.made) == 1


async def test_the_websocket_welcomes_under_the_prefix() -> None:
    games = create_app(ServerSettings(admin_token=ADMIN), store_factory=CountingStores())
    site = host_app(games, [])
    async with (
        site.router.lifespan_context(site),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=site), base_url=f"{HOST}{PREFIX}"
        ) as client,
    ):
        api = AsyncApi(client, games)
        first, _second = await api.table(2)
        await api.start(first)
        reply = await client.get(
            f"/api/game/{first.game_id}/events",
            params={"after": 0},
            headers={**first.auth, "Accept": "application/json"},
        )
        expected = reply.json()["events"]
        # The path as a browser sends it: the host's router hands it to rejoin under the mount.
        ws = WsClient(site, f"{PREFIX}/api/game/{first.game_id}/ws")
        await ws.open()
        await ws.send_json(hello_frame(first, last_seq=0))
        welcome = await ws.receive()
        await ws.hang_up()
    assert welcome["type"] == "welcome", welcome
    assert welcome["seat"] == first.seat
    assert welcome["missedEvents"] == expected
    assert len(expected) == welcome["seq"] > 0


def test_the_lifespan_runs_once_inside_the_hosts() -> None:
    stores = CountingStores()
    games = create_app(ServerSettings(), store_factory=stores)
    events: list[str] = []
    with TestClient(host_app(games, events)):
        assert len(stores.made) == 1
        assert events == ["host started"]
        assert games.state.services.store is stores.made[0]
    assert events == ["host started", "host stopping", "rejoin stopped"]
    assert len(stores.made) == 1


def test_a_host_without_a_lifespan_of_its_own_takes_rejoins() -> None:
    stores = CountingStores()
    games = create_app(ServerSettings(), store_factory=stores)
    site = Starlette(routes=[Mount(PREFIX, app=games)], lifespan=lifespan(games))
    with TestClient(site) as client:
        assert client.post(f"{PREFIX}/api/games", json={}).status_code == 201
    assert len(stores.made) == 1


async def test_entering_the_lifespan_twice_is_refused() -> None:
    stores = CountingStores()
    games = create_app(ServerSettings(), store_factory=stores)
    async with running(games):
        with pytest.raises(RuntimeError, match="already running"):
            async with running(games):
                pass
    assert len(stores.made) == 1
    async with running(games):  # once it has stopped, it may run again
        assert len(stores.made) == 2


def test_a_host_that_forgot_the_lifespan_gets_a_log_line_that_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    games = create_app(ServerSettings(), store_factory=CountingStores())
    site = Starlette(routes=[Mount(PREFIX, app=games)])  # no lifespan: rejoin never started
    with caplog.at_level(logging.ERROR), TestClient(site, raise_server_exceptions=False) as client:
        reply = client.post(f"{PREFIX}/api/games", json={})
    assert_error(reply, ErrorCode.INTERNAL)
    assert "rejoin's lifespan is not running" in caplog.text


def test_404_and_405_are_the_documented_errors_naming_the_prefix() -> None:
    with mounted() as (api, site, _):
        game_id = api.create()
        error = assert_error(site.get(f"{PREFIX}/api/nothing"), ErrorCode.INVALID_REQUEST, 404)
        assert error["message"] == (
            f"No endpoint GET {PREFIX}/api/nothing; see {PREFIX}/openapi.json."
        )
        reply = site.put(f"{PREFIX}/api/game/{game_id}/state")
        error = assert_error(reply, ErrorCode.INVALID_REQUEST, 405)
        assert error["message"] == (
            f"PUT is not allowed on {PREFIX}/api/game/{game_id}/state; see {PREFIX}/openapi.json."
        )
        assert reply.headers["Allow"] == "GET, HEAD"
        # `…/persist` is two routes: the Allow header names both, under the prefix too.
        reply = site.put(f"{PREFIX}/api/game/{game_id}/persist")
        assert_error(reply, ErrorCode.INVALID_REQUEST, 405)
        assert reply.headers["Allow"] == "DELETE, POST"
        # A coded error of rejoin's own is unchanged by the mount.
        reply = site.post(f"{PREFIX}/api/game/{'f' * 32}/join", json={"name": "Ann"})
        assert_error(reply, ErrorCode.GAME_NOT_FOUND)


def test_the_schema_names_the_prefix_as_its_server() -> None:
    with mounted() as (_, site, _stores):
        schema = site.get(f"{PREFIX}/openapi.json").json()
        assert schema["servers"] == [{"url": PREFIX}]
        assert "/api/games" in schema["paths"]  # the paths stay the app's own
    games = create_app(ServerSettings(), store_factory=CountingStores())
    with TestClient(games) as alone:
        assert "servers" not in alone.get("/openapi.json").json()


def test_the_pages_and_the_bundle_are_served_under_the_prefix(tmp_path: Path) -> None:
    web = built_bundle(tmp_path / "web")
    with mounted(web_dir=str(web)) as (_, site, _stores):
        assert site.get(PREFIX, follow_redirects=False).headers["location"].endswith(f"{PREFIX}/")
        lobby = site.get(f"{PREFIX}/")
        assert lobby.status_code == 200
        assert lobby.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        page = site.get(f"{PREFIX}/play/{GAME_ID}")
        assert page.status_code == 200
        assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        for path in ("static/boot.mjs", "pyodide/314.0.7/pyodide.mjs", "sdk/manifest.json"):
            assert site.get(f"{PREFIX}/{path}").status_code == 200, path
        assert site.get("/static/boot.mjs").status_code == 404  # not at the host's root


# Anything a page or its scripts load by an absolute path would miss the prefix.
_ABSOLUTE_IN_HTML = re.compile(r"""\b(?:href|src|action)\s*=\s*["']/""")
_ABSOLUTE_IN_JS = re.compile(
    r"""(?:import\s*\(?|fetch\s*\(|from\s+|indexURL:\s*|new URL\(\s*|href\s*=\s*)["'`]/"""
)


STATIC = default_web_dir() / "static"


@pytest.mark.parametrize("name", sorted(page.name for page in STATIC.glob("*.html")))
def test_the_pages_refer_to_everything_relatively(name: str) -> None:
    text = (STATIC / name).read_text()
    assert not _ABSOLUTE_IN_HTML.search(text), _ABSOLUTE_IN_HTML.findall(text)


@pytest.mark.parametrize(
    "name", sorted(script.name for script in [*STATIC.glob("*.js"), *STATIC.glob("*.mjs")])
)
def test_the_scripts_load_everything_from_the_apps_root(name: str) -> None:
    text = (STATIC / name).read_text()
    assert not _ABSOLUTE_IN_JS.search(text), _ABSOLUTE_IN_JS.findall(text)


def test_two_apps_do_not_serve_one_sqlite_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'games.db'}"
    first = create_app(ServerSettings(database_url=url))
    second = create_app(ServerSettings(database_url=url))
    with TestClient(Starlette(routes=[Mount(PREFIX, app=first)], lifespan=lifespan(first))):
        other = Starlette(routes=[Mount(PREFIX, app=second)], lifespan=lifespan(second))
        with pytest.raises(DatabaseInUse, match=r"games\.db"), TestClient(other):
            pass
    # Once the first has stopped, the file is free again.
    with TestClient(Starlette(routes=[Mount(PREFIX, app=second)], lifespan=lifespan(second))) as c:
        assert c.post(f"{PREFIX}/api/games", json={}).status_code == 201


def test_the_docs_show_the_examples_code() -> None:
    root = Path(__file__).resolve().parents[3]
    docs = (root / "docs" / "games.md").read_text()
    section = docs[docs.index("## Embedding rejoin in your app") :]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert code is not None
    example = (root / "examples" / "embedded" / "app.py").read_text()
    assert code[1] in example, "docs/games.md shows examples/embedded/app.py as it is"
