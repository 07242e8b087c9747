"""`GET /api/cluster` and `POST /api/cluster/drain` (admin; docs/cluster.md)."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import Response

from rejoin_protocol.errors import ErrorCode
from rejoin_server.api.auth import require_admin
from rejoin_server.api.context import services
from rejoin_server.api.responses import ok
from rejoin_server.errors import ApiError
from rejoin_server.timefmt import iso_ms

log = logging.getLogger(__name__)

# How long a draining node keeps its games after /healthz starts answering 503, so the proxy takes
# it out of rotation first (`rejoin-server proxy-config` checks every 250 ms and needs 2 failures)
# and the players it closes reconnect straight to another node.
DRAIN_GRACE_S = 0.6


async def nodes(request: Request) -> Response:
    svc = services(request)
    require_admin(request, svc)
    if svc.cluster is None:
        # A cluster of one: this node, as /healthz sees it.
        node = {
            "node": svc.settings.node,
            "url": f"http://{svc.settings.host}:{svc.settings.port}",
            "heartbeatAt": iso_ms(svc.host.clock()),
            "games": svc.host.games_active,
            "draining": svc.host.ownership.draining,
            "alive": True,
        }
        return ok({"nodes": [node]})
    found = await svc.cluster.nodes()
    return ok(
        {
            "nodes": [
                {
                    "node": n.node,
                    "url": n.url,
                    "heartbeatAt": iso_ms(n.heartbeat_at),
                    "games": n.games,
                    "draining": n.draining,
                    "alive": n.alive,
                }
                for n in found
            ]
        }
    )


async def drain(request: Request) -> Response:
    svc = services(request)
    require_admin(request, svc)
    if svc.cluster is None:
        raise ApiError(
            ErrorCode.INVALID_REQUEST,
            "Only a node of a cluster on PostgreSQL can drain: on SQLite no other node could "
            "take its games. Stop it with SIGTERM instead.",
        )
    svc.host.handovers.begin_drain(DRAIN_GRACE_S)
    return ok({"node": svc.settings.node, "draining": True}, status=202)
