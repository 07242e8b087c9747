"""What every table page's controller needs beside it: running a coroutine as a task in the
browser's event loop, reading a number handed over from JavaScript, and folding the presence the
server announced into a view."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

__all__ = ["number_or_none", "spawn", "with_presence"]

log = logging.getLogger(__name__)

_tasks: set[asyncio.Task[Any]] = set()


def spawn(coroutine: Any, what: str) -> None:
    """Run `coroutine` as a task that is kept alive and whose failure reaches the log (never
    `asyncio.run` in Pyodide: the browser's event loop is already running)."""
    task = asyncio.ensure_future(coroutine)
    _tasks.add(task)

    def done(finished: asyncio.Task[Any]) -> None:
        _tasks.discard(finished)
        if not finished.cancelled() and (error := finished.exception()) is not None:
            log.error("%s failed", what, exc_info=error)

    task.add_done_callback(done)


def number_or_none(value: Any) -> int | None:
    """A JS number as an int; JS null (`jsnull`), undefined (None) or anything else as None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


def with_presence(view: dict[str, Any], news: dict[str, bool]) -> dict[str, Any]:
    """`view` with the presence `news` (connected, by player id) the server announced since the
    last welcome (which may have come before a welcome's view was drawn, or after a fetched view
    was computed)."""
    seats = view.get("seats")
    if not news or not isinstance(seats, list):
        return view
    seats = [
        {**seat, "connected": news[seat["playerId"]]}
        if isinstance(seat, dict) and seat.get("playerId") in news
        else seat
        for seat in seats
    ]
    return {**view, "seats": seats}
