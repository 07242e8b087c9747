"""The HAProxy configuration of a rejoin cluster (`rejoin-server proxy-config`): several nodes on
one PostgreSQL behind one HAProxy (2.6 or newer).

`haproxy_config(listen, nodes)` is a pure function from the listening address and the nodes' URLs
to the text of the configuration; the text carries a comment on every setting, for the operator
who reads it. Why the choices are what they are:

- A game is routed by consistent hashing on its id (`/api/game/{id}/…` and `/play/{id}`), so
  every request and the WebSocket of one game reach the node that already has it in memory, and
  a node going down or coming back moves only its own games (`hash-type consistent`, which also
  makes every proxy given the same `--node` list, in the same order, agree). Everything else
  (creating a game, /healthz, the pages and the bundle) goes to any healthy node, in a second
  backend balanced round-robin: hashing an empty key would pile it all on one node.
- Nodes are checked with `GET /healthz` every 250 ms and leave rotation after two failures: a
  draining node (503) or a dead one stops receiving requests within about half a second. The
  second backend tracks the first one's checks instead of doubling them.
- A request that finds its node dead (connection refused, or closed without an answer) is retried
  on another node (`retries`, `option redispatch 1`, `retry-on conn-failure empty-response`).
  Such a request mostly never reached the node; one that did and got no answer is replayed, which
  is harmless for reads and actions (their `actionId` is deduplicated) and can leave an unseen
  game or seat behind for a create or a join: rare, and better than a 503 to every player.
- WebSocket timeouts outlast the server's heartbeat (a ping every 5 s, a client silent for 15 s is
  dropped): `timeout tunnel` 1h, client and server 30 s; `timeout connect` is short (1 s) because
  a node that cannot take a connection within a second is better skipped.
- An SSE stream (`GET …/events`) is a plain response that never ends, not a tunnel: `timeout server`
  and `timeout client` bound its silences, and the stream's heartbeat comment (every ping interval,
  5 s by default, when idle) stays well under their 30 s. Its events are small pieces of that
  response, which HAProxy by default sends as "more to come" for the kernel to gather into full
  packets: each would wait up to 200 ms (measured through HAProxy 2.6: an action's event reached a
  stream about 220 ms after the action, 6-14 ms with the option). `option http-no-delay` in the
  games' backend sends each at once; their other answers are small JSON, for which the packets it
  saves are few. Nothing else may hold events back (no `compression`: its compressor would).
- The server's response headers (`X-Rejoin-Node` above all) pass untouched; `option forwardfor`
  tells the nodes the players' addresses (they trust it with `--trusted-proxy`). `/metrics` is
  refused: it is one node's, and a node beside the proxy would see every player as loopback.
- It runs in the foreground (no `daemon`), logs to stderr and only what an operator acts on
  (a node DOWN or UP), and admits 8,000 connections: 5,000 players with room to spare, in about
  16,000 open files (HAProxy refuses to start without them rather than fail players later).

It imports the standard library alone: the CLI's `--help` stays cheap (see `rejoin_server.cli`).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["Node", "haproxy_config", "parse_listen", "parse_node_url"]

# Connections HAProxy admits at once (each WebSocket is one): 5,000 players with room to spare.
# Each takes two sockets, so HAProxy needs about twice as many open files, and refuses to start
# when it cannot have them (`strict-limits`): loudly at start rather than at the 5,001st player.
MAXCONN = 8_000
# Points per node on the hash ring: the ring's default of 16 per node spreads games unevenly.
RING_WEIGHT = 100

# A host name: dot-separated labels of letters, digits, `-` and `_` (nothing HAProxy would read as
# syntax: no space, `#`, quote or backslash).
_HOSTNAME = re.compile(
    r"^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62})(?:\.[A-Za-z0-9_][A-Za-z0-9_-]{0,62})*\.?$"
)
_EXAMPLE_NODE = "http://10.0.0.5:8000"
_EXAMPLE_LISTEN = "0.0.0.0:80"


@dataclass(frozen=True, slots=True)
class Node:
    """One rejoin-server node: where HAProxy connects to it."""

    host: str  # a host name, an IPv4 address, or an IPv6 address without brackets
    port: int

    @property
    def address(self) -> str:
        """`host:port` as HAProxy reads it (`[::1]:8000` for IPv6)."""
        return f"{_bracketed(self.host)}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.address}"


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _check_host(host: str) -> str:
    """The host as HAProxy should get it (an IP address normalised); ValueError if it is none."""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    if ":" in host or not _HOSTNAME.fullmatch(host) or len(host) > 253:
        raise ValueError(f"{host!r} is not a host name or an IP address")
    return host.lower()


def _not(text: str, what: str, why: str | None, example: str) -> ValueError:
    because = f" ({why})" if why else ""
    return ValueError(f"{text!r} is not {what}{because}; e.g. {example}")


def _no_control_characters(text: str, what: str, example: str) -> None:
    # urlsplit silently drops tabs and newlines: refuse them before it can.
    if not text or any(ch.isspace() or not ch.isprintable() for ch in text):
        raise _not(text, what, None, example)


def parse_node_url(text: str) -> Node:
    """`http://host:port` (a trailing `/` is allowed) → a `Node`. ValueError saying what is wrong
    otherwise: another scheme, no port, a path, a query, credentials."""
    what, example = "a node URL http://HOST:PORT", _EXAMPLE_NODE
    _no_control_characters(text, what, example)
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise _not(text, what, str(exc), example) from None
    if parts.scheme.lower() != "http":
        raise _not(text, what, "the scheme must be http", example)
    if parts.username is not None or parts.password is not None:
        raise _not(text, what, "no user or password", example)
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise _not(text, what, "nothing may follow the port", example)
    if not parts.hostname:
        raise _not(text, what, "it names no host", example)
    if not port:
        raise _not(text, what, "it needs a port from 1 to 65535", example)
    try:
        host = _check_host(parts.hostname)
    except ValueError as exc:
        raise _not(text, what, str(exc), example) from None
    return Node(host, port)


def parse_listen(text: str) -> tuple[str, int]:
    """`HOST:PORT` (`[::]:80` for IPv6) → (host, port), the host without brackets. ValueError
    saying what is wrong otherwise."""
    what, example = "HOST:PORT", _EXAMPLE_LISTEN
    _no_control_characters(text, what, example)
    host, colon, port_text = text.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
        if ":" not in host:
            raise _not(text, what, "brackets are for an IPv6 address", "[::]:80")
    elif ":" in host:
        raise _not(text, what, "an IPv6 address goes in brackets", "[::]:80")
    if not colon or not host:
        raise _not(text, what, None, example)
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise _not(text, what, "the port must be from 1 to 65535", example)
    try:
        return _check_host(host), int(port_text)
    except ValueError as exc:
        raise _not(text, what, str(exc), example) from None


def _nodes(urls: Sequence[str]) -> list[Node]:
    if not urls:
        raise ValueError("a cluster needs at least one node")
    nodes: list[Node] = []
    for url in urls:
        node = parse_node_url(url)
        if node in nodes:
            raise ValueError(f"{url!r} is given twice (as {node.url})")
        nodes.append(node)
    return nodes


def haproxy_config(listen: tuple[str, int], nodes: Sequence[str]) -> str:
    """The HAProxy configuration that listens on `listen` (host, port) and spreads the games over
    `nodes` (`http://host:port` URLs, at least one). ValueError for a bad address or URL, or a
    node given twice. The servers are named node1, node2… in the order given, with the same ids:
    the hash ring is built from the ids, so proxies given the same list agree on every game, and
    a node appended to the list takes games from the others without moving any between them."""
    host, port = listen
    listen_host = _check_host(host)
    if not 1 <= port <= 65535:
        raise ValueError(f"the port to listen on must be from 1 to 65535, not {port}")
    servers = _nodes(nodes)
    command = " ".join(
        ["rejoin-server proxy-config", f"--listen {_bracketed(listen_host)}:{port}"]
        + [f"--node {node.url}" for node in servers]
    )
    checked = "\n".join(
        f"    server node{i} {node.address} id {i}" for i, node in enumerate(servers, 1)
    )
    tracking = "\n".join(
        f"    server node{i} {node.address} id {i} track rejoin_games/node{i}"
        for i, node in enumerate(servers, 1)
    )
    return _TEMPLATE.format(
        command=command,
        bind=f"{_bracketed(listen_host)}:{port}",
        maxconn=MAXCONN,
        files=2 * MAXCONN + 100,
        weight=RING_WEIGHT,
        checked=checked,
        tracking=tracking,
    )


_TEMPLATE = """\
# HAProxy (2.6 or newer) in front of a rejoin cluster, generated by
#   {command}
# Check it with `haproxy -c -f FILE`, run it with `haproxy -f FILE`.
#
# Every node is a rejoin-server on the same PostgreSQL. Start each with
# `--trusted-proxy <this proxy's address>`: without it the nodes count every player as this proxy's
# address (rate limits, /metrics). Every answer of a node names it in X-Rejoin-Node.

global
    # No `daemon`: HAProxy stays in the foreground, under whatever supervises it (systemd, a
    # container runtime), which restarts it and keeps its output.
    # Logs go to stderr, no syslog needed, and only notices and worse: a node going DOWN or UP,
    # not every request (for an access log: `info` instead of `notice`, and `option httplog`).
    # In the foreground HAProxy prints those events as [WARNING] too: they show twice.
    log stderr format raw daemon notice
    # Connections at once, WebSockets included (the frontend's bound too): 5,000 players with
    # room to spare. Each takes two sockets, the player's and the node's: HAProxy raises its
    # open-file limit to about {files:,} at start, and refuses to start where that is not allowed
    # (raise `ulimit -n`, or LimitNOFILE= in systemd). Each also takes about 33 kB of memory.
    maxconn {maxconn}
    # A reload leaves the old process serving its open WebSockets; it stops after 30 s at most,
    # and its players reconnect (and resume where they were) through the new one.
    hard-stop-after 30s

defaults
    mode http
    log global
    option dontlognull
    # Tell the nodes who the player is: the client's address is appended to X-Forwarded-For.
    # The nodes' answers pass untouched, their X-Rejoin-Node header included.
    option forwardfor
    # A node that does not take a connection within a second is better skipped for another.
    timeout connect 1s
    # Before a WebSocket upgrade and for plain requests: longer than the server's heartbeat
    # (a ping every 5 s; a client silent for 15 s is dropped) and its longest answers. An SSE
    # stream (GET /api/game/ID/events) stays a plain response: these bound its silences, and
    # the node sends it a heartbeat comment every ping interval (5 s by default) when idle.
    timeout client 30s
    timeout server 30s
    # After the upgrade a WebSocket is a tunnel: the server's pings keep it busy and its idle
    # timeout closes a silent one, so this only bounds a connection both ends have forgotten.
    timeout tunnel 1h
    # A slow client (slowloris) gets 10 s for its request's headers, 5 s idle between requests.
    timeout http-request 10s
    timeout http-keep-alive 5s
    timeout queue 5s
    # A health check must be answered within a second (it connects within 250 ms).
    timeout check 1s
    # A request to a node that just died (connection refused or closed without an answer) is
    # sent again, to another node (`redispatch 1`: at every retry, not only the last), and the
    # player sees an answer instead of a 503. Most such requests never reached the node (it was
    # gone, or closing an idle connection). One it took and died on before answering is replayed:
    # harmless for reads and for actions (the server deduplicates their actionId); a create or a
    # join replayed so can leave a game or a seat nobody was told about. Requests larger than
    # HAProxy's buffer (16 kB) are not replayed; rejoin's requests are far smaller.
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response

frontend rejoin
    bind {bind}
    # The game a request is for, from its path: /api/game/ID/... (the API, the WebSocket at
    # /api/game/ID/ws), /play/ID (the table page) and /api/admin/games/ID/... (the operator
    # console's look at one game: on another node it would be a load there, which takes the
    # game from its node). Percent-escapes are decoded so that one game has one key however its
    # id is written.
    acl game_api path_reg ^/api/game/[^/]+
    acl game_page path_reg ^/play/[^/]+
    acl game_admin path_reg ^/api/admin/games/[^/]+
    http-request set-var(txn.game_id) path,field(4,/),url_dec if game_api
    http-request set-var(txn.game_id) path,field(3,/),url_dec if game_page
    http-request set-var(txn.game_id) path,field(5,/),url_dec if game_admin
    # /metrics is one node's, and a node shows it to loopback callers without the admin token:
    # on a node beside this proxy, every player would be one. Scrape each node directly.
    http-request deny deny_status 404 if {{ path /metrics }}
    # A game's requests go to its node; everything else (POST /api/games, /healthz, /, /static/,
    # /pyodide/, /sdk/, /admin and its overview, which are each one node's) to any healthy node.
    use_backend rejoin_games if game_api || game_page || game_admin
    default_backend rejoin_any

backend rejoin_games
    # Consistent hashing on the game id: one game, one node, as long as that node is up. When a
    # node goes down only its games move (to the next node on the ring), and they come back when
    # it does. The ring is built from the server ids: give every proxy the same --node list, in
    # the same order, and append new nodes at the end.
    balance hash var(txn.game_id)
    hash-type consistent
    # A game's event stream (SSE, GET /api/game/ID/events) is one response that never ends, each
    # event a small chunk of it. HAProxy sends a response's data as "more to come" (MSG_MORE),
    # and the kernel holds such a small piece up to 200 ms, waiting for a full packet: every
    # event, and the stream's opening after a node's death, would reach the player about 200 ms
    # late. `http-no-delay` sends each piece at once. A WebSocket is a tunnel, unaffected.
    option http-no-delay
    # The node's health: GET /healthz must answer 200. A node answering 503 (draining) or not at
    # all is out after 2 failed checks 250 ms apart, about half a second, and back after 2 good
    # ones. The weight only makes the hash ring finer (more points per node), not uneven.
    # Each check is a line of the node's access log (4 a second) unless it logs at `warning`.
    option httpchk
    http-check send meth GET uri /healthz ver HTTP/1.1 hdr Host rejoin-proxy
    http-check expect status 200
    default-server check inter 250ms fastinter 250ms downinter 1s fall 2 rise 2 weight {weight}
{checked}

backend rejoin_any
    # Requests of no game, to any node that is up: round robin over the nodes, which follow
    # the health checks of rejoin_games (`track`) instead of checking every node twice.
    balance roundrobin
{tracking}
"""
