"""How a bot picks its action: a pure function of the server's `legalActions` and a seeded
`random.Random`, so that a run is repeatable from its `--seed` and a strategy is tested without
a server. The server decides what is legal; a strategy only ever picks from that list.

`Strategy` is poker's (it needs the legal actions alone); a game whose choice depends on more of
the view (Liar's Dice: the bot's own dice, the bid standing) has a `ViewStrategy` (`bots.dice`)."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

from rejoin_protocol.messages import ActionType

__all__ = [
    "STRATEGIES", "Choice", "Strategy", "ViewStrategy", "call_strategy", "random_strategy",
]  # fmt: skip


class Choice(NamedTuple):
    """The action `{type, amount?, …fields}` a bot sends: poker's `amount`, another game's
    `fields` (Liar's Dice: `{"count": 3, "face": 5}`)."""

    type: str
    amount: int | None = None
    fields: Mapping[str, Any] | None = None


Strategy = Callable[[Sequence[Mapping[str, Any]], random.Random], Choice]
"""Picks from the `legalActions` of the bot's view."""
ViewStrategy = Callable[[Mapping[str, Any], random.Random], Choice]
"""Picks from the bot's whole view (`gameState`), its `you.legalActions` included."""

# Weights of the random strategy: mostly passive, so that a table of random bots still deals
# a good number of hands before one player holds every chip and the game completes.
_RANDOM_WEIGHTS: dict[str, int] = {
    "fold": 10,
    "check": 60,
    "call": 60,
    "bet": 10,
    "raise": 4,
    "allin": 1,
}


_PASSIVE_FIRST: tuple[ActionType, ...] = ("check", "call", "allin", "fold")


def call_strategy(legal: Sequence[Mapping[str, Any]], rng: random.Random) -> Choice:
    """Check when possible, else call, else the cheapest way to stay in (all-in), else fold."""
    del rng  # deterministic
    by_type = {action["type"]: action for action in legal}
    for passive in _PASSIVE_FIRST:
        if passive in by_type:
            return Choice(passive)
    raise ValueError(f"no action to choose from: {list(legal)!r}")


def random_strategy(legal: Sequence[Mapping[str, Any]], rng: random.Random) -> Choice:
    """A weighted random legal action; a bet or raise to a random total in [min, max]."""
    if not legal:
        raise ValueError("no action to choose from: []")
    weights = [_RANDOM_WEIGHTS.get(action["type"], 1) for action in legal]
    action = rng.choices(list(legal), weights=weights)[0]
    kind: ActionType = action["type"]
    if kind in ("bet", "raise"):
        low, high = int(action["min"]), int(action["max"])
        # Cubed, so most bets are small and only a few go near all-in.
        return Choice(kind, low + round((high - low) * rng.random() ** 3))
    return Choice(kind)


STRATEGIES: dict[str, Strategy] = {"random": random_strategy, "call": call_strategy}
