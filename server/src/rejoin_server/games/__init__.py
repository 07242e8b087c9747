"""The public API of a game: what a game of your own implements and uses (docs/games.md).

A game is a `GameEngine` (a kind of game) making `GameState`s (one game each), which handle the
server's commands (`Join`, `Start`, `Act`, `Tick`, `Abandon`) into `Event`s, and refuse what the
rules do not allow with `GameRuleError`. `rejoin_server.testing.engine_contract` checks that an
engine keeps the rules that make it durable and private. The reference No-Limit Hold'em table is
`games.poker`; `games.kinds` is how the server finds engines by kind.
"""

from rejoin_server.games.base import (
    STREAM_NOTICE_KINDS,
    Abandon,
    Act,
    Command,
    Event,
    GameEngine,
    GameRuleError,
    GameState,
    GameStatus,
    Join,
    JsonDict,
    PrivateData,
    Start,
    Tick,
)

__all__ = [
    "STREAM_NOTICE_KINDS",
    "Abandon",
    "Act",
    "Command",
    "Event",
    "GameEngine",
    "GameRuleError",
    "GameState",
    "GameStatus",
    "Join",
    "JsonDict",
    "PrivateData",
    "Start",
    "Tick",
]
