"""The browser's `online` and `offline` events, fed to a `GameClient`.

Chromium keeps a WebSocket open when the network goes away (until TCP gives up, minutes later);
without these events a page would notice only when the session's silence timer fires. Offline:
the connection is given up at once. Online: a client waiting out its backoff dials now.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from js import window  # type: ignore[import-not-found]  # Pyodide only
from pyodide.ffi import create_proxy  # type: ignore[import-not-found]

__all__ = ["watch_network"]

log = logging.getLogger(__name__)


def watch_network(changed: Callable[[bool], None]) -> Callable[[], None]:
    """Call `changed(online)` on each change; returns the function that stops watching."""

    def guarded(now_online: bool) -> None:
        # An exception must not vanish into the browser's event loop unseen.
        try:
            changed(now_online)
        except Exception:
            log.exception("the session failed on a network change")

    online = create_proxy(lambda _event: guarded(True))
    offline = create_proxy(lambda _event: guarded(False))
    window.addEventListener("online", online)
    window.addEventListener("offline", offline)

    def stop() -> None:
        window.removeEventListener("online", online)
        window.removeEventListener("offline", offline)
        online.destroy()
        offline.destroy()

    return stop
