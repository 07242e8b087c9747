"""A site of its own with rejoin's games mounted under /games: the example of docs/games.md,
"Embedding rejoin in your app" (README.md beside this file says how to run it).

`REJOIN_DATABASE_URL` picks rejoin's database (default: `games.db` in the working directory).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Mount, Route

from rejoin_server.app import create_app
from rejoin_server.embed import running
from rejoin_server.settings import ServerSettings

games = create_app(
    ServerSettings(database_url=os.environ.get("REJOIN_DATABASE_URL", "sqlite:///./games.db"))
)


async def home(request: Request) -> HTMLResponse:
    return HTMLResponse('<h1>My site</h1><p><a href="/games/">Play poker</a></p>')


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    # Starlette runs only this app's lifespan, never a mounted app's: rejoin's runs inside it.
    async with running(games):
        # The site's own start-up goes here, its shut-down after the yield.
        yield


app = Starlette(routes=[Route("/", home), Mount("/games", app=games)], lifespan=lifespan)


if __name__ == "__main__":
    import uvicorn

    # Event streams (GET …/events) stay open: without a bound, a shutdown would wait for them.
    uvicorn.run(app, host="127.0.0.1", port=8000, timeout_graceful_shutdown=10)
