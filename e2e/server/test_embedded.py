"""rejoin embedded in another app: the example host app (examples/embedded, rejoin under /games)
runs as a real uvicorn process; two SDK clients whose base URL is `http://127.0.0.1:PORT/games`
play; the process is SIGKILLed mid-hand and started again; both clients resume by themselves with
the exact state they had, and every event reaches each once (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from e2e.support.embedded import PREFIX, example_host, origin
from e2e.support.poker import without_presence
from rejoin import GameClient, MemoryTokenStore, SessionState
from rejoin_protocol.session_outputs import StatusChanged
from rejoin_testkit.api import Api
from rejoin_testkit.processes import ServerProcess

WAIT_S = 30.0  # an upper bound for hangs, never a measure of anything


@pytest.fixture
def host(tmp_path: Path, db_url: str) -> Iterator[ServerProcess]:
    server = example_host(tmp_path / "host.log", db_url)
    try:
        server.start_ready()
        yield server
    finally:
        server.cleanup()


class Seat:
    """One SDK client at the table, with every event its application took and its status."""

    def __init__(self, name: str, base_url: str, game_id: str) -> None:
        self.name = name
        self.client = GameClient(base_url, game_id, store=MemoryTokenStore())
        self.events: list[dict[str, Any]] = []
        self.offline = asyncio.Event()
        self.back = asyncio.Event()
        self.client.on_status(self._status)
        self._collector: asyncio.Task[None] | None = None

    def _status(self, change: StatusChanged) -> None:
        if change.current is SessionState.BACKING_OFF:
            self.offline.set()
        elif change.current is SessionState.CONNECTED and self.offline.is_set():
            self.back.set()

    async def sit(self, arrived: asyncio.Condition) -> None:
        await self.client.join(self.name)
        await self.client.connect()
        self._collector = asyncio.create_task(self._collect(arrived))

    async def _collect(self, arrived: asyncio.Condition) -> None:
        async for event in self.client.events():
            async with arrived:
                self.events.append(event)
                arrived.notify_all()

    def has(self, count: int) -> Callable[[], bool]:
        """Whether the application has taken `count` events (for `Condition.wait_for`)."""
        return lambda: len(self.events) >= count

    async def leave(self) -> None:
        await self.client.close()
        if self._collector is not None:
            await self._collector


def server_events(api: Api, seat: Seat) -> list[dict[str, Any]]:
    """The server's log as `seat`'s player may read it."""
    answer = api.events(seat.client.game_id, seat.client.session_token, after=0).ok(200)
    events: list[dict[str, Any]] = answer["events"]
    return events


async def act_passively(seats: list[Seat]) -> None:
    """The seat to act checks, else calls."""
    for seat in seats:
        view = await seat.client.fetch_state()
        if view["toAct"] == seat.client.seat:
            legal = {action["type"] for action in view["you"]["legalActions"]}
            result = await seat.client.act("check" if "check" in legal else "call")
            assert not result.duplicate
            return
    raise AssertionError("nobody is to act")


async def test_the_example_host_app_resumes_both_players_after_kill9(host: ServerProcess) -> None:
    assert host.url.endswith(PREFIX)
    # The host's own page is there beside rejoin.
    async with httpx.AsyncClient() as http:
        assert "My site" in (await http.get(f"{origin(host)}/", timeout=5)).text
    api = Api(host.url)  # its requests go under /games
    try:
        game_id = api.create_game(seats=2, actionTimeoutMs=600_000, autoNextHand=False).ok(201)
        seats = [Seat(name, host.url, game_id["gameId"]) for name in ("alice", "bob")]
        arrived = asyncio.Condition()
        for seat in seats:
            await seat.sit(arrived)
        alice = seats[0]
        api.start(alice.client.game_id, alice.client.session_token).ok(200)
        for _ in range(3):  # preflop call and check, a check on the flop
            await act_passively(seats)
        before = {seat.name: await seat.client.fetch_state() for seat in seats}

        host.kill9()
        async with asyncio.timeout(WAIT_S):
            for seat in seats:
                await seat.offline.wait()
        await asyncio.to_thread(host.restart)
        api.reset()  # its pooled connections died with the process
        async with asyncio.timeout(WAIT_S):
            for seat in seats:
                await seat.back.wait()

        for seat in seats:
            # The welcome brought back exactly the view the player had before the kill (who is
            # connected is presence, not game state: the other may not be back yet).
            assert seat.client.state is not None
            assert without_presence(seat.client.state) == without_presence(before[seat.name])
            resume = seat.client.last_resume
            assert resume is not None
            assert resume.outage is not None
            assert not resume.resync
        # The hand plays on to its end over the new connections.
        while (await alice.client.fetch_state())["toAct"] is not None:
            await act_passively(seats)
        final = await alice.client.fetch_state()
        assert final["phase"] == "hand_over", final

        for seat in seats:
            expected = server_events(api, seat)
            async with asyncio.timeout(WAIT_S), arrived:
                await arrived.wait_for(seat.has(len(expected)))
            # Every event once, in order, none lost, over two processes' connections.
            assert seat.events == expected, seat.name
            assert [e["seq"] for e in seat.events] == list(range(1, final["seq"] + 1))
            assert seat.events[-1]["kind"] == "hand_ended"
        for seat in seats:
            await seat.leave()
    finally:
        api.close()
