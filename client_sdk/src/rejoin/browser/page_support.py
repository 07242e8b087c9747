"""Two helpers every table page's controller needs under Pyodide: running a coroutine as a task
in the browser's event loop, and reading a number handed over from JavaScript."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

__all__ = ["number_or_none", "spawn"]

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
