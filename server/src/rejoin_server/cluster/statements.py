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
# Other live nodes: a node alone in its cluster may go on from memory while the database is away
# (degraded mode), one with peers may not (they would take its games over meanwhile).
PEERS = (
    "SELECT count(*) FROM cluster_nodes AS n WHERE n.node_id <> %(node)s AND "
    f"n.left_at IS NULL AND n.heartbeat_at > {DB_NOW_MS} - %(lease_ms)s"
)
# The heartbeat, answering how many other nodes are alive; no row: another process took this
# node's row (a second process with the same --node-id).
HEARTBEAT = (
    f"UPDATE cluster_nodes SET heartbeat_at = {DB_NOW_MS} "
    f"WHERE node_id = %(node)s AND backend_pid = %(pid)s RETURNING ({PEERS})"
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
# This node id's row, held by another live process (not this one's previous connection).
TWIN = (
    f"SELECT 1 FROM cluster_nodes AS n WHERE n.node_id = %(node)s AND {ALIVE} "
    "AND n.backend_pid IS DISTINCT FROM %(previous_pid)s"
)
# Games in play, of a kind this node serves, active lately, that no live node hosts or that this
# node owns (the caller leaves out those it hosts): the dead nodes are found once, not once per
# game. A game idle longer than `recent_ms` has no clock to keep (it was unloaded for that): the
# next touch loads it.
ORPHANS = (
    f"WITH dead AS (SELECT n.node_id FROM cluster_nodes AS n WHERE NOT ({ALIVE})) "
    "SELECT g.game_id FROM games AS g WHERE g.status = 'playing' "
    f"AND g.updated_at > {DB_NOW_MS} - %(recent_ms)s "
    "AND (g.owner IS NULL OR g.owner = %(node)s OR g.owner IN (SELECT node_id FROM dead) "
    "OR NOT EXISTS (SELECT 1 FROM cluster_nodes AS n WHERE n.node_id = g.owner)) "
    "AND (%(kinds)s::text[] IS NULL OR g.kind = ANY(%(kinds)s::text[])) "
    "ORDER BY g.updated_at DESC LIMIT %(limit)s"
)
# The cleanup job's lock: a session advisory lock, so it is released when the node's connection
# ends (its process dies) and another node takes the job over at its next round.
CLEANUP_LOCK = 0x72656A6F696E  # "rejoin"
TAKE_CLEANUP_LOCK = f"SELECT pg_try_advisory_lock({CLEANUP_LOCK})"
