"""The HTTP API over the browser's `fetch` (Pyodide's `pyfetch`), answering like `http_api`."""

from __future__ import annotations

import json
from typing import Any

from js import AbortSignal  # type: ignore[import-not-found]  # Pyodide only
from pyodide.ffi import JsException  # type: ignore[import-not-found]
from pyodide.http import pyfetch  # type: ignore[import-not-found]

from rejoin.http_answer import answer_body

__all__ = ["fetch_json"]


async def fetch_json(
    method: str, url: str, body: dict[str, Any] | None, headers: dict[str, str], timeout_s: float
) -> dict[str, Any]:
    """One request; `ConnectionError` when no answer came (offline, refused, timed out)."""
    options: dict[str, Any] = {
        "method": method,
        "headers": {**headers, "Content-Type": "application/json"} if body is not None else headers,
        "cache": "no-store",
        "signal": AbortSignal.timeout(int(timeout_s * 1000)),
    }
    if body is not None:
        options["body"] = json.dumps(body)
    try:
        reply = await pyfetch(url, **options)
        text = await reply.string()
    except (JsException, OSError) as exc:
        raise ConnectionError(f"{method} {url}: no answer ({exc})") from exc
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    return answer_body(reply.status, parsed, method, url, text)
