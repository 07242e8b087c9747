"""Action clocks and next-hand timing: deadlines come from event `at`, survive replay and load, and
`Tick` checks when it can, folds otherwise, and starts the next hand when its delay is up."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rejoin_server.games.base import Event

Game = Any  # conftest's Driver


def test_deadline_is_the_at_of_the_event_that_gave_the_turn(new_game: Callable[..., Game]) -> None:
    game = new_game(players=3, actionTimeoutMs=5_000)
    start = game.now
    game.start()
    assert game.table.view(None)["actionDeadline"] == start + 5_000
    assert game.table.next_deadline() == start + 5_000
    game.now += 1_234
    game.act("call")
    assert game.table.next_deadline() == start + 1_234 + 5_000
    game.assert_consistent()  # replay and load(dump()) give the same deadline
    restored = game.replayed()
    game.now += 10**9  # wall-clock time plays no part
    assert restored.next_deadline() == start + 1_234 + 5_000


def test_tick_before_the_deadline_does_nothing(new_game: Callable[..., Game]) -> None:
    game = new_game(players=2)
    game.start()
    deadline = game.table.next_deadline()
    assert game.tick(deadline - 1) == []


def test_timeout_checks_when_it_can_and_folds_otherwise(new_game: Callable[..., Game]) -> None:
    game = new_game(players=2, actionTimeoutMs=1_000)
    game.start()
    assert game.to_act == 0  # the small blind faces the big blind: it must fold
    events = game.tick(game.table.next_deadline())
    assert events[0].kind == "timeout"
    assert dict(events[0].data) == {"seat": 0, "action": "fold"}
    assert [e.kind for e in events][1:] == ["pot_awarded", "hand_ended"]
    game.tick(game.table.next_deadline())  # next hand: button 1 is small blind
    game.act("call")
    assert game.to_act == 0  # big blind may check
    deadline = game.table.next_deadline()
    events = game.tick(deadline)
    assert dict(events[0].data) == {"seat": 0, "action": "check"}
    assert events[1].kind == "street"
    assert game.table.next_deadline() == deadline + 1_000
    game.assert_consistent()


def test_next_hand_waits_for_its_delay(new_game: Callable[..., Game]) -> None:
    game = new_game(players=2, nextHandDelayMs=3_000)
    game.start()
    ended_at = game.now + 500
    game.now = ended_at
    game.act("fold")
    assert game.table.next_deadline() == ended_at + 3_000
    assert game.tick(ended_at + 2_999) == []
    events = game.tick(ended_at + 3_000)
    assert events[0].kind == "hand_started"
    assert events[0].data["handNumber"] == 2
    game.assert_consistent()


def test_no_next_hand_without_two_players_with_chips(
    all_in_called: tuple[Game, list[Event]],
) -> None:
    game, _ = all_in_called
    assert game.table.status == "completed"
    assert game.table.next_deadline() is None


def test_an_unattended_tick_ends_the_hand_by_its_clocks_but_deals_no_next_one(
    new_game: Callable[..., Game],
) -> None:
    """`Tick(attended=False)`: nobody is at the table (issue 12). What runs finishes; nothing new
    begins until a tick that is attended."""
    game = new_game(players=2, actionTimeoutMs=1_000, nextHandDelayMs=1_000)
    game.start()
    events = game.tick(game.table.next_deadline(), attended=False)
    assert [e.kind for e in events] == ["timeout", "pot_awarded", "hand_ended"]
    due = game.table.next_deadline()
    assert due is not None
    assert game.tick(due + 60_000, attended=False) == []
    assert game.table.next_deadline() == due  # still due: the host ticks again later
    assert game.tick(attended=True)[0].kind == "hand_started"
    game.assert_consistent()
