"""A Server-Sent Events reader as the HTML standard's "event stream interpretation" defines it,
fed text as it arrives (chunks may end anywhere, even between a CR and its LF).

It keeps what the SDK needs: each dispatched message's `event` (default "message"), `data` (the
data lines joined by "\\n") and `id` as it was on that message (None when the message had no
`id:` line: the server sends presence, token and close without one), and comments (the server's
heartbeat). `retry:` is read and dropped: the SDK's session decides when to dial again.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SseComment", "SseMessage", "SseParser"]

MAX_PENDING_CHARS = 64 * 2**20
"""One message may carry an event as large as a WebSocket frame (the server's limit)."""


@dataclass(frozen=True, slots=True)
class SseMessage:
    event: str
    data: str
    id: str | None


@dataclass(frozen=True, slots=True)
class SseComment:
    text: str


class SseParser:
    def __init__(self) -> None:
        self._partial = ""  # a line not yet ended
        self._skip_lf = False  # the last chunk ended with CR: a LF starting the next is its end
        self._event = ""
        self._data: list[str] = []
        self._id: str | None = None
        self._first = True  # a UTF-8 BOM at the very start is dropped

    def feed(self, chunk: str) -> list[SseMessage | SseComment]:
        """What `chunk` completes, in order. Raises ValueError when one message grows past
        MAX_PENDING_CHARS (a stream gone wrong; the caller drops it)."""
        if not chunk:
            return []  # and the CR that may have ended the last one still waits for its LF
        if self._first:
            self._first = False
            chunk = chunk.removeprefix("\ufeff")
        if self._skip_lf and chunk.startswith("\n"):
            chunk = chunk[1:]
        self._skip_lf = chunk.endswith("\r")
        text = self._partial + chunk
        lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        self._partial = lines.pop()
        out: list[SseMessage | SseComment] = []
        for line in lines:
            item = self._line(line)
            if item is not None:
                out.append(item)
        if len(self._partial) + sum(len(d) for d in self._data) > MAX_PENDING_CHARS:
            raise ValueError("an event stream message larger than the SDK accepts")
        return out

    def _line(self, line: str) -> SseMessage | SseComment | None:
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return SseComment(line[1:].removeprefix(" "))
        name, colon, value = line.partition(":")
        if colon:
            value = value.removeprefix(" ")
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        elif name == "id" and "\0" not in value:
            self._id = value
        return None  # `retry` and unknown fields are ignored

    def _dispatch(self) -> SseMessage | None:
        event, data, message_id = self._event or "message", self._data, self._id
        self._event, self._data, self._id = "", [], None
        if not data:
            return None  # the standard dispatches nothing without data
        return SseMessage(event, "\n".join(data), message_id)
