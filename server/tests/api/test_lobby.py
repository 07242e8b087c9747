"""The lobby's reads: `GET /api/games/open` and `GET /api/game/{gameId}`, on SQLite and on
PostgreSQL (the real store, so the listing is the stored seating, across a restart too), and their
refusals."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import pytest
from starlette.testclient import TestClient

from liars_dice import LiarsDiceEngine
from rejoin_protocol.errors import ErrorCode
from rejoin_server import app as app_module
from rejoin_server.app import create_app
from rejoin_server.errors import StorageUnavailable
from rejoin_server.games.base import GameEngine, GameState, JsonDict
from rejoin_server.games.kinds import GameKinds
from rejoin_server.games.poker import PokerEngine
from rejoin_server.host.host import GameHost
from rejoin_server.settings import ServerSettings
from rejoin_server.store.base import GameRecord
from rejoin_server.store.memory import MemoryGameStore
from rejoin_server.timefmt import now_ms

from .support import ADMIN, Api, answer, assert_error, running


class SteppedClock:
    """The host's clock, a millisecond past its last reading at least: consecutive games are
    created at different times, so the lobby's order (newest first) does not rest on the real
    clock moving between two requests."""

    def __init__(self) -> None:
        self.last = 0

    def __call__(self) -> int:
        self.last = max(now_ms(), self.last + 1)
        return self.last


@pytest.fixture(autouse=True)
def stepped_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every app these tests build gets a `SteppedClock` host (`create_app` takes no clock)."""

    def host(*args: Any, **kwargs: Any) -> GameHost:
        return GameHost(*args, clock=SteppedClock(), **kwargs)

    monkeypatch.setattr(app_module, "GameHost", host)


@contextmanager
def serving(database_url: str, games: tuple[GameEngine, ...] = ()) -> Iterator[Api]:
    """The app on a real database, as one node (a node id of its own: on PostgreSQL it joins
    the cluster table, where an earlier test's node may still be listed)."""
    settings = ServerSettings(
        database_url=database_url, admin_token=ADMIN, node_id=f"lobby-{uuid.uuid4().hex[:8]}"
    )
    app = create_app(settings, games=games)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Api(client, app)


def listed(api: Api, query: str = "") -> list[dict[str, Any]]:
    games: list[dict[str, Any]] = answer(api.client.get(f"/api/games/open{query}"))["games"]
    return games


def test_open_tables_are_listed_newest_first_with_their_free_seats(database_url: str) -> None:
    with serving(database_url) as api:
        old = api.create(seats=3, smallBlind=5, bigBlind=10)
        api.join(old, "Ann", seat=1)
        new = api.create(seats=2)
        full = api.create(seats=2)
        api.join(full, "Bo")
        api.join(full, "Cy")
        games = listed(api)
        assert [g["gameId"] for g in games] == [new, old]
        table = games[1]
        assert table["kind"] == "poker"
        assert table["status"] == "waiting"
        assert (table["seats"], table["seated"], table["freeSeats"]) == (3, 1, [0, 2])
        assert (table["settings"]["smallBlind"], table["settings"]["bigBlind"]) == (5, 10)
        assert table["createdAt"].endswith("Z")
        # Nothing of the players: no id, token or name.
        text = str(games)
        assert "Ann" not in text
        assert "playerId" not in text
        assert [g["gameId"] for g in listed(api, "?limit=1")] == [new]
    # After a restart the open tables are still listed: they are the store's, not memory's.
    with serving(database_url) as api:
        assert [g["gameId"] for g in listed(api)] == [new, old]
        assert listed(api)[1]["freeSeats"] == [0, 2]


def test_a_completed_table_is_not_listed_and_says_its_result(database_url: str) -> None:
    with serving(database_url) as api:
        game_id = api.create(seats=3)
        api.join(game_id, "Ann")
        assert [g["gameId"] for g in listed(api)] == [game_id]
        api.abandon(game_id)
        assert listed(api) == []
        error = assert_error(api.client.get(f"/api/game/{game_id}"), ErrorCode.GAME_COMPLETED)
        assert error["details"]["game"]["status"] == "completed"
        final = error["details"]["gameState"]
        assert final["status"] == "completed"
        assert [(s["seat"], s["name"], s["stack"]) for s in final["seats"]] == [(0, "Ann", 200)]
        assert final["you"] is None
        assert "playerId" not in str(final)
    with serving(database_url) as api:  # not in memory: the row says the same
        error = assert_error(api.client.get(f"/api/game/{game_id}"), ErrorCode.GAME_COMPLETED)
        assert error["details"]["gameState"]["seats"][0]["name"] == "Ann"


def test_one_table_before_joining(database_url: str) -> None:
    with serving(database_url) as api:
        game_id = api.create(seats=4)
        api.join(game_id, "Ann", seat=2)
        table = answer(api.client.get(f"/api/game/{game_id}"))
        assert table["gameId"] == game_id
        assert (table["status"], table["seats"], table["seated"]) == ("waiting", 4, 1)
        assert (table["freeSeats"], table["open"]) == ([0, 1, 3], True)
        api.forget(game_id)  # out of memory: read from the row, without loading the game
        table = answer(api.client.get(f"/api/game/{game_id}"))
        assert (table["freeSeats"], table["open"]) == ([0, 1, 3], True)
        assert api.services.host.loaded(game_id) is None
        assert_error(api.client.get("/api/game/nosuchgame1"), ErrorCode.GAME_NOT_FOUND)
        assert_error(api.client.get("/api/game/bad%20id"), ErrorCode.GAME_NOT_FOUND)


def test_a_started_game_of_a_kind_that_takes_no_late_players_is_not_listed(
    database_url: str,
) -> None:
    """Liar's Dice refuses a join once started (`game_active`): a free seat is no table to offer."""
    with serving(database_url, games=(LiarsDiceEngine(),)) as api:
        game_id = api.create(kind="liars-dice", seats=3)
        ann = api.join(game_id, "Ann")
        api.join(game_id, "Bo")
        assert [g["gameId"] for g in listed(api)] == [game_id]  # waiting: open
        api.start(ann)
        assert listed(api) == []
        table = answer(api.client.get(f"/api/game/{game_id}"))
        assert (table["status"], table["freeSeats"], table["open"]) == ("playing", [2], False)
        refused = api.client.post(f"/api/game/{game_id}/join", json={"name": "Cy", "seat": 2})
        assert_error(refused, ErrorCode.GAME_ACTIVE)
        api.forget(game_id)  # the row says the same
        assert answer(api.client.get(f"/api/game/{game_id}"))["open"] is False
    with serving(database_url, games=(LiarsDiceEngine(),)) as api:
        assert listed(api) == []


def test_a_poker_table_playing_with_a_free_seat_is_listed(database_url: str) -> None:
    """Poker seats a player between hands: its table stays open while it plays."""
    with serving(database_url) as api:
        game_id = api.create(seats=3)
        ann = api.join(game_id, "Ann")
        api.join(game_id, "Bo")
        api.start(ann)
        [table] = listed(api)
        assert (table["gameId"], table["status"], table["freeSeats"]) == (game_id, "playing", [2])
        assert answer(api.client.get(f"/api/game/{game_id}"))["open"] is True


class UnsayingPoker:
    """Poker under another kind, from an engine that does not say whether it takes players
    while playing (no `joins_while_playing`)."""

    kind = "unsaying-poker"

    def __init__(self) -> None:
        self._poker = PokerEngine()

    def settings(self, raw: Mapping[str, Any]) -> JsonDict:
        return self._poker.settings(raw)

    def new_game(self, game_id: str, settings: Mapping[str, Any]) -> GameState:
        return self._poker.new_game(game_id, settings)

    def load(self, game_id: str, settings: Mapping[str, Any], data: Mapping[str, Any]) -> GameState:
        return self._poker.load(game_id, settings, data)


def test_an_engine_that_does_not_say_is_listed_only_while_waiting(database_url: str) -> None:
    assert not hasattr(UnsayingPoker(), "joins_while_playing")
    kinds = GameKinds([PokerEngine(), UnsayingPoker(), LiarsDiceEngine()])
    assert [kinds.joins_while_playing(k) for k in kinds.kinds] == [True, False, False]
    with serving(database_url, games=(UnsayingPoker(),)) as api:
        game_id = api.create(kind="unsaying-poker", seats=3)
        ann = api.join(game_id, "Ann")
        api.join(game_id, "Bo")
        assert [g["gameId"] for g in listed(api)] == [game_id]
        api.start(ann)  # poker would seat Cy between hands; the lobby cannot know that
        assert listed(api) == []


def test_joins_while_playing_must_be_a_bool() -> None:
    class Vague(UnsayingPoker):
        joins_while_playing = "yes"

    with pytest.raises(TypeError, match="joins_while_playing must be True or False"):
        GameKinds([Vague()])


@pytest.mark.parametrize("query", ["?limit=0", "?limit=101", "?limit=x", "?limit=", "?limit=-1",
                                   "?limit=1&limit=2", "?limit=1e2", "?limit=٣"])  # fmt: skip
def test_a_bad_limit_is_invalid_request(query: str) -> None:
    with running() as api:
        error = assert_error(api.client.get(f"/api/games/open{query}"), ErrorCode.INVALID_REQUEST)
        assert "from 1 to 100" in error["message"]


def test_limits_at_the_bounds_are_taken() -> None:
    with running() as api:
        game_ids = [api.create(seats=2) for _ in range(3)]
        games = listed(api, "?limit=100")
        assert len({g["createdAt"] for g in games}) == 3  # the stepped clock: no two alike
        assert [g["gameId"] for g in listed(api, "?limit=2")] == game_ids[:0:-1]


def test_a_game_kept_in_memory_only_is_described_but_not_listed() -> None:
    with running() as api:
        reply = api.client.post("/api/games", json={"durability": "memory", "seats": 2})
        game_id = answer(reply, 201)["gameId"]
        assert listed(api) == []
        table = answer(api.client.get(f"/api/game/{game_id}"))
        assert (table["freeSeats"], table["createdAt"]) == ([0, 1], None)


class UnreadableStore(MemoryGameStore):
    """The memory store, its game rows unreadable while `down`."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False

    async def get_game(self, game_id: str) -> GameRecord | None:
        if self.down:
            raise StorageUnavailable("connection refused (test)")
        return await super().get_game(game_id)


def test_a_live_game_is_described_without_its_time_while_the_store_is_down() -> None:
    store = UnreadableStore()
    with running(store) as api:
        game_id = api.create(seats=3)
        api.join(game_id, "Ann")
        store.down = True
        table = answer(api.client.get(f"/api/game/{game_id}"))  # from memory, not a 503
        assert (table["seated"], table["freeSeats"], table["createdAt"]) == (1, [1, 2], None)
        api.forget(game_id)  # not in memory: the row is all there is, and it cannot be read
        assert_error(api.client.get(f"/api/game/{game_id}"), ErrorCode.STORAGE_UNAVAILABLE)
