"""HTTP by hand, for the tests of abusive clients: sockets that send part of a request and stall,
trickle it a byte at a time, or hang up mid-body, and the time until the server answers or closes.

`Flood` holds many such sockets at once (the slowloris of issue 12) and sorts them, without
blocking, into those the server answered (and what with), those it closed, and those it holds.
`until_closed` follows one socket, optionally sending a byte now and then, and says when the
server closed it.
"""

from __future__ import annotations

import contextlib
import resource
import selectors
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

HOST = "127.0.0.1"
# The start of a request whose headers never end (no blank line).
UNFINISHED_HEADERS = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: stalled\r\n"
HEALTHZ = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


def dial(port: int, first: bytes = b"", timeout: float = 5.0) -> socket.socket:
    """A connected socket that has sent `first`."""
    sock = socket.create_connection((HOST, port), timeout=timeout)
    if first:
        sock.sendall(first)
    return sock


@contextlib.contextmanager
def open_files_at_least(count: int) -> Iterator[None]:
    """Raise this process's soft open-file limit to `count` for the block (a flood of 1,100
    sockets needs more than the usual 1,024). Fails, never skips, when the hard limit is lower."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < count:
        raise AssertionError(
            f"this test needs {count} open files and the hard limit is {hard}: raise it "
            f"(ulimit -Hn {count}) to run it"
        )
    if soft != resource.RLIM_INFINITY and soft < count:
        resource.setrlimit(resource.RLIMIT_NOFILE, (count, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@dataclass(slots=True)
class Answer:
    """What a socket got: the bytes, and when the server closed it (None: still open)."""

    data: bytes = b""
    closed_at: float | None = None

    @property
    def status(self) -> int | None:
        """The HTTP status of the answer's first line, None before one arrived."""
        line = self.data.split(b"\r\n", 1)[0].split()
        return int(line[1]) if len(line) >= 2 and line[0].startswith(b"HTTP/") else None


def read_answer(sock: socket.socket, timeout: float) -> tuple[Answer, float]:
    """Read until the server closes `sock` (or `timeout`); the answer and the seconds it took
    for its first byte or the close, whichever came first."""
    began = time.monotonic()
    answer = Answer()
    first: float | None = None
    sock.settimeout(timeout)
    while answer.closed_at is None:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            break
        except ConnectionResetError:
            chunk = b""
        now = time.monotonic()
        if first is None:
            first = now - began
        if not chunk:
            answer.closed_at = now
        answer.data += chunk
    return answer, (first if first is not None else time.monotonic() - began)


def until_closed(
    sock: socket.socket, timeout: float, *, trickle: bytes = b"", every: float = 1.0
) -> tuple[float, bytes]:
    """Seconds until the server closes `sock`, sending the next byte of `trickle` every `every`
    seconds meanwhile; and what it sent before closing. Fails if it is still open at `timeout`."""
    began = time.monotonic()
    deadline = began + timeout
    received = b""
    pending = trickle
    next_send = began + every
    while True:
        now = time.monotonic()
        if now >= deadline:
            raise AssertionError(
                f"the server did not close the connection within {timeout} s "
                f"(it sent {received[:200]!r})"
            )
        wake = min(deadline, next_send) if pending else deadline
        sock.settimeout(max(wake - now, 0.001))
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            pass  # time to send the next byte, or to give up
        except ConnectionResetError:
            return time.monotonic() - began, received
        else:
            if not chunk:
                return time.monotonic() - began, received
            received += chunk
            continue
        if pending and time.monotonic() >= next_send:
            try:
                sock.send(pending[:1])
            except (BrokenPipeError, ConnectionResetError):
                return time.monotonic() - began, received
            pending = pending[1:]
            next_send += every


@dataclass
class Flood:
    """`count` sockets that each send `opening` and nothing more."""

    port: int
    count: int
    opening: bytes = UNFINISHED_HEADERS
    sockets: list[socket.socket] = field(default_factory=list)
    answers: dict[int, Answer] = field(default_factory=dict)
    _selector: selectors.DefaultSelector = field(default_factory=selectors.DefaultSelector)

    def start(self) -> Flood:
        for _ in range(self.count):
            sock = dial(self.port, self.opening)
            sock.setblocking(False)
            self.sockets.append(sock)
            self.answers[sock.fileno()] = Answer()
            self._selector.register(sock, selectors.EVENT_READ)
        return self

    def poll(self) -> None:
        """Read what has arrived, without waiting."""
        for key, _ in self._selector.select(timeout=0):
            sock = key.fileobj
            assert isinstance(sock, socket.socket)
            answer = self.answers[sock.fileno()]
            try:
                chunk = sock.recv(65536)
            except BlockingIOError:
                continue
            except ConnectionResetError:
                chunk = b""
            answer.data += chunk
            if not chunk:
                answer.closed_at = time.monotonic()
                self._selector.unregister(sock)

    def with_status(self, status: int) -> int:
        return sum(1 for a in self.answers.values() if a.status == status)

    @property
    def closed(self) -> int:
        return sum(1 for a in self.answers.values() if a.closed_at is not None)

    @property
    def held(self) -> int:
        """Sockets the server neither answered nor closed."""
        return sum(1 for a in self.answers.values() if a.closed_at is None and not a.data)

    def close(self) -> None:
        self._selector.close()
        for sock in self.sockets:
            sock.close()
