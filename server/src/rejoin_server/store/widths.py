"""The widths of the store's text columns that a request can fill, in characters.

`store.schema` declares its columns with these, and the API bounds what it accepts by them, so a
value the API lets through always fits its column.
"""

from __future__ import annotations

GAME_ID = 64
PLAYER_ID = 64
CLIENT_ID = 128
ACTION_ID = 128  # the client's actionId scoped by player: `{playerId}:{actionId}`
NODE_ID = 128  # --node-id: a host name and a port fit
