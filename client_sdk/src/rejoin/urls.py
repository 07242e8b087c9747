"""Where each request of the SDK goes, from the server's base URL.

The base URL is where the rejoin app answers: `http://host:8000` for `rejoin-server`, or
`http://host:8000/games` when a host app mounts rejoin under a prefix (docs/games.md). Every URL
is the base's path followed by the endpoint's, so the prefix is kept, and a base given with a
trailing slash gives no `//`. A base the SDK could only get wrong (another scheme, no host, a
query or a fragment, which would end up in the middle of every URL) is refused with a
`ValueError` that says what to write.
"""

from __future__ import annotations

from urllib.parse import quote, unquote, urlsplit, urlunsplit

__all__ = ["api_url", "game_of_ws_url", "game_url", "game_ws_url", "server_base"]

_WS_SCHEME = {"http": "ws", "https": "wss"}
_HTTP_SCHEME = {ws: http for http, ws in _WS_SCHEME.items()}


def server_base(url: str) -> str:
    """`url` as the base every request is built on: `http[s]://host[:port][/prefix]`, without
    a trailing slash. Raises `ValueError` for anything else."""
    parts = urlsplit(url.strip())
    if parts.scheme not in _WS_SCHEME or not parts.hostname:
        raise ValueError(
            f"{url!r} is not a server URL: write http://host:port, or http://host:port/prefix "
            "when rejoin is mounted under a prefix (e.g. http://127.0.0.1:8000/games)"
        )
    if parts.query or parts.fragment:
        raise ValueError(
            f"{url!r}: a server URL has no query (?…) or fragment (#…); write "
            f"{urlunsplit((parts.scheme, parts.netloc, parts.path, '', ''))}"
        )
    # "/games/" and "/games//" are "/games"; an empty path is the server's root.
    path = "/".join(segment for segment in parts.path.split("/") if segment)
    return urlunsplit((parts.scheme, parts.netloc, f"/{path}" if path else "", "", ""))


def api_url(base: str, *segments: str) -> str:
    """`<base>/api/<segments…>`, each segment quoted as one path segment."""
    tail = "/".join(quote(segment, safe="") for segment in segments)
    return f"{server_base(base)}/api/{tail}"


def game_url(base: str, game_id: str, endpoint: str) -> str:
    """`<base>/api/game/<gameId>/<endpoint>`, e.g. `…/join`, `…/state`."""
    return api_url(base, "game", game_id, endpoint)


def game_ws_url(base: str, game_id: str) -> str:
    """The WebSocket of game `game_id`: `ws[s]://host[:port][/prefix]/api/game/<gameId>/ws`."""
    http = game_url(base, game_id, "ws")
    scheme, rest = http.split("://", 1)
    return f"{_WS_SCHEME[scheme]}://{rest}"


def game_of_ws_url(url: str) -> tuple[str, str]:
    """From a `game_ws_url`, the game's HTTP URL (`http[s]://host[/prefix]/api/game/<gameId>`,
    where `…/reconnect`, `…/events` and `…/action` are) and the game id: how a link that is not a
    WebSocket finds the game it was dialled for. Raises `ValueError` for anything else."""
    scheme, sep, rest = url.partition("://")
    head, _, last = rest.rpartition("/")
    if not sep or scheme not in _HTTP_SCHEME or last != "ws" or "/api/game/" not in f"/{head}":
        raise ValueError(f"{url!r} is not a game's WebSocket URL")
    game_id = unquote(head.rpartition("/")[2])
    return f"{_HTTP_SCHEME[scheme]}://{head}", game_id
