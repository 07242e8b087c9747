"""The blocks of an event stream (docs/protocol.md, "Server-Sent Events"), encoded.

Only events carry an `id:` (their seq): presence, tokens and the final `close` are not sequenced,
so a browser's `lastEventId` stays the last seq it was sent and it resumes from there.
"""

from __future__ import annotations

import orjson

from rejoin_protocol.errors import CLOSE_FORBIDDEN, CLOSE_SUPERSEDED, CLOSE_TRY_AGAIN_LATER
from rejoin_server.games.base import Event
from rejoin_server.host.live import END_TOO_MANY_STREAMS, PresenceNote
from rejoin_server.timefmt import iso_ms
from rejoin_server.tokens.service import IssuedToken

PING = b": ping\n\n"

# What the client of a stream the server ended should do, by the WebSocket close code it ended
# with (`host.live`'s END_*); the reason is said beside it.
_RESUME = "open the stream again after the last id you received (Last-Event-ID or ?after=)"
_TO_DO = {
    CLOSE_SUPERSEDED: "Your seat was resumed by another connection; this stream has ended. Do not "
    "open it again unless that connection was not yours: then reconnect with your newest "
    "reconnect token.",
    CLOSE_FORBIDDEN: "You hold no seat in this game any more (an operator restored it to before "
    "you joined); this stream has ended. Join the game again to play.",
    CLOSE_TRY_AGAIN_LATER: f"This stream fell too far behind; {_RESUME}, a little later.",
}
_TOO_MANY_STREAMS = (
    "You opened more event streams at once than a player may hold; this one, your oldest, has "
    "ended. Close the streams you no longer read."
)
# Anything else (1012: the server restarting, the game reloaded or moved) resumes at once.
_RESUME_NOW = f"The server ended this stream (restarting, or the game moved); {_RESUME}."


def opening(retry_ms: int) -> bytes:
    """`retry:` first: a browser that loses the stream (a restart) tries again that soon, not
    after its own default of 3 s."""
    return f"retry: {retry_ms}\n: connected\n\n".encode()


def event(event: Event, data: str) -> bytes:
    """One event; `data` is its JSON as the reader may see it."""
    return f"id: {event.seq}\nevent: {event.kind}\ndata: {data}\n\n".encode()


def presence(note: PresenceNote) -> bytes:
    data = orjson.dumps({"playerId": note.player_id, "connected": note.connected})
    return b"event: presence\ndata: " + data + b"\n\n"


def token(issued: IssuedToken, session_token: str) -> str:
    """The seat's reconnect token and a fresh session token, as the WebSocket's `token` message
    says them. Text: it waits in the stream's queue beside the events."""
    data = orjson.dumps(
        {
            "token": issued.token,
            "expiresAt": iso_ms(issued.expires_at),
            "sessionToken": session_token,
        }
    ).decode()
    return f"event: token\ndata: {data}\n\n"


def close(end: tuple[int, str]) -> bytes:
    """The last block of a stream the server ends on purpose: the WebSocket's close code and
    reason for the same end, and what to do."""
    code, reason = end
    message = _TOO_MANY_STREAMS if end == END_TOO_MANY_STREAMS else _TO_DO.get(code, _RESUME_NOW)
    data = orjson.dumps({"code": code, "reason": reason, "message": message})
    return b"event: close\ndata: " + data + b"\n\n"
