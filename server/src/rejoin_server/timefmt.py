"""Times: milliseconds since the epoch inside (clocks, events, rows), ISO 8601 on the HTTP API."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def iso_ms(ms: int) -> str:
    """`1764000000123` → `"2025-11-24T16:00:00.123Z"`."""
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
