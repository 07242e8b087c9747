"""`python -m rejoin.bots` as a user runs it: a subprocess against a real server, judged by its
exit status and its output."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from rejoin_testkit.example_game import LIARS_DICE_ARGS, liars_dice_env
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


@pytest.mark.parametrize(
    ("transport", "over"), [(None, "websocket"), ("sse", "sse"), ("websocket", "websocket")]
)
def test_two_tables_of_three_bots_play_two_hands_each(
    server: ServerProcess, transport: str | None, over: str
) -> None:
    # `call` bots never bust anyone, so both tables deal both hands whatever the cards.
    chosen = () if transport is None else ("--transport", transport)  # None: the default, auto
    done = run_bots(
        "--server", server.url, "--tables", "2", "--players", "3", "--hands", "2",
        "--strategy", "call", "--quiet", *chosen,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    summary = re.search(
        rf"^hands (\d+)/4, actions (\d+), reconnects 0, errors 0, over {over}$",
        done.stdout,
        re.MULTILINE,
    )
    assert summary is not None, done.stdout
    assert int(summary[1]) == 4
    assert int(summary[2]) >= 4  # at least one action per hand
    assert "resume" not in done.stdout  # nothing reconnected: no resume figures


def test_without_a_terminal_a_plain_progress_line_comes_every_few_seconds(
    server: ServerProcess,
) -> None:
    # stdout is a pipe here, where rich draws no bar. Two hands take a second at least (the
    # tables' delay between hands), so lines 0.2 s apart come before the summary.
    done = run_bots(
        "--server", server.url, "--tables", "1", "--players", "2", "--hands", "2",
        "--strategy", "call", "--progress-every", "0.2",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    progress = [
        re.fullmatch(r"\[\d+ s\] hands (\d)/2, actions \d+, reconnects 0", line) for line in lines
    ]
    assert sum(match is not None for match in progress) >= 2, done.stdout
    summary = r"hands 2/2, actions \d+, reconnects 0, errors 0, over websocket"
    assert re.fullmatch(summary, lines[-1]), done.stdout
    assert "\x1b" not in done.stdout  # no terminal escapes in a log


def test_quiet_prints_the_summary_alone(server: ServerProcess) -> None:
    done = run_bots(
        "--server", server.url, "--players", "2", "--hands", "1", "--strategy", "call",
        "--progress-every", "0.1", "--quiet",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines() == [
        line for line in done.stdout.splitlines() if line.startswith("hands 1/1,")
    ], done.stdout


def test_without_rich_it_says_how_to_install_the_extra() -> None:
    # rich made unimportable in this interpreter alone (None in sys.modules), as it is where the
    # SDK was installed without the `bots` extra.
    blocked = (
        "import runpy, sys; sys.modules['rich'] = None; sys.argv[0] = 'rejoin.bots'; "
        "runpy.run_module('rejoin.bots', run_name='__main__', alter_sys=True)"
    )
    done = subprocess.run(
        [sys.executable, "-c", blocked, "--server", "http://127.0.0.1:1"],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 2
    assert "pip install 'rejoin-client[bots]'" in done.stderr
    assert "Traceback" not in done.stderr
    # The SDK and the bots' library part import without it.
    library = (
        "import sys; sys.modules['rich'] = None; "
        "import rejoin, rejoin.bots, rejoin.bots.progress; print(rejoin.bots.run_load.__name__)"
    )
    imported = subprocess.run(
        [sys.executable, "-c", library],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.strip() == "run_load"


@pytest.fixture
def dice_server(tmp_path: Path) -> Iterator[ServerProcess]:
    """A server that also serves Liar's Dice (examples/liars_dice, from PYTHONPATH)."""
    process = ServerProcess(
        tmp_path / "server.log",
        database_url=f"sqlite:///{tmp_path / 'rejoin.db'}",
        args=LIARS_DICE_ARGS,
        env=liars_dice_env(),
    )
    try:
        process.start_ready()
        yield process
    finally:
        process.cleanup()


def test_liars_dice_bots_play_their_rounds(dice_server: ServerProcess) -> None:
    # Three dice each: a game lasts 3 to 5 rounds, so three rounds are played, or the game ends.
    done = run_bots(
        "--server", dice_server.url, "--kind", "liars-dice", "--tables", "2", "--players", "2",
        "--rounds", "3", "--dice", "3", "--seed", "7", "--quiet",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    summary = re.search(
        r"^rounds (\d+)/6(?: \((\d) games completed\))?, actions (\d+), reconnects 0, "
        r"errors 0, over websocket$",
        done.stdout,
        re.MULTILINE,
    )
    assert summary is not None, done.stdout
    assert int(summary[1]) == 6
    assert int(summary[3]) >= 6  # at least a bid and a challenge per round


def test_liars_dice_on_a_server_without_it_cannot_start(server: ServerProcess) -> None:
    done = run_bots("--server", server.url, "--kind", "liars-dice", "--quiet")
    assert done.returncode == 2
    text = " ".join(done.stdout.split())
    assert "the server refused to set up the tables" in text
    assert "liars-dice" in text


def test_options_that_do_not_fit_the_kind_are_refused() -> None:
    for args, message in (
        (("--kind", "liars-dice", "--strategy", "call"), "liars-dice bots have no strategy 'call'"),
        (("--strategy", "odds"), "poker bots have no strategy 'odds'"),
        (("--kind", "liars-dice", "--players", "7"), "--players must be 2..6"),
        (("--dice", "3"), "--dice is for --kind liars-dice"),
        (("--kind", "liars-dice", "--dice", "11"), "--dice must be 1..10"),
        (("--progress-every", "0"), "--progress-every: must be a positive number of seconds"),
        (("--progress-every", "soon"), "--progress-every: must be a number of seconds, not 'soon'"),
        (("--transport", "http"), "--transport: invalid choice: 'http'"),
    ):
        done = run_bots("--server", "http://127.0.0.1:1", *args)
        assert done.returncode == 2, args
        assert message in done.stderr, (args, done.stderr)


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
        "--server", "--kind", "--tables", "--players", "--hands", "--rounds", "--strategy",
        "--dice", "--seed", "--transport", "--timeout", "--quiet", "--progress-every",
    ):  # fmt: skip
        assert option in done.stdout
