"""Bots and the load tool: `python -m rejoin.bots --server URL --tables N --players M --hands H`.

- `strategy`: how a bot picks one of the server's `legalActions` (`random`, `call`).
- `bot`: one `Bot` = one `GameClient` playing until its table has dealt H hands.
- `load`: creates the tables, seats the bots, runs them and sums up a `LoadReport`.
- `cli`: the command line, its progress bar and its summary.
"""

from rejoin.bots.bot import Bot
from rejoin.bots.load import LoadReport, LoadSettings, run_load
from rejoin.bots.strategy import STRATEGIES, Choice, Strategy

__all__ = ["STRATEGIES", "Bot", "Choice", "LoadReport", "LoadSettings", "Strategy", "run_load"]
