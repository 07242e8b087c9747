"""The server's Prometheus metrics, in a registry of their own per app (so tests can run several
apps in one process). Names follow Prometheus conventions: seconds, `_total` for counters."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# Most actions and resumes take under a few milliseconds; the tail matters up to seconds.
_FAST = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.action_seconds = Histogram(
            "rejoin_action_seconds",
            "A player command from receipt to acknowledgement (includes the durable write).",
            registry=r,
            buckets=_FAST,
        )
        self.persist_seconds = Histogram(
            "rejoin_persist_seconds",
            "One append of a game's events (and snapshot) to the store.",
            registry=r,
            buckets=_FAST,
        )
        self.restore_seconds = Histogram(
            "rejoin_restore_seconds",
            "Loading one game from the store (snapshot + events after it).",
            registry=r,
            buckets=_FAST,
        )
        self.reconnects = Counter(
            "rejoin_reconnects",
            "Reconnect attempts by outcome (ok or the error code).",
            ["outcome"],
            registry=r,
        )
        self.reconnect_seconds = Histogram(
            "rejoin_reconnect_seconds",
            "A successful reconnect, from request to answer.",
            registry=r,
            buckets=_FAST,
        )
        self.missed_events = Counter(
            "rejoin_missed_events_replayed",
            "Events replayed to reconnecting players.",
            registry=r,
        )
        self.websockets = Gauge(
            "rejoin_websockets",
            "Open WebSocket channels that have been welcomed.",
            registry=r,
        )
        self.readers_dropped = Counter(
            "rejoin_readers_dropped",
            "Live readers (WebSocket or SSE) disconnected, by reason (slow, heartbeat, superseded).",
            ["reason"],
            registry=r,
        )
        self.degraded = Gauge(
            "rejoin_degraded",
            "1 while the store cannot be reached and games run from memory.",
            registry=r,
        )
        self.pending_writes = Gauge(
            "rejoin_pending_writes",
            "Events applied in memory but not yet stored.",
            registry=r,
        )
        self.games_active = Gauge(
            "rejoin_games_active",
            "Games loaded in memory.",
            registry=r,
        )
        # Gradual rollout (docs/games.md): how many of them are kept in memory only.
        self.games_by_durability = Gauge(
            "rejoin_games_by_durability",
            "Games loaded in memory, by durability (memory, relaxed, strict).",
            ["durability"],
            registry=r,
        )
        # The cluster (docs/cluster.md).
        self.games_hosted = Gauge(
            "rejoin_games_hosted",
            "Games this node owns and serves (loaded in memory).",
            registry=r,
        )
        self.rollbacks = Counter(
            "rejoin_rollbacks",
            "Games the operator rolled back to a kept snapshot (POST /api/game/{id}/rollback).",
            registry=r,
        )
        self.handovers = Counter(
            "rejoin_handovers",
            "Games this node handed over to another node (asked for, or drained).",
            registry=r,
        )
        self.takeovers = Counter(
            "rejoin_takeovers",
            "Games this node took from a node that was gone without handing them over.",
            registry=r,
        )
        self.fenced_writes = Counter(
            "rejoin_fenced_writes",
            "Writes refused because another node owns the game now (ownership epoch moved on).",
            registry=r,
        )
        self.stored_bytes = Gauge(
            "rejoin_stored_bytes",
            "Bytes of events and snapshots in the store (measured by the cleanup job).",
            registry=r,
        )
        self.stored_games = Gauge(
            "rejoin_stored_games",
            "Games in the store (measured by the cleanup job).",
            registry=r,
        )
        self.stored_snapshots = Gauge(
            "rejoin_stored_snapshots",
            "Snapshots in the store (measured by the cleanup job).",
            registry=r,
        )
        # Reconnect tokens (docs/protocol.md): the operator console shows them too.
        self.tokens_issued = Counter(
            "rejoin_tokens_issued",
            "Reconnect tokens issued (a join, a resume's successor token, a rotation, a login).",
            registry=r,
        )
        self.tokens_consumed = Counter(
            "rejoin_tokens_consumed",
            "Reconnect tokens used up by the resume (or rotation) that won them.",
            registry=r,
        )
        self.tokens_refused = Counter(
            "rejoin_tokens_refused",
            "Resumes refused for their reconnect token, by code (token_invalid, token_expired, "
            "token_reused, seat_conflict).",
            ["code"],
            registry=r,
        )
        self.games_evicted = Counter(
            "rejoin_games_evicted",
            "Games deleted by the cleanup job, by reason.",
            ["reason"],
            registry=r,
        )
