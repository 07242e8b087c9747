"""The abuse suite, floods (issue 12): creates, joins and WebSocket connects from one address as
fast as it can send them, against a real server with its default limits (or one lowered, said
where). Every answer is a documented one: 2xx, the game's own refusal, or 429 `rate_limited` with
`Retry-After`; a refusal does nothing (no game, no token row); the server stays healthy."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from e2e.support.databases import Rows
from e2e.support.spawn import Spawn
from e2e.support.ws import ws_url
from rejoin_testkit.api import Api, Reply
from rejoin_testkit.processes import ServerProcess
from rejoin_testkit.tables import Table

DEFAULT_CREATES_PER_MINUTE = 30
DEFAULT_JOINS_PER_MINUTE = 120


def rate_limited(reply: Reply) -> None:
    error = reply.error("rate_limited")
    retry_after = reply.headers.get("retry-after", "")
    assert retry_after.isdigit(), reply.describe()
    assert int(retry_after) == error["details"]["retryAfter"] >= 1, reply.describe()


def test_a_flood_of_creates_is_answered_429_past_the_limit(
    server: ServerProcess, api: Api, db_url: str
) -> None:
    replies = [api.create_game(seats=2) for _ in range(100)]
    statuses = Counter(reply.status for reply in replies)
    # A bucket refills while the flood runs (one every 2 s): at most a game or two more.
    assert DEFAULT_CREATES_PER_MINUTE <= statuses[201] <= DEFAULT_CREATES_PER_MINUTE + 2, statuses
    assert statuses[429] == 100 - statuses[201], statuses
    for reply in replies:
        if reply.status == 429:
            rate_limited(reply)
    (stored,) = Rows(db_url).query("SELECT count(*) FROM games")
    assert stored[0] == statuses[201]  # a refused create made nothing
    assert api.healthz().ok(200)["status"] == "ok"
    assert "Traceback" not in server.log()


def test_a_flood_of_joins_to_a_full_table_writes_no_token_row(
    server: ServerProcess, api: Api, db_url: str
) -> None:
    """Today's 500 joins to a full table wrote 500 token rows."""
    table = Table.create(api, seats=2)
    table.join_many(2)
    replies = [api.join(table.game_id, f"flood-{i}") for i in range(300)]
    statuses = Counter(reply.status for reply in replies)
    assert statuses[409] >= DEFAULT_JOINS_PER_MINUTE - 2, statuses  # table_full, then …
    assert statuses[409] + statuses[429] == 300, statuses  # … rate_limited
    for reply in replies:
        if reply.status == 409:
            reply.error("table_full")
        else:
            rate_limited(reply)
    rows = Rows(db_url).query(
        "SELECT count(*) FROM reconnect_tokens WHERE game_id = ?", [table.game_id]
    )
    assert rows[0][0] == 2  # the two seated players' tokens, nothing for the refused joins
    assert "Traceback" not in server.log()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # the limiter is not the store's
def test_a_flood_of_websocket_connects_is_refused_before_the_upgrade(
    spawn: Spawn, db_url: str, make_api: Callable[[ServerProcess], Api]
) -> None:
    server = spawn(db_url, "--rate-connect-address", "20/m")
    table = Table.create(make_api(server), seats=2)
    opened, refused = [], []
    for _ in range(50):
        try:
            opened.append(connect(ws_url(server.url, table.game_id), open_timeout=5, legacy=True))
        except InvalidStatus as exc:
            refused.append(exc.response)
    for conn in opened:
        conn.close()
    assert 20 <= len(opened) <= 21, len(opened)
    assert len(refused) == 50 - len(opened)
    for response in refused:
        assert response.status_code == 429
        assert int(response.headers["Retry-After"]) >= 1
        assert b'"code":"rate_limited"' in response.body
    assert "Traceback" not in server.log()
