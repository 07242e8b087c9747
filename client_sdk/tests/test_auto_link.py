"""`AutoLink` over fake inner links: which transport it tries, in which order, what it replays to
each attempt, how it probes the WebSocket after falling back, what it remembers, and when its
task is done. No network, and no real time counts: the timeouts are fired by calling their
handlers, and the memory runs on a clock the test moves."""

from __future__ import annotations

import asyncio
import errno
import socket
from typing import Any

import pytest

from rejoin import ws_link
from rejoin.auto_link import BACK_TO_WEBSOCKET, AutoLink, TransportMemory
from rejoin.link import LinkListener

URL = "ws://game.test:8000/api/game/g1/ws"
SERVER = "ws://game.test:8000"
HELLO = '{"type": "hello"}'
PING = '{"type":"ping","t":0}'
NEVER_S = 3600.0  # an open timeout no test waits for: each fires it by hand


class FakeLink:
    """An inner link the test opens, feeds and ends; a close ends its task a turn later."""

    def __init__(self, transport: str, connection: int, listener: LinkListener) -> None:
        self.transport = transport
        self.connection = connection
        self.listener = listener
        self.sent: list[str] = []
        self.closed: tuple[int, str] | None = None
        self.task: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def send(self, text: str) -> None:
        self.sent.append(text)

    def close(self, code: int, reason: str) -> None:
        self.closed = (code, reason)
        asyncio.get_running_loop().call_soon(self._end)

    def open(self) -> None:
        self.listener.link_opened(self.connection)

    def frame(self, text: str = '{"type":"welcome"}') -> None:
        self.listener.link_frame(self.connection, text)

    def lose(self, code: int | None = None, reason: str = "refused") -> None:
        self._end()
        self.listener.link_lost(self.connection, code, reason)

    def _end(self) -> None:
        if not self.task.done():
            self.task.set_result(None)


class Dialled:
    """Both factories, and every inner link dialled, in order."""

    def __init__(self) -> None:
        self.links: list[FakeLink] = []

    def factory(self, transport: str) -> Any:
        def make(url: str, connection: int, listener: LinkListener) -> FakeLink:
            assert url == URL
            link = FakeLink(transport, connection, listener)
            self.links.append(link)
            return link

        return make

    @property
    def last(self) -> FakeLink:
        return self.links[-1]

    def kinds(self) -> list[str]:
        return [link.transport for link in self.links]


class Listener:
    def __init__(self) -> None:
        self.heard: list[tuple[Any, ...]] = []

    def link_opened(self, connection: int) -> None:
        self.heard.append(("opened", connection))

    def link_frame(self, connection: int, frame: str | bytes) -> None:
        self.heard.append(("frame", connection, frame))

    def link_lost(self, connection: int, code: int | None, reason: str) -> None:
        self.heard.append(("lost", connection, code, reason))


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def auto(
    dialled: Dialled, listener: Listener, memory: TransportMemory, open_timeout: float = NEVER_S
) -> AutoLink:
    return AutoLink(
        URL,
        7,
        listener,
        websocket=dialled.factory("websocket"),
        sse=dialled.factory("sse"),
        memory=memory,
        open_timeout=open_timeout,
    )


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def memory(clock: Clock) -> TransportMemory:
    return TransportMemory(remember_for=600.0, clock=clock)


async def turn() -> None:
    for _ in range(3):
        await asyncio.sleep(0)


async def test_a_websocket_that_brings_a_frame_is_the_transport(memory: TransportMemory) -> None:
    dialled, listener = Dialled(), Listener()
    link = auto(dialled, listener, memory)
    assert dialled.kinds() == ["websocket"]
    link.send(HELLO)  # before the open: kept for it
    assert dialled.last.sent == []
    dialled.last.open()
    assert dialled.last.sent == [HELLO]
    dialled.last.frame()
    link.send("after")
    assert dialled.last.sent == [HELLO, "after"]
    assert listener.heard == [("opened", 7), ("frame", 7, '{"type":"welcome"}')]
    assert link.transport == "websocket"
    assert not memory.prefers_sse(SERVER)
    # A settled transport's loss is the connection's: no fallback.
    dialled.last.lose(1006, "gone")
    assert dialled.kinds() == ["websocket"]
    assert listener.heard[-1] == ("lost", 7, 1006, "gone")
    await turn()
    assert link.task.done()


def welcomed_over_sse(dialled: Dialled, welcome: str = '{"type":"welcome"}') -> FakeLink:
    """The WebSocket fails before its first frame, SSE opens and brings `welcome`; the SSE link."""
    dialled.last.lose(1006, "")
    sse = dialled.last
    sse.open()
    sse.frame(welcome)
    return sse


def probe_of(link: AutoLink) -> Any:
    probe = link._probe
    assert probe is not None, "no probe running"
    return probe


async def test_a_websocket_cut_before_any_frame_falls_back_and_a_blocked_probe_remembers_sse(
    memory: TransportMemory, clock: Clock
) -> None:
    dialled, listener = Dialled(), Listener()
    link = auto(dialled, listener, memory)
    link.send(HELLO)
    dialled.last.open()  # opened, then cut before any frame (a proxy that kills upgrades)
    assert dialled.last.sent == [HELLO]
    dialled.last.lose(1006, "cut")
    assert dialled.kinds() == ["websocket", "sse"]
    assert link.transport == "sse"
    dialled.last.open()
    assert dialled.last.sent == [HELLO]  # the hello again, to the next attempt
    assert not memory.prefers_sse(SERVER)  # not on that evidence alone
    dialled.last.frame()
    assert listener.heard == [("opened", 7), ("frame", 7, '{"type":"welcome"}')]
    # Settled on SSE: the probe asks whether the WebSocket gets through, without a seat.
    probe = dialled.last
    assert (probe.transport, probe.connection) == ("websocket", 0)
    probe.open()
    assert probe.sent == [PING]
    probe.lose(1006, "cut again")
    assert memory.prefers_sse(SERVER)
    assert listener.heard[-1] == ("frame", 7, '{"type":"welcome"}')  # the connection goes on
    await turn()
    assert not link.task.done()
    link.close(1000, "bye")
    await turn()
    assert link.task.done()

    # The next connection goes straight to SSE while the memory lasts, then tries again.
    straight = Dialled()
    auto(straight, Listener(), memory).close(1000, "")
    assert straight.kinds() == ["sse"]
    clock.now += 600.0
    again = Dialled()
    auto(again, Listener(), memory).close(1000, "")
    assert again.kinds() == ["websocket"]
    assert not memory.prefers_sse(SERVER)


async def test_a_probe_that_gets_through_ends_the_sse_connection_for_the_websocket(
    memory: TransportMemory,
) -> None:
    """A server that refused the WebSocket only because it was restarting (a browser cannot tell
    refused from blocked), or welcomed slower than the timeout: back to the WebSocket, through an
    ordinary resume (1012), and nothing remembered."""
    dialled, listener = Dialled(), Listener()
    link = auto(dialled, listener, memory)
    sse = welcomed_over_sse(dialled)  # the WebSocket never opened
    probe = dialled.last
    probe.open()
    probe.frame('{"type":"error","code":"invalid_request","message":"hello first"}')
    assert sse.closed is not None
    assert listener.heard[-1] == ("lost", 7, 1012, BACK_TO_WEBSOCKET)
    assert not memory.prefers_sse(SERVER)
    await turn()
    assert link.task.done()
    assert all(inner.task.done() for inner in dialled.links)


async def test_a_silent_probe_is_blocked(memory: TransportMemory) -> None:
    dialled = Dialled()
    link = auto(dialled, Listener(), memory)
    link._timed_out()  # the WebSocket brought nothing in time
    dialled.last.open()
    dialled.last.frame()
    probe = dialled.last
    probe.open()
    probe_of(link)._settle(False)  # its timeout
    assert probe.closed is not None
    assert memory.prefers_sse(SERVER)
    link.close(1000, "")


async def test_the_probe_gives_up_after_the_open_timeout(memory: TransportMemory) -> None:
    """The probe's own timer, armed with the open timeout (the one real timer of these tests:
    a hundredth of a second, waited five times over)."""
    dialled = Dialled()
    link = auto(dialled, Listener(), memory, open_timeout=0.01)
    welcomed_over_sse(dialled)
    probe = dialled.last
    probe.open()  # and silent
    await asyncio.sleep(0.05)
    assert probe.closed is not None
    assert memory.prefers_sse(SERVER)
    link.close(1000, "")


async def test_a_probe_outlives_a_lost_connection_and_a_silent_answer_is_remembered(
    memory: TransportMemory,
) -> None:
    """Behind a silent WebSocket the probe takes the open timeout; a server killed meanwhile must
    not make the next connection wait the silent WebSocket out again. The client closing does
    not wait for the probe."""
    dialled, listener = Dialled(), Listener()
    link = auto(dialled, listener, memory)
    welcomed_over_sse(dialled)
    probe = dialled.last
    probe.open()
    dialled.links[1].lose(None, "the stream ended")
    assert listener.heard[-1] == ("lost", 7, None, "the stream ended")
    assert probe.closed is None  # still asking
    await turn()
    assert link.task.done()  # detached: nothing waits for it
    probe_of(link)._settle(False, True)  # silent for the whole timeout
    assert memory.prefers_sse(SERVER)
    assert listener.heard[-1] == ("lost", 7, None, "the stream ended")  # nothing more said


async def test_after_a_loss_without_an_answer_a_probe_failing_fast_is_not_believed(
    memory: TransportMemory,
) -> None:
    """The server died (the stream ended, no answer): a browser's WebSocket to it fails fast as
    a blocked one would."""
    dialled = Dialled()
    auto(dialled, Listener(), memory)
    welcomed_over_sse(dialled)
    probe = dialled.last
    dialled.links[1].lose(None, "the stream ended")
    probe.lose(1006, "")
    assert not memory.prefers_sse(SERVER)


async def test_a_probe_that_finds_nothing_listening_answers_nothing(
    memory: TransportMemory,
) -> None:
    dialled, listener = Dialled(), Listener()
    link = auto(dialled, listener, memory)
    welcomed_over_sse(dialled)
    probe = dialled.last
    probe.unreachable = True  # type: ignore[attr-defined]  # a link that can tell
    probe.lose(None, "ConnectionRefusedError")
    assert not memory.prefers_sse(SERVER)
    assert listener.heard[-1] == ("frame", 7, '{"type":"welcome"}')  # the connection goes on
    link.close(1000, "")


async def test_a_websocket_not_open_in_time_is_abandoned_for_sse(memory: TransportMemory) -> None:
    dialled, listener = Dialled(), Listener()
    link = auto(dialled, listener, memory)
    link.send(HELLO)
    hanging = dialled.last
    link._timed_out()
    assert hanging.closed is not None
    assert dialled.kinds() == ["websocket", "sse"]
    # What the abandoned WebSocket still says does not count.
    hanging.open()
    hanging.frame()
    hanging.lose(1006)
    assert listener.heard == []
    dialled.last.open()
    assert dialled.last.sent == [HELLO]
    dialled.last.frame()
    assert listener.heard == [("opened", 7), ("frame", 7, '{"type":"welcome"}')]
    assert dialled.kinds() == ["websocket", "sse", "websocket"]  # and the probe
    link.close(1000, "")
    await turn()
    assert link.task.done()


async def test_the_timeout_does_nothing_once_the_websocket_brought_a_frame(
    memory: TransportMemory,
) -> None:
    dialled = Dialled()
    link = auto(dialled, Listener(), memory)
    dialled.last.open()
    dialled.last.frame()
    link._timed_out()
    assert dialled.kinds() == ["websocket"]
    assert dialled.last.closed is None
    link.close(1000, "")


async def test_a_websocket_open_but_silent_past_the_timeout_is_left_for_sse(
    memory: TransportMemory,
) -> None:
    """A proxy that accepts the upgrade and then passes nothing: the page would stay connecting
    until the session's silence timer, and then dial the same silent WebSocket again."""
    dialled = Dialled()
    link = auto(dialled, Listener(), memory)
    silent = dialled.last
    silent.open()
    link._timed_out()
    assert dialled.kinds() == ["websocket", "sse"]
    assert silent.closed is not None
    link.close(1000, "")


async def test_every_attempt_failing_is_one_loss_and_the_task_waits_for_every_link(
    memory: TransportMemory,
) -> None:
    dialled, listener = Dialled(), Listener()
    link = auto(dialled, listener, memory)
    hanging = dialled.last
    hanging.close = lambda code, reason: None  # type: ignore[method-assign]  # slow to end
    link._timed_out()  # the WebSocket hangs: abandoned, its close not yet ended
    dialled.last.lose(None, "refused")
    assert dialled.kinds() == ["websocket", "sse"]
    assert listener.heard == [("lost", 7, None, "refused")]
    await turn()
    assert not link.task.done()  # the abandoned WebSocket is still running
    hanging._end()
    await turn()
    assert link.task.done()
    assert not memory.prefers_sse(SERVER)


async def test_straight_to_sse_on_the_memorys_word_is_probed_and_blocked_extends_it(
    memory: TransportMemory, clock: Clock
) -> None:
    """Welcomed straight over SSE: the network may have changed, so the WebSocket is asked again;
    blocked still, the memory runs from now, and the connection probes again before it ends."""
    memory.websocket_blocked(SERVER)
    clock.now += 300.0
    dialled, listener = Dialled(), Listener()
    link = auto(dialled, listener, memory)
    assert dialled.kinds() == ["sse"]  # no WebSocket within this connection
    dialled.last.open()
    dialled.last.frame()
    probe = dialled.last
    assert (probe.transport, probe.connection) == ("websocket", 0)
    probe.lose(1006, "refused")
    clock.now += 500.0  # 800 s after the first word: still remembered, from the probe
    assert memory.prefers_sse(SERVER)
    reprobe = link._reprobe  # and asked again before the memory runs out
    assert reprobe is not None
    assert reprobe.when() - asyncio.get_running_loop().time() == pytest.approx(540.0, abs=5.0)
    link._start_probe()  # what the timer calls
    assert dialled.kinds() == ["sse", "websocket", "websocket"]
    link.close(1000, "")
    await turn()
    assert link.task.done()


async def test_straight_to_sse_on_the_memorys_word_and_through_goes_back_once_per_guard(
    memory: TransportMemory, clock: Clock
) -> None:
    """The WebSocket answers the probe: back to it (1012, an ordinary resume). A second client
    (or this one, after its WebSocket failed again) within two minutes stays on SSE: a WebSocket
    that a probe gets through but a real connection does not must not send clients round."""
    for round_, expect_back in ((1, True), (2, False)):
        memory.websocket_blocked(SERVER)
        dialled, listener = Dialled(), Listener()
        auto(dialled, listener, memory)
        dialled.last.open()
        dialled.last.frame()
        dialled.last.open()
        dialled.last.frame('{"type":"error","code":"invalid_request","message":"hello first"}')
        assert not memory.prefers_sse(SERVER), round_
        said_back = listener.heard[-1] == ("lost", 7, 1012, BACK_TO_WEBSOCKET)
        assert said_back is expect_back, (round_, listener.heard)
    clock.now += 121.0
    memory.websocket_blocked(SERVER)
    dialled, listener = Dialled(), Listener()
    auto(dialled, listener, memory)
    dialled.last.open()
    dialled.last.frame()
    dialled.last.open()
    dialled.last.frame('{"type":"error"}')
    assert listener.heard[-1] == ("lost", 7, 1012, BACK_TO_WEBSOCKET)


async def test_an_sse_refusal_starts_no_probe(memory: TransportMemory) -> None:
    """Refused over HTTP (rate limited, say): the error frame settles the attempt, but says
    nothing about the WebSocket, and a probe would be refused too and read as blocked."""
    dialled, listener = Dialled(), Listener()
    link = auto(dialled, listener, memory)
    welcomed_over_sse(dialled, '{"type":"error","code":"rate_limited","message":"later"}')
    assert dialled.kinds() == ["websocket", "sse"]
    assert link._probe is None
    link.close(1000, "")


async def test_straight_to_sse_on_the_memorys_word_and_no_answer_keeps_it(
    memory: TransportMemory,
) -> None:
    """No answer at all (the server down, restarting) says nothing about the WebSocket: each dial
    of an outage must not wait a silent WebSocket out again before SSE."""
    memory.websocket_blocked(SERVER)
    dialled, listener = Dialled(), Listener()
    auto(dialled, listener, memory)
    dialled.last.lose(None, "refused")
    assert dialled.kinds() == ["sse"]
    assert listener.heard == [("lost", 7, None, "refused")]
    assert memory.prefers_sse(SERVER)


@pytest.mark.parametrize("phase", ["dialling", "websocket open", "sse", "settled", "probing"])
async def test_close_in_any_phase_closes_the_attempt_and_reports_nothing(
    memory: TransportMemory, phase: str
) -> None:
    dialled, listener = Dialled(), Listener()
    link = auto(dialled, listener, memory)
    link.send(HELLO)
    if phase != "dialling":
        dialled.last.open()
    if phase in ("sse", "probing"):
        dialled.last.lose(None, "cut")
    if phase in ("settled", "probing"):
        dialled.last.frame()
    before = list(listener.heard)
    current = dialled.links[1] if phase == "probing" else dialled.last
    link.close(1000, "bye")
    assert current.closed == (1000, "bye")
    current.lose(1000, "closed")  # a link that reports its end after the close: not heard
    link._timed_out()  # a timer that fires late: nothing
    assert listener.heard == before
    assert len(dialled.links) == {"sse": 2, "probing": 3}.get(phase, 1)
    await turn()
    assert link.task.done()
    assert all(inner.task.done() for inner in dialled.links)


async def test_a_websocket_finding_nothing_listening_is_lost_without_sse(
    memory: TransportMemory,
) -> None:
    # A restarting server: SSE would go to the same address, and if the server came back in
    # between, the WebSocket would be remembered as blocked for nothing.
    dialled, listener = Dialled(), Listener()
    link = auto(dialled, listener, memory)
    dialled.last.unreachable = True  # type: ignore[attr-defined]  # a link that can tell
    dialled.last.lose(None, "ConnectionRefusedError")
    assert dialled.kinds() == ["websocket"]
    assert listener.heard == [("lost", 7, None, "ConnectionRefusedError")]
    await turn()
    assert link.task.done()


@pytest.mark.parametrize(
    ("error", "unreachable"),
    [
        (ConnectionRefusedError(errno.ECONNREFUSED, "Connect call failed"), True),
        (OSError(errno.EHOSTUNREACH, "No route to host"), True),
        (socket.gaierror(socket.EAI_NONAME, "Name or service not known"), True),
        (
            OSError(
                "Multiple exceptions: [Errno 111] Connect call failed ('127.0.0.1', 1), "
                "[Errno 111] Connect call failed ('::1', 1)"
            ),
            True,
        ),
        (
            OSError(
                "Multiple exceptions: [Errno 111] Connect call failed, [Errno 99] Cannot assign"
            ),
            False,
        ),
        (ConnectionResetError(errno.ECONNRESET, "reset"), False),  # something answered
        (TimeoutError(), False),
        (ValueError("not an OSError"), False),
    ],
)
def test_which_dial_failures_mean_nothing_listens(error: BaseException, unreachable: bool) -> None:
    assert ws_link._unreachable(error) is unreachable
