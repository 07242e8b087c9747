"""The kinds of game the bots play, and what a bot knows of each: how it picks a move from its view,
and how it tells from the view and the events that a round (a poker hand, a Liar's Dice round)
has ended. Nothing here knows a game's rules; those are the server's.

`bot_game(kind, strategy)` is what the load tool asks for; `poker_bots(strategy)` and
`liars_dice_bots(strategy)` build one from a strategy function of your own.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rejoin.bots.dice import DICE_STRATEGIES
from rejoin.bots.strategy import STRATEGIES, Choice, Strategy, ViewStrategy

__all__ = [
    "DEFAULT_STRATEGY", "KINDS", "BotGame", "bot_game", "liars_dice_bots", "poker_bots",
]  # fmt: skip

POKER = "poker"
LIARS_DICE = "liars-dice"


@dataclass(frozen=True, slots=True)
class BotGame:
    """`kind`: the game's kind (`POST /api/games {"kind": …}`); `choose`: the move for a view in
    which it is the bot's turn. A round ends with the event `round_event`, whose `round_key` (also
    the view's) numbers it; a view whose `phase` is one of `between_rounds` shows its round ended.
    `rounds`: what a round is called in summaries ("hands")."""

    kind: str
    choose: ViewStrategy
    round_event: str
    round_key: str
    between_rounds: frozenset[str]
    rounds: str

    def rounds_ended(self, view: Mapping[str, Any]) -> int:
        """How many rounds have ended, by the view alone (a resync delivers no events)."""
        number = int(view[self.round_key])
        return number if view["phase"] in self.between_rounds else number - 1


def poker_bots(strategy: Strategy) -> BotGame:
    def choose(view: Mapping[str, Any], rng: random.Random) -> Choice:
        return strategy(view["you"]["legalActions"], rng)

    return BotGame(POKER, choose, "hand_ended", "handNumber", frozenset({"hand_over"}), "hands")


def liars_dice_bots(strategy: ViewStrategy) -> BotGame:
    # A challenge ends a round; the game's last one is followed by `game_completed`.
    return BotGame(
        LIARS_DICE, strategy, "challenged", "round", frozenset({"revealed", "completed"}), "rounds"
    )


# The strategies by kind, by name (`--strategy`), the default first.
KINDS: dict[str, tuple[str, ...]] = {
    POKER: ("random", "call"),
    LIARS_DICE: tuple(DICE_STRATEGIES),
}
DEFAULT_STRATEGY = {kind: names[0] for kind, names in KINDS.items()}


def bot_game(kind: str, strategy: str | None = None) -> BotGame:
    """The bots of `kind` with the strategy named `strategy` (the kind's default when None);
    ValueError naming what there is when either is unknown."""
    names = KINDS.get(kind)
    if names is None:
        raise ValueError(f"bots cannot play {kind!r}; they play {', '.join(KINDS)}")
    name = strategy or DEFAULT_STRATEGY[kind]
    if name not in names:
        raise ValueError(f"{kind} bots have no strategy {name!r}; choose {', '.join(names)}")
    if kind == POKER:
        return poker_bots(STRATEGIES[name])
    return liars_dice_bots(DICE_STRATEGIES[name])
