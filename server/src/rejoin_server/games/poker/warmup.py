"""Loading pokerkit in the background, so that a restarted server answers before it has.

Importing pokerkit costs about 100 ms of CPU here (with `lazy_lookups`; 250 ms without), a good
part of a restart. Nothing needs pokerkit until a hand is dealt, replayed
from a snapshot or ranked, so `hand` imports it only inside the functions that use it, and `serve`
calls `start` once uvicorn has started: the server answers (the health check first) while
pokerkit loads in a daemon thread. Started any earlier, beside the app's imports and start-up, it
slowed those down as much (threads share one interpreter lock), and even the health check waited
for it. Requests that come during the warm-up share the interpreter with it, so they are slower
until it ends.

The first call that does need pokerkit imports it like any module: Python's import lock makes it
wait for the warm-up thread to finish (or import pokerkit itself when no warm-up runs, as in
tests), so being early never fails. A waiting call on the event loop holds the loop until then,
which also leaves the warm-up thread the whole interpreter.
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
        # The names the table uses: pokerkit's core (`lean_import`; `import pokerkit` alone
        # loads nothing more).
        from pokerkit import State  # noqa: F401
    except Exception:
        # The first hand imports it again and fails there, where the error reaches a caller.
        log.exception("pokerkit failed to load in the background")
