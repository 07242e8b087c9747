"""Which games a storage quota evicts: the oldest completed ones, until usage is under the limits.

Games still in play are never chosen; when they alone exceed the quota, the caller refuses new games
with `storage_full` rather than destroying a game someone is playing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CompletedGame:
    game_id: str
    completed_at: int
    bytes: int


def quota_victims(
    games: int,
    size: int,
    completed: Iterable[CompletedGame],
    max_games: int | None,
    max_bytes: int | None,
) -> list[str]:
    victims: list[str] = []
    for game in sorted(completed, key=lambda g: (g.completed_at, g.game_id)):
        over_games = max_games is not None and games > max_games
        over_bytes = max_bytes is not None and size > max_bytes
        if not (over_games or over_bytes):
            break
        victims.append(game.game_id)
        games -= 1
        size -= game.bytes
    return victims
