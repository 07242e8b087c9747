"""The lobby's reads in a cluster (docs/http-api.md, `GET /api/games/open`, `GET /api/game/{id}`):
two real nodes on one PostgreSQL; a table hosted by one node is listed, and described, by the
other, from the shared store, without the other node taking the game."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from e2e.support.spawn import Spawn
from rejoin_testkit.api import Api
from rejoin_testkit.fixtures import postgres_database

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_url() -> Iterator[str]:
    with postgres_database(prefix="rejoin_lobby") as url:
        yield url


def hosted(api: Api) -> int:
    games: int = api.request("GET", "/healthz").ok(200)["games"]
    return games


def test_a_table_on_one_node_is_listed_and_described_by_another(
    spawn: Spawn, pg_url: str, admin_token: str
) -> None:
    n1 = Api(spawn(pg_url, "--node-id", "n1").url, admin_token)
    n2 = Api(spawn(pg_url, "--node-id", "n2").url, admin_token)
    game_id = n1.create_game(seats=3, smallBlind=5, bigBlind=10).ok(201)["gameId"]
    n1.join(game_id, "Ann", 2).ok(201)
    assert (hosted(n1), hosted(n2)) == (1, 0)

    (listed,) = n2.request("GET", "/api/games/open").ok(200)["games"]
    assert listed["gameId"] == game_id
    assert (listed["seats"], listed["seated"], listed["freeSeats"]) == (3, 1, [0, 1])
    assert listed["settings"]["bigBlind"] == 10
    table = n2.request("GET", f"/api/game/{game_id}").ok(200)
    assert table["freeSeats"] == [0, 1]
    # Read from the store: n2 did not take the game from its owner.
    assert (hosted(n1), hosted(n2)) == (1, 0)

    # A join through n2 moves the game there; n1 lists what n2 wrote.
    n2.join(game_id, "Bo", 0).ok(201)
    assert hosted(n2) == 1
    (listed,) = n1.request("GET", "/api/games/open").ok(200)["games"]
    assert (listed["seated"], listed["freeSeats"]) == (2, [1])
    n1.join(game_id, "Cy", 1).ok(201)  # full now: listed nowhere
    assert n1.request("GET", "/api/games/open").ok(200)["games"] == []
    assert n2.request("GET", "/api/games/open").ok(200)["games"] == []
