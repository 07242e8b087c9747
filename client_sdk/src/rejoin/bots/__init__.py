"""Bots and the load tool: `python -m rejoin.bots --server URL --tables N --players M --hands H`
(`--kind liars-dice` for Liar's Dice tables).

- `strategy`: how a poker bot picks one of the server's `legalActions` (`random`, `call`).
- `dice`: how a Liar's Dice bot picks its move from its view (`odds`).
- `games`: what a bot knows of each kind of game (`BotGame`: its strategy, how rounds end).
- `bot`: one `Bot` = one `GameClient` playing until its table has played H rounds (hands).
- `load`: creates the tables, seats the bots, runs them and sums up a `LoadReport`.
- `cli`: the command line, its progress bar and its summary.
"""

from rejoin.bots.bot import Bot
from rejoin.bots.games import BotGame, bot_game, liars_dice_bots, poker_bots
from rejoin.bots.load import LoadReport, LoadSettings, run_load
from rejoin.bots.strategy import STRATEGIES, Choice, Strategy, ViewStrategy

__all__ = [
    "STRATEGIES",
    "Bot",
    "BotGame",
    "Choice",
    "LoadReport",
    "LoadSettings",
    "Strategy",
    "ViewStrategy",
    "bot_game",
    "liars_dice_bots",
    "poker_bots",
    "run_load",
]
