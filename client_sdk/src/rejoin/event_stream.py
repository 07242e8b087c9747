"""The events a `GameClient` hands its application: queued in seq order as the session delivers
them, taken through `events()`, and ended once the client closes or fails.

The last seq is saved as the application takes events, each time it has caught up with the queue,
not when they are queued: a client that dies resumes from what its application had taken (events
still queued are replayed, and at most a few taken since the last save come again). An application
that must not see an event twice across its own crashes keeps its own cursor.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any, Final

from rejoin.errors import SessionFailedError

__all__ = ["RESYNC", "EventStream"]

RESYNC: Final = "resync"
"""The `kind` of the item `events()` yields for a resync (no game event has this kind)."""
_END: Final = object()  # the end of the stream: closed, or failed


class EventStream:
    """The queue between the session's deliveries and the application's `async for`."""

    def __init__(self, caught_up: Callable[[int], None]) -> None:
        self._caught_up = caught_up  # called with the seq of the item that emptied the queue
        self._items: asyncio.Queue[dict[str, Any] | object] = asyncio.Queue()
        self._failure: SessionFailedError | None = None
        self.taken: int | None = None
        """The seq of the last item the application took."""

    def deliver(self, event: dict[str, Any]) -> None:
        self._items.put_nowait(event)

    def resync(self, seq: int, game_state: dict[str, Any]) -> None:
        """Never a silent skip: the stream says that the events up to `seq` were not replayed and
        that `gameState` is where the game stands now."""
        self._items.put_nowait(
            {"seq": seq, "kind": RESYNC, "at": None, "data": {"gameState": game_state}}
        )

    def end(self, failure: SessionFailedError | None = None) -> None:
        """No more items: iterators end after what is queued, raising `failure` if given."""
        if failure is not None:
            self._failure = failure
        self._items.put_nowait(_END)

    async def items(self) -> AsyncIterator[dict[str, Any]]:
        while True:
            item = await self._items.get()
            if item is _END:
                self._items.put_nowait(_END)  # for any other iterator
                if self._failure is not None:
                    raise self._failure
                return
            assert isinstance(item, dict)
            self.taken = item["seq"]
            if self._items.empty():
                # Caught up: what the application has taken is what a restarted client resumes
                # from (saved here, not when queued: a crash must not lose events still queued;
                # at most it repeats some the application took since the last save).
                self._caught_up(item["seq"])
            yield item
