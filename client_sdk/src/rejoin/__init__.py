"""rejoin: the client SDK. `GameClient` keeps a player's seat across drops and server restarts;
token stores (`rejoin.tokens`) keep what it needs to resume between runs."""

from rejoin.client import RESYNC, GameClient, PresenceCallback, StatusCallback
from rejoin.errors import (
    ActionAbandonedError,
    ActionRejectedError,
    ClientClosedError,
    HttpApiError,
    NotJoinedError,
    RejoinError,
    SessionFailedError,
)
from rejoin.results import ActionResult, ResumeFigures
from rejoin.tokens import (
    BrowserTokenStore,
    FileTokenStore,
    MemoryTokenStore,
    SavedSeat,
    TokenStore,
)
from rejoin_protocol.session import SessionState

__all__ = [
    "RESYNC",
    "ActionAbandonedError",
    "ActionRejectedError",
    "ActionResult",
    "BrowserTokenStore",
    "ClientClosedError",
    "FileTokenStore",
    "GameClient",
    "HttpApiError",
    "MemoryTokenStore",
    "NotJoinedError",
    "PresenceCallback",
    "RejoinError",
    "ResumeFigures",
    "SavedSeat",
    "SessionFailedError",
    "SessionState",
    "StatusCallback",
    "TokenStore",
]
