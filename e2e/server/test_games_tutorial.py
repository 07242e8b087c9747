"""docs/games.md's tutorial, run as written: its files (`# file: NAME` code blocks) are written
to a fresh folder, its tests pass under pytest, its code passes mypy --strict and ruff, and the server
started with its command line serves the game to its `play.py`, which plays a match to the end.
Then the server is killed with SIGKILL mid-match and the match resumes."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from e2e.support.spawn import Spawn
from rejoin_testkit.api import Api

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "games.md"
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```\n", re.MULTILINE | re.DOTALL)


def tutorial_files() -> dict[str, str]:
    found = {}
    for language, body in BLOCK.findall(GUIDE.read_text()):
        first = body.splitlines()[0] if body else ""
        if language == "python" and first.startswith("# file: "):
            found[first.removeprefix("# file: ").strip()] = body
    return found


def serve_command() -> list[str]:
    """The tutorial's command line that starts the server, as words (`PYTHONPATH=.` apart)."""
    for language, body in BLOCK.findall(GUIDE.read_text()):
        for line in body.splitlines():
            if language == "sh" and "rejoin-server --game" in line:
                words = shlex.split(line.split("#")[0])
                assert words[0] == "PYTHONPATH=.", line
                return words[1:]
    raise AssertionError("docs/games.md has no `rejoin-server --game` command line")


def run(*argv: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - the tutorial's own commands
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_the_tutorial_works_as_written(
    spawn: Spawn, sqlite_url: str, tmp_path: Path, admin_token: str
) -> None:
    folder = tmp_path / "my-game"
    folder.mkdir()
    files = tutorial_files()
    assert set(files) == {"rps.py", "test_rps.py", "play.py"}
    for name, body in files.items():
        (folder / name).write_text(body)
    env = {k: v for k, v in os.environ.items() if not k.startswith("REJOIN_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (".", env.get("PYTHONPATH", "")) if p)

    tests = run(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_rps.py",
                "--rootdir", str(folder), "-c", os.devnull, cwd=folder, env=env)  # fmt: skip
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert " passed" in tests.stdout
    typed = run(sys.executable, "-m", "mypy", "--strict", *files, cwd=folder, env=env)
    assert typed.returncode == 0, typed.stdout + typed.stderr
    # Written as the project's own code is: the tutorial is what a newcomer copies.
    config = str(ROOT / "pyproject.toml")
    for check in (["check"], ["format", "--check"]):
        linted = run(sys.executable, "-m", "ruff", *check, "--config", config, *files,
                     cwd=folder, env=env)  # fmt: skip
        assert linted.returncode == 0, linted.stdout + linted.stderr

    command = serve_command()
    assert command[:2] == ["rejoin-server", "--game"]
    # `PYTHONPATH=.` in the game's folder: the folder, for a server started from elsewhere.
    server_path = os.pathsep.join(p for p in (str(folder), os.environ.get("PYTHONPATH", "")) if p)
    server = spawn(sqlite_url, *command[1:], env={"PYTHONPATH": server_path})
    api = Api(server.url, admin_token)
    kinds = api.request("GET", "/api/games/kinds").ok(200)["kinds"]
    assert [k["kind"] for k in kinds] == ["poker", "rps"]
    played = run(sys.executable, "play.py", cwd=folder, env={**env, "REJOIN_URL": server.url})
    assert played.returncode == 0, played.stdout + played.stderr
    assert re.fullmatch(r"match [0-9a-f]{32}: (Ann|Bob) won\n", played.stdout), played.stdout

    # A match killed in the middle: the throw made before the kill is kept, and still secret.
    game = api.create_game(kind="rps", rounds=3).ok(201)["gameId"]
    ann = api.join(game, "Ann").ok(201)
    bob = api.join(game, "Bob").ok(201)
    api.act(game, ann["sessionToken"], "throw", throw="rock").ok(200)
    server.kill9()
    server.restart()
    api.reset()
    seen_by_bob = api.events(game, bob["sessionToken"]).ok(200)["events"]
    assert [e["kind"] for e in seen_by_bob] == ["joined", "joined", "round_started", "thrown"]
    assert seen_by_bob[-1]["data"] == {"seat": 0, "throw": None}
    assert api.state(game, ann["sessionToken"]).ok(200)["gameState"]["you"]["throw"] == "rock"
    api.act(game, bob["sessionToken"], "throw", throw="paper").ok(200)
    view = api.state(game, bob["sessionToken"]).ok(200)["gameState"]
    assert view["lastRound"] == {"round": 1, "winner": 1, "throws": ["rock", "paper"]}
    assert view["wins"] == [0, 1]
    api.close()
