"""Fixtures of the host tests: a scripted store, a clock the test moves, hosts stopped at the end."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from rejoin_server.games.kinds import GameKinds
from rejoin_server.games.poker import PokerEngine
from rejoin_server.host import writer as writer_module
from rejoin_server.host.host import GameHost
from rejoin_server.metrics import Metrics
from rejoin_server.settings import ServerSettings

from .scripted_store import ScriptedStore
from .support import FakeClock, HostFactory


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(writer_module, "FIRST_RETRY_S", 0.001)
    monkeypatch.setattr(writer_module, "MAX_RETRY_S", 0.002)


@pytest.fixture
def store() -> ScriptedStore:
    return ScriptedStore()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def make_host(store: ScriptedStore, clock: FakeClock) -> AsyncIterator[HostFactory]:
    """`make_host(store=…, clock=…, **settings)`: a host, stopped at the end of the test."""
    hosts: list[GameHost] = []

    def make(
        on: ScriptedStore | None = None, at: FakeClock | None = None, **settings: Any
    ) -> GameHost:
        host = GameHost(
            on or store,
            GameKinds([PokerEngine()]),
            ServerSettings(**settings),
            Metrics(),
            clock=at or clock,
        )
        hosts.append(host)
        return host

    yield make
    for host in hosts:
        await host.stop(flush_timeout_s=1.0)


@pytest.fixture
def host(make_host: HostFactory) -> GameHost:
    return make_host()
