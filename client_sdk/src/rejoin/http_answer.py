"""An HTTP answer of the server read the same way over httpx and over the browser's `fetch`: its
JSON object when it succeeded, else an `HttpApiError` with the server's error code.

Its own module so that `http_api` (which picks the platform's HTTP client) and `browser.fetch`
(the browser's) both import it without importing each other.
"""

from __future__ import annotations

from typing import Any

from rejoin.errors import HttpApiError

__all__ = ["answer_body"]


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
        details if isinstance(details, dict) else None,
    )
