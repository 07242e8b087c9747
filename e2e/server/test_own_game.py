"""A game that is not part of rejoin, in a module written here, served with `--game`: it is
created, played, stored, killed with SIGKILL and restored; a server without its `--game` says
which kind it lacks and leaves the game as it is."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

from e2e.support.spawn import Spawn
from rejoin_testkit.api import Api

# A module of the user's: a shared tally, players add 1 to 9 to it; the game ends at `target`.
MODULE = """
from rejoin_server.games import Act, Event, GameRuleError, Join


class Tally:
    def __init__(self, game_id, target):
        self.game_id, self.target = game_id, target
        self.seq, self.total, self.seats = 0, 0, {}

    @property
    def status(self):
        return "completed" if self.total >= self.target else "playing"

    def handle(self, command, now_ms):
        if isinstance(command, Join):
            data = {"player": command.player_id, "seat": len(self.seats)}
            event = Event(self.seq + 1, "joined", now_ms, data)
        elif isinstance(command, Act) and command.type == "add":
            n = command.data.get("n")
            if type(n) is not int or not 1 <= n <= 9:
                raise GameRuleError("invalid_action", "Add a whole number from 1 to 9.")
            if self.status == "completed":
                raise GameRuleError("game_completed", "The tally is done.")
            event = Event(self.seq + 1, "added", now_ms, {"n": n, "by": command.player_id})
        else:
            raise GameRuleError("invalid_action", "The only move is add.")
        self.apply(event)
        return [event]

    def apply(self, event):
        if event.kind == "joined":
            self.seats[event.data["player"]] = event.data["seat"]
        else:
            self.total += event.data["n"]
        self.seq = event.seq

    def next_deadline(self):
        return None

    def seat_of(self, player_id):
        return self.seats.get(player_id)

    def view(self, player_id):
        return {"seq": self.seq, "status": self.status, "total": self.total}

    def event_for(self, event, player_id):
        return event

    def dump(self):
        return {"seq": self.seq, "total": self.total, "seats": self.seats}


class TallyEngine:
    kind = "tally"

    def new_game(self, game_id, settings):
        return Tally(game_id, settings.get("target", 50))

    def load(self, game_id, settings, data):
        game = self.new_game(game_id, settings)
        game.seq, game.total, game.seats = data["seq"], data["total"], dict(data["seats"])
        return game
"""


def test_a_game_from_a_module_of_the_users_is_served_stored_and_restored(
    spawn: Spawn, db_url: str, tmp_path: Path, admin_token: str
) -> None:
    folder = tmp_path / "my_games"
    folder.mkdir()
    (folder / "my_tally.py").write_text(textwrap.dedent(MODULE))
    path = os.pathsep.join(p for p in (str(folder), os.environ.get("PYTHONPATH", "")) if p)
    server = spawn(db_url, "--game", "my_tally:TallyEngine", env={"PYTHONPATH": path})
    api = Api(server.url, admin_token)
    kinds = api.request("GET", "/api/games/kinds").ok(200)["kinds"]
    assert [k["kind"] for k in kinds] == ["poker", "tally"]
    game = api.create_game(kind="tally", target=40).ok(201)
    assert (game["kind"], game["target"]) == ("tally", 40)
    game_id = game["gameId"]
    ann = api.join(game_id, "Ann").ok(201)
    bob = api.join(game_id, "Bob").ok(201)
    for n in (5, 7, 9):
        api.act(game_id, ann["sessionToken"], "add", n=n).ok(200)
    api.act(game_id, bob["sessionToken"], "add", n=10).error("invalid_action")
    before = api.state(game_id, bob["sessionToken"]).ok(200)
    assert before["gameState"] == {"seq": 5, "status": "playing", "total": 21}

    server.kill9()
    server.restart()
    api.reset()
    assert api.state(game_id, bob["sessionToken"]).ok(200) == before
    api.act(game_id, bob["sessionToken"], "add", n=9, action_id="b1").ok(200)
    again = api.act(game_id, bob["sessionToken"], "add", n=9, action_id="b1").ok(200)
    assert again["duplicate"] is True
    events = api.events(game_id, ann["sessionToken"]).ok(200)["events"]
    assert [e["seq"] for e in events] == [1, 2, 3, 4, 5, 6]
    assert [e["kind"] for e in events] == ["joined"] * 2 + ["added"] * 4
    api.close()

    # A server without the game's module: the game is there, but not its kind.
    server.kill9()
    plain = spawn(db_url)
    plain_api = Api(plain.url, admin_token)
    refused = plain_api.state(game_id, ann["sessionToken"]).error("invalid_request")
    assert "kind 'tally', which this server does not serve" in refused["message"]
    plain_api.close()
