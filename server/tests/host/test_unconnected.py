"""`LiveGame.unconnected`: the players who joined while the game was in memory here and have not
connected since (their first `hello` is no resume for the console), bounded and gone with the
game."""

from __future__ import annotations

import pytest

from rejoin_server.games.base import Join
from rejoin_server.host import live as live_module
from rejoin_server.host.host import GameHost

from .support import new_table


async def test_a_join_marks_the_seat_and_its_first_connection_clears_it(host: GameHost) -> None:
    game_id, (p0, p1) = await new_table(host, 2)
    live = host.loaded(game_id)
    assert live is not None
    assert live.unconnected == {p0, p1}
    stream = host.subscribe(live, p0)  # an SSE stream counts as connected at once
    assert live.unconnected == {p1}
    host.unsubscribe(live, stream)
    assert live.unconnected == {p1}  # connected once: not a first connection any more
    # Dropped from memory, the game forgets it: loaded again, nobody joined in this copy.
    host.forget(game_id)
    again = await host.get(game_id)
    assert again.unconnected == set()


async def test_players_gone_without_connecting_are_pruned(
    host: GameHost, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live_module, "UNCONNECTED_PRUNED_AT", 2)
    game_id, (p0, p1) = await new_table(host, 2, seats=4)
    live = host.loaded(game_id)
    assert live is not None
    live.unconnected.add("left-the-table")  # joined once, no longer seated
    await host.execute(game_id, Join("p2", "P2"))
    assert live.unconnected == {p0, p1, "p2"}
