"""The SDK's HTTP calls against a real server: a `rate_limited` answer (429, `Retry-After`) is
waited out and the call sent again, within the SDK's patience; past it, the refusal is raised."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from rejoin import http_api
from rejoin.errors import HttpApiError
from rejoin.http_api import post_json

from .conftest import sqlite_server


async def test_a_rate_limited_call_is_sent_again_after_retry_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = sqlite_server(tmp_path, "--rate-create", "1/2s")
    try:
        server.start_ready()
        url = f"{server.url}/api/games"
        await post_json(url, {"seats": 2})
        began = time.monotonic()
        second = await post_json(url, {"seats": 2})  # refused once, then waited out
        assert second["status"] == "waiting"
        assert time.monotonic() - began >= 1.0  # the server's Retry-After (whole seconds)

        monkeypatch.setattr(http_api, "RATE_LIMIT_PATIENCE_S", 0.5)
        with pytest.raises(HttpApiError) as refused:
            await post_json(url, {"seats": 2})
        assert refused.value.status == 429
        assert refused.value.code == "rate_limited"
        assert refused.value.retry_after_s is not None
        assert refused.value.retry_after_s >= 1
    finally:
        server.cleanup()
