"""Loading pokerkit in the background, so that a restarted server answers before it has.

Importing pokerkit costs about 100 ms of CPU here (with `lazy_lookups`; 250 ms without), a good
part of a restart. Nothing needs pokerkit until a hand is dealt, replayed
from a snapshot or ranked, so `hand` imports it only inside the functions that use it, and `serve`
calls `start` once uvicorn has started: the server answers (the health check first) while
pokerkit loads in a daemon thread. Started any earlier, beside the app's imports and start-up, it
slowed those down as much (threads share one interpreter lock), and even the health check waited
for it. Requests that come during the warm-up share the interpreter with it, so they are slower
until it ends.

Then the same thread prepares the showdown (`ranking.prepare`: pokerkit's table of hands, about
30 ms, and our note of every kind of hand in it, about 90 ms), which the first showdowns on the
event loop would otherwise pay, every table of the process waiting.

The first call that does need pokerkit imports it like any module: Python's import lock makes it
wait for the warm-up thread to finish (or import pokerkit itself when no warm-up runs, as in
tests), so being early never fails. A waiting call on the event loop holds the loop until then,
which also leaves the warm-up thread the whole interpreter. A showdown during the preparing reads
the same table (`lazy_lookups` builds it once, whichever thread asks first) and notes what it
needs itself.
"""

from __future__ import annotations

import logging
import threading

log = logging.getLogger(__name__)

_lock = threading.Lock()
_started: list[threading.Thread] = []  # the one warm-up thread, once started


def start() -> threading.Thread:
    """Begin importing pokerkit in a daemon thread; once per process, later calls return the same
    thread."""
    with _lock:
        if not _started:
            thread = threading.Thread(target=_load, name="pokerkit-warm-up", daemon=True)
            thread.start()
            _started.append(thread)
        return _started[0]


def _load() -> None:
    try:
        # pokerkit's table of hands, and our note of it (`ranking.prepare`): built here, not by
        # the first showdown on the event loop (about 0.1 s there, stalling every table).
        from rejoin_server.games.poker import ranking

        ranking.prepare()
    except Exception:
        # The first hand imports it again and fails there, where the error reaches a caller.
        log.exception("pokerkit failed to load in the background")
