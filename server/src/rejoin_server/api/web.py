"""The browser side: the lobby at `/`, the table page at `/play/{gameId}`, and the files they load.

`/play/{gameId}` is poker's table (`play.html`) for a poker game, and the generic page
(`game.html`: the view as tables, a form per legal action, the event log) for a game of any other
kind. An id no game has gets poker's table, as always: the page asks `GET /api/game/{gameId}`
before it shows its join form, and says at once that there is no such table.

Everything comes from one folder, the SDK's `client_sdk/web` (docs/operations.md), so a page never fetches
from anywhere but this server:

| path | folder | what |
| --- | --- | --- |
| `/static/` | `static/` | the pages, their script and style (in the repository) |
| `/pyodide/<version>/` | `dist/pyodide/<version>/` | Pyodide's boot files, from npm (`nox -s bundle`) |
| `/sdk/` | `dist/` | `manifest.json` and the wheels, `wheels/<hash>/<wheel>` (`nox -s bundle`) |

The built files are sent pre-compressed (brotli or gzip, by `Accept-Encoding`) and, their addresses
changing with their content, cached by browsers for a year (api/precompressed.py); the pages,
their scripts and `manifest.json` are revalidated on every load.

The pages refer to all of these relatively (from the app's root), so they work as well when a
host app mounts rejoin under a prefix (`rejoin_server.embed`). The server imports nothing of the
SDK: it serves these as files. Without a built bundle the table
page answers 503 with a page that says how to build it; the API works either way.

Every HTML page (the lobby, the table, the not-built and not-found pages, any `.html` under
`/static/`) carries `PAGE_HEADERS`: a Content-Security-Policy that lets a page load and connect
to this server only, and never be framed.
"""

from __future__ import annotations

import html
import json
from collections.abc import Collection
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import Receive, Scope, Send

from rejoin_protocol.errors import ErrorCode
from rejoin_server.api import bodies
from rejoin_server.api.context import services
from rejoin_server.api.precompressed import PrecompressedFiles
from rejoin_server.api.responses import error
from rejoin_server.errors import CodedError

__all__ = ["CONTENT_SECURITY_POLICY", "PAGE_HEADERS", "WebBundle", "default_web_dir", "routes"]

# The manifest boot.mjs reads first, revalidated on every load: it names every other built file.
MANIFEST = "manifest.json"

# The pages' policy. Everything comes from this origin ('self' covers the same-origin WebSocket
# in CSP Level 3). Pyodide compiles WebAssembly, which needs 'wasm-unsafe-eval' and nothing more:
# no 'unsafe-eval', no inline script or style. `data:` images are the pages' empty favicon.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self' 'wasm-unsafe-eval'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",  # frame-ancestors, for browsers that predate it
    # A table's address is its id: it is not handed to any other site a page links to.
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}

# The kind whose games get poker's table; every other kind gets the generic page.
POKER_KIND = "poker"
POKER_PAGE = "play.html"
GENERIC_PAGE = "game.html"

BUILD_HINT = (
    "python3 -m pip install nox && python3 -m nox -s bundle   "
    "(needs Node.js 20+ and npm; `nox -s serve` builds it too)"
)


def default_web_dir() -> Path:
    """`client_sdk/web` of the checkout this server runs from (an editable install), else the one
    under the working directory."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent / "client_sdk" / "web"
        if (candidate / "package.json").is_file():
            return candidate
    return Path.cwd() / "client_sdk" / "web"


@dataclass(frozen=True, slots=True)
class WebBundle:
    root: Path

    @classmethod
    def at(cls, web_dir: str | None) -> WebBundle:
        return cls(Path(web_dir).resolve() if web_dir else default_web_dir())

    @property
    def static(self) -> Path:
        return self.root / "static"

    @property
    def dist(self) -> Path:
        return self.root / "dist"

    @property
    def pyodide(self) -> Path:
        """Pyodide's versions, each in its folder (the build keeps one)."""
        return self.dist / "pyodide"

    def missing(self) -> list[str]:
        """What is not there yet, in words; empty when the table page can boot."""
        gaps = []
        if not all((self.static / page).is_file() for page in (POKER_PAGE, GENERIC_PAGE)):
            gaps.append(f"the pages ({self.static})")
        try:
            manifest = json.loads((self.dist / MANIFEST).read_text())
            version, files = manifest["pyodide"]["version"], manifest["pyodide"]["files"]
            wheels = [wheel["file"] for wheel in manifest["wheels"]]
        except (OSError, ValueError, KeyError, TypeError):
            # Absent, or from a build of an older layout: either way `nox -s bundle` mends it.
            return [*gaps, f"Pyodide and the SDK wheels ({self.dist}/{MANIFEST})"]
        absent = [name for name in files if not (self.pyodide / version / name).is_file()]
        if absent:
            gaps.append(f"Pyodide ({self.pyodide / version}: {', '.join(absent)})")
        lost = [name for name in wheels if not (self.dist / name).is_file()]
        if lost:
            gaps.append(f"the SDK wheels ({self.dist}: {', '.join(lost)})")
        return gaps


def routes(bundle: WebBundle) -> list[BaseRoute]:
    async def lobby(request: Request) -> Response:
        page = bundle.static / "lobby.html"
        if not page.is_file():
            return _not_built(bundle, [f"the pages ({bundle.static})"])
        return FileResponse(page, headers={"Cache-Control": "no-cache", **PAGE_HEADERS})

    async def play(request: Request) -> Response:
        game_id = request.path_params["game_id"]
        if not bodies.GAME_ID.fullmatch(game_id):
            return HTMLResponse(
                _page("No such table", f"<p>{html.escape(game_id[:80])!s} is not a table id.</p>"),
                status_code=404,
                headers=PAGE_HEADERS,
            )
        gaps = bundle.missing()
        if gaps:
            return _not_built(bundle, gaps)
        try:
            kind = await _kind_of(request, game_id)
        except CodedError as exc:  # the store cannot say (it is down): an HTML page, not JSON
            services(request).host.note_failure(exc)
            body = f"<p>{html.escape(exc.message)}</p><p>Reload this page in a moment.</p>"
            return HTMLResponse(
                _page("Table unavailable", body),
                status_code=exc.code.http_status,
                headers=PAGE_HEADERS,
            )
        page = POKER_PAGE if kind in (None, POKER_KIND) else GENERIC_PAGE
        return FileResponse(
            bundle.static / page, headers={"Cache-Control": "no-cache", **PAGE_HEADERS}
        )

    return [
        Route("/", lobby, methods=["GET"]),
        Route("/play/{game_id}", play, methods=["GET"]),
        # The pages' own scripts change with the checkout: revalidated on every load, so a page
        # never runs an old table-ui.js against new SDK wheels. Pyodide's version and each
        # wheel's hash are in their addresses: cached for good, but for the manifest naming them.
        Mount("/static", _BundleFiles(bundle.static, immutable=False), name="static"),
        Mount("/pyodide", _BundleFiles(bundle.pyodide, immutable=True), name="pyodide"),
        Mount(
            "/sdk",
            _BundleFiles(bundle.dist, immutable=True, revalidated=[MANIFEST]),
            name="sdk",
        ),
    ]


async def _kind_of(request: Request, game_id: str) -> str | None:
    """The kind of game `game_id` (None: no such game): from the game in memory, else from its
    row in the store, without loading the game (the page's own requests will, if it is played)."""
    svc = services(request)
    live = svc.host.loaded(game_id)
    if live is not None:
        return live.kind
    record = await svc.store.get_game(game_id)
    return record.kind if record is not None else None


class _BundleFiles(PrecompressedFiles):
    """A folder of the bundle, which may be built after the server started: until it exists, its
    files answer 404 with how to build it (StaticFiles itself would fail with a 500)."""

    def __init__(
        self, directory: Path, *, immutable: bool, revalidated: Collection[str] = ()
    ) -> None:
        super().__init__(directory, immutable=immutable, revalidated=revalidated)
        self._folder = directory

    def file_response(self, full_path: PathLike[str] | str, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(full_path, *args, **kwargs)
        if Path(full_path).suffix.lower() in (".html", ".htm"):
            response.headers.update(PAGE_HEADERS)  # a 304 too: it refreshes the cached headers
        return response

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._folder.is_dir():
            response = error(
                ErrorCode.INVALID_REQUEST,
                f"The browser bundle is not built ({self._folder} is missing): {BUILD_HINT}",
            )
            response.status_code = 404
            await response(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def _not_built(bundle: WebBundle, gaps: list[str]) -> Response:
    items = "".join(f"<li>{html.escape(gap)}</li>" for gap in gaps)
    body = (
        "<p>The browser bundle has not been built, so this page cannot run. Missing:</p>"
        f"<ul>{items}</ul><p>Build it from the repository's root:</p>"
        f"<pre>{html.escape(BUILD_HINT)}</pre><p>then reload this page. The server looks for it "
        f"in <code>{html.escape(str(bundle.root))}</code> (<code>--web-dir</code> or "
        "<code>REJOIN_WEB_DIR</code> to change).</p>"
    )
    return HTMLResponse(_page("Bundle not built", body), status_code=503, headers=PAGE_HEADERS)


def _page(title: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="en"><meta charset="utf-8"><title>{title} · rejoin</title>'
        f'<body class="notice"><h1>{title}</h1>{body}</body></html>'
    )
