"""Reading the server's HTTP answers for an `SseBridge`: its error form, and a reconnect answer as
the `welcome` a WebSocket `hello` would have got."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rejoin_protocol.errors import ErrorCode
from rejoin_protocol.messages import TokenInfo, Welcome

__all__ = ["error_of", "known_code", "welcome_of", "whole_number"]


def error_of(body: Any) -> tuple[str, str, dict[str, Any] | None] | None:
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict) or not isinstance(error.get("code"), str):
        return None
    details = error.get("details")
    return (
        error["code"],
        str(error.get("message", "")),
        details if isinstance(details, dict) else None,
    )


def known_code(code: str) -> ErrorCode | None:
    try:
        return ErrorCode(code)
    except ValueError:
        return None


def whole_number(body: dict[str, Any], key: str) -> int:
    value = body[key]
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{key} is not an integer")
    return value


def welcome_of(body: dict[str, Any], player_id: str, node: str | None) -> Welcome:
    """The `welcome` a `hello` would have got, from the reconnect answer."""
    token = body["connectionToken"]
    state = body["gameState"]
    seat = body.get("seat")
    if seat is None and isinstance(state, dict) and isinstance(state.get("you"), dict):
        seat = state["you"].get("seat")  # a server from before the answer said its seat
    missed = body["missedEvents"]
    if not isinstance(state, dict) or not isinstance(missed, list) or not isinstance(token, dict):
        raise TypeError("gameState, missedEvents or connectionToken of the wrong type")
    at = datetime.fromisoformat(str(body["reconnectedAt"]).replace("Z", "+00:00"))
    epoch = body.get("epoch")
    return Welcome(
        player_id=player_id,
        seat=whole_number({"seat": seat}, "seat"),
        seq=whole_number(body, "seq"),
        game_state=state,
        missed_events=missed,
        resync=bool(body["resync"]),
        token=TokenInfo(str(token["token"]), str(token["expiresAt"])),
        session_token=str(body["sessionToken"]),
        server_time=int(at.timestamp() * 1000),
        epoch=epoch if isinstance(epoch, str) else None,
        node=node,
    )
