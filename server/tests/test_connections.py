"""`BoundedH11Protocol` driven byte by byte through a stand-in transport: the connection cap and
the deadlines of a request's headers and body, with timeouts of tens of milliseconds. The same
against real sockets and a real server is in e2e/server/test_abuse_connections.py."""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.config import Config
from uvicorn.server import ServerState

from rejoin_server.connections import REFUSAL, BoundedH11Protocol, ConnectionLimits

HEADER_S = 0.06
BODY_S = 0.1
# How late a close may come on a busy machine.
LATE_S = 0.5
GET = b"GET / HTTP/1.1\r\nHost: test\r\n\r\n"
POST_HEAD = b"POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 10\r\n\r\n"


async def read_then_answer(scope: Any, receive: Any, send: Any) -> None:
    """Reads the whole body, then answers 200."""
    if scope["type"] != "http":
        return
    while True:
        message = await receive()
        if message["type"] == "http.disconnect" or not message.get("more_body"):
            break
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]}
    )
    await send({"type": "http.response.body", "body": b"ok"})


async def answer_at_once(scope: Any, receive: Any, send: Any) -> None:
    """Answers 200 without reading the body."""
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})


class FakeTransport(asyncio.Transport):
    """What the protocol writes, and when it was closed; closing calls `connection_lost` on the
    next turn of the loop, as asyncio's transports do."""

    def __init__(self, protocol: asyncio.Protocol) -> None:
        super().__init__()
        self.protocol = protocol
        self.written = bytearray()
        self.answered = asyncio.Event()  # an answer's head is written
        self.closed = asyncio.Event()
        self.closed_at: float | None = None
        self.opened_at = asyncio.get_running_loop().time()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        info = {"peername": ("127.0.0.1", 50000), "sockname": ("127.0.0.1", 8000)}
        return info.get(name, default)

    def write(self, data: bytes | bytearray | memoryview) -> None:
        assert not self.is_closing(), "written after close"
        self.written += data
        if b"\r\n\r\n" in self.written:
            self.answered.set()

    def close(self) -> None:
        if self.closed_at is None:
            loop = asyncio.get_running_loop()
            self.closed_at = loop.time()
            self.closed.set()
            loop.call_soon(self.protocol.connection_lost, None)

    def is_closing(self) -> bool:
        return self.closed_at is not None

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        raise AssertionError("no upgrades here")

    async def closed_after(self, since: float | None = None) -> float:
        """Wait for the close; the seconds from `since` (default: the connection's opening)."""
        await asyncio.wait_for(self.closed.wait(), timeout=5)
        assert self.closed_at is not None
        return self.closed_at - (self.opened_at if since is None else since)


class Server:
    """Connections made the way uvicorn makes them: one protocol each, one shared state."""

    def __init__(self, app: Any = read_then_answer, max_connections: int = 100) -> None:
        self.config = Config(app=app, log_config=None, timeout_keep_alive=30)
        self.state = ServerState()
        self.protocol = BoundedH11Protocol.with_limits(
            ConnectionLimits(max_connections, header_timeout_s=HEADER_S, body_timeout_s=BODY_S)
        )

    def connect(self) -> tuple[BoundedH11Protocol, FakeTransport]:
        protocol = self.protocol(config=self.config, server_state=self.state, app_state={})
        transport = FakeTransport(protocol)
        protocol.connection_made(transport)
        return protocol, transport


def now() -> float:
    return asyncio.get_running_loop().time()


async def answered(transport: FakeTransport) -> None:
    await asyncio.wait_for(transport.answered.wait(), timeout=5)


# --- the cap ------------------------------------------------------------------------------------


async def test_past_the_cap_a_connection_is_answered_503_and_closed() -> None:
    server = Server(max_connections=2)
    first, _ = server.connect()
    second, _ = server.connect()
    assert server.state.connections == {first, second}

    refused, transport = server.connect()
    assert bytes(transport.written) == REFUSAL
    assert transport.written.startswith(b"HTTP/1.1 503 Service Unavailable\r\n")
    assert b"\r\nConnection: close\r\n" in transport.written
    assert b"\r\nRetry-After: 5\r\n" in transport.written
    assert refused not in server.state.connections
    # Closed on the next turn (once what it sent is read), or at once when its bytes arrive.
    assert await transport.closed_after() < LATE_S
    refused.data_received(GET)  # a late read: dropped, never a second answer
    assert bytes(transport.written) == REFUSAL
    await asyncio.sleep(0)  # connection_lost has run
    assert server.state.connections == {first, second}


async def test_a_refused_connection_whose_request_arrives_is_closed_when_it_is_read() -> None:
    server = Server(max_connections=0)
    refused, transport = server.connect()
    refused.data_received(GET)
    assert transport.is_closing()
    assert bytes(transport.written) == REFUSAL


async def test_a_closed_connection_makes_room_under_the_cap() -> None:
    server = Server(max_connections=1)
    _, transport = server.connect()
    transport.close()
    await asyncio.sleep(0)
    second, again = server.connect()
    assert not again.is_closing()
    assert server.state.connections == {second}


# --- the deadlines ------------------------------------------------------------------------------


async def test_a_connection_that_sends_nothing_is_closed_at_the_header_timeout() -> None:
    _, transport = Server().connect()
    took = await transport.closed_after()
    assert HEADER_S <= took < HEADER_S + LATE_S
    assert transport.written == b""


async def test_a_header_trickle_is_closed_at_the_header_timeout_from_the_start() -> None:
    protocol, transport = Server().connect()
    for byte in GET[:-2]:  # never the final blank line
        if transport.is_closing():
            break
        protocol.data_received(bytes([byte]))
        await asyncio.sleep(HEADER_S / 10)
    took = await transport.closed_after()
    assert HEADER_S <= took < HEADER_S + LATE_S


async def test_a_body_is_timed_from_its_headers_not_from_the_connection() -> None:
    protocol, transport = Server().connect()
    await asyncio.sleep(HEADER_S / 2)  # on purpose: the headers come late, yet in time
    headers_at = now()
    protocol.data_received(POST_HEAD + b"12345")  # half of the body, then nothing
    took = await transport.closed_after(headers_at)
    assert BODY_S <= took < BODY_S + LATE_S
    assert transport.written == b""  # no answer: the request never arrived


async def test_a_body_trickle_is_closed_at_the_body_timeout() -> None:
    protocol, transport = Server().connect()
    headers_at = now()
    protocol.data_received(POST_HEAD)
    for _ in range(9):
        if transport.is_closing():
            break
        await asyncio.sleep(BODY_S / 5)
        if not transport.is_closing():
            protocol.data_received(b"x")
    took = await transport.closed_after(headers_at)
    assert BODY_S <= took < BODY_S + LATE_S


async def test_a_request_read_in_time_is_answered_and_not_cut_afterwards() -> None:
    protocol, transport = Server().connect()
    protocol.data_received(POST_HEAD + b"0123456789")
    await answered(transport)
    assert transport.written.startswith(b"HTTP/1.1 200 ")
    # Idle under the keep-alive timeout (30 s here): neither deadline applies.
    await asyncio.sleep(2 * (HEADER_S + BODY_S))
    assert not transport.is_closing()


async def test_after_an_answer_the_next_request_is_timed_from_its_first_byte() -> None:
    protocol, transport = Server().connect()
    protocol.data_received(GET)
    await answered(transport)
    await asyncio.sleep(2 * HEADER_S)  # idle longer than the header timeout: still open
    assert not transport.is_closing()
    first_byte_at = now()
    protocol.data_received(b"G")
    took = await transport.closed_after(first_byte_at)
    assert HEADER_S <= took < HEADER_S + LATE_S


async def test_a_slow_answer_is_not_cut() -> None:
    gate = asyncio.Event()

    async def slow(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await gate.wait()
        await read_then_answer(scope, _done, send)

    protocol, transport = Server(app=slow).connect()
    protocol.data_received(GET)
    await asyncio.sleep(2 * (HEADER_S + BODY_S))  # past both deadlines: nothing may close it
    assert not transport.is_closing()
    gate.set()
    await answered(transport)
    assert transport.written.startswith(b"HTTP/1.1 200 ")


async def _done() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def test_a_body_left_unread_by_an_early_answer_ends_the_deadline_once_it_is_in() -> None:
    protocol, transport = Server(app=answer_at_once).connect()
    protocol.data_received(POST_HEAD)
    await answered(transport)
    protocol.data_received(b"0123456789")  # the rest of the request, drained by uvicorn
    await asyncio.sleep(2 * (HEADER_S + BODY_S))  # past both deadlines: nothing may close it
    assert not transport.is_closing()
