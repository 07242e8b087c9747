"""`python bench/run.py [--quick] [--only NAME]`, NAME one of
ws|rtt|fanout|storm|peer|asgi|cluster|browser|resume|live|serve|seal|sdk: every benchmark, ours beside
the eventsourcing library's, then the WebSocket ones, then the ASGI servers' WebSocket cost, then
the cluster ones, then the browser ones in Chromium, then the README's serve command restarted, and
last the goals of the run, met or missed (`--only`: the WebSocket ones alone, one of them, the ASGI
servers', the cluster ones, the browser ones, their kill -9 resume alone (the table pages and
Chromium's own EventSource), ours alone on the live-play rows, or the serve command's restart, or
the cost of private data at rest, or the CPython SDK's resume over SSE beside the WebSocket).

This file only makes `bench` importable when run as a script; the work is in `bench.suite`.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.suite import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
