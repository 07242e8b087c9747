"""Loading pokerkit in the background, so that a restarted server answers before it has.

Importing pokerkit costs about 100 ms of CPU here (with `lazy_lookups`; 250 ms without), a good
part of a restart. Nothing needs pokerkit until a hand is dealt, replayed
from a snapshot or ranked, so `hand` imports it only inside the functions that use it, and `serve`
calls `start` once uvicorn has started: the server answers (the health check first) while
pokerkit loads in a daemon thread. Started any earlier, beside the app's imports and start-up, it
slowed those down as much (threads share one interpreter lock), and even the health check waited
for it. Requests that come during the warm-up share the interpreter with it, so they are slower
until it ends.

Later the same thread prepares the showdown (`ranking.prepare`: pokerkit's table of hands, about
35 ms of CPU, and our note of every kind of hand in it, about 110 ms), which the first showdowns
on the event loop would otherwise pay, every table of the process waiting. Later, not at once:
`_PREPARE_AFTER_S` after the import, once a restart's rush of reconnects and restores is over.
Done at once, it held them up as the import does (measured with a kill -9 of a server with 50
players at 10 tables mid-hand, 6 times, SQLite: the first answer came 100 ms later, all 50 170 ms
later, past the 600 ms target; building only pokerkit's table at once still cost 40-70 ms). A
showdown that comes first builds the table and notes its hands itself, as before.

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
import time

log = logging.getLogger(__name__)

# After a restart, reconnects and restores come in the first second or so (a kill -9 storm of 50
# players: all answered in about 0.6 s); the showdown is prepared after that.
_PREPARE_AFTER_S = 3.0

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
        return
    time.sleep(_PREPARE_AFTER_S)
    from rejoin_server.games.poker import ranking

    try:
        ranking.prepare()
    except Exception:
        # Each showdown then notes the kinds of hand it meets, as `ranking` does anyway.
        log.exception("the showdown could not be prepared in the background")
