"""The load tool's progress where no terminal shows it: a plain line every few seconds.

rich's progress bar draws only on a terminal; with stdout in a file, a pipe or a CI log it prints
nothing until the summary, and a long run looks hung. `PlainProgress` prints the report's
`progress()` line, with the seconds elapsed, every `every` seconds instead (and never more often).
The clock is injected so that a test decides what time it is.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from rejoin.bots.load import LoadReport

__all__ = ["DEFAULT_EVERY_S", "PlainProgress"]

DEFAULT_EVERY_S = 5.0


class PlainProgress:
    """`update(report)` as the run goes; `line_if_due()` prints when `every` seconds have passed
    since the last line (or the start); `run()` calls it on a timer until cancelled."""

    def __init__(
        self,
        write: Callable[[str], None],
        *,
        every: float = DEFAULT_EVERY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not every > 0:
            raise ValueError(f"every must be a positive number of seconds, not {every!r}")
        self._write = write
        self._every = every
        self._clock = clock
        self._started = clock()
        self._last = self._started
        self._report: LoadReport | None = None

    def update(self, report: LoadReport) -> None:
        self._report = report
        self.line_if_due()

    def line_if_due(self) -> bool:
        """Print the progress line if one is due; True if it did."""
        now = self._clock()
        if now - self._last < self._every:
            return False
        self._last = now
        elapsed = f"[{now - self._started:.0f} s]"
        what = "setting up the tables" if self._report is None else self._report.progress()
        self._write(f"{elapsed} {what}")
        return True

    async def run(self) -> None:
        """A line every `every` seconds, also while nothing moves (a server that is down)."""
        while True:
            await asyncio.sleep(self._every)
            self.line_if_due()
