"""`StoredUsage`: the store's usage figures for the console, measured at most every `MAX_AGE_MS`.

`GameStore.usage` counts every game and snapshot (on SQL, a scan summing the length of every
snapshot's state), on the store's one reader thread. Each console tab asks every 2 seconds; asked
of the store each time, a few open tabs would keep the reader busy with scans that the players'
reads wait behind. So a measure is kept for `MAX_AGE_MS` and answered with when it was taken, and
however many tabs ask at once, one query at most is in flight: the others wait for its answer.

A failed measure (the store down) is not kept: the next call measures again, so the console sees
the store back at once, and the single query in flight still bounds what asks of a down store.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from rejoin_server.store.base import Usage

# How long a measure is answered again before the store is asked anew.
MAX_AGE_MS = 15_000


@dataclass(frozen=True, slots=True)
class Measured:
    usage: Usage
    at_ms: int  # when the query that counted it began (the host clock)


class StoredUsage:
    def __init__(
        self,
        measure: Callable[[], Awaitable[Usage]],
        clock: Callable[[], int],
        *,
        max_age_ms: int | None = None,
    ) -> None:
        self._measure = measure
        self._clock = clock
        self._max_age_ms = MAX_AGE_MS if max_age_ms is None else max_age_ms
        self._last: Measured | None = None
        self._in_flight: asyncio.Future[Measured] | None = None

    async def get(self) -> Measured:
        """The newest measure if it is younger than `max_age_ms`, else a new one (joining the
        query in flight, if any). Raises what `measure` raises (`StorageUnavailable`)."""
        last = self._last
        if last is not None and self._clock() - last.at_ms < self._max_age_ms:
            return last
        if self._in_flight is None:
            self._in_flight = asyncio.ensure_future(self._take())
            # Its failure is its callers'; one all of them gave up on must not warn unread.
            self._in_flight.add_done_callback(_retrieved)
        # Shielded: a caller that goes away (a tab closed) does not cancel the others' query.
        return await asyncio.shield(self._in_flight)

    async def _take(self) -> Measured:
        try:
            started = self._clock()
            measured = Measured(await self._measure(), started)
            self._last = measured
            return measured
        finally:
            self._in_flight = None


def _retrieved(done: asyncio.Future[Measured]) -> None:
    if not done.cancelled():
        done.exception()
