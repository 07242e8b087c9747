"""The floor the server benchmarks are measured against: a bare Starlette app on the same uvicorn.

`python bench/server_floor.py --port P [--server-imports] [--ws IMPL | --granian]` serves
`POST /echo` (reads a small JSON body and a bearer header, answers a small JSON object),
`GET /healthz` and the WebSocket `/ws` (accepts, then sends every text frame back as it came: the
floor of a WebSocket round trip and of a WebSocket handshake), with uvicorn configured as
`rejoin_server.serve.run_uvicorn` does (h11, asyncio loop, lifespan on; for WebSockets the same
implementation, `websockets-sansio`, no protocol-level pings, no compression). It is what any
Starlette app on this machine pays per request and per launch, so our figures are read as
multiples of it.

`--server-imports` imports what the server loads before it serves (`rejoin_server.app` and the
libraries it imports: Starlette, orjson, itsdangerous, prometheus_client …; not pokerkit, which the
server loads in a warm-up thread once it serves) and does nothing with it: the launch-to-answer
floor of any process that needs those libraries.

`--ws` picks another of uvicorn's WebSocket implementations (`websockets`, `websockets-sansio`,
`wsproto`), `--granian` serves the same app with Granian instead (one worker, asyncio loop, the
same listen queue): what `bench/asgi_suite.py` compares.

This file runs as a script in its own process and imports nothing of `bench`, so that its start-up
time is only what it says.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from starlette.applications import Starlette

# uvicorn's WebSocket implementations (`ws=`); the first is the server's (`serve.WS_PROTOCOL`).
WS_PROTOCOLS = ("websockets-sansio", "websockets", "wsproto")
BACKLOG = 2048  # the server's listen queue (`serve.LISTEN_BACKLOG`)


def create_app() -> Starlette:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route, WebSocketRoute
    from starlette.websockets import WebSocket, WebSocketDisconnect

    async def echo(request: Request) -> JSONResponse:
        body = await request.json()
        auth = request.headers.get("authorization", "")
        return JSONResponse({"success": True, "seq": len(body), "auth": len(auth)})

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def ws_echo(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            while True:
                await websocket.send_text(await websocket.receive_text())
        except WebSocketDisconnect:
            pass

    return Starlette(
        routes=[
            Route("/echo", echo, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            WebSocketRoute("/ws", ws_echo),
        ]
    )


def serve_granian(app: Callable[..., Any], host: str, port: int) -> None:
    """`app` under Granian: one worker process (forked, so `app` goes with it), asyncio's loop
    as under uvicorn (no uvloop installed), WebSockets on, access log off."""
    from granian import Granian
    from granian.constants import Interfaces, Loops
    from granian.log import LogLevels

    server = Granian(
        "app",
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        workers=1,
        loop=Loops.asyncio,
        websockets=True,
        backlog=BACKLOG,
        log_level=LogLevels.warning,
    )
    server.serve(target_loader=lambda _target: app)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench/server_floor.py")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--server-imports", action="store_true")
    server = parser.add_mutually_exclusive_group()
    server.add_argument("--ws", choices=WS_PROTOCOLS, default=WS_PROTOCOLS[0])
    server.add_argument("--granian", action="store_true")
    args = parser.parse_args(argv)

    if args.server_imports:
        import rejoin_server.app  # noqa: F401  (the import time is the point)

    app = create_app()
    if args.granian:
        serve_granian(app, args.host, args.port)
        return 0

    import uvicorn

    config = uvicorn.Config(
        app,
        host=args.host,
        port=args.port,
        log_level="warning",
        lifespan="on",
        http="h11",
        ws=args.ws,
        backlog=BACKLOG,
        ws_ping_interval=None,
        ws_ping_timeout=None,
        ws_per_message_deflate=False,
    )
    uvicorn.Server(config).run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
