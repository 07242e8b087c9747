"""The database thread, with a scripted backend: grouping, isolation of a bad item, reconnects."""

from __future__ import annotations

import asyncio

import pytest

from rejoin_server.errors import StorageUnavailable
from rejoin_server.store.worker import DbWorker


class Lost(Exception):
    """What the scripted driver raises for a dropped connection."""


class ScriptedBackend:
    def __init__(self) -> None:
        self.connects = 0
        self.disconnects = 0
        self.batches: list[list[str]] = []
        self.fail_next_with: Exception | None = None

    def connect(self) -> int:
        self.connects += 1
        return self.connects

    def disconnect(self, conn: int) -> None:
        self.disconnects += 1

    def write_batch(self, conn: int, items: list[str]) -> None:
        self.batches.append(list(items))
        if self.fail_next_with is not None:
            error, self.fail_next_with = self.fail_next_with, None
            raise error
        if "bad" in items:
            raise ValueError("bad item")

    def is_connection_error(self, exc: BaseException) -> bool:
        return isinstance(exc, Lost)


async def test_writes_queued_together_are_committed_as_one_batch() -> None:
    backend = ScriptedBackend()
    worker: DbWorker[int, str] = DbWorker(backend, "test-writer")
    writes = [asyncio.ensure_future(worker.write(f"item{i}")) for i in range(50)]
    await asyncio.sleep(0)  # let every write reach the queue before the thread starts
    worker.start()
    await asyncio.gather(*writes)
    await worker.stop()
    assert backend.batches == [[f"item{i}" for i in range(50)]]


async def test_a_bad_item_fails_alone() -> None:
    backend = ScriptedBackend()
    worker: DbWorker[int, str] = DbWorker(backend, "test-writer")
    writes = [asyncio.ensure_future(worker.write(name)) for name in ("a", "bad", "c")]
    await asyncio.sleep(0)
    worker.start()
    results = await asyncio.gather(*writes, return_exceptions=True)
    await worker.stop()
    assert results[0] is None
    assert isinstance(results[1], ValueError)
    assert results[2] is None
    assert backend.batches == [["a", "bad", "c"], ["a"], ["bad"], ["c"]]


async def test_a_lost_connection_is_storage_unavailable_then_reconnects() -> None:
    backend = ScriptedBackend()
    worker: DbWorker[int, str] = DbWorker(backend, "test-writer")
    worker.start()
    backend.fail_next_with = Lost("server closed the connection")
    with pytest.raises(StorageUnavailable) as caught:
        await worker.write("x")
    # The driver's words go to the log (`problem`), never to clients (`message`).
    assert "server closed the connection" in caught.value.problem
    assert "server closed" not in caught.value.message
    await worker.write("y")
    await worker.stop()
    assert (backend.connects, backend.disconnects) == (2, 2)
    assert backend.batches == [["x"], ["y"]]


async def test_calls_and_writes_run_in_the_order_they_were_queued() -> None:
    backend = ScriptedBackend()
    worker: DbWorker[int, str] = DbWorker(backend, "test-writer")
    jobs = [
        asyncio.ensure_future(worker.write("w1")),
        asyncio.ensure_future(worker.write("w2")),
        asyncio.ensure_future(worker.call(lambda conn: len(backend.batches))),
        asyncio.ensure_future(worker.write("w3")),
    ]
    await asyncio.sleep(0)
    worker.start()
    results = await asyncio.gather(*jobs)
    await worker.stop()
    assert results[2] == 1  # the call ran after the first batch and before the second
    assert backend.batches == [["w1", "w2"], ["w3"]]


async def test_a_failing_call_reaches_its_caller_and_the_thread_goes_on() -> None:
    backend = ScriptedBackend()
    worker: DbWorker[int, str] = DbWorker(backend, "test-reader")
    worker.start()

    def boom(conn: int) -> int:
        raise KeyError("nope")

    with pytest.raises(KeyError):
        await worker.call(boom)
    assert await worker.call(lambda conn: conn * 10) == 10
    await worker.stop()


async def test_batched_items_of_one_kind_run_together_and_each_gets_its_own_result() -> None:
    """Token uses are batched like appends (a reconnect storm is a thousand of them at once), but
    never mixed with appends: each kind has its own batch function and its own results."""
    backend = ScriptedBackend()
    calls: list[list[int]] = []

    def double(conn: int, items: list[int]) -> list[int]:
        calls.append(list(items))
        if -1 in items:
            raise ValueError("a bad number")
        return [2 * item for item in items]

    worker: DbWorker[int, str] = DbWorker(backend, "test-writer")
    jobs = [
        asyncio.ensure_future(worker.batched(double, 1)),
        asyncio.ensure_future(worker.batched(double, 2)),
        asyncio.ensure_future(worker.write("w1")),
        asyncio.ensure_future(worker.batched(double, 3)),
        asyncio.ensure_future(worker.batched(double, -1)),
        asyncio.ensure_future(worker.batched(double, 4)),
    ]
    await asyncio.sleep(0)
    worker.start()
    results = await asyncio.gather(*jobs, return_exceptions=True)
    await worker.stop()
    assert results[:4] == [2, 4, None, 6]
    assert isinstance(results[4], ValueError)
    assert results[5] == 8
    # In queue order: [1, 2], the append, then [3, -1, 4] which fails and is retried one by one.
    assert calls == [[1, 2], [3, -1, 4], [3], [-1], [4]]
    assert backend.batches == [["w1"]]
