"""An operator's rollback against real server processes (SQLite and PostgreSQL), with two SDK
`GameClient`s seated at a poker table: rolled back mid-hand to the hand's start, then to an
earlier hand. Each client's event stream stays gapless and carries each `snapshot_restored`
exactly once, and after it the view each client fetches is the server's for that player, the
view at the version restored. A kill -9 right after the rollback restarts into the rolled-back
state (same view, same seq); so does a restart with every snapshot deleted (a replay from seq 1).
And `rejoin-server rollback` on a stopped server's database: the next server serves it. An action
the rollback undid, resent with its actionId over HTTP or the WebSocket, is `stale_state`, also
after a kill -9."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import psycopg

from e2e.support.poker import without_presence
from e2e.support.spawn import Spawn
from e2e.support.ws import Resume, open_ws
from rejoin import GameClient
from rejoin.http_api import post_json
from rejoin_testkit.api import Api, JsonObject
from rejoin_testkit.processes import ServerProcess, run_server_command
from rejoin_testkit.tables import Table

TABLE = {"seats": 2, "actionTimeoutMs": 600_000, "autoNextHand": False}
WAIT_S = 20.0


class Seat:
    """One SDK client and every event its `events()` delivered."""

    def __init__(self, client: GameClient) -> None:
        self.client = client
        self.events: list[dict[str, Any]] = []
        self.task = asyncio.get_running_loop().create_task(self._collect())

    async def _collect(self) -> None:
        async for event in self.client.events():
            self.events.append(event)

    @property
    def seq(self) -> int:
        return int(self.events[-1]["seq"]) if self.events else 0

    def assert_gapless(self) -> None:
        got = [int(e["seq"]) for e in self.events]
        assert got == list(range(got[0], got[0] + len(got))), f"not gapless: {got}"

    def restored(self) -> list[int]:
        return [int(e["seq"]) for e in self.events if e["kind"] == "snapshot_restored"]


async def until(check: Callable[[], Awaitable[bool] | bool], what: str) -> None:
    loop = asyncio.get_running_loop()
    give_up = loop.time() + WAIT_S
    while True:
        done = check()
        if not isinstance(done, bool):
            done = await done
        if done:
            return
        assert loop.time() < give_up, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


def view(api: Api, game_id: str, seat: Seat) -> JsonObject:
    found: JsonObject = api.state(game_id, seat.client.session_token).ok()["gameState"]
    return found


def game_part(state: JsonObject) -> JsonObject:
    """What a rollback restores: the view but its seq, deadline and presence."""
    return {k: v for k, v in without_presence(state).items() if k not in ("seq", "actionDeadline")}


async def act(api: Api, game_id: str, seats: list[Seat], *preferred: str) -> int:
    """The seat to act plays the first legal of `preferred` through its SDK client."""
    to_act = view(api, game_id, seats[0])["toAct"]
    seat = next(s for s in seats if s.client.seat == to_act)
    legal = {a["type"] for a in view(api, game_id, seat)["you"]["legalActions"]}
    type_ = next(t for t in preferred if t in legal)
    result = await seat.client.act(type_)
    return int(result.seq)


def persist(api: Api, game_id: str) -> int:
    return int(api.persist(game_id, api.admin_token).ok()["version"])


def rollback(api: Api, game_id: str, version: int, reason: str) -> int:
    body = api.rollback(game_id, api.admin_token, version, reason).ok()
    assert body["success"] is True
    assert body["version"] == version
    return int(body["seq"])


async def rolled_back_checked(
    api: Api, game_id: str, seats: list[Seat], version: int, at_version: dict[str, JsonObject]
) -> int:
    """Roll back to `version`; every client gets the event once, gapless, and then fetches the
    view at `version` (its seq the event's)."""
    seq = rollback(api, game_id, version, f"back to {version}")
    await until(lambda: all(s.seq >= seq for s in seats), "the rollback's event")
    for seat in seats:
        seat.assert_gapless()
        assert seat.restored().count(seq) == 1
        event = next(e for e in seat.events if e["seq"] == seq)
        assert event["kind"] == "snapshot_restored"
        assert event["data"]["version"] == version
        fetched = await seat.client.fetch_state()
        assert fetched["seq"] == seq
        assert without_presence(fetched) == without_presence(view(api, game_id, seat))
        assert game_part(fetched) == game_part(at_version[seat.client.player_id or ""])
    return seq


async def test_rollbacks_reach_every_client_and_survive_kill9_and_replay(
    spawn: Spawn, db_url: str, make_api: Callable[[ServerProcess], Api]
) -> None:
    server = spawn(db_url, "--keep-snapshots", "10")
    api = make_api(server)
    game = await post_json(f"{server.url}/api/games", TABLE)
    game_id = game["gameId"]
    seats = []
    for name in ("ann", "bob"):
        client = GameClient(server.url, game_id)
        await client.join(name)
        await client.connect()
        seats.append(Seat(client))

    def views() -> dict[str, JsonObject]:
        return {s.client.player_id or "": view(api, game_id, s) for s in seats}

    await post_json(
        f"{server.url}/api/game/{game_id}/start", {}, bearer=seats[0].client.session_token
    )
    hand_one = persist(api, game_id)  # hand 1 mid-hand, its blinds posted
    at_hand_one = views()
    await act(api, game_id, seats, "fold")  # hand 1 ends
    await post_json(
        f"{server.url}/api/game/{game_id}/start", {}, bearer=seats[0].client.session_token
    )
    hand_two = persist(api, game_id)  # hand 2's start
    at_hand_two = views()
    await act(api, game_id, seats, "call")

    # Mid-hand, back to the hand's start.
    await rolled_back_checked(api, game_id, seats, hand_two, at_hand_two)
    await act(api, game_id, seats, "call")
    # Back to an earlier hand.
    last = await rolled_back_checked(api, game_id, seats, hand_one, at_hand_one)
    live = views()
    assert all(v["handNumber"] == 1 and v["seq"] == last for v in live.values())

    # kill -9 right after the rollback: the restart serves the rolled-back state.
    server.kill9()
    server.start_ready()
    api.reset()
    assert unconnected(views()) == unconnected(live)
    # The clients resume on the restarted server: nothing more, nothing twice.
    await until(lambda: all(s.client.status.name == "CONNECTED" for s in seats), "the resumes")
    for seat in seats:
        seat.assert_gapless()
        assert seat.seq == last
        assert len(seat.restored()) == 2

    # A replay from seq 1: every snapshot gone, the log alone gives the same state.
    for seat in seats:
        await seat.client.close()
    server.kill9()
    _delete_snapshots(db_url)
    server.start_ready()
    api.reset()
    assert unconnected(views()) == unconnected(live)
    # And the game goes on from there: the seat to act folds, at the seq after the rollback.
    to_act = live[seats[0].client.player_id or ""]["toAct"]
    actor = next(s for s in seats if s.client.seat == to_act)
    acted = api.act(game_id, actor.client.session_token, "fold", at_seq=last).ok()
    assert acted["seq"] > last


def unconnected(views: dict[str, JsonObject]) -> dict[str, JsonObject]:
    return {player: without_presence(v) for player, v in views.items()}


def _delete_snapshots(url: str) -> None:
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            conn.execute("DELETE FROM snapshots")
    else:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("DELETE FROM snapshots")


def test_the_cli_rolls_back_a_stopped_servers_game(
    spawn: Spawn, db_url: str, make_api: Callable[[ServerProcess], Api], tmp_path: Path
) -> None:
    server = spawn(db_url)
    api = make_api(server)
    game_id = api.create_game(**TABLE).ok()["gameId"]
    sessions = [api.join(game_id, name).ok()["sessionToken"] for name in ("ann", "bob")]
    api.start(game_id, sessions[0]).ok()
    at_hand_start = persist(api, game_id)
    at_version = api.state(game_id, sessions[0]).ok()["gameState"]
    to_act = at_version["toAct"]
    actor = next(
        s for s in sessions if api.state(game_id, s).ok()["gameState"]["you"]["seat"] == to_act
    )
    api.act(game_id, actor, "call").ok()
    seq = api.state(game_id, sessions[0]).ok()["seq"]

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return run_server_command(
            "rollback", game_id, *args, "--database-url", db_url, cwd=tmp_path, timeout=120
        )

    if db_url.startswith("sqlite"):  # the running server holds the file
        refused = cli(str(at_hand_start), "--reason", "early")
        assert refused.returncode == 2, refused.stderr
        assert f"POST /api/game/{game_id}/rollback" in refused.stderr
    assert server.terminate() == 0
    listed = cli("--list")
    assert listed.returncode == 0, listed.stderr
    assert f"{at_hand_start:>7}" in listed.stdout
    done = cli(str(at_hand_start), "--reason", "offline fix")
    assert done.returncode == 0, done.stderr
    assert f"snapshot_restored at seq {seq + 1}" in done.stdout
    server.start_ready()
    api.reset()
    served = api.state(game_id, sessions[0]).ok()
    assert served["seq"] == seq + 1
    assert game_part(served["gameState"]) == game_part(at_version)
    events = api.events(game_id, sessions[1], after=seq).ok()["events"]
    assert [(e["kind"], e["data"]["reason"]) for e in events] == [
        ("snapshot_restored", "offline fix")
    ]


def test_an_action_the_rollback_undid_is_stale_over_http_and_ws_across_a_kill9(
    spawn: Spawn, db_url: str, make_api: Callable[[ServerProcess], Api]
) -> None:
    """Resent with its actionId after a rollback past it, an action is `stale_state` (never
    "duplicate", never applied anew), before and after a kill -9 (read back from the store)."""
    server = spawn(db_url)
    api = make_api(server)
    table = Table.create(api, **TABLE)
    table.join_many(2)
    version = persist(api, game_id := table.game_id)
    table.start()
    actor = table.to_act()
    assert actor is not None
    undone = actor.act("call", action_id="undone-1").ok()["seq"]
    ws_mover = table.to_act()
    assert ws_mover is not None
    resume = Resume.of(ws_mover, last_seq=undone)
    ws, _ = open_ws(server.url, game_id, resume)
    ws.ack(ws.action("check", action_id="undone-2"))
    ws.close()
    seq = rollback(api, game_id, version, "before the hand")

    def stale_everywhere() -> None:
        reply = actor.act("call", action_id="undone-1")
        assert reply.code == "stale_state", reply.describe()
        assert "rolled the game back past this action" in reply.ok(409)["error"]["message"]
        client, _ = open_ws(server.url, game_id, resume, last_seq=seq)
        client.action("check", action_id="undone-2")
        refused = client.until(lambda m: m.get("actionId") == "undone-2", "its answer")
        client.close()
        assert (refused["type"], refused["code"]) == ("error", "stale_state"), refused
        assert api.state(game_id, actor.session).ok()["seq"] == seq  # nothing applied anew
        assert undone < seq

    stale_everywhere()
    server.kill9()
    server.start_ready()
    api.reset()
    stale_everywhere()
