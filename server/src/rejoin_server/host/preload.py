"""After a restart, load the games in play in the background so their clocks fire from the
persisted deadlines, without holding up the server's first answers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from rejoin_server.errors import StorageUnavailable
from rejoin_server.store.base import GameStore

log = logging.getLogger(__name__)

# Games in play loaded at once, and the first retry while the store is down (doubling up to 5 s).
WARM_UP_FIRST_RETRY_S = 0.1
WARM_UP_CONCURRENCY = 8


async def warm_up(store: GameStore, load: Callable[[str], Awaitable[object]]) -> None:
    """`load` every game in play, a few at a time; wait for the store as long as it is down.
    In a cluster `load` leaves alone the games a live node holds (`GameHost.adopt`)."""
    delay = WARM_UP_FIRST_RETRY_S
    while True:
        try:
            records = await store.list_games(status="playing")
            break
        except StorageUnavailable as exc:
            # Without the warm-up, clocks of games in play would wait for someone to touch
            # them: keep trying.
            log.warning("warm-up waits for the store (%s); retrying in %.1f s", exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
    gate = asyncio.Semaphore(WARM_UP_CONCURRENCY)

    async def load_one(game_id: str) -> None:
        async with gate:
            try:
                await load(game_id)
            except Exception as exc:  # one broken game must not stop the others loading
                log.error("warm-up: game %s not loaded: %s", game_id, exc)

    await asyncio.gather(*(load_one(record.game_id) for record in records))
