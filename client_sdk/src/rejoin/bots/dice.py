"""How a bot plays Liar's Dice (kind `liars-dice`, examples/liars_dice): from its view alone, never
from the game's code (the SDK knows no game's rules; the server says what is legal).

The view gives what a player at the table knows: their own dice (`you.dice`), the bid standing
(`currentBid`), the dice in play (`diceInPlay`) and the legal moves (`you.legalActions`). Every die
the bot cannot see shows a given face with probability 1/6 (no die is wild), so the chance that a
bid holds is a binomial tail. `odds_strategy` challenges a bid that more likely fails than holds,
and otherwise makes the smallest raise that is most likely true.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from typing import Any

from rejoin.bots.strategy import Choice

__all__ = ["DICE_STRATEGIES", "chance_at_least", "odds_strategy"]

FACES = 6
# Challenge a bid whose chance of holding is below this.
CHALLENGE_BELOW = 0.5


def chance_at_least(count: int, face: int, own: Sequence[int], unseen: int) -> float:
    """The chance that at least `count` dice on the table show `face`, knowing `own` dice and
    with `unseen` dice of the others, each showing `face` with probability 1/6."""
    needed = count - sum(1 for die in own if die == face)
    if needed <= 0:
        return 1.0
    if needed > unseen:
        return 0.0
    p = 1 / FACES
    return sum(
        math.comb(unseen, k) * p**k * (1 - p) ** (unseen - k) for k in range(needed, unseen + 1)
    )


def odds_strategy(view: Mapping[str, Any], rng: random.Random) -> Choice:
    """Challenge the bid standing when it is more likely false than true; else bid the smallest
    raise (for each face, the lowest count that beats the bid) with the best chance of holding,
    ties broken by `rng`. A round is opened with 1 x the face the bot holds most of."""
    you = view["you"]
    legal = {action["type"]: action for action in you["legalActions"]}
    if not legal:
        raise ValueError("no action to choose from: []")
    own: list[int] = list(you["dice"] or [])
    unseen = int(view["diceInPlay"]) - len(own)
    bid = view.get("currentBid")
    if bid is not None and "challenge" in legal:
        holds = chance_at_least(int(bid["count"]), int(bid["face"]), own, unseen)
        if holds < CHALLENGE_BELOW or "bid" not in legal:
            return Choice("challenge")
    if "bid" not in legal:
        raise ValueError(f"no bid to make and nothing to challenge: {list(legal.values())!r}")
    fields = legal["bid"]["fields"]
    low, high = int(fields["count"]["minimum"]), int(fields["count"]["maximum"])
    faces = range(int(fields["face"]["minimum"]), int(fields["face"]["maximum"]) + 1)
    options = []
    for face in faces:
        # The lowest count of this face that beats the bid: the same count of a higher face.
        count = (
            low if bid is None or face > int(bid["face"]) or low > int(bid["count"]) else low + 1
        )
        if count <= high:
            options.append((chance_at_least(count, face, own, unseen), -count, rng.random(), face))
    if not options:
        return Choice("challenge")
    _, minus_count, _, face = max(options)
    return Choice("bid", fields={"count": -minus_count, "face": face})


DICE_STRATEGIES = {"odds": odds_strategy}
