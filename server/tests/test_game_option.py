"""`--game MODULE:ATTR` (and REJOIN_GAMES): how a server is told of games of other kinds, and how
`games.kinds.load_engine` finds the engine or says in one line why it cannot."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from rejoin_server.cli import parse_args
from rejoin_server.games.kinds import GameKinds, load_engine
from rejoin_server.games.poker import PokerEngine
from rejoin_testkit.processes import run_server_command

GOOD = """
from rejoin_server.games.poker import PokerEngine

class Engine(PokerEngine):
    kind = "my-poker"

engine = Engine()

def make():
    return Engine()

not_an_engine = 42
bad_kind = type("Bad", (PokerEngine,), {"kind": "My Game!"})

def failing_factory():
    raise RuntimeError("no config file")
"""


@pytest.fixture
def module_dir(tmp_path: Path) -> Iterator[Path]:
    (tmp_path / "my_games.py").write_text(textwrap.dedent(GOOD))
    (tmp_path / "broken_games.py").write_text("raise RuntimeError('this module is broken')\n")
    sys.path.insert(0, str(tmp_path))
    try:
        yield tmp_path
    finally:
        sys.path.remove(str(tmp_path))
        for name in ("my_games", "broken_games"):
            sys.modules.pop(name, None)


def test_the_option_repeats_and_its_variable_is_comma_separated() -> None:
    flags = parse_args(["--game", "a.b:C", "--game", "d:e.f"], {}).settings
    assert flags.games == ("a.b:C", "d:e.f")
    env = parse_args([], {"REJOIN_GAMES": "a.b:C, d:E ,"}).settings
    assert env.games == ("a.b:C", "d:E")
    both = parse_args(["--game", "x:Y"], {"REJOIN_GAMES": "a:B"}).settings
    assert both.games == ("x:Y",)  # the flag beats its variable
    assert parse_args([], {}).settings.games == ()


@pytest.mark.parametrize("spec", ["liars_dice", "liars_dice:", ":Engine", "a-b:C", "a:b c"])
def test_a_spec_that_is_not_module_colon_attr_is_a_usage_error(
    spec: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        parse_args(["--game", spec], {})
    assert exited.value.code == 2
    assert "is not MODULE:ATTR" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parse_args([], {"REJOIN_GAMES": spec})
    assert "REJOIN_GAMES" in capsys.readouterr().err


@pytest.mark.usefixtures("module_dir")
@pytest.mark.parametrize("attr", ["engine", "Engine", "make"])
def test_an_engine_an_engine_class_or_a_factory_is_loaded(attr: str) -> None:
    engine = load_engine(f"my_games:{attr}")
    assert isinstance(engine, PokerEngine)
    assert engine.kind == "my-poker"
    assert GameKinds([PokerEngine(), engine]).kinds == ("poker", "my-poker")


@pytest.mark.usefixtures("module_dir")
@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("no_such_module_here:Engine", "module 'no_such_module_here' does not import"),
        ("broken_games:Engine", "RuntimeError: this module is broken"),
        ("my_games:Missing", "my_games has no 'Missing'"),
        ("my_games:not_an_engine", "is not a game engine: it has no kind, new_game, load"),
        ("my_games:bad_kind", "a game's kind must be 1 to 32 lower-case letters"),
        ("my_games:failing_factory", "calling failing_factory() failed (RuntimeError"),
    ],
)
def test_what_cannot_be_loaded_is_said_in_one_line(spec: str, words: str) -> None:
    with pytest.raises(ValueError, match=r"^--game ") as caught:
        load_engine(spec)
    assert words in str(caught.value)
    assert "\n" not in str(caught.value)


def test_two_engines_of_one_kind_are_refused() -> None:
    with pytest.raises(ValueError, match="two engines are of kind 'poker'"):
        GameKinds([PokerEngine(), PokerEngine()])


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("no_such_module_here:Engine", "module 'no_such_module_here' does not import"),
        ("broken_games:Engine", "this module is broken"),
    ],
)
def test_the_server_stops_with_one_line_and_exit_2_when_a_game_does_not_load(
    module_dir: Path, spec: str, words: str
) -> None:
    db = f"sqlite:///{module_dir / 'games.db'}"
    done = run_server_command("--game", spec, "--database-url", db, "--port", "0", cwd=module_dir)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"rejoin-server: error: --game {spec}: ")
    assert words in done.stderr
    assert done.stderr.count("\n") == 1
    assert "Traceback" not in done.stderr
    assert done.stdout == ""


def test_two_games_of_one_kind_stop_the_server_with_one_line_and_exit_2(module_dir: Path) -> None:
    db = f"sqlite:///{module_dir / 'games.db'}"
    spec = "my_games:Engine"
    done = run_server_command(
        "--game", spec, "--game", spec, "--database-url", db, "--port", "0", cwd=module_dir
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr == (
        "rejoin-server: error: two engines are of kind 'my-poker'; each kind is served once\n"
    )
