"""`StoredUsage`: the store's usage measured at most every `MAX_AGE_MS`, one query at a time,
on a clock the test moves."""

from __future__ import annotations

import asyncio

import pytest

from rejoin_server.console.usage import MAX_AGE_MS, StoredUsage
from rejoin_server.errors import StorageUnavailable
from rejoin_server.store.base import Usage


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000_000

    def __call__(self) -> int:
        return self.now


class Store:
    """`usage` that counts its calls, each held until the test lets it answer."""

    def __init__(self) -> None:
        self.calls = 0
        self.release = asyncio.Event()
        self.fail = False

    async def usage(self) -> Usage:
        self.calls += 1
        await self.release.wait()
        if self.fail:
            raise StorageUnavailable("scripted outage")
        return Usage(games=self.calls, bytes=100 * self.calls, snapshots=0)


async def test_a_measure_is_answered_again_until_it_is_too_old() -> None:
    clock, store = Clock(), Store()
    store.release.set()
    usage = StoredUsage(store.usage, clock)
    first = await usage.get()
    assert (first.usage.games, first.at_ms) == (1, clock.now)
    clock.now += MAX_AGE_MS - 1
    assert await usage.get() is first
    assert store.calls == 1
    clock.now += 1
    second = await usage.get()
    assert (second.usage.games, second.at_ms, store.calls) == (2, clock.now, 2)


async def test_callers_at_once_share_one_query() -> None:
    clock, store = Clock(), Store()
    usage = StoredUsage(store.usage, clock)
    waiting = [asyncio.ensure_future(usage.get()) for _ in range(5)]
    for _ in range(10):  # every caller and the query have run up to their waits
        await asyncio.sleep(0)
    assert store.calls == 1
    # One caller gives up (its tab closed): the others still get the answer.
    waiting[0].cancel()
    store.release.set()
    answers = await asyncio.gather(*waiting[1:])
    assert {id(a) for a in answers} == {id(answers[0])}
    assert store.calls == 1


async def test_a_failed_measure_is_not_kept() -> None:
    clock, store = Clock(), Store()
    store.release.set()
    store.fail = True
    usage = StoredUsage(store.usage, clock)
    with pytest.raises(StorageUnavailable):
        await usage.get()
    store.fail = False
    measured = await usage.get()  # the store is back: measured again at once
    assert (measured.usage.games, store.calls) == (2, 2)
