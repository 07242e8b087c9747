"""A database thread: one connection, jobs run in order, ready writes committed together.

Why a thread: the drivers are blocking, and the event loop must never wait on the database. Why one
connection per thread: SQLite allows one writer at a time anyway, and on PostgreSQL a single writer
that commits everything ready in one transaction (group commit) does more actions per second than
many writers each paying for its own commit.

Jobs are either *calls* (a function run in its own transaction) or *batched* items: appends (the
backend's `write_batch`) and any other kind a caller gives a batch function for (token uses: a
reconnect storm after a restart consumes a thousand tokens at once, and one transaction for all of
them beats a thousand commits). Consecutive items of one kind found in the queue form one batch.
When a batch fails for a reason that is not the connection (say one game's seq conflicts), each
item is retried alone, so one bad item never fails the others.

Thread hops per durable action: two, whatever the batch holds. The loop puts the item on the queue
(the thread wakes), and the thread hands a batch's results back with one `call_soon_threadsafe`
per event loop. Between them, each wait on the database releases the GIL and takes it back
afterwards: on a busy loop that taking back can wait up to the interpreter's switch interval, one
more reason for one round trip per batch (`store.appends`).
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from rejoin_server.errors import StorageUnavailable

log = logging.getLogger(__name__)

C = TypeVar("C")  # the connection type of a backend
W = TypeVar("W")  # a write item
T = TypeVar("T")
Item = TypeVar("Item")  # an item of a batch
Result = TypeVar("Result")  # what one item of a batch comes to

# Enough to amortise a commit, small enough that one transaction never holds locks for long.
MAX_BATCH = 512


class Backend(Protocol[C, W]):
    """What a worker needs from a database: how to connect, write a batch, and read failures."""

    def connect(self) -> C: ...

    def disconnect(self, conn: C) -> None: ...

    def write_batch(self, conn: C, items: list[W]) -> None:
        """Write every item in one transaction and commit; on any error roll back and raise."""
        ...

    def is_connection_error(self, exc: BaseException) -> bool:
        """True when `exc` means the database is unreachable, so the connection must be replaced."""
        ...


@dataclass(slots=True)
class _Call:
    fn: Callable[[Any], Any]
    future: asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop


# Runs a batch of items in one transaction; returns one result per item (None: all None).
BatchFn = Callable[[Any, list[Any]], "list[Any] | None"]


@dataclass(slots=True)
class _Write:
    item: Any
    future: asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop
    batch: BatchFn


_STOP = object()


def _resolve(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.done():  # the caller was cancelled; nobody is waiting
        return
    if error is None:
        future.set_result(result)
    else:
        future.set_exception(error)


def _resolve_all(writes: list[_Write], results: list[Any], error: BaseException | None) -> None:
    """One wake-up of each event loop for the whole batch, not one per item. Never raises: the
    thread must outlive a bad batch function and a closed loop."""
    if error is None and len(results) != len(writes):
        error = RuntimeError(f"a batch of {len(writes)} gave {len(results)} results")
        results = [None] * len(writes)
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], Any]]] = {}
    for write, result in zip(writes, results, strict=True):
        by_loop.setdefault(write.loop, []).append((write.future, result))
    for loop, pairs in by_loop.items():
        try:
            loop.call_soon_threadsafe(_resolve_many, pairs, error)
        except RuntimeError:  # that loop is closed: nobody there waits any more
            log.debug("a batch's results arrived after its event loop closed")


def _resolve_many(
    pairs: list[tuple[asyncio.Future[Any], Any]], error: BaseException | None
) -> None:
    for future, result in pairs:
        _resolve(future, result, error)


class DbWorker(Generic[C, W]):
    def __init__(self, backend: Backend[C, W], name: str) -> None:
        self._backend = backend
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._conn: C | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    async def stop(self) -> None:
        """Run what is queued, then close the connection and end the thread."""
        if not self._thread.is_alive():
            return
        self._queue.put(_STOP)
        await asyncio.to_thread(self._thread.join)

    async def call(self, fn: Callable[[C], T]) -> T:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._queue.put(_Call(fn, future, loop))
        return await future

    async def write(self, item: W) -> None:
        await self.batched(self._backend.write_batch, item)

    async def batched(
        self, batch: Callable[[C, list[Item]], list[Result] | None], item: Item
    ) -> Result:
        """Run `item` with whatever items of the same `batch` function are queued beside it, in
        one call of `batch` (one transaction); this item's result."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Result] = loop.create_future()
        self._queue.put(_Write(item, future, loop, batch))
        return await future

    # --- the thread ------------------------------------------------------------------------------

    def _run(self) -> None:
        stopping = False
        while not stopping:
            jobs = [self._queue.get()]
            while len(jobs) < MAX_BATCH:
                try:
                    jobs.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            if _STOP in jobs:
                stopping = True
                jobs = [job for job in jobs if job is not _STOP]
            self._run_jobs(jobs)
        self._drop_connection()

    def _run_jobs(self, jobs: list[Any]) -> None:
        index = 0
        while index < len(jobs):
            job = jobs[index]
            if isinstance(job, _Call):
                self._run_call(job)
                index += 1
                continue
            end = index
            while (
                end < len(jobs) and isinstance(jobs[end], _Write) and jobs[end].batch == job.batch
            ):
                end += 1
            self._run_writes(jobs[index:end])
            index = end

    def _run_call(self, job: _Call) -> None:
        try:
            result = job.fn(self._connection())
        except Exception as exc:  # every failure goes back to the caller, never kills the thread
            job.loop.call_soon_threadsafe(_resolve, job.future, None, self._translate(exc))
        else:
            job.loop.call_soon_threadsafe(_resolve, job.future, result, None)

    def _run_writes(self, writes: list[_Write]) -> None:
        try:
            results = writes[0].batch(self._connection(), [w.item for w in writes])
        except Exception as exc:
            error = self._translate(exc)
            if len(writes) == 1 or isinstance(error, StorageUnavailable):
                _resolve_all(writes, [None] * len(writes), error)
                return
            for w in writes:  # isolate the item that failed the batch
                self._run_writes([w])
            return
        _resolve_all(writes, results or [None] * len(writes), None)

    def _connection(self) -> C:
        if self._conn is None:
            self._conn = self._backend.connect()
        return self._conn

    def _drop_connection(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            try:
                self._backend.disconnect(conn)
            except Exception:  # a dead connection may fail to close; it is gone either way
                log.debug("closing a broken connection failed", exc_info=True)

    def _translate(self, exc: Exception) -> Exception:
        if isinstance(exc, StorageUnavailable):
            self._drop_connection()
            return exc
        if self._backend.is_connection_error(exc):
            self._drop_connection()
            return StorageUnavailable(f"{type(exc).__name__}: {str(exc).strip() or 'no detail'}")
        return exc
