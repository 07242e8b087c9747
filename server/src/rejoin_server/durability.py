"""A game's durability, chosen once when it is created, and the rollout rule for the games that do
not choose (docs/games.md, "Rolling out").

- `strict`: an action is answered once its events are committed (write-ahead).
- `relaxed`: answered once applied in memory; its events are written behind.
- `memory`: never written to the store at all (no game row, no events, no snapshots, no token
  rows): the game lives in the server process that created it, and is lost when it stops.

The rule (`--persist-fraction F`, 0 to 1): a game created without a durability is persisted, with
the server's `--durability`, when the rollout point of its id is below F, else kept in memory.
The point is the first 8 bytes of SHA-256 of the id read as a fraction of 2**64: stable, so the
side a game fell on can be told from its id alone, later and on any node, and evenly spread, so
about F of the games are persisted.

A memory game's id starts with `MEMORY_PREFIX`. That is how a server that does not hold such a
game (it restarted, or it is another node) answers `game_not_found` saying why, from the id
alone: nothing is stored for it, and the store is not even asked. The rollout point is taken over
the id without the prefix, so the rule reads the same on the id a game ends up with.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Literal

from rejoin_server.settings import Durability

GameDurability = Literal["memory", "relaxed", "strict"]
DURABILITIES: tuple[GameDurability, ...] = ("memory", "relaxed", "strict")
MEMORY: GameDurability = "memory"
MEMORY_PREFIX = "mem-"

_POINTS = 2**64
_STORED: tuple[Durability, ...] = ("strict", "relaxed")


def rollout_point(game_id: str) -> float:
    """Where the game falls in [0, 1): the rule persists it when this is below the fraction."""
    digest = hashlib.sha256(game_id.removeprefix(MEMORY_PREFIX).encode()).digest()
    return int.from_bytes(digest[:8], "big") / _POINTS


def persisted_by_rule(game_id: str, fraction: float) -> bool:
    """Does the rollout rule persist this game? Always at 1, never at 0."""
    return rollout_point(game_id) < fraction


def is_memory_id(game_id: str) -> bool:
    """Is this the id of a game kept in memory only (whether this server holds it or not)?"""
    return game_id.startswith(MEMORY_PREFIX)


def new_game_id(
    asked: GameDurability | None, fraction: float, server: Durability
) -> tuple[str, GameDurability]:
    """A new game's id and its durability: `asked`, else the rollout rule's choice between the
    server's durability and memory."""
    base = uuid.uuid4().hex
    durability = asked or (server if persisted_by_rule(base, fraction) else MEMORY)
    return (MEMORY_PREFIX + base if durability == MEMORY else base), durability


def of_stored(value: str | None, server: Durability) -> Durability:
    """The durability of a stored game, from its row: a game stored before durability was
    chosen per game (no value) keeps following the server's `--durability`, as it always did."""
    for stored in _STORED:
        if value == stored:
            return stored
    return server
