"""The reference No-Limit Texas Hold'em table (2-9 seats), event-sourced, with pokerkit for the rules.

Modules: `settings` (table settings), `cards` (card strings, CSPRNG draws), `events` (event kinds
and data), `hand` (pokerkit wrapper for one hand), `asked` (what a command asks pokerkit, once per
change), `actions` (legal actions, judging a decision), `state` (`TableState`: what a table holds,
below everything else), `appliers` (`apply`, the only code that changes a table), `commands`
(`handle`), `view` (player views, redaction), `snapshot` (compact dump/restore), `table`
(`PokerTable`, the `GameState` made of them), `engine` (`PokerEngine`), `warmup` (pokerkit loaded in
the background: importing this package does not load it), `lazy_lookups` (pokerkit loaded without
the hand tables of other variants), `lean_import` (pokerkit loaded without its hand-history notation
and analysis), `ranking` (pokerkit's hand ranking, each kind of hand looked up once).
"""

from rejoin_server.games.poker import lazy_lookups
from rejoin_server.games.poker.engine import PokerEngine
from rejoin_server.games.poker.settings import PokerSettings, TableLimits
from rejoin_server.games.poker.table import PokerTable

__all__ = ["PokerEngine", "PokerSettings", "PokerTable", "TableLimits"]

# Before anything imports pokerkit (nothing here does at import): a hook, nothing loaded yet.
lazy_lookups.install()
