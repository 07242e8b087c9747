"""Answers: JSON via orjson, and the one error body of docs/http-api.md."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from rejoin_protocol.errors import ErrorCode


class JSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def ok(content: dict[str, Any], status: int = 200) -> JSON:
    return JSON(content, status_code=status)


def error_body(code: ErrorCode, message: str, details: dict[str, Any] | None = None) -> Any:
    error: dict[str, Any] = {"code": code.value, "message": message}
    if details:
        error["details"] = details
    return {"success": False, "error": error}


def error(code: ErrorCode, message: str, details: dict[str, Any] | None = None) -> JSON:
    headers = {}
    if code.http_status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    retry_after = (details or {}).get("retryAfter")
    if isinstance(retry_after, int):
        headers["Retry-After"] = str(retry_after)
    return JSON(error_body(code, message, details), status_code=code.http_status, headers=headers)
