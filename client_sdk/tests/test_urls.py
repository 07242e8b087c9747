"""`rejoin.urls`: a base URL with or without a prefix (rejoin mounted under `/games` in a host app)
gives every request its URL with the prefix kept and no `//`; a base that cannot work is refused
with what to write. `GameClient` and the bots' `--server` take their base through it."""

from __future__ import annotations

import pytest

from rejoin import GameClient
from rejoin.bots.cli import parse_args
from rejoin.urls import api_url, game_url, game_ws_url, server_base

GAME = "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(
    ("given", "base"),
    [
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("http://127.0.0.1:8000/", "http://127.0.0.1:8000"),
        ("http://host:8000/games", "http://host:8000/games"),
        ("http://host:8000/games/", "http://host:8000/games"),
        ("http://host:8000//games//", "http://host:8000/games"),
        ("https://example.com/a/b/", "https://example.com/a/b"),
        ("  http://host/games  ", "http://host/games"),
        ("HTTP://host/games", "http://host/games"),
        ("http://[::1]:8000/games", "http://[::1]:8000/games"),
        ("http://host/my%20games/", "http://host/my%20games"),
    ],
)
def test_the_base_keeps_its_prefix_without_trailing_slashes(given: str, base: str) -> None:
    assert server_base(given) == base


@pytest.mark.parametrize(
    "base", ["http://host:8000/games", "http://host:8000/games/", "http://host:8000//games"]
)
def test_every_url_is_under_the_prefix(base: str) -> None:
    assert api_url(base, "games") == "http://host:8000/games/api/games"
    assert game_url(base, GAME, "join") == f"http://host:8000/games/api/game/{GAME}/join"
    assert game_url(base, GAME, "events") == f"http://host:8000/games/api/game/{GAME}/events"
    assert game_ws_url(base, GAME) == f"ws://host:8000/games/api/game/{GAME}/ws"


def test_without_a_prefix_the_urls_are_at_the_root() -> None:
    assert api_url("http://h:1/", "games") == "http://h:1/api/games"
    assert game_url("http://h:1", GAME, "state") == f"http://h:1/api/game/{GAME}/state"
    assert game_ws_url("http://h:1/", GAME) == f"ws://h:1/api/game/{GAME}/ws"


def test_https_gives_wss() -> None:
    assert game_ws_url("https://example.com/games", GAME) == (
        f"wss://example.com/games/api/game/{GAME}/ws"
    )


def test_a_game_id_is_one_path_segment() -> None:
    # Whatever the id holds, it cannot climb out of /api/game/ (the server refuses such ids).
    assert game_url("http://h/games", "a/../b", "join") == "http://h/games/api/game/a%2F..%2Fb/join"


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ("127.0.0.1:8000", "http://host:port"),
        ("ws://host/games", "http://host:port"),
        ("ftp://host/", "http://host:port"),
        ("http:///games", "http://host:port"),
        ("http://host/games?x=1", "write http://host/games"),
        ("http://host/games#top", "write http://host/games"),
    ],
)
def test_a_base_that_cannot_work_is_refused_with_what_to_write(given: str, says: str) -> None:
    with pytest.raises(ValueError, match="http") as refused:
        server_base(given)
    assert says in str(refused.value)
    with pytest.raises(ValueError, match="http"):
        GameClient(given, GAME)


async def test_the_client_takes_a_base_with_a_prefix() -> None:
    client = GameClient("http://127.0.0.1:8000/games/", GAME)
    assert client._base == "http://127.0.0.1:8000/games"  # what every URL it builds starts with
    await client.close()


def test_the_bots_take_a_server_with_a_prefix() -> None:
    args = parse_args(["--server", "http://127.0.0.1:8000/games/"])
    assert args.server == "http://127.0.0.1:8000/games"


def test_the_bots_refuse_a_server_that_cannot_work(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        parse_args(["--server", "127.0.0.1:8000"])
    assert stopped.value.code == 2
    assert "is not a server URL" in capsys.readouterr().err
