"""The few HTTP calls of DESIGN §2 the client makes itself (join, the player's view), over httpx.

One short-lived `httpx.AsyncClient` per call: they are rare (once per seat, or on demand), and a
client that outlives a server restart must not hold a pooled connection to the dead process.
"""

from __future__ import annotations

from typing import Any

import httpx

from rejoin.errors import HttpApiError

__all__ = ["get_json", "post_json"]


HTTP_TIMEOUT_S = 10.0


async def post_json(url: str, body: dict[str, Any], *, bearer: str | None = None) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=HTTP_TIMEOUT_S) as http:
        reply = await http.post(url, json=body, headers=_auth(bearer))
    return _body(reply)


async def get_json(
    url: str, *, bearer: str, http: httpx.AsyncClient | None = None
) -> dict[str, Any]:
    """GET over `http` when given (a caller that polls keeps one), else a short-lived client."""
    headers = {**_auth(bearer), "Accept": "application/json"}
    if http is not None:
        return _body(await http.get(url, headers=headers))
    async with httpx.AsyncClient(timeout=HTTP_TIMEOUT_S) as own:
        reply = await own.get(url, headers=headers)
    return _body(reply)


def _auth(bearer: str | None) -> dict[str, str]:
    return {} if bearer is None else {"Authorization": f"Bearer {bearer}"}


def _body(reply: httpx.Response) -> dict[str, Any]:
    """The JSON object of a 2xx answer; anything else as an `HttpApiError` with the server's code."""
    try:
        body = reply.json()
    except ValueError:
        body = None
    if reply.is_success and isinstance(body, dict):
        return body
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        code, message = str(error.get("code")), str(error.get("message"))
    else:
        code, message = "http_error", f"{reply.request.method} {reply.url}: {reply.text[:300]}"
    raise HttpApiError(reply.status_code, code, message)
