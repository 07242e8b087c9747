"""The poker table's event log in words: "bob raises to 8", "alice posts the small blind 1",
"bob wins 12 with a pair of kings".

Plain Python (no `js`, no `pyodide`), so the words can be read and tested outside a browser.
Seats are shown as people count them, from 1 ("seat 3" is the API's seat 2); a player is named
wherever the page knows the name (from the views it drew and from `player_joined` events).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

__all__ = ["PokerLog", "cards_text", "hand_phrase", "seat_label"]

SUITS: Final = {"s": "♠", "h": "♥", "d": "♦", "c": "♣"}
RANKS: Final = "23456789TJQKA"
RANK_NAMES: Final = {
    "2": ("two", "twos"),
    "3": ("three", "threes"),
    "4": ("four", "fours"),
    "5": ("five", "fives"),
    "6": ("six", "sixes"),
    "7": ("seven", "sevens"),
    "8": ("eight", "eights"),
    "9": ("nine", "nines"),
    "T": ("ten", "tens"),
    "J": ("jack", "jacks"),
    "Q": ("queen", "queens"),
    "K": ("king", "kings"),
    "A": ("ace", "aces"),
}
# The server's hand names (pokerkit's labels) as a phrase after "with", when the cards that
# make the hand are not all known to the page.
HAND_PHRASES: Final = {
    "High card": "high card",
    "One pair": "a pair",
    "Two pair": "two pair",
    "Three of a kind": "three of a kind",
    "Straight": "a straight",
    "Flush": "a flush",
    "Full house": "a full house",
    "Four of a kind": "four of a kind",
    "Straight flush": "a straight flush",
}
ACTION_WORDS: Final = {"fold": "folds", "check": "checks"}
MAX_LINE: Final = 160


def seat_label(seat: object) -> str:
    """ "seat 3" for the API's seat 2: people count seats from 1."""
    if isinstance(seat, int) and not isinstance(seat, bool):
        return f"seat {seat + 1}"
    return "a seat"


def _card(card: object) -> str:
    if not isinstance(card, str) or len(card) != 2:
        return "??"
    rank = "10" if card[0] == "T" else card[0]
    return rank + SUITS.get(card[1], card[1])


def cards_text(cards: object) -> str:
    """`["Kd", "Th"]` as "K♦ 10♥"."""
    if not isinstance(cards, list | tuple):
        return ""
    return " ".join(_card(card) for card in cards)


def _ranks(cards: Sequence[str]) -> list[str]:
    return [c[0] for c in cards if len(c) == 2 and c[0] in RANKS]


def _high_straight(ranks: set[str]) -> str | None:
    """The top rank of the best straight in `ranks` (the ace also plays low), if any."""
    order = ["A", *RANKS]  # A-2-3-4-5 first, up to T-J-Q-K-A
    best = None
    for start in range(len(order) - 4):
        if all(r in ranks for r in order[start : start + 5]):
            best = order[start + 4]
    return best


def _one(rank: str) -> str:
    return RANK_NAMES[rank][0]


def _many(rank: str) -> str:
    return RANK_NAMES[rank][1]


def _top(counts: Counter[str], at_least: int, skip: str | None = None) -> str | None:
    found = [r for r, n in counts.items() if n >= at_least and r != skip]
    return max(found, key=RANKS.index) if found else None


def hand_phrase(label: object, cards: Sequence[str]) -> str:
    """The hand the server named `label` ("One pair"), made from `cards` (the hole cards and the
    board), as a phrase after "with": "a pair of kings", "two pair, aces and fives", "a flush,
    queen high". With fewer than five known cards only the kind of hand ("a pair")."""
    text = str(label) if label is not None else ""
    plain = HAND_PHRASES.get(text, text.lower() or "their hand")
    valid = [c for c in cards if isinstance(c, str) and len(c) == 2 and c[0] in RANKS]
    if len(valid) < 5 or text not in HAND_PHRASES:
        return plain
    counts = Counter(_ranks(valid))
    suits = Counter(c[1] for c in valid)
    flush_suit = next((s for s, n in suits.items() if n >= 5), None)
    detail: str | None = None
    if text == "High card":
        detail = f"{_one(max(counts, key=RANKS.index))} high"
    elif text == "One pair" and (pair := _top(counts, 2)):
        detail = f"a pair of {_many(pair)}"
    elif text == "Two pair" and (high := _top(counts, 2)) and (low := _top(counts, 2, high)):
        detail = f"two pair, {_many(high)} and {_many(low)}"
    elif text == "Three of a kind" and (trips := _top(counts, 3)):
        detail = f"three {_many(trips)}"
    elif text == "Straight" and (top := _high_straight(set(counts))):
        detail = f"a straight, {_one(top)} high"
    elif text == "Flush" and flush_suit is not None:
        suited_ranks = _ranks([c for c in valid if c[1] == flush_suit])
        detail = f"a flush, {_one(max(suited_ranks, key=RANKS.index))} high"
    elif text == "Full house" and (trips := _top(counts, 3)) and (pair := _top(counts, 2, trips)):
        detail = f"a full house, {_many(trips)} full of {_many(pair)}"
    elif text == "Four of a kind" and (quads := _top(counts, 4)):
        detail = f"four {_many(quads)}"
    elif text == "Straight flush" and flush_suit is not None:
        suited = {c[0] for c in valid if c[1] == flush_suit}
        if top := _high_straight(suited):
            detail = f"a straight flush, {_one(top)} high"
    return detail or plain


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class PokerLog:
    """The log lines of one page, in the order its events arrive. It remembers what a line needs
    from earlier events: who sits where, the board of the hand, the hands shown at showdown."""

    def __init__(self) -> None:
        self._names: dict[int, str] = {}
        self._board: list[str] = []
        self._board_known = False  # the page saw this hand from its start (or a resync)
        self._shown: dict[int, tuple[list[str], str]] = {}  # seat -> (hole cards, hand name)
        self._kinds: Final[dict[str, Callable[[Mapping[str, Any], Mapping[str, Any]], str]]] = {
            "resync": self._resync,
            "player_joined": self._player_joined,
            "hand_started": self._hand_started,
            "blind_posted": self._blind_posted,
            "hole_cards": self._hole_cards,
            "action": self._action,
            "timeout": self._timeout,
            "street": self._street,
            "showdown": self._showdown,
            "pot_awarded": self._pot_awarded,
            "hand_ended": self._hand_ended,
            "game_completed": self._game_completed,
            "snapshot_restored": self._snapshot_restored,
        }

    def learn_view(self, view: Mapping[str, Any]) -> None:
        """Take the names of the seats in a view the page draws."""
        seats = view.get("seats")
        if not isinstance(seats, list):
            return
        for seat in seats:
            if not isinstance(seat, Mapping):
                continue
            number, name = _int(seat.get("seat")), seat.get("name")
            if number is not None and isinstance(name, str) and name:
                self._names[number] = name

    def who(self, seat: object) -> str:
        """The player at `seat` by name, else "seat N" (from 1)."""
        number = _int(seat)
        if number is not None and number in self._names:
            return self._names[number]
        return seat_label(seat)

    def line(self, event: Mapping[str, Any]) -> str:
        """The words for `event` (`{seq, kind, data}`), at most MAX_LINE characters."""
        kind = str(event.get("kind", ""))
        data = event.get("data")
        data = data if isinstance(data, Mapping) else {}
        say = self._kinds.get(kind)
        text = say(data, event) if say is not None else self._other(kind, data)
        return text if len(text) <= MAX_LINE else f"{text[: MAX_LINE - 1]}…"

    # --- one method per kind -------------------------------------------------------------------

    def _resync(self, data: Mapping[str, Any], event: Mapping[str, Any]) -> str:
        state = data.get("gameState")
        seq = event.get("seq")
        if isinstance(state, Mapping):
            self.learn_view(state)
            board = state.get("board")
            self._board = list(board) if isinstance(board, list) else []
            self._board_known = True
            self._shown = {}
            seq = state.get("seq", seq)
        return f"state refreshed at seq {seq}"

    def _player_joined(self, data: Mapping[str, Any], _: Mapping[str, Any]) -> str:
        seat, name = _int(data.get("seat")), data.get("name")
        if seat is not None and isinstance(name, str) and name:
            self._names[seat] = name
        stack = _int(data.get("stack"))
        chips = f" with {stack} chips" if stack is not None else ""
        return f"{self.who(seat)} sits down at {seat_label(seat)}{chips}"

    def _hand_started(self, data: Mapping[str, Any], _: Mapping[str, Any]) -> str:
        self._board, self._board_known, self._shown = [], True, {}
        number = data.get("handNumber")
        return f"hand #{number} begins; {self.who(data.get('button'))} has the button"

    def _blind_posted(self, data: Mapping[str, Any], _: Mapping[str, Any]) -> str:
        blind = data.get("blind")
        which = f"the {blind} blind" if blind in ("small", "big") else "a blind"
        return f"{self.who(data.get('seat'))} posts {which} {data.get('amount')}"

    def _hole_cards(self, data: Mapping[str, Any], _: Mapping[str, Any]) -> str:
        cards = data.get("cards")
        shown = cards_text(cards) if isinstance(cards, list) else "two cards"
        return f"{self.who(data.get('seat'))} is dealt {shown}"

    def _action(self, data: Mapping[str, Any], _: Mapping[str, Any]) -> str:
        who, kind, amount = self.who(data.get("seat")), data.get("type"), data.get("amount")
        if kind in ACTION_WORDS:
            return f"{who} {ACTION_WORDS[str(kind)]}"
        if kind == "call":
            return f"{who} calls {amount}"
        if kind == "bet":
            return f"{who} bets {amount}"
        if kind == "raise":
            return f"{who} raises to {amount}"
        if kind == "allin":
            return f"{who} goes all-in to {amount}"
        return f"{who} {kind} {amount}".rstrip()

    def _timeout(self, data: Mapping[str, Any], _: Mapping[str, Any]) -> str:
        acted = {"fold": "folds", "check": "checks"}.get(str(data.get("action")), "acts")
        return f"{self.who(data.get('seat'))} ran out of time and {acted}"

    def _street(self, data: Mapping[str, Any], _: Mapping[str, Any]) -> str:
        cards = data.get("cards")
        if isinstance(cards, list):
            self._board.extend(c for c in cards if isinstance(c, str))
        return f"the {data.get('street', 'next street')}: {cards_text(cards)}"

    def _showdown(self, data: Mapping[str, Any], _: Mapping[str, Any]) -> str:
        parts = []
        hands = data.get("hands")
        for hand in hands if isinstance(hands, list) else []:
            if not isinstance(hand, Mapping):
                continue
            seat, cards = _int(hand.get("seat")), hand.get("cards")
            hole = [c for c in cards if isinstance(c, str)] if isinstance(cards, list) else []
            name = str(hand.get("hand") or "")
            if seat is not None:
                self._shown[seat] = (hole, name)
            what = f" ({self._phrase(hole, name)})" if name else ""
            parts.append(f"{self.who(seat)} shows {cards_text(hole)}{what}")
        return "; ".join(parts) if parts else "the showdown"

    def _pot_awarded(self, data: Mapping[str, Any], _: Mapping[str, Any]) -> str:
        winners = data.get("winners")
        won = [
            (w.get("seat"), w.get("amount"))
            for w in (winners if isinstance(winners, list) else [])
            if isinstance(w, Mapping)
        ]
        if len(won) == 1:
            seat, amount = won[0]
            number = _int(seat)
            shown = self._shown.get(number) if number is not None else None
            with_hand = f" with {self._phrase(*shown)}" if shown and shown[1] else ""
            return f"{self.who(seat)} wins {amount}{with_hand}"
        split = ", ".join(f"{self.who(seat)} {amount}" for seat, amount in won)
        return f"the pot of {data.get('amount')} is split: {split}"

    def _hand_ended(self, data: Mapping[str, Any], _: Mapping[str, Any]) -> str:
        return f"hand #{data.get('handNumber')} is over"

    def _game_completed(self, data: Mapping[str, Any], _: Mapping[str, Any]) -> str:
        if "seat" in data:
            return f"{self.who(data.get('seat'))} wins the game"
        return f"the game is over ({data.get('reason', 'ended')})"

    def _snapshot_restored(self, data: Mapping[str, Any], _: Mapping[str, Any]) -> str:
        """An operator's rollback (`POST …/rollback`): the table is as it was at `version`, whose
        hand number the event carries; the page fetches that view, and the hand it saw is gone."""
        self._board_known = False
        self._shown.clear()
        hand = _int(data.get("handNumber"))
        if hand is None:
            where = "an earlier state"
        elif hand == 0:
            where = "before the first hand"
        else:
            where = f"hand #{hand}"
        reason = data.get("reason")
        why = f": {reason}" if isinstance(reason, str) and reason else ""
        return f"an operator rolled the table back to {where}{why}"

    # --- helpers ---------------------------------------------------------------------------------

    def _phrase(self, hole: list[str], name: str) -> str:
        # The board is only trusted when the page saw the hand from its start: a page resumed
        # mid-hand has not seen the streets dealt before it came back.
        return hand_phrase(name, hole + self._board if self._board_known else hole)

    def _other(self, kind: str, data: Mapping[str, Any]) -> str:
        """A kind this log does not know: its name and its plain fields, seats counted from 1."""
        parts = []
        for key, value in data.items():
            if key == "seat":
                parts.append(self.who(value))
            elif isinstance(value, str | int | float | bool):
                parts.append(f"{key} {value}")
        return f"{kind}: {', '.join(parts)}" if parts else kind
