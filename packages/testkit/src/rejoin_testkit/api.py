"""A small synchronous client for the HTTP API of docs/http-api.md, for tests.

Every call returns a `Reply` (status, parsed JSON, raw text) and never raises on an HTTP error:
tests assert on errors as much as on successes. `Reply.ok()` and `Reply.error(code)` do the
asserting, with the method, path and body in the failure message.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from rejoin_protocol.errors import ErrorCode

from .polling import WaitTimeout

JsonObject = dict[str, Any]
_UNSET: Any = object()


@dataclass(frozen=True, slots=True)
class Reply:
    method: str
    path: str
    status: int
    text: str
    headers: httpx.Headers
    body: Any = None  # parsed JSON, None when the body is not JSON
    # The response itself, for a caller that asserts on it as httpx gives it (the server's
    # in-process tests share their assertions with other httpx callers).
    response: httpx.Response | None = field(default=None, repr=False, compare=False)

    def describe(self) -> str:
        return f"{self.method} {self.path} -> {self.status}: {self.text[:2000]}"

    def ok(self, status: int | None = None) -> JsonObject:
        """Assert a 2xx (exactly `status` if given) with a JSON object body; return the body."""
        good = self.status == status if status is not None else 200 <= self.status < 300
        assert good, f"expected {status or '2xx'}: {self.describe()}"
        assert isinstance(self.body, dict), f"expected a JSON object: {self.describe()}"
        return self.body

    @property
    def code(self) -> str | None:
        if isinstance(self.body, dict) and isinstance(self.body.get("error"), dict):
            code = self.body["error"].get("code")
            return code if isinstance(code, str) else None
        return None

    def assert_error_shape(self) -> JsonObject:
        """Assert the error form of docs/http-api.md, its status matching its code; return `error`."""
        assert isinstance(self.body, dict), f"an error must be a JSON object: {self.describe()}"
        assert self.body.get("success") is False, f"error without success:false: {self.describe()}"
        error = self.body.get("error")
        assert isinstance(error, dict), f"error without an error object: {self.describe()}"
        code, message = error.get("code"), error.get("message")
        assert isinstance(code, str), f"error.code is not a string: {self.describe()}"
        assert isinstance(message, str), f"error.message is not a string: {self.describe()}"
        assert message.strip(), f"error.message is empty: {self.describe()}"
        assert code in ErrorCode.__members__.values(), f"undocumented code: {self.describe()}"
        expected = ErrorCode(code).http_status
        assert self.status == expected, f"{code} must be HTTP {expected}: {self.describe()}"
        assert "Traceback" not in self.text, f"a traceback in an answer: {self.describe()}"
        return error

    def error(self, *codes: str) -> JsonObject:
        """Assert an error with one of `codes` (and its documented status); return `error`."""
        error = self.assert_error_shape()
        assert error["code"] in codes, f"expected error {' or '.join(codes)}: {self.describe()}"
        return error


def parse_utc(value: Any, what: str = "time") -> datetime:
    """An ISO 8601 string in UTC (offset zero), e.g. `2026-11-28T10:00:00.123Z`."""
    assert isinstance(value, str), f"{what} must be an ISO 8601 string, not {value!r}"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise AssertionError(f"{what} {value!r} is not ISO 8601") from None
    assert parsed.tzinfo is not None, f"{what} {value!r} has no time zone"
    assert parsed.utcoffset() == timedelta(0), f"{what} {value!r} is not UTC"
    return parsed.astimezone(UTC)


def new_action_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True, slots=True)
class SseMessage:
    id: str | None
    event: str | None
    data: str

    def json(self) -> JsonObject:
        value = json.loads(self.data)
        assert isinstance(value, dict), f"SSE data is not a JSON object: {self.data!r}"
        return value


@dataclass(slots=True)
class SseStream:
    """What was read of an event stream: its events (`messages`, each with an `id:`, the seq),
    apart from the blocks without an id (`notices`: presence, token, the final close), which are
    not sequenced."""

    status: int
    content_type: str
    messages: list[SseMessage] = field(default_factory=list)
    notices: list[SseMessage] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    error_text: str = ""

    @property
    def events(self) -> list[JsonObject]:
        return [m.json() for m in self.messages if m.data]


class Api:
    """One base URL, an admin token, and an httpx client with keep-alive."""

    def __init__(
        self,
        base_url: str,
        admin_token: str | None = None,
        timeout: float = 15.0,
        *,
        client: httpx.Client | None = None,
    ) -> None:
        """`client`: send through that one (a benchmark's own, with its pool and timeouts) instead
        of a client of this `Api`'s; whoever made it closes it."""
        self.base_url = base_url
        self.admin_token = admin_token
        self._timeout = timeout
        self._owned = client is None
        self._client = client if client is not None else self._new_client()

    def _new_client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=self._timeout)

    def close(self) -> None:
        if self._owned:
            self._client.close()

    def reset(self) -> None:
        """Drop pooled connections (after a kill -9, say): a client of its own from now on."""
        self.close()
        self._client = self._new_client()
        self._owned = True

    # The raw call.

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = _UNSET,
        content: bytes | str | None = None,
        auth: str | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> Reply:
        all_headers = dict(headers or {})
        if auth is not None:
            all_headers["Authorization"] = f"Bearer {auth}"
        kwargs: dict[str, Any] = {"headers": all_headers, "params": params}
        if json_body is not _UNSET:
            kwargs["content"] = json.dumps(json_body)
            all_headers.setdefault("Content-Type", "application/json")
        elif content is not None:
            kwargs["content"] = content
            all_headers.setdefault("Content-Type", "application/json")
        response = self._client.request(method, path, **kwargs)
        try:
            body = response.json()
        except ValueError:
            body = None
        return Reply(
            method, path, response.status_code, response.text, response.headers, body, response
        )

    # docs/http-api.md, one method per endpoint.

    def healthz(self) -> Reply:
        return self.request("GET", "/healthz")

    def create_game(self, **settings: Any) -> Reply:
        return self.request("POST", "/api/games", json_body=settings)

    def join(self, game_id: str, name: str, seat: int | None = None) -> Reply:
        body: JsonObject = {"name": name}
        if seat is not None:
            body["seat"] = seat
        return self.request("POST", f"/api/game/{game_id}/join", json_body=body)

    def start(self, game_id: str, session: str | None) -> Reply:
        return self.request("POST", f"/api/game/{game_id}/start", auth=session)

    def act(
        self,
        game_id: str,
        session: str | None,
        type_: str,
        amount: int | None = None,
        *,
        action_id: str | None = None,
        at_seq: int | None = None,
        **fields: Any,
    ) -> Reply:
        """`fields`: the game's own fields of the move, beside `amount` (poker's)."""
        body: JsonObject = {"actionId": action_id or new_action_id(), "type": type_, **fields}
        if amount is not None:
            body["amount"] = amount
        if at_seq is not None:
            body["atSeq"] = at_seq
        return self.request("POST", f"/api/game/{game_id}/action", json_body=body, auth=session)

    def state(self, game_id: str, session: str | None) -> Reply:
        return self.request("GET", f"/api/game/{game_id}/state", auth=session)

    def events(self, game_id: str, session: str | None, after: int | None = None) -> Reply:
        """The JSON form of the events endpoint."""
        params = {"after": after} if after is not None else None
        return self.request(
            "GET",
            f"/api/game/{game_id}/events",
            auth=session,
            headers={"Accept": "application/json"},
            params=params,
        )

    def connection_token(self, game_id: str, session: str | None) -> Reply:
        return self.request("GET", f"/api/game/{game_id}/connection-token", auth=session)

    def reconnect(
        self,
        game_id: str,
        player_id: str,
        token: str,
        *,
        last_seq: int | None = None,
        client_id: str | None = None,
        body_game_id: str | None = None,
        last_epoch: str | None = None,
    ) -> Reply:
        body: JsonObject = {
            "gameId": body_game_id or game_id,
            "playerId": player_id,
            "reconnectToken": token,
        }
        if last_seq is not None:
            body["lastSeq"] = last_seq
        if client_id is not None:
            body["clientId"] = client_id
        if last_epoch is not None:
            body["lastEpoch"] = last_epoch
        return self.request("POST", f"/api/game/{game_id}/reconnect", json_body=body)

    def persist(self, game_id: str, auth: str | None, force_overwrite: bool | None = None) -> Reply:
        body: JsonObject = {"gameId": game_id}
        if force_overwrite is not None:
            body["forceOverwrite"] = force_overwrite
        return self.request("POST", f"/api/game/{game_id}/persist", json_body=body, auth=auth)

    def restore(self, game_id: str, auth: str | None) -> Reply:
        return self.request("GET", f"/api/game/{game_id}/restore", auth=auth)

    def delete(self, game_id: str, auth: str | None) -> Reply:
        return self.request("DELETE", f"/api/game/{game_id}/persist", auth=auth)

    def versions(self, game_id: str, auth: str | None) -> Reply:
        """`GET …/versions` (admin): the kept snapshots a rollback can go back to."""
        return self.request("GET", f"/api/game/{game_id}/versions", auth=auth)

    def rollback(
        self,
        game_id: str,
        auth: str | None,
        to_version: int,
        reason: str = "test",
        reopen: bool | None = None,
    ) -> Reply:
        """`POST …/rollback` (admin)."""
        body: JsonObject = {"toVersion": to_version, "reason": reason}
        if reopen is not None:
            body["reopen"] = reopen
        return self.request("POST", f"/api/game/{game_id}/rollback", json_body=body, auth=auth)

    # Server-sent events.

    def sse(
        self,
        game_id: str,
        session: str | None,
        *,
        until_seq: int,
        after: int | None = None,
        last_event_id: int | None = None,
        session_in_query: bool = False,
        timeout: float = 10.0,
    ) -> SseStream:
        """Open the event stream and read until a message with `id >= until_seq` arrived (or the
        server ended the stream / answered with an error). Fails if that takes over `timeout`."""
        headers = {"Accept": "text/event-stream"}
        params: JsonObject = {}
        if after is not None:
            params["after"] = after
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        if session is not None:
            if session_in_query:
                params["session"] = session
            else:
                headers["Authorization"] = f"Bearer {session}"
        stream_timeout = httpx.Timeout(timeout, connect=5.0)
        with httpx.Client(base_url=self.base_url, timeout=stream_timeout) as client:
            path = f"/api/game/{game_id}/events"
            try:
                with client.stream("GET", path, headers=headers, params=params) as response:
                    out = SseStream(response.status_code, response.headers.get("content-type", ""))
                    if response.status_code != 200:
                        out.error_text = response.read().decode(errors="replace")
                        return out
                    _read_sse(response, out, until_seq)
                    return out
            except httpx.ReadTimeout:
                raise WaitTimeout(
                    f"SSE {path}: no event with id >= {until_seq} within {timeout} s"
                ) from None


def _read_sse(response: httpx.Response, out: SseStream, until_seq: int) -> None:
    for message in sse_messages(response.iter_lines(), out.comments):
        event_id = message.id
        if event_id is None:
            out.notices.append(message)
            continue
        out.messages.append(message)
        if event_id is not None and event_id.isdigit() and int(event_id) >= until_seq:
            return


def sse_messages(lines: Iterable[str], comments: list[str] | None = None) -> Iterator[SseMessage]:
    """The messages of an event stream, as its lines arrive; comment lines go to `comments`."""
    event_id: str | None = None
    event: str | None = None
    data: list[str] = []
    for line in lines:
        if line.startswith(":"):
            if comments is not None:
                comments.append(line[1:].strip())
            continue
        if line == "":
            if data or event_id is not None or event is not None:
                yield SseMessage(event_id, event, "\n".join(data))
            event_id, event, data = None, None, []
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "id":
            event_id = value
        elif name == "event":
            event = value
        elif name == "data":
            data.append(value)
