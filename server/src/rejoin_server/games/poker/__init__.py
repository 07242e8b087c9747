"""The reference No-Limit Texas Hold'em table (2-9 seats), event-sourced, with pokerkit for the rules.

Modules: `settings` (table settings), `cards` (card strings, CSPRNG draws), `events` (event kinds and
data), `hand` (pokerkit wrapper for one hand), `actions` (legal actions, judging a decision),
`state` (`TableState`: what a table holds, below everything else), `appliers` (`apply`, the only
code that changes a table), `commands` (`handle`), `view` (player views, redaction),
`snapshot` (compact dump/restore), `table` (`PokerTable`, the `GameState` made of them), `engine`
(`PokerEngine`), `lazy_lookups` (a faster pokerkit import: it must run before pokerkit is
imported, so it comes first).
"""

from rejoin_server.games.poker import lazy_lookups

lazy_lookups.install()

from rejoin_server.games.poker.engine import PokerEngine  # noqa: E402
from rejoin_server.games.poker.settings import PokerSettings, TableLimits  # noqa: E402
from rejoin_server.games.poker.table import PokerTable  # noqa: E402

__all__ = ["PokerEngine", "PokerSettings", "PokerTable", "TableLimits"]
