"""Our server under another ASGI server, for `bench/asgi_suite.py` only.

`python bench/asgi_ours.py --ws IMPL <rejoin-server options>` is `python -m rejoin_server` with
uvicorn's WebSocket implementation `IMPL` (`websockets`, `websockets-sansio`, `wsproto`) in place
of `serve.WS_PROTOCOL`: everything else is the server's own start-up (the port bound first, the
connection cap, the deadlines, the graceful shutdown).

`python bench/asgi_ours.py --granian <rejoin-server options>` serves the same app
(`create_app(settings)`, migrated first, as `serve.serve` does) with Granian instead, as
`server_floor.py --granian` serves the bare app. It has none of what `serve.run_uvicorn` adds to
uvicorn: no cap on open connections, no header and body deadlines, no handover before the
sockets close on shutdown; for a benchmark of handshakes and round trips that is no difference.

No user-facing option: which implementation the server runs is decided once (`serve.WS_PROTOCOL`,
measured by `asgi_suite`), not left to each operator. This file runs as a script and imports
nothing of `bench` but its neighbour `server_floor` (the Granian set-up, one copy).
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace
from typing import TYPE_CHECKING

from server_floor import WS_PROTOCOLS, serve_granian  # type: ignore[import-not-found, unused-ignore]

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from rejoin_server.settings import ServerSettings


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench/asgi_ours.py", add_help=False)
    server = parser.add_mutually_exclusive_group(required=True)
    server.add_argument("--ws", choices=WS_PROTOCOLS)
    server.add_argument("--granian", action="store_true")
    args, rest = parser.parse_known_args(argv)
    if not args.granian:
        from rejoin_server import cli, serve

        serve.WS_PROTOCOL = args.ws
        return cli.main(rest)
    return _granian(rest)


def _granian(argv: list[str]) -> int:
    from rejoin_server import filelimit
    from rejoin_server.cli.args import parse_args
    from rejoin_server.serve import prepare_database

    settings = parse_args(argv, os.environ).settings
    filelimit.raise_soft_limit()
    prepare_database(settings.database_url, migrate=settings.migrate)
    settings = replace(settings, migrate=False)
    print(f"listening on http://{settings.host}:{settings.port} (Granian)", flush=True)
    serve_granian(_LazyApp(settings), settings.host, settings.port)
    return 0


class _LazyApp:
    """The app, built on its first call: in Granian's worker process, after the fork, so that
    nothing it opens is shared with the parent."""

    def __init__(self, settings: ServerSettings) -> None:
        self.settings = settings
        self.app: Starlette | None = None

    async def __call__(self, scope: object, receive: object, send: object) -> None:
        if self.app is None:
            from rejoin_server.app import create_app

            self.app = create_app(self.settings)
        await self.app(scope, receive, send)  # type: ignore[arg-type]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
