"""What a table page says before a seat is taken: which seats are free (from `GET /api/game/{id}`,
numbered from 0 as the API numbers them, shown from 1 as people count), what to do when the seat
a link asks for is taken, that a table takes nobody (full, or started), and the result of a game
that is over.

Plain Python, like `table_text` (no `js`, no `pyodide`), so that it is tested outside a browser.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["join_choice", "result_text", "seat_label"]


def seat_label(seat: int) -> str:
    """A seat as people read it: the API's seat 0 is "seat 1"."""
    return f"seat {seat + 1}"


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def join_choice(table: Mapping[str, Any], asked: int | None) -> dict[str, Any]:
    """What the join form shows of `table` (the answer of `GET /api/game/{id}`) when `asked` is
    the seat the link or the player asked for (None: any): `summary`, one line about the table;
    `closed`, True when the table takes nobody now (every seat taken, or a game started that
    takes no more players: the server's `open` is false), and then `note` says so and nothing is
    offered; otherwise, when `asked` cannot be had, `note` saying so and `free`, the seats to
    offer instead (0-based; each button reads `seat_label`)."""
    seats = _int(table.get("seats"))
    seated = _int(table.get("seated"))
    raw = table.get("freeSeats")
    free = [s for s in raw if _int(s) is not None] if isinstance(raw, list) else None
    parts = [str(table.get("kind") or "game")]
    if seats is not None and seated is not None:
        parts.append(f"{seated} of {seats} seats taken")
    settings = table.get("settings")
    if isinstance(settings, Mapping) and _int(settings.get("smallBlind")) is not None:
        parts.append(f"blinds {settings['smallBlind']}/{settings.get('bigBlind')}")
    choice: dict[str, Any] = {
        "summary": " · ".join(parts),
        "free": None,
        "note": None,
        "closed": False,
    }
    # `open` is the server's word (null or absent: it does not know, e.g. an older server).
    if free == [] or table.get("open") is False:
        choice["closed"] = True
        choice["note"] = (
            "This table is full."
            if not free
            else "This game has started and takes no more players."
        )
        return choice
    if asked is None or free is None or asked in free:
        return choice
    if seats is not None and not 0 <= asked < seats:
        choice["note"] = (
            f"This table has no {seat_label(asked)} (its seats are 1 to {seats}); "
            "choose a free seat:"
        )
    else:
        choice["note"] = f"{seat_label(asked).capitalize()} is taken; choose a free seat:"
    choice["free"] = free
    return choice


def _seats(view: Mapping[str, Any]) -> Sequence[Mapping[str, Any]]:
    for key in ("seats", "players"):
        found = view.get(key)
        if isinstance(found, list):
            return [entry for entry in found if isinstance(entry, Mapping)]
    return []


def _name(entry: Mapping[str, Any]) -> str:
    name = entry.get("name")
    if isinstance(name, str) and name:
        return name
    seat = _int(entry.get("seat"))
    return seat_label(seat) if seat is not None else "a player"


def result_text(final: object) -> str:
    """The result of a completed game in words, from its final view (the spectator's): each
    seat's chips (`stack`) and who won (the one seat left with chips, or the view's `winner`,
    a seat number or a name); "" when the view says neither."""
    if not isinstance(final, Mapping):
        return ""
    seats = _seats(final)
    counted = [(entry, stack) for entry in seats if (stack := _int(entry.get("stack"))) is not None]
    parts = []
    if counted:
        parts.append("Final chips: " + ", ".join(f"{_name(e)} {s}" for e, s in counted) + ".")
    winner = final.get("winner")
    winning_seat = _int(winner)
    with_chips = [entry for entry, stack in counted if stack > 0]
    if winning_seat is not None:
        by_seat = {_int(entry.get("seat")): entry for entry in seats}
        entry = by_seat.get(winning_seat)
        parts.append(f"{_name(entry) if entry is not None else seat_label(winning_seat)} won.")
    elif isinstance(winner, str) and winner:
        parts.append(f"{winner} won.")
    elif len(counted) > 1 and len(with_chips) == 1:
        parts.append(f"{_name(with_chips[0])} won.")
    return " ".join(parts)
