"""A stand-in server for testing `ServerProcess` itself: serves `GET /healthz` after a delay.

    python -m e2e.support.fake_server --host 127.0.0.1 --port P [--delay S] [--exit-code N]

`--exit-code` exits at once with that code (a server that fails to start). Other flags are ignored,
so it takes the same command line as the real server. SIGTERM exits with code 0.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path != "/healthz":
            self.send_error(404)
            return
        body = json.dumps({"status": "ok", "storage": "fake", "pendingWrites": 0}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        print(f"fake-server: {format % args}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--exit-code", type=int)
    args, _ = parser.parse_known_args(argv)
    if args.exit_code is not None:
        print(f"fake-server: failing on purpose with {args.exit_code}", flush=True)
        return int(args.exit_code)

    def stop(signum: int, frame: FrameType | None) -> None:
        print("fake-server: SIGTERM, bye", flush=True)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    time.sleep(args.delay)
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    print(f"fake-server listening on http://{args.host}:{args.port}", flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
