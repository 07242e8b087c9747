"""`DiceState`: what one Liar's Dice game holds, and the questions asked of it, without the code that
changes it (`appliers`) or decides what happens (`commands`).

Players keep their seat for the whole game; `dice_count` is how many dice they have left (0: out).
A round has an order (the seats with dice, from the starter round the table), the dice each seat
rolled, the bid standing, the player to act and their clock. A challenge ends the round: its dice
are public from then (`revealed`) until the next round is rolled.
"""

from __future__ import annotations

from dataclasses import dataclass

from liars_dice.settings import DiceSettings
from rejoin_server.games import GameStatus, JsonDict

FACES = 6


@dataclass(frozen=True, slots=True)
class Bid:
    """A bid by `seat`: at least `count` dice of the round show `face`."""

    seat: int
    count: int
    face: int

    def beats(self, count: int, face: int) -> bool:
        """Whether `count` x `face` is a higher bid than this one: a higher count, or the same
        count of a higher face."""
        return (count, face) > (self.count, self.face)

    def to_json(self) -> JsonDict:
        return {"seat": self.seat, "count": self.count, "face": self.face}


@dataclass(frozen=True, slots=True)
class Challenge:
    """The challenge that ended a round: `seat` called `bid`, `matching` dice showed its face, and
    `loser` lost a die (the challenger when the bid held, else the bidder)."""

    seat: int
    bid: Bid
    matching: int
    loser: int

    def to_json(self) -> JsonDict:
        return {
            "seat": self.seat,
            "bid": self.bid.to_json(),
            "matching": self.matching,
            "loser": self.loser,
        }


@dataclass(slots=True)
class Player:
    player_id: str
    name: str
    dice_count: int


class DiceState:
    def __init__(self, game_id: str, settings: DiceSettings) -> None:
        self._game_id = game_id
        self.settings = settings
        self._seq = 0
        self._status: GameStatus = "waiting"
        self.players: dict[int, Player] = {}
        self.round = 0
        # The round on the table (the one being played, or the last one, revealed or abandoned).
        self.order: list[int] = []
        self.rolled: dict[int, tuple[int, ...]] = {}
        self.bid: Bid | None = None
        self.to_act: int | None = None
        self.action_deadline: int | None = None
        self.revealed = False
        self.last_challenge: Challenge | None = None
        self.next_round_at: int | None = None
        self.winner: int | None = None

    @property
    def game_id(self) -> str:
        return self._game_id

    @property
    def seq(self) -> int:
        return self._seq

    @property
    def status(self) -> GameStatus:
        return self._status

    # Changing the position: `appliers` after each event, `snapshot.restore` once.

    def set_position(self, seq: int, status: GameStatus) -> None:
        self._seq, self._status = seq, status

    def set_status(self, status: GameStatus) -> None:
        self._status = status

    # Queries.

    @property
    def round_running(self) -> bool:
        """A round is being played: rolled (or rolling), not yet challenged, game not over."""
        return self._status == "playing" and bool(self.order) and not self.revealed

    @property
    def phase(self) -> str:
        if self._status == "completed":
            return "completed"
        if not self.order:
            return "waiting"
        return "revealed" if self.revealed else "bidding"

    def next_deadline(self) -> int | None:
        if self._status != "playing":
            return None
        return self.action_deadline if self.round_running else self.next_round_at

    def seat_of(self, player_id: str) -> int | None:
        for number, player in self.players.items():
            if player.player_id == player_id:
                return number
        return None

    def seats_with_dice(self) -> list[int]:
        return sorted(n for n, p in self.players.items() if p.dice_count > 0)

    def dice_in_play(self) -> int:
        """The dice the current round is played with (or, between rounds, that are left)."""
        if self.round_running:
            return sum(self.players[seat].dice_count for seat in self.order)
        return sum(p.dice_count for p in self.players.values())

    def round_order(self, starter: int) -> list[int]:
        """The seats with dice, from `starter` round the table."""
        seats = self.seats_with_dice()
        return [s for s in seats if s >= starter] + [s for s in seats if s < starter]

    def next_starter(self) -> int:
        """Who starts the next round: the loser of the last challenge, or, when that left them
        without dice, the next seat with dice after them; the lowest seat with dice at first."""
        seats = self.seats_with_dice()
        if not seats:
            raise ValueError("no seat has dice")
        if self.last_challenge is None:
            return seats[0]
        loser = self.last_challenge.loser
        return next((s for s in seats if s >= loser), seats[0])

    def next_to_roll(self) -> int | None:
        """The seat of the round whose dice are not rolled yet, in order; None once all are."""
        return next((seat for seat in self.order if seat not in self.rolled), None)

    def after(self, seat: int) -> int:
        """The seat that plays after `seat` in this round."""
        index = self.order.index(seat)
        return self.order[(index + 1) % len(self.order)]

    def matching(self, face: int) -> int:
        """How many dice of the round show `face` (no wild ones)."""
        return sum(dice.count(face) for dice in self.rolled.values())
