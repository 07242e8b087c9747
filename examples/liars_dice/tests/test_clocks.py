"""The clocks: the player to act has an absolute deadline (in the view, the dump and
`next_deadline`), and a `Tick` at or after it plays for them; the next round is rolled by a `Tick`
after `nextRoundDelayMs`, but not at a table nobody attends."""

from __future__ import annotations

import pytest

from .driver import START, Driver

TIMEOUT = 10_000


def started(players: int = 2, dice: int = 2, *rolls: list[int]) -> Driver:
    game = Driver(players=players, dice=dice, actionTimeoutMs=TIMEOUT, nextRoundDelayMs=2_000)
    game.start(*rolls)
    return game


def test_each_turn_has_its_own_deadline_from_the_move_that_gave_it() -> None:
    game = started(2, 2, [1, 2], [3, 4])
    assert game.game.next_deadline() == START + TIMEOUT
    assert game.view()["actionDeadline"] == START + TIMEOUT
    game.now += 4_000
    game.bid(1, 3)
    assert game.game.next_deadline() == START + 4_000 + TIMEOUT
    assert game.view(0)["actionDeadline"] == START + 4_000 + TIMEOUT
    assert game.reloaded().next_deadline() == START + 4_000 + TIMEOUT


def test_a_tick_before_the_deadline_does_nothing() -> None:
    game = started(2, 2, [1, 2], [3, 4])
    assert game.tick(START + TIMEOUT - 1) == []
    assert game.to_act == 0


def test_the_clock_opens_a_round_with_the_lowest_bid() -> None:
    game = started(2, 2, [5, 2], [3, 4])
    events = game.tick(START + TIMEOUT)
    assert [(e.kind, e.data) for e in events] == [
        ("timeout", {"seat": 0, "action": "bid"}),
        ("bid", {"seat": 0, "count": 1, "face": 1}),
    ]
    assert game.to_act == 1
    assert game.game.next_deadline() == START + 2 * TIMEOUT
    game.assert_consistent()


@pytest.mark.parametrize("players", [2, 3])
def test_the_clocks_opening_bid_is_the_same_whatever_dice_the_player_holds(players: int) -> None:
    """The clock's move is public: drawn from the opener's dice, it would show opponents one of
    them. So the log of the timeout and every opponent's view after it are the same for any hand
    (hands without a 1, with only 1s, with different first dice)."""
    others = [[3, 4]] * (players - 1)
    seen: list[tuple[object, ...]] = []
    for held in ([5, 2], [2, 5], [6, 6], [1, 1], [4, 1]):
        game = started(players, 2, held, *others)
        events = game.tick(START + TIMEOUT)
        assert events[1].data == {"seat": 0, "count": 1, "face": 1}
        opponents = tuple(game.view(seat) for seat in range(1, players))
        seen.append((tuple((e.kind, e.data) for e in events), opponents, game.view()))
    assert all(one == seen[0] for one in seen)


@pytest.mark.parametrize(
    ("bid", "raised"),
    [((2, 3), (2, 4)), ((1, 5), (1, 6)), ((2, 6), (3, 1)), ((3, 6), (4, 1))],
)
def test_the_clock_makes_the_smallest_bid_above_the_last(
    bid: tuple[int, int], raised: tuple[int, int]
) -> None:
    game = started(2, 2, [1, 2], [3, 4])
    game.bid(*bid)
    events = game.tick(START + TIMEOUT)
    assert [e.kind for e in events] == ["timeout", "bid"]
    assert events[1].data == {"seat": 1, "count": raised[0], "face": raised[1]}
    game.assert_consistent()


def test_the_clock_challenges_when_no_bid_is_higher() -> None:
    game = started(2, 2, [6, 6], [6, 1])
    game.bid(4, 6)
    events = game.tick(START + TIMEOUT)
    assert [e.kind for e in events] == ["timeout", "challenged"]
    assert events[0].data == {"seat": 1, "action": "challenge"}
    assert (events[1].data["matching"], events[1].data["loser"]) == (3, 0)  # a false bid
    game.assert_consistent()


def test_the_next_round_is_rolled_by_a_tick_after_the_delay_when_attended() -> None:
    game = started(2, 2, [1, 2], [3, 4])
    game.bid(1, 1)
    game.now += 500
    game.challenge()
    due = game.now + 2_000
    assert game.game.next_deadline() == due
    assert game.view()["actionDeadline"] is None
    assert game.tick(due - 1) == []
    assert game.tick(due, attended=False) == []  # nobody is there: nothing new begins
    assert game.game.next_deadline() == due
    events = game.tick(due)
    assert [e.kind for e in events] == ["round_started", "dice_rolled", "dice_rolled"]
    assert game.game.next_deadline() == due + TIMEOUT
    game.assert_consistent()


def test_an_unattended_table_still_finishes_a_turn_by_its_clock() -> None:
    game = started(2, 2, [1, 2], [3, 4])
    events = game.tick(START + TIMEOUT, attended=False)
    assert [e.kind for e in events] == ["timeout", "bid"]


def test_the_clock_can_end_the_game() -> None:
    game = started(2, 1, [6], [6])
    game.bid(2, 6)
    events = game.tick(START + TIMEOUT)
    assert [e.kind for e in events] == ["timeout", "challenged", "game_completed"]
    assert events[2].data == {"seat": 0, "playerId": "p0"}  # the bid was true: seat 1 is out
    assert game.game.next_deadline() is None


def test_a_game_that_waits_or_is_over_has_no_clock() -> None:
    game = Driver(players=2)
    assert game.game.next_deadline() is None
    assert game.tick(START + 10**9) == []
    game.abandon()
    assert game.game.next_deadline() is None
    assert game.tick(START + 2 * 10**9) == []


def test_timeouts_alone_play_a_game_to_its_end() -> None:
    game = Driver(players=3, dice=2, seed=7, actionTimeoutMs=1_000, nextRoundDelayMs=0)
    game.start()
    ticks = 0
    while game.game.status != "completed":
        due = game.game.next_deadline()
        assert due is not None
        assert game.tick(due), "a tick at the deadline always does something"
        ticks += 1
        assert ticks < 1_000
    winner = game.game.winner
    assert winner is not None
    # Every challenge costs one die, and the winner keeps theirs.
    left = game.game.players[winner].dice_count
    assert [e.kind for e in game.log].count("challenged") == 3 * 2 - left
    game.assert_consistent()
