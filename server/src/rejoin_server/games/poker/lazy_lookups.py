"""Import pokerkit without building the hand tables of the variants this server never plays.

At import, pokerkit builds a table of hand rankings for every variant it knows (standard high
three times over, deuce-to-seven, short-deck, badugi, …): about 150 ms of CPU here, on the path of
every restart that has a hand to restore (the warm-up of `warmup` cannot hide it: its thread shares
the interpreter with the requests it would race). The server plays only No-Limit Hold'em; its one
table is built once per process (about 30-45 ms) by the warm-up, a few seconds after the import
(`ranking.prepare`), or by a showdown that comes first. Measured with
`nox -s bench -- --only storm` (1,002 players at 167 tables mid-hand, 3 storms each, interleaved):
without this, the first welcome after a kill -9 came 150-200 ms later and the relaunched server
used 0.1-0.3 s more CPU.

How: a meta-path hook lets `pokerkit.lookups` load as it is, then makes `Lookup.__post_init__`
only mark the table as not built yet, and `Lookup`'s three documented readers (`has_entry`,
`get_entry`, `get_entry_or_none`) build it first, under a lock, the mark removed only once the
table is whole (two threads may read first: the warm-up and a showdown). Nothing else in pokerkit
reads a table.

Why it cannot break on another pokerkit release: that "nothing else reads a table" was checked by
reading pokerkit's source, so the hook only acts on the release it was checked against
(`CHECKED_RELEASE`, the version of the lock file), read from the installed distribution's metadata
when pokerkit loads. Any other release is imported as it is: correct, only slower to start, and
the server logs once that the check should be redone. The tests fail when the lock file moves
pokerkit without this module (`test_lazy_lookups.py`).
"""

from __future__ import annotations

import functools
import importlib.abc
import importlib.machinery
import logging
import sys
import threading
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

log = logging.getLogger(__name__)

# The pokerkit release whose `Lookup` was read to write this hook (requirements pin it too).
CHECKED_RELEASE = "0.7.7"

_MODULE = "pokerkit.lookups"
_READERS = ("has_entry", "get_entry", "get_entry_or_none")
_UNBUILT = "_rejoin_unbuilt"  # set on a lookup whose table is still to be built
_building = threading.Lock()


def install() -> None:
    """Make pokerkit's lookups lazy, if pokerkit is not imported yet."""
    if _MODULE in sys.modules or any(isinstance(f, _Hook) for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _Hook())


def installed_release() -> str | None:
    """The installed pokerkit's version, from its metadata (pokerkit itself has no
    `__version__`); None when it cannot be read."""
    import importlib.metadata  # here, not at start-up: only the thread importing pokerkit pays

    try:
        return importlib.metadata.version("pokerkit")
    except importlib.metadata.PackageNotFoundError:
        return None


def is_built(lookup: Any) -> bool:
    """Whether `lookup`'s table has been built (for tests)."""
    return _UNBUILT not in vars(lookup)


class _Hook(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != _MODULE:
            return None
        sys.meta_path.remove(self)  # one use: the real finder does the finding
        release = installed_release()
        if release != CHECKED_RELEASE:
            log.info(
                "pokerkit %s is not the release %s whose lookups this server loads lazily: "
                "they are built at import (about 150 ms more per restart) until "
                "rejoin_server.games.poker.lazy_lookups is checked against it",
                release,
                CHECKED_RELEASE,
            )
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        load = loader.exec_module

        def exec_module(module: ModuleType) -> None:
            load(module)
            _make_lazy(module)

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def _make_lazy(module: ModuleType) -> None:
    lookup = getattr(module, "Lookup", None)
    build = getattr(lookup, "__post_init__", None)
    if lookup is None or build is None or not all(hasattr(lookup, n) for n in _READERS):
        log.warning("pokerkit's Lookup is not as expected: its tables are built at import")
        return

    def later(self: Any) -> None:
        # A Lookup is a plain dataclass with a __dict__: the mark sits there, beside its fields.
        vars(self)[_UNBUILT] = True

    def reads(method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        def built_first(self: Any, *args: Any, **kwargs: Any) -> Any:
            if _UNBUILT in vars(self):
                # Two threads may read it first (the warm-up's `ranking.prepare` and a showdown):
                # one builds, the other waits, and the mark goes only once the table is whole,
                # so a reader that sees no mark never reads a table half built.
                with _building:
                    if _UNBUILT in vars(self):
                        build(self)
                        del vars(self)[_UNBUILT]
            return method(self, *args, **kwargs)

        return built_first

    lookup.__post_init__ = later
    for name in _READERS:
        setattr(lookup, name, reads(getattr(lookup, name)))
