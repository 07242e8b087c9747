"""Reading the reference poker game's views: the checks e2e tests repeat (chips on the table,
cards anywhere in JSON, gapless logs). Playing a table is `rejoin_testkit.tables`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from rejoin_testkit.api import JsonObject

CARD = re.compile(r"^(?:[2-9TJQKA][cdhs])+$")


def chips_on_table(view: JsonObject) -> int:
    """Stacks + bets + pots of a `gameState`: constant for a table's whole life."""
    seats = view["seats"]
    return int(
        sum(s["stack"] for s in seats)
        + sum(s["bet"] for s in seats)
        + sum(p["amount"] for p in view["pots"])
    )


def without_presence(view: JsonObject) -> JsonObject:
    """A view with the `connected` flags removed: presence is not game state."""
    out = dict(view)
    out["seats"] = [{k: v for k, v in seat.items() if k != "connected"} for seat in view["seats"]]
    return out


def own_cards(view: JsonObject) -> list[str]:
    seat = view["you"]["seat"]
    mine = next(s for s in view["seats"] if s["seat"] == seat)
    cards = mine["holeCards"]
    assert isinstance(cards, list), f"no hole cards in own view: {mine}"
    assert len(cards) == 2, f"not two hole cards in own view: {mine}"
    return list(cards)


def cards_in(value: Any) -> set[str]:
    """Every card written anywhere in a JSON value: strings made only of cards, one (`"As"`) or
    several run together (`"AsKd7h"`, as compact dumps write them)."""
    found: set[str] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if CARD.match(item):
                found.update(item[i : i + 2] for i in range(0, len(item), 2))
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return found


def seqs(events: Iterable[JsonObject]) -> list[int]:
    return [int(e["seq"]) for e in events]


def assert_gapless(events: list[JsonObject]) -> None:
    """seq 1, 2, 3 … with no gap and no duplicate."""
    got = seqs(events)
    assert got == list(range(1, len(got) + 1)), f"the log is not gapless from 1: {got}"
