"""What the lobby reads of a game (`host.seating`): its seats from its settings, the seats taken
from the spectator's view, and its final view once completed, without player ids."""

from __future__ import annotations

from typing import Any

from rejoin_server.games.base import Join, JsonDict, Start
from rejoin_server.host.seating import free_seats, seating_of
from rejoin_server.store.base import AppendWrite
from rejoin_server.store.memory import MemoryGameStore

from .support import HostFactory


class Viewed:
    """A game's state, as much as `seating_of` reads of it."""

    def __init__(self, view: JsonDict, status: str = "waiting", fails: bool = False) -> None:
        self._view = view
        self.status = status
        self.fails = fails
        self.game_id = "g1"

    def view(self, player_id: str | None) -> JsonDict:
        assert player_id is None  # the spectator's, never a player's
        if self.fails:
            raise RuntimeError("the game's bug")
        return self._view


def seating(
    view: JsonDict, settings: dict[str, Any], joins_while_playing: bool = False, **state: Any
) -> Any:
    return seating_of(
        Viewed(view, **state),  # type: ignore[arg-type]
        settings,
        joins_while_playing=joins_while_playing,
    )


def test_the_seats_taken_are_the_views_with_a_player() -> None:
    view = {"seats": [{"seat": 2, "playerId": "a"}, {"seat": 0, "playerId": None}, {"seat": True}]}
    found = seating(view, {"seats": 4})
    assert found.data == {"seats": 4, "taken": [2]}
    assert found.open
    assert free_seats(found.data) == [0, 1, 3]


def test_players_stand_in_for_seats_and_their_entries_need_no_player_id() -> None:
    found = seating(
        {"players": [{"seat": 0, "name": "Ann"}, {"seat": 1, "name": "Bo"}]}, {"seats": 2}
    )
    assert found.data == {"seats": 2, "taken": [0, 1]}
    assert not found.open  # full


def test_a_game_playing_is_open_only_when_its_engine_takes_players_then() -> None:
    view = {"seats": [{"seat": 0, "playerId": "a"}, {"seat": 1, "playerId": "b"}]}
    for joins in (False, True):  # waiting: open whatever the engine says
        assert seating(view, {"seats": 3}, joins_while_playing=joins).open
    # Liar's Dice (and an engine that does not say): a started game takes nobody.
    playing = seating(view, {"seats": 3}, status="playing")
    assert (playing.data, playing.open) == ({"seats": 3, "taken": [0, 1]}, False)
    # Poker: a player sits down between hands.
    assert seating(view, {"seats": 3}, joins_while_playing=True, status="playing").open
    assert not seating(view, {"seats": 2}, joins_while_playing=True, status="playing").open


def test_a_game_without_a_seats_setting_is_never_open() -> None:
    for settings in ({}, {"seats": "6"}, {"seats": True}, {"seats": 0}, {"seats": 101}):
        found = seating({"players": []}, settings)
        assert found.data == {"seats": None, "taken": []}
        assert not found.open
        assert free_seats(found.data) is None


def test_a_completed_game_keeps_its_final_view_without_player_ids() -> None:
    view = {"status": "completed", "seats": [{"seat": 0, "playerId": "sub-1", "name": "Ann"}],
            "winner": {"playerId": "sub-1", "seat": 0}}  # fmt: skip
    found = seating(view, {"seats": 2}, status="completed")
    assert not found.open  # a free seat, but over
    assert found.data["final"] == {
        "status": "completed",
        "seats": [{"seat": 0, "name": "Ann"}],
        "winner": {"seat": 0},
    }
    too_big = seating({**view, "log": "x" * 40_000}, {"seats": 2}, status="completed")
    assert "final" not in too_big.data


def test_a_view_that_fails_gives_no_seating() -> None:
    assert seating({}, {"seats": 2}, fails=True) is None


class SeatingsSent(MemoryGameStore):
    """The memory store, noting the seating each append carried (None: unchanged)."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[dict[str, Any] | None] = []

    async def _write_append(self, write: AppendWrite) -> None:
        self.sent.append(None if write.seating is None else dict(write.seating.data))
        await super()._write_append(write)


async def test_the_host_sends_a_seating_only_when_it_changed(make_host: HostFactory) -> None:
    store = SeatingsSent()
    host = make_host(on=store)
    live = await host.create_game({"seats": 3})
    record = await store.get_game(live.game_id)
    assert record is not None
    assert (record.seating, record.open_at) == ({"seats": 3, "taken": []}, record.created_at)
    await host.execute(live.game_id, Join("p0", "Ann"))
    await host.execute(live.game_id, Join("p1", "Bo"))
    await host.execute(live.game_id, Start("p0"))  # a hand: the seats stay as they were
    assert store.sent == [{"seats": 3, "taken": [0]}, {"seats": 3, "taken": [0, 1]}, None]
    await host.abandon(live.game_id)
    final = store.sent[-1]
    assert final is not None
    assert final["final"]["status"] == "completed"
    assert [s["name"] for s in final["final"]["seats"]] == ["Ann", "Bo"]
    assert await store.open_games(10) == []
