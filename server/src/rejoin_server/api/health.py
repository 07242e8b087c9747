"""`GET /healthz` and `GET /metrics`."""

from __future__ import annotations

from ipaddress import ip_address

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import Response

from rejoin_server.api.auth import require_admin
from rejoin_server.api.context import services
from rejoin_server.api.responses import ok


async def healthz(request: Request) -> Response:
    svc = services(request)
    storage = svc.host.storage
    ownership = svc.host.ownership
    status = "ok" if storage.available else "degraded"
    if ownership.draining:
        status = "draining"
    elif not ownership.serving:
        status = "rejoining"  # a cluster node re-checking which games it still owns
    return ok(
        {
            "status": status,
            "storage": "available" if storage.available else "unavailable",
            "backend": svc.backend,
            "durability": svc.settings.durability,
            "persistFraction": svc.settings.persist_fraction,
            "pendingWrites": storage.pending_events,
            "gamesActive": svc.host.games_active,
            # Gradual rollout: the games in memory here by durability, `memory` ones included
            # (lost if this process stops).
            "gamesByDurability": svc.host.games_by_durability(),
            # The cluster's names: which node answered, and how many games it hosts.
            "node": svc.settings.node,
            "games": svc.host.games_active,
            # Hole cards (a game's declared private data) in the database: encrypted with the
            # operator's data keys, or in the clear (no key given).
            "privateData": "encrypted" if svc.store.sealer.encrypts else "clear",
        },
        # A draining or rejoining node is out of the proxy's rotation (docs/cluster.md); a
        # degraded one still serves its games from memory.
        status=503 if status in ("draining", "rejoining") else 200,
    )


def _loopback(request: Request) -> bool:
    if request.client is None:
        return False
    try:
        return ip_address(request.client.host).is_loopback
    except ValueError:
        return False


async def metrics(request: Request) -> Response:
    svc = services(request)
    if not _loopback(request):
        require_admin(request, svc)
    return Response(generate_latest(svc.metrics.registry), media_type=CONTENT_TYPE_LATEST)
