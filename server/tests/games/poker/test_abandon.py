"""`Abandon`: the host's cleanup job ends a game its players left, whatever its phase.

It logs one `game_completed` with a `reason` and no winner; the hand on the table (running or
ended) stays as it was, frozen: nobody is to act, no clock runs, no chip moves, and every later
command is refused with `game_completed` (a `Tick` does nothing). Replay and `load(dump())` give the
same game, and logs written before this form existed (winner only) still apply.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pokerkit
import pytest

from rejoin_server.games.base import (
    Abandon,
    Act,
    Command,
    Event,
    GameRuleError,
    Join,
    Start,
    Tick,
)
from rejoin_server.games.poker import PokerEngine
from rejoin_server.games.poker import hand as poker_hand

Game = Any  # conftest's Driver
ENGINE = PokerEngine()
ABANDONED = {"reason": "abandoned"}


def canonical(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False)


def refused(game: Game, command: Command, code: str) -> None:
    before, views, seq = game.table.dump(), game.views(), game.table.seq
    with pytest.raises(GameRuleError) as info:
        game.table.handle(command, game.now)
    assert info.value.code == code, info.value
    assert game.table.dump() == before
    assert game.views() == views
    assert game.table.seq == seq


def frozen_part(view: dict[str, Any]) -> dict[str, Any]:
    """What abandoning must not change in a view: the hand on the table and every seat's chips."""
    keep = ("gameId", "handNumber", "phase", "board", "pots", "button", "seats")
    return {key: view[key] for key in keep}


def abandon_and_check(game: Game) -> None:
    """Abandon `game` and check what holds in every phase."""
    before = game.views()
    chips = game.table.total_chips()
    events = game.abandon()
    assert [(e.kind, dict(e.data)) for e in events] == [("game_completed", ABANDONED)]
    assert game.table.status == "completed"
    assert game.table.next_deadline() is None
    assert game.table.total_chips() == chips
    for player, view in game.views().items():
        assert view["status"] == "completed"
        assert view["seq"] == events[0].seq
        assert (view["toAct"], view["actionDeadline"], view["minRaiseTo"]) == (None, None, None)
        if player is not None:
            assert view["you"]["legalActions"] == []
        assert frozen_part(view) == frozen_part(before[player])
        assert game.table.event_for(events[0], player) == events[0]
    assert game.tick(game.now + 10**9) == []
    assert game.table.next_deadline() is None
    game.assert_consistent()


def on_the_flop(game: Game) -> None:
    game.start()
    while game.table.view(None)["phase"] == "preflop":
        game.act("call" if any(a["type"] == "call" for a in game.legal()) else "check")
    game.act("bet", 6)
    assert game.table.view(None)["phase"] == "flop"


def test_abandon_a_game_that_never_started(new_game: Callable[..., Game]) -> None:
    game = new_game(players=1)
    abandon_and_check(game)
    view = game.table.view(game.players[0])
    assert (view["phase"], view["handNumber"], view["board"]) == ("waiting", 0, [])
    assert [s["stack"] for s in view["seats"]] == [200]


def test_abandon_between_hands(new_game: Callable[..., Game]) -> None:
    game = new_game(players=2)
    game.start()
    game.act("fold")
    assert game.table.view(None)["phase"] == "hand_over"
    assert game.table.next_deadline() is not None  # the next hand was due
    abandon_and_check(game)
    view = game.table.view(None)
    assert view["phase"] == "hand_over"
    assert [s["stack"] for s in view["seats"]] == [199, 201]
    assert "na" not in game.table.dump()


def test_abandon_preflop(new_game: Callable[..., Game]) -> None:
    game = new_game(players=3, actionTimeoutMs=5_000)
    game.start()
    game.act("raise", 6)
    actor = game.to_act
    assert actor is not None
    abandon_and_check(game)
    view = game.table.view(game.player_at(actor))
    assert view["phase"] == "preflop"
    seats = {s["seat"]: s for s in view["seats"]}
    assert sorted((s["stack"], s["bet"]) for s in seats.values()) == [(194, 6), (198, 2), (199, 1)]
    assert seats[actor]["holeCards"] is not None  # your own cards still show
    assert "d" not in game.table.dump()["h"]


def test_abandon_on_the_flop(new_game: Callable[..., Game], deck: list[str]) -> None:
    # Hole cards seat 1, 2, 0 (button 0), then the flop.
    deck.extend(["Kh", "Kd", "7c", "2d", "As", "Ah", "3s", "8h", "Jc"])
    game = new_game(players=3, seats=3)
    on_the_flop(game)
    abandon_and_check(game)
    view = game.table.view(None)
    assert view["phase"] == "flop"
    assert view["board"] == ["3s", "8h", "Jc"]
    assert view["pots"] == [{"amount": 6, "eligibleSeats": [0, 1, 2]}]
    assert all(s["holeCards"] is None for s in view["seats"])  # nothing was shown
    assert sum(s["bet"] for s in view["seats"]) == 6
    assert game.table.total_chips() == 600


def test_abandon_twice_is_refused(new_game: Callable[..., Game]) -> None:
    game = new_game(players=2)
    game.start()
    game.abandon()
    refused(game, Abandon(), "game_completed")
    refused(game, Abandon("operator"), "game_completed")


def test_abandon_after_a_winner_is_refused(all_in_called: tuple[Game, list[Event]]) -> None:
    game, _ = all_in_called
    assert game.table.status == "completed"
    refused(game, Abandon(), "game_completed")


@pytest.mark.parametrize("phase", ["waiting", "preflop", "flop", "hand_over"])
def test_every_command_after_abandon_is_refused(new_game: Callable[..., Game], phase: str) -> None:
    game = new_game(players=3, seats=4)
    if phase == "preflop":
        game.start()
    elif phase == "flop":
        on_the_flop(game)
    elif phase == "hand_over":
        game.start()
        game.act("fold")
        game.act("fold")
    assert game.table.view(None)["phase"] == phase
    actor = game.to_act
    game.abandon()
    seated = game.players[0] if actor is None else game.player_at(actor)
    commands: list[Command] = [
        Join("newcomer0001", "Ann", None),
        Join("newcomer0001", "Ann", 3),
        Start(seated),
        Start("stranger0001"),
        Act(seated, "fold"),
        Act(seated, "check"),
        Act(seated, "call"),
        Act(seated, "allin"),
        Act("stranger0001", "fold"),
        Abandon(),
    ]
    for command in commands:
        refused(game, command, "game_completed")
    assert game.tick(game.now + 10**9) == []
    game.assert_consistent()


def test_the_reason_is_recorded(new_game: Callable[..., Game]) -> None:
    game = new_game(players=2)
    game.start()
    refused(game, Abandon(""), "invalid_request")
    refused(game, Abandon("x" * 65), "invalid_request")
    refused(game, Abandon(None), "invalid_request")  # type: ignore[arg-type]
    [event] = game.abandon("operator")
    assert dict(event.data) == {"reason": "operator"}
    game.assert_consistent()


def loaded(game: Game) -> Any:
    return ENGINE.load("game-1", game.settings, json.loads(canonical(game.table.dump())))


@pytest.mark.parametrize("phase", ["preflop", "flop", "hand_over"])
def test_snapshot_round_trip(new_game: Callable[..., Game], phase: str) -> None:
    game = new_game(players=3, seats=3)
    if phase == "hand_over":
        game.start()
        game.act("fold")
        game.act("fold")
    elif phase == "flop":
        on_the_flop(game)
    else:
        game.start()
        game.act("call")
    game.abandon()
    table = loaded(game)
    assert table.dump() == game.table.dump()
    assert game.views(table) == game.views()
    assert table.status == "completed"
    assert table.next_deadline() is None
    assert table.view(None)["phase"] == phase
    with pytest.raises(GameRuleError, match="game_completed"):
        table.handle(Abandon(), game.now)
    assert table.handle(Tick(), game.now + 10**9) == []
    # A loaded abandoned game loads again the same.
    again = ENGINE.load("game-1", game.settings, json.loads(canonical(table.dump())))
    assert again.dump() == game.table.dump()


def test_between_hands_abandoned_load_does_not_touch_pokerkit(
    new_game: Callable[..., Game], monkeypatch: pytest.MonkeyPatch
) -> None:
    game = new_game(players=2)
    game.start()
    game.act("fold")
    game.abandon()

    def untouchable(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a between-hands load made a pokerkit state")

    with monkeypatch.context() as patched:
        patched.setattr(poker_hand, "_game", untouchable)
        patched.setattr(pokerkit.State, "__post_init__", untouchable)
        table = loaded(game)
        assert table.dump() == game.table.dump()
        assert game.views(table) == game.views()


def test_replay_gives_the_same_game(new_game: Callable[..., Game], deck: list[str]) -> None:
    deck.extend(["Kh", "Kd", "7c", "2d", "As", "Ah", "3s", "8h", "Jc"])
    game = new_game(players=3, seats=3)
    on_the_flop(game)
    game.abandon()
    # As a store gives events back: through JSON.
    table = ENGINE.new_game("game-1", game.settings)
    for event in game.log:
        stored = json.loads(canonical(event.to_json()))
        table.apply(Event(stored["seq"], stored["kind"], stored["at"], stored["data"]))
    assert table.seq == game.table.seq
    assert table.dump() == game.table.dump()
    assert game.views(table) == game.views()
    assert table.next_deadline() is None
    # Up to the event before the abandon, the replay is the hand in play, clock running.
    before = game.replayed(-1)
    assert before.status == "playing"
    assert before.next_deadline() is not None


def test_old_winner_event_still_applies(new_game: Callable[..., Game], deck: list[str]) -> None:
    game = new_game(players=2, startingStack=10)
    deck.extend(["As", "Ah", "7c", "2d", "9c", "8d", "3h", "4s", "Jc"])  # seat 1 wins it all
    game.start()
    game.act("allin")
    game.act("call")
    last = game.log[-1]
    assert (last.kind, dict(last.data)) == (
        "game_completed",
        {"seat": 1, "playerId": game.players[1]},
    )
    # The event exactly as stored before abandoning existed.
    old = json.loads('{"seat": 1, "playerId": "player000001"}')
    table = game.replayed(-1)
    table.apply(Event(last.seq, "game_completed", last.at, old))
    assert table.status == "completed"
    assert table.dump() == game.table.dump()
    assert game.views(table) == game.views()
    game.assert_consistent()


def apply_refused(table: Any, event: Event, match: str) -> None:
    before = table.dump()
    with pytest.raises(ValueError, match=match):
        table.apply(event)
    assert table.dump() == before


def test_apply_refuses_abandoned_events_that_do_not_fit(new_game: Callable[..., Game]) -> None:
    game = new_game(players=2)
    game.start()
    seq, at = game.table.seq, game.now

    def event(**data: Any) -> Event:
        return Event(seq=seq + 1, kind="game_completed", at=at, data=data)

    apply_refused(game.table, event(reason=""), "reason")
    apply_refused(game.table, event(reason=5), "reason")
    apply_refused(game.table, event(reason="x" * 65), "reason")
    apply_refused(game.table, event(reason="abandoned", seat=0), "no winner")
    apply_refused(game.table, event(seat=0, playerId=game.players[0]), "cannot complete")
    game.table.apply(event(reason="abandoned"))
    assert game.table.status == "completed"
    late = Event(seq=seq + 2, kind="game_completed", at=at, data=ABANDONED)
    apply_refused(game.table, late, "already completed")
    joined = Event(
        seq=seq + 2,
        kind="player_joined",
        at=at,
        data={"seat": 2, "playerId": "late", "name": "L", "stack": 200},
    )
    apply_refused(game.table, joined, "completed")
