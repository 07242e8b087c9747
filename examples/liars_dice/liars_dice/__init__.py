"""Liar's Dice for rejoin: a game written against `rejoin_server.games` alone (README.md has the
rules). Serve it with `rejoin-server --game liars_dice:LiarsDiceEngine`."""

from liars_dice.engine import LiarsDiceEngine, roll_dice
from liars_dice.game import LiarsDiceGame

__all__ = ["LiarsDiceEngine", "LiarsDiceGame", "roll_dice"]
