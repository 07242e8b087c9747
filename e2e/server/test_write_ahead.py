"""Write-ahead under load: several tables play at once, the server is killed -9 in the middle of it,
and every action any client saw acknowledged is in the log after the restart (docs/architecture.md)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
import pytest

from e2e.support.poker import assert_gapless
from rejoin_testkit.api import Api
from rejoin_testkit.polling import wait_for
from rejoin_testkit.processes import ServerProcess
from rejoin_testkit.tables import Move, Table

TABLES = 4
ACKS_BEFORE_KILL = 40
TABLE = {"seats": 3, "actionTimeoutMs": 600_000, "autoNextHand": False}


@dataclass
class Worker:
    table: Table
    acked: list[Move] = field(default_factory=list)
    error: str | None = None

    def run(self, stop: threading.Event) -> None:
        """Play passively (starting hands as they end) until stopped or the server dies."""
        try:
            while not stop.is_set():
                if self.table.view()["toAct"] is None:
                    self.table.start()
                    continue
                self.acked.append(self.table.act_passively())
        except (httpx.TransportError, AssertionError) as exc:
            if not stop.is_set():
                self.error = f"{type(exc).__name__}: {exc}"


@pytest.mark.slow
def test_no_acknowledged_action_is_lost_to_kill9_under_load(
    server: ServerProcess, make_api: Callable[[ServerProcess], Api]
) -> None:
    workers = []
    for _ in range(TABLES):
        table = Table.create(make_api(server), **TABLE)
        table.join_many(3)
        table.start()
        workers.append(Worker(table))
    stop = threading.Event()
    threads = [threading.Thread(target=w.run, args=(stop,), daemon=True) for w in workers]
    for thread in threads:
        thread.start()
    wait_for(
        lambda: (
            sum(len(w.acked) for w in workers) >= ACKS_BEFORE_KILL or any(w.error for w in workers)
        ),
        timeout=60,
        what=f"{ACKS_BEFORE_KILL} acknowledged actions",
    )
    assert not [w.error for w in workers if w.error], [w.error for w in workers]
    server.kill9()
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    server.restart()

    for worker in workers:
        api = worker.table.api
        api.reset()
        log = worker.table.players[0].events(after=0)
        assert_gapless(log)
        assert worker.acked, "every table played"
        for move in worker.acked:
            assert move.ack["seq"] <= len(log), f"acked seq {move.ack['seq']} lost: {move}"
            again = move.player.act(move.type, action_id=move.action_id).ok(200)
            assert again["duplicate"] is True, again
            assert again["seq"] == move.ack["seq"]
        assert worker.table.view()["seq"] == len(log)
