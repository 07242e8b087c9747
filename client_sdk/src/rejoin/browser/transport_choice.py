"""`?transport=` on a table page's address: which transport the page's `GameClient` uses.

`auto` (the default: the WebSocket, and SSE where no WebSocket gets through), `websocket` or
`sse`, to try the page over one transport on purpose (a test, or a player whose network is known
to block WebSockets). A value the page does not know is said in the browser's console and `auto`
is used: a typo in a link must not keep anyone from the table.

No `js` or `pyodide` here, so it runs under CPython too.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qs

from rejoin.transport import TRANSPORTS, Transport, check_transport

__all__ = ["requested_transport"]

log = logging.getLogger(__name__)


def requested_transport(query: str) -> Transport:
    """The transport the page's address asks for (`?transport=sse`), else "auto"."""
    values = parse_qs(query.lstrip("?")).get("transport", [])
    if not values:
        return "auto"
    try:
        return check_transport(values[0].strip().lower())
    except ValueError:
        log.warning(
            "?transport=%s is not a transport: write one of %s; using auto",
            values[0],
            ", ".join(TRANSPORTS),
        )
        return "auto"
