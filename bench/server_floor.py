"""The floor the server benchmarks are measured against: a bare Starlette app on the same uvicorn.

`python bench/server_floor.py --port P [--server-imports]` serves `POST /echo` (reads a small JSON
body and a bearer header, answers a small JSON object), `GET /healthz` and the WebSocket `/ws`
(accepts, then sends every text frame back as it came: the floor of a WebSocket round trip and of a
WebSocket handshake), with uvicorn configured as `rejoin_server.serve.run_uvicorn` does (h11,
asyncio loop, lifespan on; for WebSockets the same library, no protocol-level pings, no
compression). It is what any Starlette
app on this machine pays per request and per launch, so our figures are read as multiples of it.

`--server-imports` imports what the server loads before it serves (`rejoin_server.app` and the
libraries it imports: Starlette, orjson, itsdangerous, prometheus_client …; not pokerkit, which the
server loads in a warm-up thread once it serves) and does nothing with it: the launch-to-answer
floor of any process that needs those libraries.

This file runs as a script in its own process and imports nothing of `bench`, so that its start-up
time is only what it says.
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench/server_floor.py")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--server-imports", action="store_true")
    args = parser.parse_args(argv)

    if args.server_imports:
        import rejoin_server.app  # noqa: F401  (the import time is the point)

    import uvicorn
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

    app = Starlette(
        routes=[
            Route("/echo", echo, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            WebSocketRoute("/ws", ws_echo),
        ]
    )
    config = uvicorn.Config(
        app,
        host=args.host,
        port=args.port,
        log_level="warning",
        lifespan="on",
        ws_ping_interval=None,
        ws_ping_timeout=None,
        ws_per_message_deflate=False,
    )
    uvicorn.Server(config).run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
