"""What the table pages say: the `#status` word for a session state and its tooltip in plain
words, and what each fatal refusal means to a person at the table.

Plain Python, unlike the rest of `rejoin.browser` (no `js`, no `pyodide`), so that the words can
be read and tested outside a browser.
"""

from __future__ import annotations

from typing import Final

from rejoin_protocol.session import SessionState

__all__ = [
    "ANOTHER_TAB",
    "FATAL_MESSAGES",
    "STATUS_TOOLTIPS",
    "TRANSPORT_TOOLTIPS",
    "UNSEATED",
    "fatal_message",
    "status_of",
    "status_tooltip",
]

ANOTHER_TAB: Final = "another_tab"
# `#status` while the join form waits for a name: no seat yet, so nothing is being connected.
UNSEATED: Final = "unseated"

# The tooltip of `#status` for each of its words: what a person needs to know, not the close
# code (the technical reason goes to the browser's console).
STATUS_TOOLTIPS: Final[dict[str, str]] = {
    UNSEATED: "You have no seat at this table yet: choose a name to join.",
    "connecting": "Reaching the server to take your seat.",
    "connected": "Connected to the server.",
    "reconnecting": (
        "The connection to the server was lost; your seat is kept while we reconnect."
    ),
    "closed": "Disconnected from this seat: see the message on the page.",
}

# The tooltip of `#status` while connected, by what the connection runs over (the page says
# "connected over WebSocket" or "connected over SSE"): that play is the same either way.
TRANSPORT_TOOLTIPS: Final[dict[str, str]] = {
    "websocket": "Connected to the server over a WebSocket, the usual live connection.",
    "sse": (
        "Connected to the server over SSE (server-sent events), the way round networks that "
        "block WebSockets: the game's news comes as a stream and your moves as ordinary web "
        "requests. Play is the same."
    ),
}

# What each fatal refusal means to a person at the table, and whether forgetting the seat (and
# joining again as a new player) is the way out.
FATAL_MESSAGES: Final[dict[str, tuple[str, bool]]] = {
    "token_invalid": (
        "The seat saved in this browser has an invalid token (it was altered, or this server "
        "does not know it). Forget the seat and join again.",
        True,
    ),
    "token_expired": (
        "The seat saved in this browser has expired (it was away longer than the token's "
        "lifetime). Forget the seat and join again.",
        True,
    ),
    "token_reused": (
        "This seat's token was already used by another connection, so it cannot be resumed "
        "from here. Forget the seat and join again.",
        True,
    ),
    "seat_conflict": (
        "Another connection resumed this seat at the same moment and won it. Forget the seat "
        "and join again, or close the other connection and reload.",
        True,
    ),
    "superseded": (
        "This seat was taken over by another device or browser that holds its token. This "
        "page has stopped; to play from this browser, forget the seat and join again.",
        True,
    ),
    ANOTHER_TAB: (
        "This table is already open in another tab of this browser, which holds its seat. "
        "Use that tab, or close it and reload this one.",
        False,
    ),
    "game_completed": ("This game is over.", False),
    "game_not_found": (
        "There is no such table on this server (it was deleted, or the link is wrong).",
        True,
    ),
    "player_not_in_game": (
        "The seat saved in this browser is no longer in this game. Forget it and join again.",
        True,
    ),
}


def status_of(state: SessionState, welcomed: bool) -> str:
    """The `#status` word for a session state: before the first welcome everything is
    `connecting`; after it, anything short of connected is `reconnecting`."""
    if state is SessionState.CONNECTED:
        return "connected"
    if state is SessionState.CLOSED:
        return "closed"
    return "reconnecting" if welcomed else "connecting"


def status_tooltip(status: str, offline: bool = False, transport: str | None = None) -> str:
    """The plain words behind `#status` = `status`; `offline`: the browser says it has no
    network, which is then the reason given; `transport`: what a connection runs over
    ("websocket" or "sse")."""
    if status == "connected" and transport in TRANSPORT_TOOLTIPS:
        return TRANSPORT_TOOLTIPS[transport]
    if status == "reconnecting" and offline:
        return (
            "This browser is offline; your seat is kept, and the page reconnects as soon as "
            "the network is back."
        )
    return STATUS_TOOLTIPS.get(status, status)


def fatal_message(code: str, message: str) -> tuple[str, bool]:
    """What to show for the refusal `code`, and whether forgetting the seat is the way out; a
    code this page does not know shows the server's own `message`."""
    known = FATAL_MESSAGES.get(code)
    if known is None:
        return f"The server refused this seat: {message}", True
    return known
