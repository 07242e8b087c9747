"""The few HTTP calls of DESIGN §2 the client makes itself (join, start, the player's view).

Under CPython they go over httpx: one short-lived `httpx.AsyncClient` per call, since they are
rare (once per seat, or on demand) and a client that outlives a server restart must not hold a
pooled connection to the dead process. Under Pyodide they go over the browser's `fetch`
(`browser.fetch`). Either way a refusal is an `HttpApiError` with the server's error code.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from rejoin.errors import HttpApiError
from rejoin.transport import IN_BROWSER

if TYPE_CHECKING:
    import httpx

__all__ = ["HTTP_TIMEOUT_S", "answer_body", "get_json", "post_json"]


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
        # Lazy platform switch: browser.fetch imports this module (answer_body) back.
        from rejoin.browser.fetch import fetch_json

        return await fetch_json(method, url, body, headers, HTTP_TIMEOUT_S)
    import httpx

    async with httpx.AsyncClient(timeout=HTTP_TIMEOUT_S) as http:
        reply = await http.request(method, url, json=body, headers=headers)
    return _body(reply)


def _auth(bearer: str | None) -> dict[str, str]:
    return {} if bearer is None else {"Authorization": f"Bearer {bearer}"}


def _body(reply: httpx.Response) -> dict[str, Any]:
    try:
        body = reply.json()
    except ValueError:
        body = None
    return answer_body(reply.status_code, body, reply.request.method, str(reply.url), reply.text)


def answer_body(status: int, body: Any, method: str, url: str, text: str) -> dict[str, Any]:
    """The JSON object of a 2xx answer; anything else as an `HttpApiError` with the server's code
    (`http_error` when the answer is not the server's error form, e.g. from a proxy)."""
    if 200 <= status < 300 and isinstance(body, dict):
        return body
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        raise HttpApiError(status, "http_error", f"{method} {url}: {text[:300]}")
    details = error.get("details")
    retry_after = details.get("retryAfter") if isinstance(details, dict) else None
    raise HttpApiError(
        status,
        str(error.get("code")),
        str(error.get("message")),
        float(retry_after) if isinstance(retry_after, int | float) else None,
    )
