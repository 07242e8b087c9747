"""Room for a new game under `--max-games` and `--max-storage-bytes`: completed games are evicted
to make it, and a store full of games still in play refuses the new one."""

from __future__ import annotations

from collections.abc import Callable

from rejoin_protocol.errors import ErrorCode
from rejoin_server.errors import ApiError
from rejoin_server.metrics import Metrics
from rejoin_server.settings import ServerSettings
from rejoin_server.store.base import GameStore


async def make_room(
    store: GameStore,
    settings: ServerSettings,
    metrics: Metrics,
    forget: Callable[[str], None],
) -> None:
    """Evict what the quota needs for one more game (`forget` drops each evicted game from
    memory). Raises `ApiError(STORAGE_FULL)` when that is not enough."""
    max_games, max_bytes = settings.max_games, settings.max_storage_bytes
    if max_games is None and max_bytes is None:
        return
    usage = await store.usage()
    over_games = max_games is not None and usage.games >= max_games
    over_bytes = max_bytes is not None and usage.bytes >= max_bytes
    if not (over_games or over_bytes):
        return
    # Room for one more: evict down to one below the game limit.
    evicted = await store.evict_for_quota(None if max_games is None else max_games - 1, max_bytes)
    for game_id in evicted:
        forget(game_id)
        metrics.games_evicted.labels("quota").inc()
    usage = await store.usage()
    if (max_games is not None and usage.games >= max_games) or (
        max_bytes is not None and usage.bytes >= max_bytes
    ):
        raise ApiError(
            ErrorCode.STORAGE_FULL,
            f"The game store is full ({usage.games} games, {usage.bytes} bytes) and every "
            "stored game is still in play; finish or delete games, or raise the quota.",
        )
