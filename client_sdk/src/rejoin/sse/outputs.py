"""What an `SseBridge` asks its driver to do (its outputs)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["BridgeOutput", "Deliver", "HttpCall", "Lost", "OpenStream"]


@dataclass(frozen=True, slots=True)
class HttpCall:
    """A request to make: JSON `body` (None: none), `Authorization: Bearer <bearer>` if given."""

    kind: Literal["reconnect", "action"]
    method: str
    url: str
    body: dict[str, Any] | None
    bearer: str | None
    action_id: str | None = None


@dataclass(frozen=True, slots=True)
class OpenStream:
    """Open the event stream: `GET url` with `Accept: text/event-stream` and the bearer."""

    url: str
    bearer: str


@dataclass(frozen=True, slots=True)
class Deliver:
    """A server frame for the session (`listener.link_frame`)."""

    frame: str


@dataclass(frozen=True, slots=True)
class Lost:
    """The connection is over: report `link_lost(code, reason)` once and stop every request."""

    code: int | None
    reason: str


BridgeOutput = HttpCall | OpenStream | Deliver | Lost
