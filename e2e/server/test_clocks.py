"""Action clocks survive a kill -9: a deadline that passed while the server was down fires once the
server is back, without anybody touching the game (background load of games that are mid-hand)."""

from __future__ import annotations

import time

import pytest

from e2e.support.databases import Rows
from e2e.support.poker import assert_gapless
from rejoin_testkit.api import Api
from rejoin_testkit.polling import wait_for
from rejoin_testkit.processes import ServerProcess
from rejoin_testkit.tables import Table

CLOCK_MS = 2000
FIRE_WITHIN_S = 5.0


@pytest.mark.slow
def test_an_expired_clock_fires_once_after_restart_untouched(
    server: ServerProcess, api: Api, db_url: str
) -> None:
    table = Table.create(api, seats=2, actionTimeoutMs=CLOCK_MS, autoNextHand=False)
    table.join_many(2)
    table.start()
    view = table.view()
    seat, deadline_ms = view["toAct"], view["actionDeadline"]
    assert isinstance(seat, int)
    assert isinstance(deadline_ms, int), "actionDeadline is ms since the epoch"
    assert 0 < deadline_ms - time.time() * 1000 <= CLOCK_MS + 1000
    # Heads-up preflop the first to act faces the big blind: a timeout folds and ends the hand,
    # so with autoNextHand off no other clock can run after it.
    legal = {a["type"] for a in table.by_seat(seat).view()["you"]["legalActions"]}
    assert "check" not in legal

    server.kill9()
    # The deadline passes while the server is down (nothing to poll: it is down).
    time.sleep(max(0.0, deadline_ms / 1000 - time.time()) + 0.3)
    server.restart()

    # Watch the database, not the API: an API call would load the game on first touch.
    rows = Rows(db_url)

    def timeouts() -> list[dict[str, object]] | None:
        found = [e for e in rows.events(table.game_id) if e["kind"] == "timeout"]
        return found or None

    fired = wait_for(
        timeouts,
        timeout=FIRE_WITHIN_S,
        what="the expired clock to fire a timeout event after the restart",
        interval=0.05,
        detail=server.log_tail,
    )
    assert len(fired) == 1, fired
    event = fired[0]
    assert event["data"] == {"seat": seat, "action": "fold"}
    assert isinstance(event["at"], int)
    assert event["at"] >= deadline_ms

    # Now look through the API: exactly one timeout, the hand is over, the log is whole.
    api.reset()
    log = table.players[0].events(after=0)
    assert_gapless(log)
    assert [e for e in log if e["kind"] == "timeout"] == fired
    after = table.view()
    assert after["toAct"] is None
    assert after["phase"] == "hand_over"
    assert after["actionDeadline"] is None
    assert len([e for e in rows.events(table.game_id) if e["kind"] == "timeout"]) == 1


@pytest.mark.slow
def test_a_running_clock_goes_on_from_where_it_was(server: ServerProcess, api: Api) -> None:
    """Killed with time left on the clock: after the restart the deadline is the same absolute
    time, not a fresh full clock."""
    table = Table.create(api, seats=2, actionTimeoutMs=60_000, autoNextHand=False)
    table.join_many(2)
    table.start()
    before = table.view()
    server.kill9()
    server.restart()
    api.reset()
    after = table.view()
    assert after["actionDeadline"] == before["actionDeadline"]
    assert after["toAct"] == before["toAct"]
