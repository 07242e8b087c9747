"""The reference No-Limit Texas Hold'em table (2-9 seats), event-sourced, with pokerkit for the rules.

Modules: `settings` (table settings), `cards` (card strings, CSPRNG draws), `events` (event kinds and
data), `hand` (pokerkit wrapper for one hand), `actions` (legal actions, judging a decision),
`table` (the `GameState` and `apply`), `commands` (`handle`), `view` (player views, redaction),
`snapshot` (compact dump/restore), `engine` (`PokerEngine`).
"""

from rejoin_server.games.poker.engine import PokerEngine
from rejoin_server.games.poker.settings import PokerSettings
from rejoin_server.games.poker.table import PokerTable

__all__ = ["PokerEngine", "PokerSettings", "PokerTable"]
