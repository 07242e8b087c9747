"""The SQL of a node's membership (`cluster.membership`), on PostgreSQL only. Built from constant
fragments (`store.postgres`: the database's clock, who is alive) and driver placeholders."""

from __future__ import annotations

from rejoin_server.store.postgres import ALIVE, DB_NOW_MS

REGISTER = (
    "INSERT INTO cluster_nodes (node_id, url, backend_pid, started_at, heartbeat_at, "
    f"draining_since, left_at) VALUES (%s, %s, %s, {DB_NOW_MS}, {DB_NOW_MS}, "
    "NULL, NULL) ON CONFLICT (node_id) DO UPDATE SET url = excluded.url, "
    "backend_pid = excluded.backend_pid, started_at = excluded.started_at, "
    "heartbeat_at = excluded.heartbeat_at, draining_since = NULL, left_at = NULL"
)
HEARTBEAT = (
    f"UPDATE cluster_nodes SET heartbeat_at = {DB_NOW_MS} "
    "WHERE node_id = %s AND backend_pid = %s RETURNING 1"
)
# Of the games this node hosts (ids and the epochs it holds them at), those it no longer owns.
LOST = (
    "SELECT t.game_id FROM unnest(%s::text[], %s::bigint[]) AS t(game_id, epoch) "
    "LEFT JOIN games AS g ON g.game_id = t.game_id "
    "WHERE g.game_id IS NULL OR g.owner IS DISTINCT FROM %s OR g.owner_epoch <> t.epoch"
)
DRAINING = f"UPDATE cluster_nodes SET draining_since = {DB_NOW_MS} WHERE node_id = %s"
LEFT = f"UPDATE cluster_nodes SET left_at = {DB_NOW_MS} WHERE node_id = %s AND backend_pid = %s"
NODES = (
    "SELECT n.node_id, n.url, n.heartbeat_at, n.draining_since, n.left_at, "
    f"({ALIVE}) AS alive, (SELECT count(*) FROM games AS g WHERE g.owner = n.node_id) AS games "
    "FROM cluster_nodes AS n ORDER BY n.node_id"
)
# This node id's row, held by a live process.
TWIN = (
    f"SELECT 1 FROM cluster_nodes AS n WHERE n.node_id = %(node)s AND {ALIVE} "
    "AND n.backend_pid IS NOT NULL"
)
# Games in play that no live node hosts.
ORPHANS = (
    "SELECT g.game_id FROM games AS g WHERE g.status = 'playing' AND (g.owner IS NULL OR NOT "
    f"EXISTS (SELECT 1 FROM cluster_nodes AS n WHERE n.node_id = g.owner AND {ALIVE})) "
    "ORDER BY g.updated_at LIMIT %(limit)s"
)
# The cleanup job's lock: a session advisory lock, so it is released when the node's connection
# ends (its process dies) and another node takes the job over at its next round.
CLEANUP_LOCK = 0x72656A6F696E  # "rejoin"
TAKE_CLEANUP_LOCK = f"SELECT pg_try_advisory_lock({CLEANUP_LOCK})"
