"""The operator console's JSON (`GET /api/admin/overview`, `GET /api/admin/games/{id}`) and its
page (`/admin`): admin-only, and figures that follow what the server did (actions, resumes,
tokens, snapshots, deletes), with the storage figures counted by SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from rejoin_protocol.errors import ErrorCode
from rejoin_server.api.web import CONTENT_SECURITY_POLICY
from rejoin_server.app import create_app
from rejoin_server.console import activity
from rejoin_server.settings import ServerSettings
from rejoin_server.store.memory import MemoryGameStore

from .support import ADMIN, ADMIN_AUTH, CARD, Api, DownableStore, assert_error, bearer, running
from .test_ws import reconnect, server
from .ws_support import resumed

OVERVIEW = "/api/admin/overview"


def overview(api: Api, **query: Any) -> dict[str, Any]:
    reply = api.client.get(OVERVIEW, params=query, headers=ADMIN_AUTH)
    assert reply.status_code == 200, reply.text
    found: dict[str, Any] = reply.json()
    return found


def listed(figures: dict[str, Any], game_id: str) -> dict[str, Any]:
    games = {g["gameId"]: g for g in figures["games"]["listed"]}
    assert game_id in games, list(games)
    found: dict[str, Any] = games[game_id]
    return found


@pytest.mark.parametrize(
    "path", [OVERVIEW, "/api/admin/games/abc", "/api/admin/games/abc/snapshots"]
)
def test_only_the_admin_token_opens_the_console(path: str) -> None:
    with running() as api:
        game_id = api.create()
        ann = api.join(game_id, "Ann")
        path = path.replace("abc", game_id)
        assert_error(api.client.get(path), ErrorCode.UNAUTHORIZED)
        assert_error(api.client.get(path, headers=bearer("not-the-token")), ErrorCode.FORBIDDEN)
        # A player's own session token is no admin token either.
        assert_error(api.client.get(path, headers=ann.auth), ErrorCode.FORBIDDEN)
        assert api.client.get(path, headers=ADMIN_AUTH).status_code == 200


def test_a_server_without_an_admin_token_refuses_every_token() -> None:
    with running(admin_token=None) as api:
        assert_error(api.client.get(OVERVIEW, headers=ADMIN_AUTH), ErrorCode.FORBIDDEN)


@pytest.mark.parametrize("window", ["0", "4", "901", "abc", "-5"])
def test_a_window_out_of_range_is_an_invalid_request(window: str) -> None:
    with running() as api:
        reply = api.client.get(f"{OVERVIEW}?windowS={window}", headers=ADMIN_AUTH)
        assert "windowS" in assert_error(reply, ErrorCode.INVALID_REQUEST)["message"]


def test_the_overview_follows_games_actions_and_tokens() -> None:
    with running() as api:
        before = overview(api)
        assert before["games"]["hosted"] == 0
        assert before["actions"]["count"] == 0
        assert before["tokens"] == {"issued": 0, "consumed": 0, "refused": {}, "refusedTotal": 0}
        assert before["resumes"]["windowS"] == 300

        ann, bob = api.table(2)
        api.start(ann)
        first = api.to_act([ann, bob])
        assert api.act(first, "call", action_id="a1").status_code == 200
        # The same action again is answered, not applied: not counted.
        assert api.act(first, "call", action_id="a1").json()["duplicate"] is True

        figures = overview(api)
        assert figures["games"]["hosted"] == 1
        game = listed(figures, ann.game_id)
        assert game["kind"] == "poker"
        assert game["status"] == "playing"
        assert game["phase"] == "preflop"
        assert game["handNumber"] == 1
        assert game["durability"] == "strict"
        assert game["seq"] == api.state(ann)["seq"]
        assert game["durableSeq"] == game["seq"]
        assert {p["playerId"]: p["name"] for p in game["players"]} == {
            ann.player_id: "Player 0",
            bob.player_id: "Player 1",
        }
        assert game["connected"] == 0  # over plain HTTP nobody holds a live connection
        assert figures["actions"]["count"] == 1
        assert sum(p["actions"] for p in figures["series"]["points"]) == 1
        assert figures["series"]["bucketS"] == 5
        assert len(figures["series"]["points"]) == 180
        assert figures["tokens"]["issued"] == 2  # one per join
        assert figures["tokens"]["consumed"] == 0


@pytest.fixture
def restart_minute_lasts(monkeypatch: pytest.MonkeyPatch) -> None:
    """The first minute after the start, in which a seat never seen is timed from the start,
    lasts as long as the test (a slow machine must not turn a `restart` into `untimed`)."""
    monkeypatch.setattr(activity, "RESTART_TIMED_MS", 10**12)


@pytest.mark.usefixtures("restart_minute_lasts")
def test_resumes_and_refused_tokens_are_counted() -> None:
    with running() as api:
        ann, _ = api.table(2)
        reply = api.reconnect(ann, clientId="tab-1", lastSeq=0)
        assert reply.status_code == 200, reply.text
        # The token is used up: replayed by another client later, it is refused.
        assert api.reconnect(ann, clientId="tab-2").status_code in (401, 409)
        assert_error(api.reconnect(ann, token="forged"), ErrorCode.TOKEN_INVALID)

        figures = overview(api)
        resumes = figures["resumes"]
        assert resumes["count"] == 1
        assert resumes["resyncs"] == 0
        # Never connected in this process: timed from the process start.
        assert resumes["outage"]["restart"]["count"] == 1
        assert resumes["outage"]["drop"]["count"] == 0
        assert isinstance(resumes["outage"]["restart"]["p50Ms"], int)
        tokens = figures["tokens"]
        assert tokens["issued"] == 3  # two joins and the resume's successor
        assert tokens["consumed"] == 1
        assert tokens["refused"]["token_invalid"] == 1
        assert tokens["refusedTotal"] == 2
        assert set(tokens["refused"]) <= {"seat_conflict", "token_reused", "token_invalid"}


@pytest.mark.usefixtures("restart_minute_lasts")
async def test_a_resume_after_a_seen_drop_is_timed_from_the_drop() -> None:
    async with server() as (api, ws):
        ann, _ = await api.table(2)
        client, welcome = await ws.hello(ann, client_id="tab", last_seq=0)
        await client.hang_up()
        after = resumed(ann, welcome)
        reply = await reconnect(api, after, after.reconnect, clientId="tab", lastSeq=0)
        assert reply.status_code == 200, reply.text
        figures = (await api.client.get(OVERVIEW, headers=ADMIN_AUTH)).json()
        outage = figures["resumes"]["outage"]
        assert figures["resumes"]["count"] == 2
        assert outage["drop"]["count"] == 1  # the reconnect, timed from the hang-up
        assert outage["restart"]["count"] == 1  # the hello: the seat was not seen before
        assert outage["all"]["count"] == 2


def test_the_overview_tells_the_degraded_state_and_the_queued_writes() -> None:
    store = DownableStore()
    with running(store) as api:
        ann, bob = api.table(2)
        api.start(ann)
        store.down = True
        reply = api.act(api.to_act([ann, bob]), "call")
        assert reply.status_code == 200, reply.text
        assert reply.json()["durable"] is False
        storage = overview(api)["storage"]
        assert storage["degraded"] is True
        assert storage["available"] is False
        assert storage["pendingWrites"] >= 1
        game = listed(overview(api), ann.game_id)
        assert game["durableSeq"] < game["seq"]


def test_a_game_inspected_in_full_shows_every_seats_cards() -> None:
    with running() as api:
        ann, bob = api.table(2)
        api.start(ann)
        reply = api.client.get(f"/api/admin/games/{ann.game_id}", headers=ADMIN_AUTH)
        assert reply.status_code == 200, reply.text
        full = reply.json()
        assert full["gameId"] == ann.game_id
        assert full["kind"] == "poker"
        assert full["seq"] == api.state(ann)["seq"]
        table = full["table"]
        assert table["phase"] == "preflop"
        assert "you" not in table
        seats = {s["playerId"]: s for s in table["seats"]}
        for player in (ann, bob):
            cards = seats[player.player_id]["holeCards"]
            assert isinstance(cards, list)
            assert len(cards) == 2
            assert all(CARD.match(card) for card in cards)
        # The same cards each player sees as their own.
        own = api.state(bob)["gameState"]["seats"]
        assert [s["holeCards"] for s in own if s["playerId"] == bob.player_id] == [
            seats[bob.player_id]["holeCards"]
        ]
        assert [e["seq"] for e in full["recentEvents"]] == list(range(1, full["seq"] + 1))
        assert full["dump"]["q"] == full["seq"]  # poker's compact dump comes along
        assert full["settings"]["bigBlind"] == 2


def test_a_stored_snapshot_is_inspected_apart_from_the_game() -> None:
    store = MemoryGameStore()
    with running(store) as api:
        ann, bob = api.table(2)
        api.start(ann)
        persisted = api.client.post(
            f"/api/game/{ann.game_id}/persist", json={"forceOverwrite": True}, headers=ADMIN_AUTH
        )
        version = persisted.json()["version"]
        assert api.act(api.to_act([ann, bob]), "call").status_code == 200  # the game moves on
        live_seq = api.state(ann)["seq"]
        assert live_seq > version

        listing = api.client.get(f"/api/admin/games/{ann.game_id}/snapshots", headers=ADMIN_AUTH)
        assert listing.status_code == 200, listing.text
        snapshots = listing.json()["snapshots"]
        assert snapshots[0]["version"] == version  # newest first
        assert snapshots[0]["verified"] is True
        assert snapshots[0]["problem"] is None
        assert snapshots[0]["bytes"] > 0

        path = f"/api/admin/games/{ann.game_id}?version={version}"
        old = api.client.get(path, headers=ADMIN_AUTH).json()
        assert (old["seq"], old["version"]) == (version, version)
        seats = {s["playerId"]: s for s in old["table"]["seats"]}
        assert all(len(seats[p.player_id]["holeCards"]) == 2 for p in (ann, bob))
        assert "connected" not in seats[ann.player_id]  # nobody is at a snapshot
        # The game being played is untouched.
        assert api.state(ann)["seq"] == live_seq
        live = api.client.get(f"/api/admin/games/{ann.game_id}", headers=ADMIN_AUTH).json()
        assert live["seq"] == live_seq

        unknown = api.client.get(f"/api/admin/games/{ann.game_id}?version=999", headers=ADMIN_AUTH)
        message = assert_error(unknown, ErrorCode.INVALID_REQUEST)["message"]
        assert str(version) in message

        # A snapshot whose checksum fails is listed with why, and cannot be opened.
        game = store._games[ann.game_id]
        game.snapshots[version] = replace(game.snapshots[version], checksum="0" * 64)
        listing = api.client.get(f"/api/admin/games/{ann.game_id}/snapshots", headers=ADMIN_AUTH)
        bad = next(s for s in listing.json()["snapshots"] if s["version"] == version)
        assert (bad["verified"], bad["problem"]) == (False, "checksum mismatch")
        refused = api.client.get(path, headers=ADMIN_AUTH)
        assert "checksum mismatch" in assert_error(refused, ErrorCode.INVALID_REQUEST)["message"]


def test_a_game_kept_in_memory_only_has_no_snapshots() -> None:
    with running() as api:
        game_id = api.create(durability="memory")
        listing = api.client.get(f"/api/admin/games/{game_id}/snapshots", headers=ADMIN_AUTH)
        assert listing.status_code == 200, listing.text
        assert listing.json()["snapshots"] == []


def test_inspecting_an_unknown_game_is_game_not_found() -> None:
    with running() as api:
        for game_id in ("nope", "bad id!"):
            for path in (f"/api/admin/games/{game_id}", f"/api/admin/games/{game_id}/snapshots"):
                assert_error(api.client.get(path, headers=ADMIN_AUTH), ErrorCode.GAME_NOT_FOUND)
            reply = api.client.get(f"/api/admin/games/{game_id}?version=1", headers=ADMIN_AUTH)
            assert_error(reply, ErrorCode.GAME_NOT_FOUND)


def test_the_console_page_is_served_under_the_pages_policy() -> None:
    with running() as api:
        reply = api.client.get("/admin")
        assert reply.status_code == 200
        assert reply.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        page = reply.text
        assert 'src="static/admin.js"' in page
        assert "<style" not in page  # no inline style
        assert " style=" not in page
        assert "onclick" not in page  # nor inline script
        # Its script keeps the token in the tab, never where it would outlive it.
        script = api.client.get("/static/admin.js").text
        assert "sessionStorage" in script
        assert "localStorage" not in script
        assert "document.cookie" not in script


def test_without_the_pages_the_console_page_says_so(tmp_path: Path) -> None:
    with running(web_dir=str(tmp_path)) as api:
        reply = api.client.get("/admin")
        assert reply.status_code == 503
        assert reply.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert str(tmp_path) in reply.text
        # The JSON works without any page.
        assert api.client.get(OVERVIEW, headers=ADMIN_AUTH).status_code == 200


def test_storage_figures_come_from_the_database(database_url: str) -> None:
    settings = ServerSettings(
        database_url=database_url, admin_token=ADMIN, max_games=50, max_storage_bytes=10**9
    )
    with TestClient(create_app(settings)) as client:
        api = Api(client, client.app)  # type: ignore[arg-type]
        empty = overview(api)["storage"]
        assert (empty["games"], empty["snapshots"], empty["bytes"]) == (0, 0, 0)
        assert empty["quota"] == {"maxGames": 50, "maxBytes": 10**9}
        assert empty["error"] is None
        assert overview(api)["backend"] in ("sqlite", "postgresql")

        ann, _ = api.table(2)
        api.start(ann)
        stored = overview(api)["storage"]
        assert stored["games"] == 1
        assert stored["bytes"] > 0
        snapshots = stored["snapshots"]
        reply = client.post(
            f"/api/game/{ann.game_id}/persist", json={"forceOverwrite": True}, headers=ADMIN_AUTH
        )
        assert reply.status_code == 200, reply.text
        persisted = overview(api)["storage"]
        assert persisted["snapshots"] == snapshots + 1
        listing = client.get(f"/api/admin/games/{ann.game_id}/snapshots", headers=ADMIN_AUTH)
        assert listing.json()["snapshots"][0]["version"] == reply.json()["version"]
        assert all(s["verified"] for s in listing.json()["snapshots"])
        assert len(listing.json()["snapshots"]) == snapshots + 1
        assert persisted["bytes"] > stored["bytes"]
        assert listed(overview(api), ann.game_id)["snapshotSeq"] == reply.json()["version"]

        reply = client.delete(f"/api/game/{ann.game_id}/persist", headers=ADMIN_AUTH)
        assert reply.status_code == 200, reply.text
        gone = overview(api)
        assert (gone["storage"]["games"], gone["storage"]["snapshots"]) == (0, 0)
        assert gone["storage"]["bytes"] == 0
        assert gone["games"]["hosted"] == 0


def test_the_openapi_document_describes_the_console() -> None:
    with running() as api:
        paths = api.client.get("/openapi.json").json()["paths"]
        overview_op = paths["/api/admin/overview"]["get"]
        game_op = paths["/api/admin/games/{gameId}"]["get"]
        assert overview_op["security"] == [{"bearer": []}]
        (window,) = overview_op["parameters"]
        assert (window["name"], window["schema"]["minimum"], window["schema"]["maximum"]) == (
            "windowS",
            5,
            900,
        )
        # What the document says the answers hold, they hold.
        answer = overview_op["responses"]["200"]["content"]["application/json"]["schema"]
        figures = overview(api)
        assert set(answer["required"]) <= set(figures)
        assert set(figures) <= set(answer["properties"])
        for key in ("storage", "resumes", "actions", "series", "tokens"):
            assert set(answer["properties"][key]["required"]) <= set(figures[key]), key
        ann, _ = api.table(2)
        full = api.client.get(f"/api/admin/games/{ann.game_id}", headers=ADMIN_AUTH).json()
        answer = game_op["responses"]["200"]["content"]["application/json"]["schema"]
        assert set(answer["required"]) <= set(full)
        assert set(full) <= set(answer["properties"])
        assert [p["name"] for p in game_op["parameters"]] == ["gameId", "version"]
        listing_op = paths["/api/admin/games/{gameId}/snapshots"]["get"]
        answer = listing_op["responses"]["200"]["content"]["application/json"]["schema"]
        listing = api.client.get(f"/api/admin/games/{ann.game_id}/snapshots", headers=ADMIN_AUTH)
        assert set(answer["required"]) == set(listing.json())
