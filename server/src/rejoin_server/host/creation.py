"""Creating a game: its kind's engine, its settings, its durability, its row.

A game's durability (`rejoin_server.durability`) is chosen here, once: the one it asks for, else
the rollout rule's (`--persist-fraction`). A stored game (strict or relaxed) gets its row, owned
by this node from the start, within the storage quota. A game kept in memory only gets none: it
is no part of the quota (`--max-games`, `--max-storage-bytes`), and no node of a cluster owns it
in the store; it is this process's alone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from rejoin_server.durability import MEMORY, GameDurability, new_game_id
from rejoin_server.errors import KindNotServed
from rejoin_server.games.kinds import GameKinds, UnservedKind
from rejoin_server.host.live import LiveGame
from rejoin_server.host.loaded_games import LoadedGames
from rejoin_server.host.ownership import Ownership
from rejoin_server.host.room import make_room
from rejoin_server.host.seating import seating_of
from rejoin_server.host.seqs import SeqMarks
from rejoin_server.metrics import Metrics
from rejoin_server.settings import ServerSettings
from rejoin_server.store.base import GameStore


class Creation:
    def __init__(
        self,
        store: GameStore,
        kinds: GameKinds,
        settings: ServerSettings,
        metrics: Metrics,
        *,
        ownership: Ownership,
        games: LoadedGames,
        clock: Callable[[], int],
        forget: Callable[[str], None],
    ) -> None:
        self._store = store
        self._kinds = kinds
        self._settings = settings
        self._metrics = metrics
        self._ownership = ownership
        self._games = games
        self._clock = clock
        self._forget = forget  # drop a game evicted for room from memory

    async def create_game(
        self, raw: Mapping[str, Any], kind: str | None, durability: GameDurability | None
    ) -> LiveGame:
        """See `GameHost.create_game`."""
        kind = self._kinds.default if kind is None else kind
        try:
            engine = self._kinds.engine(kind)
        except UnservedKind as exc:
            raise KindNotServed(exc.kind, exc.served) from exc
        server = self._settings
        game_id, durability = new_game_id(durability, server.persist_fraction, server.durability)
        settings = self._kinds.settings(kind, raw)
        state = engine.new_game(game_id, settings)
        if durability != MEMORY:
            await make_room(self._store, server, self._metrics, self._forget)
        now = self._clock()
        self._ownership.require_taking(game_id)
        owner_epoch = None
        seating = seating_of(
            state, settings, joins_while_playing=self._kinds.joins_while_playing(kind)
        )
        if durability != MEMORY:
            record = await self._store.create_game(
                game_id,
                kind,
                settings,
                now,
                owner=self._ownership.node,
                durability=durability,
                seating=seating,
            )
            owner_epoch = record.owner_epoch
        live = LiveGame(
            state=state,
            kind=kind,
            last_activity_ms=now,
            marks=SeqMarks(0, 0, now),
            settings=settings,
            owner_epoch=owner_epoch,
            durability=durability,
            seating=None if seating is None else seating.data,
            seating_open=None if seating is None else seating.open,
        )
        self._games.add(live)
        return live
