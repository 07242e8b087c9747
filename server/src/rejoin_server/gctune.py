"""The cyclic garbage collector of the `rejoin-server` process: off while it loads, then told that
what it loaded stays.

Measured in a restart's reconnect storm (1,002 players at 167 tables, `bench/ws_storm.py`, every
collection timed with gc.callbacks, three storms each way on a busy 2-core machine): with
CPython's defaults the relaunched server ran the full collection 3 to 5 times per storm, up to
120 ms each, and spent 0.27-0.82 s (median 0.57 s) collecting, freeing nothing: it walked the
imported modules, the games and the connections, all alive. Tuned as below: no full collection,
0.25-0.45 s (median 0.25 s), the longest pause 31-81 ms instead of 66-120 ms. Two changes:

- `hold` turns the collector off while the server imports its modules and builds the app (the
  migrations, which may leave garbage, run before it), and `settle` then moves everything alive
  into the permanent generation (`gc.freeze`): modules, classes and the app are never collected,
  so no collection walks them again. A reference cycle left over by an import in that span is
  frozen too and never freed: a few objects, once.
- `settle` raises the first threshold from 700 to `YOUNG_THRESHOLD` allocations: the youngest
  generation is collected a tenth as often, and the older ones, counted in collections of the
  younger, with it. Cycles are still freed, later; what is not in a cycle is freed by reference
  counting at once, as always.

Only the server command does this (`serve`); an app embedded in another process leaves that
process's collector as its owner set it.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 7_000


def hold() -> None:
    """No collection while the process loads: what it creates then lives as long as it does."""
    gc.disable()


def release() -> None:
    """Collect as before: the process did not get as far as serving."""
    gc.enable()


def settle() -> None:
    """What is alive now stays out of every collection; collect again, less often."""
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
    gc.enable()
