"""What the host tests share besides fixtures: the clock they move, the host factory type, and
tables to play on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rejoin_server.games.base import Join, Start
from rejoin_server.host.host import GameHost
from rejoin_server.host.live import LiveGame

T0 = 1_700_000_000_000


class FakeClock:
    def __init__(self, now: int = T0) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now

    def advance(self, ms: int) -> None:
        self.now += ms


HostFactory = Callable[..., GameHost]


async def new_table(host: GameHost, players: int = 2, **settings: Any) -> tuple[str, list[str]]:
    """A table with `players` seated (player ids p0, p1 …, seats 0, 1 …)."""
    live = await host.create_game(settings)
    ids = [f"p{i}" for i in range(players)]
    for player in ids:
        await host.execute(live.game_id, Join(player, player.upper()))
    return live.game_id, ids


async def started_table(host: GameHost, players: int = 2, **settings: Any) -> tuple[str, list[str]]:
    game_id, ids = await new_table(host, players, **settings)
    await host.execute(game_id, Start(ids[0]))
    return game_id, ids


def to_act(live: LiveGame) -> str:
    """The player id whose turn it is."""
    view = live.state.view(None)
    seat = view["toAct"]
    assert seat is not None, "nobody is to act"
    for entry in view["seats"]:
        if entry["seat"] == seat:
            player: str = entry["playerId"]
            return player
    raise AssertionError(f"no player at seat {seat}")
