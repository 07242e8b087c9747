"""Playing the reference poker game over HTTP: a table, its players, passive play.

A `Player` remembers what a real client keeps (session token, reconnect token, client id, last
seq); a `Table` knows its players and who is to act. The play helpers only ever act for the player
the server says is to act, with an action from that player's `legalActions`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .api import Api, JsonObject, Reply, new_action_id, parse_utc
from .polling import wait_for

MAX_ACTIONS = 400


@dataclass(slots=True)
class Player:
    api: Api
    game_id: str
    player_id: str
    seat: int
    name: str
    session: str
    token: str
    client_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    last_seq: int = 0

    @classmethod
    def joined(cls, api: Api, game_id: str, name: str, seat: int | None = None) -> Player:
        """A player who took a seat of `game_id` over HTTP (asserting 201)."""
        body = api.join(game_id, name, seat).ok(201)
        assert body["connectionToken"]["playerId"] == body["playerId"], body
        parse_utc(body["connectionToken"]["expiresAt"], "connectionToken.expiresAt")
        return cls(
            api=api,
            game_id=game_id,
            player_id=body["playerId"],
            seat=body["seat"],
            name=name,
            session=body["sessionToken"],
            token=body["connectionToken"]["token"],
        )

    # What a client does.

    def state_reply(self) -> Reply:
        return self.api.state(self.game_id, self.session)

    def view(self) -> JsonObject:
        """This player's `gameState` (asserting 200); remembers its seq."""
        body = self.state_reply().ok(200)
        state: JsonObject = body["gameState"]
        self.last_seq = int(body["seq"])
        return state

    def act(
        self,
        type_: str,
        amount: int | None = None,
        *,
        action_id: str | None = None,
        at_seq: int | None = None,
    ) -> Reply:
        return self.api.act(
            self.game_id, self.session, type_, amount, action_id=action_id, at_seq=at_seq
        )

    def reconnect(
        self,
        last_seq: int | None = None,
        client_id: str | None = None,
        token: str | None = None,
        last_epoch: str | None = None,
    ) -> Reply:
        """POST reconnect with the stored token; on success keep the fresh tokens."""
        reply = self.api.reconnect(
            self.game_id,
            self.player_id,
            token if token is not None else self.token,
            last_seq=last_seq,
            client_id=client_id if client_id is not None else self.client_id,
            last_epoch=last_epoch,
        )
        if reply.status == 200 and isinstance(reply.body, dict):
            self.adopt(reply.body)
        return reply

    def adopt(self, body: JsonObject) -> None:
        """Keep the tokens of a successful reconnect answer."""
        self.token = body["connectionToken"]["token"]
        self.session = body["sessionToken"]
        self.last_seq = int(body["seq"])

    def events(self, after: int | None = None) -> list[JsonObject]:
        body = self.api.events(self.game_id, self.session, after).ok(200)
        events: list[JsonObject] = body["events"]
        return events


@dataclass(frozen=True, slots=True)
class Move:
    """An action a helper made and its acknowledgement (`{success, seq, duplicate, durable}`)."""

    player: Player
    type: str
    action_id: str
    ack: JsonObject


@dataclass(slots=True)
class Table:
    api: Api
    game_id: str
    settings: JsonObject
    players: list[Player] = field(default_factory=list)
    seq: int = 0  # the newest seq the server told this driver (a deal, a view)

    @classmethod
    def create(cls, api: Api, **settings: Any) -> Table:
        body = api.create_game(**settings).ok(201)
        assert body["status"] == "waiting", body
        return cls(api, body["gameId"], body)

    def join(self, name: str, seat: int | None = None) -> Player:
        player = Player.joined(self.api, self.game_id, name, seat)
        self.players.append(player)
        return player

    def join_many(self, count: int) -> list[Player]:
        names = ["Alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace", "Heidi", "Ivan"]
        return [self.join(names[i]) for i in range(count)]

    def start(self, by: Player | None = None) -> JsonObject:
        player = by or self.players[0]
        body = self.api.start(self.game_id, player.session).ok(200)
        self.seq = int(body["seq"])
        return body

    def by_seat(self, seat: int) -> Player:
        for player in self.players:
            if player.seat == seat:
                return player
        raise AssertionError(f"nobody of this test sits at seat {seat}")

    def view(self) -> JsonObject:
        view = self.players[0].view()
        self.seq = self.players[0].last_seq
        return view

    def wait_for_status(
        self, status: str, *, timeout: float, what: str, detail: Callable[[], str] | None = None
    ) -> JsonObject:
        """Poll the view until the game's `status` is `status` (e.g. a cleanup job completing it);
        that view. `what` and `detail` as for `wait_for`."""

        def reached() -> JsonObject | None:
            view = self.view()
            return view if view["status"] == status else None

        return wait_for(reached, timeout=timeout, what=what, detail=detail)

    def to_act(self) -> Player | None:
        seat = self.view()["toAct"]
        return None if seat is None else self.by_seat(seat)

    def act_passively(self) -> Move:
        """The player to act checks if they can, else calls (else folds)."""
        return self.act_first_of("check", "call", "fold")

    def act_first_of(self, *preferred: str) -> Move:
        """The player to act takes the first of `preferred` that is legal for them."""
        player = self.to_act()
        assert player is not None, f"nobody is to act: {self.view()}"
        legal = {a["type"]: a for a in player.view()["you"]["legalActions"]}
        type_ = next((t for t in preferred if t in legal), None)
        assert type_ is not None, f"none of {preferred} is legal: {sorted(legal)}"
        action_id = new_action_id()
        reply = player.act(type_, action_id=action_id)
        ack = reply.ok(200)
        return Move(player, type_, action_id, ack)

    def play_until(
        self, done: Callable[[JsonObject], bool], limit: int = MAX_ACTIONS
    ) -> JsonObject:
        """Act passively until `done(view)`; returns that view."""
        for _ in range(limit):
            view = self.view()
            if done(view):
                return view
            self.act_passively()
        raise AssertionError(f"not done after {limit} actions: {self.view()}")

    def play_hand_out(self) -> JsonObject:
        """Play passively until no hand is running (the hand is over or the game completed)."""
        return self.play_until(lambda v: v["toAct"] is None)


def play_to_completion(table: Table, max_hands: int = 60) -> JsonObject:
    """Heads-up all-in every hand until one player holds every chip; returns the final view."""
    for _ in range(max_hands):
        view = table.view()
        if view["status"] == "completed":
            return view
        if view["toAct"] is None:
            table.start()
            continue
        table.act_first_of("allin", "call", "check")
    raise AssertionError(f"no winner after {max_hands} hands of all-in: {table.view()}")
