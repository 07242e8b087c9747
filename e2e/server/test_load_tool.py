"""The load tool (`python -m rejoin.bots`) across a real kill -9: the resume time it reports is the
time its bots waited, from losing the link to the welcome back, so it is at least the outage.

The tool runs as a user runs it, a subprocess with its stdout in a pipe (not a terminal, so it
prints a plain progress line); the server is SIGKILLed once a hand has been played, stays down for
`DOWN_S`, and is started again on the same port and database.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time

import pytest

from e2e.support.spawn import Spawn
from rejoin_testkit.polling import wait_for

DOWN_S = 1.5  # from the kill to the relaunch: every bot is offline at least this long
RUN_TIMEOUT_S = 120.0  # upper bounds for hangs, never a measure of anything
WAIT_S = 60.0
PROGRESS = re.compile(r"^\[\d+ s\] hands (\d+)/(\d+), actions \d+, reconnects \d+$")
SUMMARY = re.compile(
    r"^hands (\d+)/(\d+), actions \d+, reconnects (\d+), "
    r"resume \(lost link to welcome\) p50 ([\d.]+) ms p99 ([\d.]+) ms, errors 0, over (\w+)$"
)


@pytest.mark.parametrize(("transport", "over"), [("auto", "websocket"), ("sse", "sse")])
def test_the_reported_resume_time_covers_the_outage(
    spawn: Spawn, sqlite_url: str, transport: str, over: str
) -> None:
    server = spawn(sqlite_url)
    tool = subprocess.Popen(  # noqa: S603 - argv is built here
        [
            sys.executable, "-m", "rejoin.bots", "--server", server.url, "--tables", "1",
            "--players", "2", "--hands", "4", "--strategy", "call", "--progress-every", "0.2",
            "--transport", transport,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(tool.stdout or ()), daemon=True)
    reader.start()
    try:

        def hands_played() -> bool:
            return any((m := PROGRESS.match(line)) and int(m[1]) >= 1 for line in list(lines))

        wait_for(hands_played, timeout=WAIT_S, what="a progress line with a hand played")
        server.kill9()
        time.sleep(DOWN_S)
        server.restart()
        tool.wait(timeout=RUN_TIMEOUT_S)
    finally:
        if tool.poll() is None:
            tool.kill()
            tool.wait()
    reader.join(timeout=5.0)
    output = "".join(lines)
    assert tool.returncode == 0, output
    summaries = [m for line in output.splitlines() if (m := SUMMARY.match(line))]
    assert len(summaries) == 1, output
    (summary,) = summaries
    assert (int(summary[1]), int(summary[2])) == (4, 4), output
    assert int(summary[3]) >= 2, output  # both bots came back
    assert float(summary[4]) >= DOWN_S * 1000, output
    assert float(summary[5]) >= float(summary[4])
    assert summary[6] == over, output  # auto: a restart is no reason to leave the WebSocket
