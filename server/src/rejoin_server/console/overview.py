"""`GET /api/admin/overview`: everything the console shows at one look, as JSON.

What each figure means is in docs/operations.md ("The operator console"); in short:

- `games`: the games loaded in memory on this node (`hosted`), the `MAX_LISTED` most recently
  played of them listed with their players. Read without waiting for any game's lock: a command in
  flight may be applied in `phase` and not yet in `seq` (the seq published to players).
- `storage`: the store's own count of games, snapshots and bytes (a query per call), the quota
  (`--max-games`, `--max-storage-bytes`), whether the server runs degraded, and the events applied
  in memory but not yet stored (`pendingWrites`).
- `resumes`, `actions`: over the last `windowS` seconds, from `console.activity` (outage kinds
  explained there); `series`: the same per 5-second bucket over 15 minutes, for the charts.
- `tokens`: reconnect tokens issued, consumed and refused since this process started (the
  `rejoin_tokens_*` Prometheus counters).
"""

from __future__ import annotations

from typing import Any

from rejoin_server.console.activity import BUCKET_MS, Activity, Window
from rejoin_server.console.latency import LatencyBins
from rejoin_server.errors import CodedError
from rejoin_server.host.host import GameHost
from rejoin_server.host.live import LiveGame
from rejoin_server.metrics import Metrics
from rejoin_server.settings import ServerSettings
from rejoin_server.store.base import GameStore
from rejoin_server.timefmt import iso_ms

# Games listed by the overview (the most recently played first); `hosted` counts them all.
MAX_LISTED = 200


def hosted_game(host: GameHost, live: LiveGame) -> dict[str, Any]:
    """One game in memory, as the console's list shows it."""
    view = host.view(live, None)
    players = [
        {
            "seat": seat.get("seat"),
            "playerId": seat["playerId"],
            "name": seat.get("name"),
            "stack": seat.get("stack"),
            "connected": bool(seat.get("connected")),
        }
        for seat in view.get("seats", ())
        if isinstance(seat, dict) and isinstance(seat.get("playerId"), str)
    ]
    marks = live.marks
    return {
        "gameId": live.game_id,
        "kind": live.kind,
        "status": live.state.status,
        "phase": view.get("phase"),
        "handNumber": view.get("handNumber"),
        "seq": marks.published_seq,
        "durableSeq": marks.durable_seq,
        "snapshotSeq": marks.stored_snapshot_seq,
        "durability": live.durability,
        "lastActionAt": iso_ms(live.last_activity_ms),
        "players": players,
        "connected": sum(1 for p in players if p["connected"]),
    }


def _latency(bins: LatencyBins) -> dict[str, Any]:
    return {
        "count": bins.count,
        "p50Ms": bins.quantile(0.5),
        "p99Ms": bins.quantile(0.99),
        "maxMs": bins.max_ms if bins.count else None,
    }


def _activity(window: Window) -> dict[str, Any]:
    seconds = window.window_ms / 1000
    return {
        "resumes": {
            "windowS": seconds,
            "count": window.resumes,
            "resyncs": window.resyncs,
            "untimed": window.untimed,
            "outage": {
                "drop": _latency(window.drop),
                "restart": _latency(window.restart),
                "all": _latency(LatencyBins.merged((window.drop, window.restart))),
            },
        },
        "actions": {
            "windowS": seconds,
            "count": window.actions,
            "perSecond": round(window.actions / seconds, 3),
        },
    }


def _series(activity: Activity) -> dict[str, Any]:
    full = activity.window()
    return {
        "bucketS": BUCKET_MS // 1000,
        "points": [
            {
                "at": point.at_ms,
                "actions": point.actions,
                "resumes": point.resumes,
                "resyncs": point.resyncs,
                "outageP50Ms": point.outage_p50_ms,
                "outageMaxMs": point.outage_max_ms,
            }
            for point in full.points
        ],
    }


def _tokens(metrics: Metrics) -> dict[str, Any]:
    refused: dict[str, int] = {}
    for family in metrics.tokens_refused.collect():
        for sample in family.samples:
            if sample.name.endswith("_total"):
                refused[sample.labels["code"]] = int(sample.value)
    registry = metrics.registry
    return {
        "issued": int(registry.get_sample_value("rejoin_tokens_issued_total") or 0),
        "consumed": int(registry.get_sample_value("rejoin_tokens_consumed_total") or 0),
        "refused": refused,
        "refusedTotal": sum(refused.values()),
    }


async def _storage(store: GameStore, host: GameHost, settings: ServerSettings) -> dict[str, Any]:
    health = host.storage
    figures: dict[str, Any] = {
        "available": health.available,
        "degraded": not health.available,
        "pendingWrites": health.pending_events,
        "quota": {"maxGames": settings.max_games, "maxBytes": settings.max_storage_bytes},
        "games": None,
        "snapshots": None,
        "bytes": None,
        "error": None,
    }
    try:
        usage = await store.usage()
    except CodedError as exc:  # the store is down: the rest of the console still answers
        host.note_failure(exc)
        figures["error"] = exc.message
    else:
        figures.update(games=usage.games, snapshots=usage.snapshots, bytes=usage.bytes)
    return figures


async def overview(
    host: GameHost,
    store: GameStore,
    settings: ServerSettings,
    metrics: Metrics,
    *,
    window_ms: int,
    backend: str,
) -> dict[str, Any]:
    loaded = sorted(host.loaded_games(), key=lambda live: live.last_activity_ms, reverse=True)
    activity = host.activity
    return {
        "success": True,
        "node": settings.node,
        "backend": backend,
        "durability": settings.durability,
        "now": iso_ms(host.clock()),
        "startedAt": iso_ms(activity.started_ms),
        "games": {
            "hosted": len(loaded),
            "listed": [hosted_game(host, live) for live in loaded[:MAX_LISTED]],
        },
        "storage": await _storage(store, host, settings),
        **_activity(activity.window(window_ms)),
        "series": _series(activity),
        "tokens": _tokens(metrics),
    }
