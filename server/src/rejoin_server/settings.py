"""Everything an operator can set on a server, in one frozen value (`create_app(settings)`).

The CLI (`rejoin_server.cli`) builds it from flags and environment variables; tests build it
directly. Durations are held in milliseconds, the unit the game clocks use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Durability = Literal["strict", "relaxed"]

DEFAULT_DATABASE_URL = "sqlite:///./rejoin.db"

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}


def parse_duration_ms(text: str) -> int:
    """`"30m"` → 1800000. A bare number is seconds. Raises ValueError saying what is accepted."""
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(
            f"{text!r} is not a duration: write a number and a unit, e.g. 500ms, 15s, 30m, 12h, 7d"
        )
    number, unit = match.groups()
    return round(float(number) * _UNIT_MS[unit or "s"])


@dataclass(frozen=True, slots=True)
class ServerSettings:
    database_url: str = DEFAULT_DATABASE_URL
    # Bearer token of the operator (persist/restore/delete of any game, /metrics off loopback).
    # None: the CLI generates one and prints it; a test app without one has no admin.
    admin_token: str | None = None
    # Signing keys for tokens, newest first; older ones still verify. Empty: a key is generated
    # once and kept in the store, so tokens outlive restarts.
    secret_keys: tuple[str, ...] = ()
    durability: Durability = "strict"
    token_ttl_ms: int = 30 * 60_000
    # Lifetime of a session token (the bearer of a seated player's HTTP calls); every reconnect
    # hands out a fresh one.
    session_ttl_ms: int = 24 * 3_600_000
    snapshot_every: int = 100  # events between snapshots (hand boundaries always snapshot)
    keep_snapshots: int = 3
    replay_limit: int = 1000  # more missed events than this: `resync` with the fresh state
    migrate: bool = True
    cleanup_interval_ms: int = 60_000
    retention_ms: int = 7 * 86_400_000  # completed games are deleted this long after completing
    abandon_after_ms: int = 3_600_000  # a game with no player action this long is completed
    max_games: int | None = None
    max_storage_bytes: int | None = None
    max_body_bytes: int = 64 * 1024
    # The WebSocket heartbeat (DESIGN §4): the server sends `ping` this often, and drops a client
    # it has heard nothing from for `idle_timeout_ms` (it resumes from its last seq).
    ping_interval_ms: int = 5_000
    idle_timeout_ms: int = 15_000
    # The browser bundle's folder (`client_sdk/web`: pages, Pyodide, SDK wheels); None: the
    # checkout's own (see `api.web.default_web_dir`).
    web_dir: str | None = None
    # Public URL pieces, only for what the CLI prints.
    host: str = "127.0.0.1"
    port: int = 8000

    def __post_init__(self) -> None:
        if self.durability not in ("strict", "relaxed"):
            raise ValueError(f"durability must be strict or relaxed, not {self.durability!r}")
        for name in (
            "token_ttl_ms",
            "session_ttl_ms",
            "cleanup_interval_ms",
            "abandon_after_ms",
            "ping_interval_ms",
            "idle_timeout_ms",
        ):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")
        if self.idle_timeout_ms <= self.ping_interval_ms:
            raise ValueError(
                "idle_timeout_ms (--idle-timeout) must be longer than ping_interval_ms "
                "(--ping-interval)"
            )
        if self.retention_ms < 0:
            raise ValueError("retention_ms must not be negative")
        if self.snapshot_every < 1 or self.keep_snapshots < 1 or self.replay_limit < 0:
            raise ValueError("snapshot_every and keep_snapshots must be ≥ 1, replay_limit ≥ 0")
