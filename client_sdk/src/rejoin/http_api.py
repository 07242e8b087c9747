"""The few HTTP calls of docs/http-api.md the client makes itself (join, start, the player's view).

Under CPython they go over httpx: one short-lived `httpx.AsyncClient` per call, since they are
rare (once per seat, or on demand) and a client that outlives a server restart must not hold a
pooled connection to the dead process. Under Pyodide they go over the browser's `fetch`
(`browser.fetch`). Either way `http_answer.answer_body` reads the answer, and a refusal is an
`HttpApiError` with the server's error code.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rejoin.errors import HttpApiError
from rejoin.http_answer import answer_body
from rejoin.tokens import SavedSeat
from rejoin.transport import IN_BROWSER
from rejoin.urls import api_url, game_url

if TYPE_CHECKING:
    import httpx

__all__ = [
    "HTTP_TIMEOUT_S",
    "answer_body",
    "describe_table",
    "fetch_game_state",
    "get_json",
    "join_game",
    "post_json",
    "transport_errors",
]


HTTP_TIMEOUT_S = 10.0
# A call refused with `rate_limited` did nothing: it is sent again after the `Retry-After` the
# server asked for, as long as the waits add up to no more than this; then the refusal is raised.
RATE_LIMIT_PATIENCE_S = 30.0


async def post_json(
    url: str, body: dict[str, Any] | None, *, bearer: str | None = None
) -> dict[str, Any]:
    return await _request("POST", url, body, _auth(bearer))


async def get_json(
    url: str, *, bearer: str, http: httpx.AsyncClient | None = None
) -> dict[str, Any]:
    """GET over `http` when given (a caller that polls keeps one), else a short-lived client."""
    headers = {**_auth(bearer), "Accept": "application/json"}
    if http is not None:
        return _body(await http.get(url, headers=headers))
    return await _request("GET", url, None, headers)


async def describe_table(base_url: str, game_id: str) -> dict[str, Any]:
    """`GET /api/game/{gameId}`: the table as anyone may see it before joining (its seats, free
    ones included, numbered from 0). A completed game is an `HttpApiError` `game_completed`
    with the final view in `details["gameState"]`."""
    return await _request(
        "GET", api_url(base_url, "game", game_id), None, {"Accept": "application/json"}
    )


async def join_game(
    base_url: str, game_id: str, name: str, seat: int | None = None, *, login: str | None = None
) -> tuple[SavedSeat, int]:
    """`POST …/join`: the seat to save (under a new client id) and the number of the seat taken.
    `login`: the player's login (a JWT) on a server with player login, where joining again takes
    the player's seat back from their other device."""
    body: dict[str, Any] = {"name": name}
    if seat is not None:
        body["seat"] = seat
    joined = await post_json(game_url(base_url, game_id, "join"), body, bearer=login)
    saved = SavedSeat(
        game_id=game_id,
        player_id=joined["playerId"],
        client_id=uuid.uuid4().hex,
        reconnect_token=joined["connectionToken"]["token"],
        session_token=joined["sessionToken"],
    )
    return saved, int(joined["seat"])


async def fetch_game_state(
    base_url: str,
    game_id: str,
    session_token: Callable[[], str],
    http: httpx.AsyncClient | None = None,
) -> dict[str, Any]:
    """`GET …/state`: the player's view, with the bearer token `session_token()` gives."""
    url = game_url(base_url, game_id, "state")
    bearer = session_token()
    try:
        body = await get_json(url, bearer=bearer, http=http)
    except HttpApiError as error:
        # A welcome that came while the call was out replaced the session token (each resume
        # gives the seat a new claim): ask again with the new one.
        if error.code != "token_reused" or session_token() == bearer:
            raise
        body = await get_json(url, bearer=session_token(), http=http)
    state: dict[str, Any] = body["gameState"]
    return state


async def _request(
    method: str, url: str, body: dict[str, Any] | None, headers: dict[str, str]
) -> dict[str, Any]:
    """One call, sent again while the server says `rate_limited` (within the patience)."""
    waited = 0.0
    while True:
        try:
            return await _request_once(method, url, body, headers)
        except HttpApiError as exc:
            wait = exc.retry_after_s
            if exc.code != "rate_limited" or wait is None or waited + wait > RATE_LIMIT_PATIENCE_S:
                raise
        await asyncio.sleep(wait)
        waited += wait


async def _request_once(
    method: str, url: str, body: dict[str, Any] | None, headers: dict[str, str]
) -> dict[str, Any]:
    """One call: the browser's fetch under Pyodide, else a short-lived httpx client."""
    if IN_BROWSER:
        # A platform switch: `browser.fetch` needs Pyodide's `js` and `pyodide` modules, and
        # httpx is not needed in a browser; each is imported only where it runs.
        from rejoin.browser.fetch import fetch_json

        return await fetch_json(method, url, body, headers, HTTP_TIMEOUT_S)
    import httpx

    async with httpx.AsyncClient(timeout=HTTP_TIMEOUT_S) as http:
        reply = await http.request(method, url, json=body, headers=headers)
    return _body(reply)


def transport_errors() -> tuple[type[Exception], ...]:
    """What a call raises when no answer came (refused, offline, timed out): `ConnectionError`
    from the browser's fetch, httpx's `TransportError` under CPython. For `except
    transport_errors():` in code that runs on both (httpx is imported only under CPython)."""
    if IN_BROWSER:
        return (ConnectionError,)
    import httpx

    return (ConnectionError, httpx.TransportError)


def _auth(bearer: str | None) -> dict[str, str]:
    return {} if bearer is None else {"Authorization": f"Bearer {bearer}"}


def _body(reply: httpx.Response) -> dict[str, Any]:
    try:
        body = reply.json()
    except ValueError:
        body = None
    return answer_body(reply.status_code, body, reply.request.method, str(reply.url), reply.text)
