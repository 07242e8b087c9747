"""Broken engines for the contract checks' tests: each is `contract_toy`'s High Number with one rule
broken, the way a game's author might break it by mistake."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from rejoin_server.games.base import Act, Command, Event, GameRuleError, JsonDict, Tick

from .contract_toy import ToyEngine, ToyState

# Replay, and what every check relies on.


class ForgetfulApplyState(ToyState):
    """`apply` forgets a bid, and `handle` makes up for it by writing it itself: live is right, a
    replay is not."""

    def apply(self, event: Event) -> None:
        if event.kind != "bid":
            return super().apply(event)
        bids = dict(self.bids)
        super().apply(event)
        self.bids = bids

    def handle(self, command: Command, now_ms: int) -> list[Event]:
        events = super().handle(command, now_ms)
        if events and events[-1].kind == "bid":  # not when the round ended with it
            self.bids[events[-1].data["playerId"]] = events[-1].data["amount"]
        return events


class TupleEventState(ToyState):
    """Event data with a tuple, which the store gives back as a list."""

    def handle(self, command: Command, now_ms: int) -> list[Event]:
        return [
            replace(e, data={**e.data, "seats": tuple(self.seats)})
            for e in super().handle(command, now_ms)
        ]


class SkippedSeqState(ToyState):
    """Events handed out with seqs one past those applied."""

    def handle(self, command: Command, now_ms: int) -> list[Event]:
        return [replace(e, seq=e.seq + 1) for e in super().handle(command, now_ms)]


class NoticeKindState(ToyState):
    """Bids handed out as events of kind `presence`, a name the event stream's notices have."""

    def handle(self, command: Command, now_ms: int) -> list[Event]:
        events = super().handle(command, now_ms)
        return [replace(e, kind="presence") if e.kind == "bid" else e for e in events]


# Round trip.


class LoadDropsScoresEngine(ToyEngine):
    """`load` forgets the scores."""

    def load(self, game_id: str, settings: Mapping[str, Any], data: Mapping[str, Any]) -> ToyState:
        state = super().load(game_id, settings, data)
        state.scores = dict.fromkeys(state.scores, 0)
        return state


class SharedDumpState(ToyState):
    """`dump` hands out the state's own dict of scores."""

    def dump(self) -> JsonDict:
        return {**super().dump(), "scores": self.scores}


class FloatDumpState(ToyState):
    """`dump` holds a float."""

    def dump(self) -> JsonDict:
        return {**super().dump(), "pace": self.turn_ms / 1000}


class HiddenPotState(ToyState):
    """The pot is kept aside as bids come and paid at the reveal, but `dump` leaves it out: a
    loaded game pays less than the one that went on."""

    pot = 0

    def apply(self, event: Event) -> None:
        if event.kind in ("bid", "timeout"):
            self.pot += event.data.get("amount", 1)
        if event.kind == "revealed":
            event = replace(event, data={**event.data, "pot": self.pot})
            self.pot = 0
        super().apply(event)


# Redaction.


class LeakyEventsState(ToyState):
    """`event_for` redacts nothing."""

    def event_for(self, event: Event, player_id: str | None) -> Event:
        return event


class RenumberedEventsState(ToyState):
    """`event_for` gives a redacted event a seq of its own."""

    def event_for(self, event: Event, player_id: str | None) -> Event:
        shown = super().event_for(event, player_id)
        return shown if shown is event else replace(shown, seq=shown.seq + 1000)


class LeakyViewState(ToyState):
    """Every view shows every number."""

    def view(self, player_id: str | None) -> JsonDict:
        view = super().view(player_id)
        for seat in view["players"]:
            seat["number"] = self.numbers.get(seat["playerId"])
        return view


# Clocks.


class ClockNeverFiresState(ToyState):
    """A deadline that a Tick never fires."""

    def handle(self, command: Command, now_ms: int) -> list[Event]:
        return [] if isinstance(command, Tick) else super().handle(command, now_ms)


class EarlyClockState(ToyState):
    """A Tick fires a second before the deadline."""

    def handle(self, command: Command, now_ms: int) -> list[Event]:
        return super().handle(command, now_ms + 1000 if isinstance(command, Tick) else now_ms)


# Refusals.


class MutatesBeforeRefusingState(ToyState):
    """A bid out of range costs a point, then is refused."""

    def handle(self, command: Command, now_ms: int) -> list[Event]:
        try:
            return super().handle(command, now_ms)
        except GameRuleError as exc:
            if isinstance(command, Act) and command.player_id in self.scores:
                self.scores[command.player_id] -= 1
            raise exc


class UnknownCodeState(ToyState):
    """Refuses with a code of its own."""

    def handle(self, command: Command, now_ms: int) -> list[Event]:
        try:
            return super().handle(command, now_ms)
        except GameRuleError as exc:
            raise GameRuleError("bad_move", exc.message) from exc


class AnyActionState(ToyState):
    """Takes an action of any type as a bid of 1."""

    def handle(self, command: Command, now_ms: int) -> list[Event]:
        if isinstance(command, Act) and command.type != "bid" and self.turn is not None:
            command = Act(self.seats[self.turn], "bid", {"amount": 1})
        return super().handle(command, now_ms)


class AbandonsTwiceState(ToyState):
    """A completed game takes a second Abandon."""

    def handle(self, command: Command, now_ms: int) -> list[Event]:
        if self.status == "completed" and not isinstance(command, Tick):
            event = Event(self.seq + 1, "completed", now_ms, {"reason": "again"})
            self.apply(event)
            return [event]
        return super().handle(command, now_ms)


def engine_of(state_type: type[ToyState]) -> ToyEngine:
    engine = ToyEngine()
    engine.state_type = state_type
    return engine
