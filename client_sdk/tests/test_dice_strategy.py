"""The Liar's Dice bots: the chance of a bid from the bot's own dice, a strategy that only ever picks
a move the view lists as legal (a bid that beats the one standing, within the listed bounds), and
the kinds the load tool knows."""

from __future__ import annotations

import ast
import itertools
import random
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from rejoin import GameClient
from rejoin.bots import Bot, bot_game, liars_dice_bots, poker_bots
from rejoin.bots.dice import chance_at_least, odds_strategy
from rejoin.bots.load import LoadSettings, table_settings
from rejoin.bots.strategy import call_strategy


def exact_chance(count: int, face: int, own: list[int], unseen: int) -> Fraction:
    """By counting every way the unseen dice can fall."""
    hits = sum(
        1
        for others in itertools.product(range(1, 7), repeat=unseen)
        if own.count(face) + others.count(face) >= count
    )
    return Fraction(hits, 6**unseen)


@pytest.mark.parametrize(
    ("count", "face", "own", "unseen"),
    [
        (1, 3, [], 1),
        (2, 3, [], 3),
        (3, 5, [5], 4),
        (2, 2, [2, 2], 3),  # held already
        (5, 1, [1], 3),  # out of reach
        (4, 6, [1, 2], 5),
    ],
)
def test_the_chance_of_a_bid_counts_every_way_the_other_dice_fall(
    count: int, face: int, own: list[int], unseen: int
) -> None:
    assert chance_at_least(count, face, own, unseen) == pytest.approx(
        float(exact_chance(count, face, own, unseen)), abs=1e-12
    )


def view(
    own: list[int], in_play: int, bid: tuple[int, int, int] | None, legal: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "kind": "liars-dice",
        "diceInPlay": in_play,
        "currentBid": None if bid is None else {"seat": bid[0], "count": bid[1], "face": bid[2]},
        "you": {"seat": 1, "dice": own, "legalActions": legal},
    }


def bid_action(low: int, high: int) -> dict[str, Any]:
    return {
        "type": "bid",
        "fields": {
            "count": {"type": "integer", "minimum": low, "maximum": high},
            "face": {"type": "integer", "minimum": 1, "maximum": 6},
        },
    }


CHALLENGE = {"type": "challenge"}


def test_a_round_is_opened_at_count_one_of_a_face_the_bot_holds() -> None:
    for seed in range(20):
        choice = odds_strategy(view([2, 5, 5], 6, None, [bid_action(1, 6)]), random.Random(seed))
        assert choice.type == "bid"
        assert choice.fields is not None
        assert choice.fields["count"] == 1
        assert choice.fields["face"] in (2, 5)


def test_an_unlikely_bid_is_challenged() -> None:
    # Five 4s among ten dice, none of them the bot's: about a 1.5 % chance.
    choice = odds_strategy(
        view([1, 2, 3], 10, (0, 5, 4), [bid_action(5, 10), CHALLENGE]), random.Random(0)
    )
    assert choice.type == "challenge"
    assert choice.fields is None


def test_a_likely_bid_is_raised_by_the_smallest_raise_most_likely_true() -> None:
    # 2 x 3 with the bot holding two 3s is certain: raise. At count 2 only faces 4..6 beat it, at
    # count 3 any face; the bot holds two 6s, so 2 x 6 (certain) is its raise.
    choice = odds_strategy(
        view([3, 3, 6, 6], 8, (0, 2, 3), [bid_action(2, 8), CHALLENGE]), random.Random(0)
    )
    assert choice == ("bid", None, {"count": 2, "face": 6})
    # 1 x 6 holds about half the time (a six among the four other dice): raise. After a 6 the
    # count must go up, and 2 x 3 (the bot's two 3s) is certain.
    choice = odds_strategy(
        view([3, 3, 1, 2], 8, (0, 1, 6), [bid_action(2, 8), CHALLENGE]), random.Random(0)
    )
    assert choice == ("bid", None, {"count": 2, "face": 3})
    # 2 x 6 holds in only about one in eight: challenged.
    choice = odds_strategy(
        view([3, 3, 1, 2], 8, (0, 2, 6), [bid_action(3, 8), CHALLENGE]), random.Random(0)
    )
    assert choice.type == "challenge"


def test_only_a_challenge_when_no_bid_is_higher() -> None:
    choice = odds_strategy(view([6, 6], 4, (0, 4, 6), [CHALLENGE]), random.Random(0))
    assert choice.type == "challenge"


def test_no_legal_action_is_a_bug_not_a_move() -> None:
    with pytest.raises(ValueError, match="no action"):
        odds_strategy(view([1], 2, None, []), random.Random(0))


@pytest.mark.parametrize("seed", range(200))
def test_every_choice_is_legal(seed: int) -> None:
    rng = random.Random(seed)
    in_play = rng.randint(2, 20)
    own = [rng.randint(1, 6) for _ in range(rng.randint(1, min(5, in_play - 1)))]
    bid = None
    if rng.random() < 0.8:
        count, face = rng.randint(1, in_play), rng.randint(1, 6)
        bid = (0, count, face)
    legal: list[dict[str, Any]] = []
    if bid is None:
        legal.append(bid_action(1, in_play))
    elif not (bid[1] == in_play and bid[2] == 6):
        legal.append(bid_action(bid[1] if bid[2] < 6 else bid[1] + 1, in_play))
    if bid is not None:
        legal.append(CHALLENGE)
    choice = odds_strategy(view(own, in_play, bid, legal), rng)
    assert choice.type in {action["type"] for action in legal}
    if choice.type == "bid":
        assert choice.fields is not None
        count, face = choice.fields["count"], choice.fields["face"]
        assert 1 <= face <= 6
        assert 1 <= count <= in_play
        assert bid is None or (count, face) > (bid[1], bid[2])


def test_the_bots_of_each_kind_count_rounds_from_the_view() -> None:
    dice = liars_dice_bots(odds_strategy)
    assert dice.kind == "liars-dice"
    assert dice.rounds_ended({"round": 3, "phase": "bidding"}) == 2
    assert dice.rounds_ended({"round": 3, "phase": "revealed"}) == 3
    assert dice.rounds_ended({"round": 4, "phase": "completed"}) == 4
    poker = poker_bots(call_strategy)
    assert poker.kind == "poker"
    assert poker.rounds_ended({"handNumber": 2, "phase": "flop"}) == 1
    assert poker.rounds_ended({"handNumber": 2, "phase": "hand_over"}) == 2
    # A poker bot picks from the legal actions alone.
    legal = [{"type": "fold"}, {"type": "check"}]
    assert poker.choose({"you": {"legalActions": legal}}, random.Random(0)).type == "check"


def test_a_bot_plays_one_game() -> None:
    client = GameClient("http://127.0.0.1:1", "game-1")  # never connected
    rng = random.Random(0)
    assert Bot(client, hands=1, rng=rng, strategy=call_strategy).game.kind == "poker"
    dice = liars_dice_bots(odds_strategy)
    assert Bot(client, hands=1, rng=rng, game=dice).game is dice
    for both_or_none in ({}, {"strategy": call_strategy, "game": dice}):
        with pytest.raises(ValueError, match="one of `game` or"):
            Bot(client, hands=1, rng=rng, **both_or_none)  # type: ignore[arg-type]


def test_the_load_tool_knows_each_kind_and_its_strategies() -> None:
    assert bot_game("poker").kind == "poker"
    assert bot_game("liars-dice").kind == "liars-dice"
    with pytest.raises(ValueError, match="bots cannot play 'chess'; they play poker, liars-dice"):
        bot_game("chess")
    with pytest.raises(ValueError, match="liars-dice bots have no strategy 'call'; choose odds"):
        bot_game("liars-dice", "call")
    settings = LoadSettings("http://x", tables=1, players=3, hands=2, kind="liars-dice", dice=4)
    assert table_settings(settings) == {
        "kind": "liars-dice",
        "seats": 3,
        "dice": 4,
        "actionTimeoutMs": settings.action_timeout_ms,
        "nextRoundDelayMs": settings.next_hand_delay_ms,
    }
    assert "kind" not in table_settings(LoadSettings("http://x", tables=1, players=2, hands=1))


def test_the_sdk_knows_no_game_code() -> None:
    """The bots play from views: the SDK imports neither the server nor the example game."""
    sdk = Path(__file__).resolve().parents[1] / "src" / "rejoin"
    imported = set()
    for path in sdk.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                imported |= {alias.name.partition(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.partition(".")[0])
    assert "rejoin" in imported  # the walk saw the SDK's imports
    assert not imported & {"rejoin_server", "liars_dice"}
