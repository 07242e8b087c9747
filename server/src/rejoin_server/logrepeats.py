"""Collapsing repeated log lines: the first line of a kind is written, its repeats within a window
are counted and dropped, and the next one written after the window carries the count.

Why: some failures repeat as fast as the event loop turns. Out of file descriptors, asyncio logged
every failed accept(), about a million lines in 35 s (432 MB, issue 12), and a disk filled by the
log is a second outage. A line's kind is its logger, its level and the first line of its template
(the text before the %-arguments are filled in): "closed the connection of %s" for a thousand
clients is one kind, and so is an asyncio report, whose first line says what failed and whose
next lines name the object it failed on.

`RepeatFilter` goes on the handlers and loggers that can flood (see `serverlogs`), never on the access
log, where every line is a request of its own.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

WINDOW_S = 10.0
# Kinds remembered at most; past it, those whose window has ended are forgotten (with any count
# not yet written). A flood is one kind; many kinds at once are lines that do not repeat.
MAX_KINDS = 1000

_Key = tuple[str, int, str, str]


def _kind(record: logging.LogRecord) -> _Key:
    """What makes two lines "the same". Below ERROR, the template: "closed the connection of %s"
    for a thousand clients is one kind. From ERROR up, the text and the exception: two different
    bugs in a row ("POST /a failed: KeyError", "POST /b failed: ValueError", or uvicorn's
    "Exception in ASGI application" over two tracebacks) must both be written, while one failure
    repeating (an accept() out of descriptors) is still one kind."""
    if record.levelno < logging.ERROR:
        text = str(record.msg)
    else:
        try:
            text = record.getMessage()
        except (TypeError, ValueError):  # arguments that do not fit: logging reports it later
            text = str(record.msg)
    failure = ""
    if record.exc_info and record.exc_info[1] is not None:
        failure = repr(record.exc_info[1])[:200]
    return (record.name, record.levelno, text.partition("\n")[0], failure)


@dataclass(slots=True)
class _Kind:
    written_at: float  # when the last line of this kind was written
    dropped: int = 0  # lines of this kind dropped since


class RepeatFilter(logging.Filter):
    """Passes the first line of each kind, then drops that kind for `window_s`; the first line
    after the window passes with " (N more like this in the last S s)" when lines were dropped."""

    def __init__(
        self, window_s: float = WINDOW_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__()
        self._window_s = window_s
        self._clock = clock
        self._kinds: dict[_Key, _Kind] = {}
        # Worker threads log too (the database's).
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        key = _kind(record)
        now = self._clock()
        with self._lock:
            kind = self._kinds.get(key)
            if kind is not None and now - kind.written_at < self._window_s:
                kind.dropped += 1
                return False
            if kind is None:
                self._make_room(now)
                self._kinds[key] = _Kind(now)
                return True
            dropped, since = kind.dropped, now - kind.written_at
            kind.written_at, kind.dropped = now, 0
        if dropped:
            # Formatted here, so the note follows the message whatever its arguments.
            record.msg = (
                f"{record.getMessage()} ({dropped} more like this in the last {since:.0f} s)"
            )
            record.args = ()
        return True

    def _make_room(self, now: float) -> None:
        if len(self._kinds) < MAX_KINDS:
            return
        for key in [k for k, v in self._kinds.items() if now - v.written_at >= self._window_s]:
            del self._kinds[key]
        if len(self._kinds) >= MAX_KINDS:
            self._kinds.clear()
