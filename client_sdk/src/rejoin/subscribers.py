"""Application callbacks (`on_status`, `on_presence`), each called in turn and none able to stop
the session: an exception in one is logged, and the others still run."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Generic, ParamSpec

__all__ = ["Subscribers"]

log = logging.getLogger(__name__)

P = ParamSpec("P")


class Subscribers(Generic[P]):
    """Callbacks of one kind, in the order they subscribed."""

    def __init__(self, what: str) -> None:
        self._what = what  # names them in the log
        self._callbacks: list[Callable[P, None]] = []

    def add(self, callback: Callable[P, None]) -> Callable[[], None]:
        """Subscribe; returns the function that unsubscribes (calling it twice is harmless)."""
        self._callbacks.append(callback)
        return lambda: self._discard(callback)

    def call(self, *args: P.args, **kwargs: P.kwargs) -> None:
        # A copy: a callback may unsubscribe itself (or another) while the list is being called.
        for callback in list(self._callbacks):
            try:
                callback(*args, **kwargs)
            except Exception:  # an application bug must not stop the session
                log.exception("%s callback %r failed", self._what, callback)

    def _discard(self, callback: Callable[P, None]) -> None:
        if callback in self._callbacks:
            self._callbacks.remove(callback)
