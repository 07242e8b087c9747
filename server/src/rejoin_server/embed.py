"""Running rejoin inside another Starlette (or FastAPI) application, mounted under a prefix.

    games = create_app(ServerSettings(database_url="sqlite:///games.db"))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with running(games):  # rejoin's store, clocks and cleanup, for as long as the host
            yield  # ... with the host's own start-up and shut-down around this

    app = Starlette(routes=[..., Mount("/games", app=games)], lifespan=lifespan)

A host without a lifespan of its own passes `lifespan=embed.lifespan(games)`.

Starlette runs only the outermost app's lifespan, never a mounted app's: without this, rejoin's
store is never opened and every request to it fails with a log line saying so. The mounted app
keeps everything of its own (its routes, its error answers, its `X-Rejoin-Node` header), and its
answers, pages and `/openapi.json` name their paths under the prefix. docs/games.md ("Embedding
rejoin in your app") says what the `rejoin-server` command sets up that a host's uvicorn then
does instead.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from starlette.applications import Starlette

__all__ = ["lifespan", "running"]


@asynccontextmanager
async def running(rejoin_app: Starlette) -> AsyncIterator[None]:
    """rejoin's lifespan, to enter in the host's: the database is migrated (unless
    `ServerSettings.migrate` is off) and opened on entry, and the games are stored and closed on
    exit. Entered once per app: a second entry while it runs is an error, not a second store."""
    async with rejoin_app.router.lifespan_context(rejoin_app):
        yield


def lifespan(rejoin_app: Starlette) -> Callable[[object], AbstractAsyncContextManager[None]]:
    """A host app's whole lifespan when it has none of its own: `Starlette(…, lifespan=
    lifespan(rejoin_app))`."""
    return lambda _host: running(rejoin_app)
