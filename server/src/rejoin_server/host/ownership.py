"""Which games this node may host: claiming a game before loading it, asking another node to hand
one over, giving games up, and whether this node may serve at all (docs/cluster.md).

The store keeps each game's owner and ownership epoch; a claim bumps the epoch, and every append
checks it (`GameStore.append(owner_epoch=…)`), so a node that lost a game can never write to it
again, whatever it still believes. On SQLite (one process per file) a claim always wins. On
PostgreSQL a `Coordinator` (`rejoin_server.cluster`) tells whether this node's lease is fresh
(`serving`) and carries the handover requests between nodes.
"""

from __future__ import annotations

import logging
from typing import Protocol

from rejoin_protocol.errors import ErrorCode
from rejoin_server.errors import ApiError, ClaimContended, OwnedElsewhere
from rejoin_server.metrics import Metrics
from rejoin_server.store.base import GameStore

log = logging.getLogger(__name__)

# A node whose heartbeat is older than this (by the database's clock) is dead to the others,
# even if its connection still looks alive (a paused process, a partitioned machine).
LEASE_MS = 3000
# How long a node waits for another to hand a game over before it answers "try again".
HANDOVER_WAIT_S = 2.0
# Claims tried in a row for one load: a game can be released and taken by a third node meanwhile.
CLAIM_ATTEMPTS = 3


class Coordinator(Protocol):
    """The cluster's side of ownership (on PostgreSQL, `rejoin_server.cluster.Membership`)."""

    @property
    def serving(self) -> bool:
        """Whether this node may serve its games now: its lease is fresh and its games checked."""
        ...

    @property
    def draining(self) -> bool:
        """Whether this node is giving its games away (it takes no new ones)."""
        ...

    async def ask_for(self, game_id: str, owner: str, timeout_s: float) -> bool:
        """Ask `owner` to hand the game over; True once it says it released it."""
        ...

    async def drain(self) -> None:
        """Take no more games from now on, and tell the other nodes."""
        ...


class SoloCoordinator:
    """A cluster of one (SQLite, the in-memory store): always serving, nobody to ask."""

    serving = True

    def __init__(self) -> None:
        self.draining = False

    async def ask_for(self, game_id: str, owner: str, timeout_s: float) -> bool:
        return False

    async def drain(self) -> None:
        self.draining = True


def not_serving(game_id: str) -> ApiError:
    """A 503 (WebSocket: 1013) the client retries: the game is on its way to or from this node."""
    return ApiError(
        ErrorCode.STORAGE_UNAVAILABLE,
        f"Game {game_id!r} is moving between servers; try again in a moment.",
    )


class Ownership:
    def __init__(
        self,
        store: GameStore,
        node: str,
        metrics: Metrics,
        coordinator: Coordinator | None = None,
    ) -> None:
        self._store = store
        self.node = node
        self._metrics = metrics
        self.coordinator: Coordinator = coordinator or SoloCoordinator()

    @property
    def clustered(self) -> bool:
        """Whether other nodes may host this store's games (PostgreSQL with a `Membership`)."""
        return not isinstance(self.coordinator, SoloCoordinator)

    @property
    def serving(self) -> bool:
        return self.coordinator.serving

    @property
    def draining(self) -> bool:
        return self.coordinator.draining

    def require_taking(self, game_id: str) -> None:
        """Raise `not_serving` unless this node may take a game now (a claim, a new game): it is
        serving and not draining."""
        if not self.serving or self.draining:
            raise not_serving(game_id)

    async def claim(self, game_id: str, *, ask: bool = True) -> int:
        """Own the game; return its new ownership epoch. With `ask`, a game another live node
        holds is asked for (it hands it over); without, `OwnedElsewhere` is raised. Raises
        `GameNotFound`, `StorageUnavailable`, and `ApiError(storage_unavailable)` when this node
        may not take games now or the owner did not let go in time."""
        self.require_taking(game_id)
        asked = False
        for _ in range(CLAIM_ATTEMPTS):
            try:
                claim = await self._store.claim_game(game_id, self.node, lease_ms=LEASE_MS)
            except ClaimContended as exc:
                raise not_serving(game_id) from exc
            except OwnedElsewhere as exc:
                if not ask:
                    raise
                asked = True
                log.info("game %s: asking node %s to hand it over", game_id, exc.owner)
                if not await self.coordinator.ask_for(game_id, exc.owner, HANDOVER_WAIT_S):
                    raise not_serving(game_id) from exc
                continue
            if not asked and claim.previous is not None:
                # Held by a node that is gone without letting go (or by this node before a
                # restart): taken over.
                self._metrics.takeovers.inc()
            return claim.owner_epoch
        raise not_serving(game_id)

    async def release(
        self, game_id: str, owner_epoch: int | None, *, to: str | None = None
    ) -> bool:
        """Give the game up, if this node still holds it: to node `to` (which claims it next), or
        to nobody."""
        return await self._store.release_game(game_id, self.node, owner_epoch, to=to)
