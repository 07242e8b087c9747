"""A scripted server for `GameClient`'s fast tests: no network and no real time.

- `ScriptedServer` is the client's `link_factory`. Each `ScriptedLink` it hands out plays back
  the server's side as the test says (`open()`, `play(message, …)`, `drop(code)`) and records
  every frame the client sends (`sent`, decoded) and the close it asked for (`closed()`).
- `ManualClock` is the client's `clock`: timers (the backoff, the silence timeout) fire only when
  the test calls `advance(seconds)`, at the times they were due.

A test drives the server's side from its own body, never from inside a client call, as real links
do (they report from their own tasks); a client-initiated close is reported on a later loop turn
for the same reason.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from rejoin.link import LinkListener
from rejoin_protocol.messages import (
    EventMessage,
    Message,
    TokenInfo,
    Welcome,
    encode,
)

PLAYER = "p1"
GAME = "g1"
TOKEN_EXPIRES = "2030-01-01T00:00:00.000Z"


def event(seq: int) -> dict[str, Any]:
    """The game event number `seq`, as the server sends it."""
    return {"seq": seq, "kind": "action", "at": 1_000 + seq, "data": {"n": seq}}


def live(seq: int) -> EventMessage:
    """The `event` message carrying event `seq`."""
    return EventMessage(seq, event(seq))


def welcome(
    seq: int,
    missed: Sequence[int] = (),
    *,
    token: str = "t1",
    session_token: str = "s1",
    resync: bool = False,
    epoch: str = "e1",
    node: str | None = None,
) -> Welcome:
    """The server's answer to `hello` with the game at `seq`, replaying the events `missed`."""
    return Welcome(
        player_id=PLAYER,
        seat=1,
        seq=seq,
        game_state={"seq": seq, "seats": []},
        missed_events=[event(n) for n in missed],
        resync=resync,
        token=TokenInfo(token, TOKEN_EXPIRES),
        session_token=session_token,
        server_time=0,
        epoch=epoch,
        node=node,
    )


class ScriptedLink:
    """One connection as the server's side of it: the test plays, the client's frames are kept."""

    def __init__(self, url: str, connection: int, listener: LinkListener) -> None:
        self.url = url
        self.connection = connection
        self._listener = listener
        self.task: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.sent: list[dict[str, Any]] = []
        self._closed: tuple[int, str] | None = None

    # --- the client's side (the `Link` protocol) --------------------------------------------

    def send(self, text: str) -> None:
        self.sent.append(json.loads(text))

    def close(self, code: int, reason: str) -> None:
        self._closed = (code, reason)
        # A real link reports the end of a connection the client closed from its own task.
        asyncio.get_running_loop().call_soon(self._end, code, reason)

    # --- the server's side, driven by the test ----------------------------------------------

    def open(self) -> None:
        """The transport opened (the client says `hello`)."""
        self._listener.link_opened(self.connection)

    def play(self, *messages: Message | str) -> None:
        """The server sends each message (a raw string goes out as it is) in order."""
        for message in messages:
            frame = message if isinstance(message, str) else encode(message)
            self._listener.link_frame(self.connection, frame)

    def drop(self, code: int | None = None, reason: str = "") -> None:
        """The connection ends: closed by the server with `code`, or lost (None)."""
        self._end(code, reason)

    def closed(self) -> tuple[int, str] | None:
        """The code and reason of the close the client asked for, if it did."""
        return self._closed

    def sent_of(self, kind: str) -> list[dict[str, Any]]:
        """The frames of type `kind` the client sent on this link, in order."""
        return [frame for frame in self.sent if frame["type"] == kind]

    def _end(self, code: int | None, reason: str) -> None:
        if self.task.done():
            return
        self.task.set_result(None)
        self._listener.link_lost(self.connection, code, reason)


class ScriptedServer:
    """The client's `link_factory`: every link it dialled, oldest first."""

    def __init__(self) -> None:
        self.links: list[ScriptedLink] = []

    def __call__(self, url: str, connection: int, listener: LinkListener) -> ScriptedLink:
        link = ScriptedLink(url, connection, listener)
        self.links.append(link)
        return link

    @property
    def link(self) -> ScriptedLink:
        """The link dialled last."""
        assert self.links, "the client has not dialled"
        return self.links[-1]


@dataclass
class _Scheduled:
    when: float
    callback: Callable[[], None]
    cancelled: bool = False

    def cancel(self) -> None:
        self.cancelled = True


class ManualClock:
    """A `rejoin.clock.Clock` whose time moves only by `advance`."""

    def __init__(self, now: float = 100.0) -> None:
        self._now = now
        self._timers: list[_Scheduled] = []

    def time(self) -> float:
        return self._now

    def call_at(self, when: float, callback: Callable[[], None]) -> _Scheduled:
        scheduled = _Scheduled(when, callback)
        self._timers.append(scheduled)
        return scheduled

    @property
    def pending(self) -> list[float]:
        """When the timers not yet run nor cancelled are due, earliest first."""
        return sorted(timer.when for timer in self._timers if not timer.cancelled)

    def advance(self, seconds: float) -> None:
        """Move time on by `seconds`, running each timer due by then at its own time (a timer
        that a callback arms within the window runs too)."""
        until = self._now + seconds
        while due := [t for t in self._timers if not t.cancelled and t.when <= until]:
            first = min(due, key=lambda timer: timer.when)
            self._timers.remove(first)
            self._now = max(self._now, first.when)
            first.callback()
        self._timers = [timer for timer in self._timers if not timer.cancelled]
        self._now = until
