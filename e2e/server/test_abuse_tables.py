"""The abuse suite, tables (issue 12): a table that plays itself for ever.

Five anonymous requests (`POST /api/games` with zero clocks and a billion chips, two joins, a
start) used to make a table whose clocks folded and checked for both players with nobody there:
~3,900 events a second for the hour until `--abandon-after`. Now new tables keep to the server's
bounds; a table nobody is at finishes its hand and deals no next one until a player is back; and
a game past `--max-events-per-game` is completed, saying why.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from e2e.support.spawn import Spawn
from e2e.support.ws import Resume, WsClient
from rejoin_testkit.api import Api, JsonObject
from rejoin_testkit.polling import wait_for
from rejoin_testkit.processes import ServerProcess
from rejoin_testkit.tables import Player, Table

# Fast clocks for the tests: the operator may lower the bounds (here to 100 ms), and the
# attendance window is 2 s instead of a minute.
FAST = ("--min-action-timeout", "100ms", "--min-next-hand-delay", "100ms")
FAST_TABLE = {"seats": 2, "actionTimeoutMs": 100, "nextHandDelayMs": 100}
WINDOW_S = 2.0
# How long a table must stand still to count as stopped: many times its clocks (100 ms).
STILL_S = 1.5


def last_seq(player: Player) -> int:
    body = player.api.events(player.game_id, player.session).ok(200)
    return int(body["seq"])


def hands_started(player: Player) -> int:
    return sum(1 for e in player.events(after=0) if e["kind"] == "hand_started")


def stands_still(player: Player, within_s: float = 20.0) -> int:
    """The table's seq, once it has not moved for STILL_S; fails if it is still moving after
    `within_s` (a table that plays itself)."""
    deadline = time.monotonic() + within_s
    seq = last_seq(player)
    while time.monotonic() < deadline:
        time.sleep(STILL_S)
        now = last_seq(player)
        if now == seq:
            return seq
        seq = now
    raise AssertionError(f"the table is still playing by itself after {within_s} s (seq {seq})")


def test_the_five_requests_of_a_self_playing_table_are_refused(api: Api) -> None:
    for settings, says in (
        ({"actionTimeoutMs": 0}, "actionTimeoutMs must be at least 1000"),
        ({"nextHandDelayMs": 0}, "nextHandDelayMs must be at least 1000"),
        ({"startingStack": 1_000_000_000}, "startingStack must be at most 1000000"),
        ({"bigBlind": 500, "startingStack": 400}, "startingStack must be between 500"),
    ):
        error = api.create_game(seats=2, **settings).error("invalid_request")
        assert says in error["message"], error
    body = api.create_game(seats=2).ok(201)
    assert body["actionTimeoutMs"] == 30_000
    assert body["nextHandDelayMs"] == 3_000


def test_a_table_nobody_is_at_stops_dealing_until_a_player_is_back(
    spawn: Spawn, db_url: str, make_api: Callable[[ServerProcess], Api]
) -> None:
    server = spawn(db_url, *FAST, "--unattended-after", f"{WINDOW_S}s")
    api = make_api(server)
    table = Table.create(api, **FAST_TABLE)
    alice, bob = table.join_many(2)
    table.start()
    # Nobody connected, nobody acts: the clocks fold hand after hand until the window is over,
    # then the table stands still.
    stopped_at = stands_still(alice)
    hands = hands_started(alice)
    assert hands >= 2, "the clocks should have played a few hands inside the window"
    view = alice.view()
    assert view["phase"] == "hand_over", view
    assert view["status"] == "playing"

    # A player connects: dealing resumes at once, and goes on while they stay.
    client = WsClient(server.url, table.game_id, Resume.of(bob, last_seq=stopped_at))
    try:
        client.hello()
        client.welcome()
        wait_for(
            lambda: hands_started(alice) >= hands + 3,
            timeout=10.0,
            what="hands to be dealt again while a player is connected",
        )
    finally:
        client.close()
    # Gone again: the table stops within the window and a hand or two.
    stopped_again = stands_still(alice)
    # A player over plain HTTP is back by starting the next hand (there is none to act in).
    table.start()
    assert last_seq(alice) > stopped_again
    assert "Traceback" not in server.log()


def test_a_player_acting_over_plain_http_keeps_the_table_dealing(
    spawn: Spawn, db_url: str, make_api: Callable[[ServerProcess], Api]
) -> None:
    server = spawn(db_url, *FAST, "--unattended-after", f"{WINDOW_S}s")
    api = make_api(server)
    table = Table.create(api, seats=2, actionTimeoutMs=60_000, nextHandDelayMs=100)
    table.join_many(2)
    table.start()
    deadline = time.monotonic() + 3 * WINDOW_S
    hands = 1
    while time.monotonic() < deadline:  # a player who plays over HTTP, never connected
        wait_for(lambda: table.view()["toAct"] is not None, timeout=5.0, what="a hand to act in")
        table.play_hand_out()
        hands += 1
    assert hands_started(table.players[0]) >= hands - 1


def test_a_game_past_its_event_budget_is_completed_saying_why(
    spawn: Spawn, db_url: str, make_api: Callable[[ServerProcess], Api]
) -> None:
    server = spawn(db_url, *FAST, "--max-events-per-game", "60", "--unattended-after", "1h")
    api = make_api(server)
    table = Table.create(api, **FAST_TABLE)
    alice, _ = table.join_many(2)
    table.start()

    def completed() -> JsonObject | None:
        view = alice.view()
        return view if view["status"] == "completed" else None

    wait_for(completed, timeout=30.0, what="the game to reach its event budget")
    events = alice.events(after=0)
    assert 60 <= len(events) < 60 + 10
    assert events[-1]["kind"] == "game_completed"
    assert events[-1]["data"] == {"reason": "event_limit"}
    assert "--max-events-per-game" in server.log()
    seq = events[-1]["seq"]
    time.sleep(STILL_S)  # nothing more is written once it is over
    assert last_seq(alice) == seq
    alice.act("fold").error("game_completed")


@pytest.mark.parametrize("flag", ["--min-action-timeout", "--min-next-hand-delay"])
def test_the_bounds_are_the_operators(
    spawn: Spawn, db_url: str, make_api: Callable[[ServerProcess], Api], flag: str
) -> None:
    api = make_api(spawn(db_url, flag, "0"))
    key = "actionTimeoutMs" if flag == "--min-action-timeout" else "nextHandDelayMs"
    assert api.create_game(**{key: 0}).ok(201)[key] == 0
