"""A scripted server for the SSE transport's fast tests: a real `SseLinkBase` (so the real
`SseBridge` and driver run) whose HTTP calls the test answers and whose event stream it writes.

`ScriptedSseServer` is a `GameClient`'s `link_factory`; each `ScriptedSseLink` keeps the calls
not yet answered (`pending`) and the streams it opened (`streams`)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from rejoin.link import LinkListener
from rejoin.sse.driver import NoAnswer, SseLinkBase
from rejoin.sse.outputs import HttpCall, OpenStream

Answer = tuple[int, Any, str | None]


def event(seq: int) -> dict[str, Any]:
    return {"seq": seq, "kind": "action", "at": 1000 + seq, "data": {"n": seq}}


def sse_event(seq: int) -> str:
    return f"id: {seq}\nevent: action\ndata: {json.dumps(event(seq))}\n\n"


def reconnect_answer(seq: int, missed: list[int], token: str, session: str) -> dict[str, Any]:
    return {
        "success": True,
        "gameState": {"seq": seq},
        "reconnectedAt": "2026-12-05T10:00:00.000Z",
        "missedEvents": [event(n) for n in missed],
        "resync": False,
        "seq": seq,
        "epoch": "e1",
        "connectionToken": {"token": token, "expiresAt": "2030-01-01T00:00:00.000Z"},
        "sessionToken": session,
        "seat": 1,
    }


def acked(seq: int, duplicate: bool = False) -> dict[str, Any]:
    return {"success": True, "seq": seq, "duplicate": duplicate, "durable": True}


class ScriptedSseLink(SseLinkBase):
    def __init__(self, url: str, connection: int, listener: LinkListener) -> None:
        super().__init__(url, connection, listener)
        self.pending: list[tuple[HttpCall, asyncio.Future[Answer]]] = []
        self.streams: list[OpenStream] = []
        self._chunks: asyncio.Queue[str | None] = asyncio.Queue()
        self.released = False

    # --- the test's side ----------------------------------------------------------------------

    def answer(self, kind: str, status: int, body: Any) -> HttpCall:
        """Answer the oldest pending call, which must be of `kind`; returns it."""
        call, answer = self.pending.pop(0)
        assert call.kind == kind, (call, kind)
        answer.set_result((status, body, None))
        return call

    def no_answer(self) -> HttpCall:
        call, answer = self.pending.pop(0)
        answer.set_exception(NoAnswer("ConnectError: refused"))
        return call

    def write(self, text: str) -> None:
        self._chunks.put_nowait(text)

    def end_stream(self) -> None:
        self._chunks.put_nowait(None)

    # --- the I/O of SseLinkBase ---------------------------------------------------------------

    async def _call(self, call: HttpCall) -> Answer:
        answer: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self.pending.append((call, answer))
        return await answer

    async def _read_stream(self, stream: OpenStream) -> None:
        self.streams.append(stream)
        self._bridge.stream_opened(200, None)
        self._pump()
        while (chunk := await self._chunks.get()) is not None:
            self._bridge.stream_text(chunk)
            self._pump()

    async def _release(self) -> None:
        self.released = True


class ScriptedSseServer:
    def __init__(self) -> None:
        self.links: list[ScriptedSseLink] = []

    def __call__(self, url: str, connection: int, listener: LinkListener) -> ScriptedSseLink:
        link = ScriptedSseLink(url, connection, listener)
        self.links.append(link)
        return link

    @property
    def link(self) -> ScriptedSseLink:
        assert self.links, "the client has not dialled"
        return self.links[-1]


async def settle(turns: int = 20) -> None:
    """Let the loop run the links' tasks (no time passes: the clock is the test's)."""
    for _ in range(turns):
        await asyncio.sleep(0)
