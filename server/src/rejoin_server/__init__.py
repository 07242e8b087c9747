"""rejoin's reference server. `rejoin_server.create_app(settings, games=[…])` builds its Starlette
app, to run or to mount in an application of one's own (docs/games.md); `rejoin_server.games` is
the API of a game; `rejoin-server` (`python -m rejoin_server`) is the command line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rejoin_server.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    # Loaded on first use: the command line imports this package first, and parses its
    # arguments (and answers --help) before it needs the app's modules.
    if name == "create_app":
        from rejoin_server.app import create_app

        return create_app
    raise AttributeError(f"module 'rejoin_server' has no attribute {name!r}")
