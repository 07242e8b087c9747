"""What a table page learns before it asks for a name: `GET /api/game/{gameId}` read as the join
form needs it (`SeatPage` draws it). A wrong link and a finished game end there; an open table
gives what to offer (`join_text.join_choice`).

No `js` or `pyodide` here (`http_api` picks the browser's fetch by itself), so it runs under
CPython too.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from rejoin.browser.join_text import join_choice, result_text
from rejoin.errors import HttpApiError
from rejoin.http_api import describe_table, transport_errors

__all__ = ["BeforeJoin", "before_join", "requested_seat"]

log = logging.getLogger(__name__)


def requested_seat(query: str) -> int | None:
    """The seat a seat link asks for (`?seat=N`, from 0 as in the API), if any: the server says
    whether it is free."""
    values = parse_qs(query.lstrip("?")).get("seat", [])
    if not values or not values[0].isascii() or not values[0].isdecimal():
        return None
    return int(values[0])


@dataclass(frozen=True, slots=True)
class BeforeJoin:
    """`refusal`: the table is gone (`game_not_found`) or over (`game_completed`); then `final`
    is the game's final view when the server gave it, `result` it in words. Otherwise `choice`
    is what the join form offers (None: the table could not be described, the join will say)."""

    refusal: HttpApiError | None = None
    final: dict[str, Any] | None = None
    result: str = ""
    choice: dict[str, Any] | None = None


async def before_join(base: str, game_id: str, asked: int | None) -> BeforeJoin:
    """The table `game_id` as its join form needs it, when `asked` is the seat wanted (None: any)."""
    try:
        table = await describe_table(base, game_id)
    except HttpApiError as error:
        if error.code == "game_not_found":
            return BeforeJoin(refusal=error)
        if error.code == "game_completed":
            found = error.details.get("gameState")
            final = found if isinstance(found, dict) else None
            return BeforeJoin(refusal=error, final=final, result=result_text(final))
        log.info("the table could not be described: %s", error)
        return BeforeJoin()
    except transport_errors() as error:  # no answer: the join will say what is wrong
        log.info("the table could not be described: %s", error)
        return BeforeJoin()
    return BeforeJoin(choice=join_choice(table, asked))
