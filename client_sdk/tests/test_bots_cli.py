"""`python -m rejoin.bots` as a user runs it: a subprocess against a real server, judged by its
exit status and its output."""

from __future__ import annotations

import re
import subprocess
import sys

from rejoin_testkit.processes import ServerProcess, free_port

RUN_TIMEOUT_S = 120.0  # an upper bound for hangs, never a measure of anything


def run_bots(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rejoin.bots", *args],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )


def test_two_tables_of_three_bots_play_two_hands_each(server: ServerProcess) -> None:
    # `call` bots never bust anyone, so both tables deal both hands whatever the cards.
    done = run_bots(
        "--server", server.url, "--tables", "2", "--players", "3", "--hands", "2",
        "--strategy", "call", "--quiet",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    summary = re.search(
        r"^hands (\d+)/4, actions (\d+), reconnects 0, resume p50 [\d.]+ ms p99 [\d.]+ ms, "
        r"errors 0$",
        done.stdout,
        re.MULTILINE,
    )
    assert summary is not None, done.stdout
    assert int(summary[1]) == 4
    assert int(summary[2]) >= 4  # at least one action per hand


def test_an_unreachable_server_is_a_clear_error_and_a_nonzero_exit() -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    done = run_bots("--server", url, "--tables", "1", "--players", "2", "--hands", "1")
    assert done.returncode == 2
    assert f"cannot reach the server at {url}" in " ".join(done.stdout.split())
    assert "Traceback" not in done.stdout + done.stderr


def test_help_names_every_option() -> None:
    done = run_bots("--help")
    assert done.returncode == 0
    for option in (
        "--server", "--tables", "--players", "--hands", "--strategy", "--seed", "--timeout",
        "--quiet",
    ):  # fmt: skip
        assert option in done.stdout
