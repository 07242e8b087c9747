"""`rejoin_server.proxy_config`: the HAProxy configuration of a cluster, as text (what it must say)
and as HAProxy reads it (`haproxy -c`, the real one: CI installs it, and a missing one fails
here, it never skips).

The command line (`rejoin-server proxy-config`) is tested in `test_cli.py`; the configuration
routing real nodes behind a real HAProxy in `e2e/server/test_proxy_routing.py`.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from rejoin_server.proxy_config import (
    MAXCONN,
    Node,
    haproxy_config,
    parse_listen,
    parse_node_url,
)
from rejoin_server.settings import ServerSettings
from rejoin_testkit.haproxy import find_haproxy

NODES = ["http://10.0.0.5:8000", "http://10.0.0.6:8000", "http://10.0.0.7:8000"]


def directives(config: str) -> list[str]:
    """The configuration's lines without comments and blank lines, spaces collapsed."""
    lines = (line.partition("#")[0] for line in config.splitlines())
    return [" ".join(line.split()) for line in lines if line.strip()]


def section(config: str, header: str) -> list[str]:
    """The directives of one section (`global`, `defaults`, `frontend rejoin`, …)."""
    found = directives(config)
    start = found.index(header) + 1
    sections = ("global", "defaults", "frontend ", "backend ", "listen ")
    end = next((i for i in range(start, len(found)) if found[i].startswith(sections)), len(found))
    return found[start:end]


def haproxy_check(config: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "haproxy.cfg"
    path.write_text(config)
    return subprocess.run(
        [find_haproxy(), "-c", "-f", str(path)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


# --- what HAProxy makes of it -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("listen", "nodes"),
    [
        (("0.0.0.0", 80), NODES),
        (("127.0.0.1", 8080), ["http://127.0.0.1:8001"]),
        # A host name must resolve when HAProxy starts (and checks).
        (("::", 8443), ["http://[::1]:8001", "http://localhost:8002/", "http://127.0.0.2:80"]),
    ],
    ids=["three", "one", "ipv6-and-names"],
)
def test_haproxy_finds_the_configuration_valid(
    listen: tuple[str, int], nodes: list[str], tmp_path: Path
) -> None:
    checked = haproxy_check(haproxy_config(listen, nodes), tmp_path)
    output = checked.stdout + checked.stderr
    assert checked.returncode == 0, output
    assert "Configuration file is valid" in output
    assert "[WARNING]" not in output, output
    assert "[ALERT]" not in output, output


def test_haproxy_is_installed() -> None:
    """The tests above and the e2e routing tests need it: a missing one fails, with how to get it."""
    assert Path(find_haproxy()).is_file()


# --- what it says -----------------------------------------------------------------------------


def test_it_listens_where_told_and_names_every_node() -> None:
    config = haproxy_config(("0.0.0.0", 80), NODES)
    assert "bind 0.0.0.0:80" in section(config, "frontend rejoin")
    games = section(config, "backend rejoin_games")
    others = section(config, "backend rejoin_any")
    for i, url in enumerate(NODES, 1):
        address = url.removeprefix("http://")
        assert f"server node{i} {address} id {i}" in games
        assert f"server node{i} {address} id {i} track rejoin_games/node{i}" in others
    # The command that made it, for whoever finds the file.
    assert "rejoin-server proxy-config --listen 0.0.0.0:80 --node http://10.0.0.5:8000" in config


def test_a_game_is_routed_by_consistent_hashing_on_its_id() -> None:
    config = haproxy_config(("0.0.0.0", 80), NODES)
    front = section(config, "frontend rejoin")
    assert "acl game_api path_reg ^/api/game/[^/]+" in front
    assert "acl game_page path_reg ^/play/[^/]+" in front
    assert "http-request set-var(txn.game_id) path,field(4,/),url_dec if game_api" in front
    assert "http-request set-var(txn.game_id) path,field(3,/),url_dec if game_page" in front
    # The console's look at one game too: asked of another node, it would load the game there.
    assert "acl game_admin path_reg ^/api/admin/games/[^/]+" in front
    assert "http-request set-var(txn.game_id) path,field(5,/),url_dec if game_admin" in front
    assert "use_backend rejoin_games if game_api || game_page || game_admin" in front
    assert "default_backend rejoin_any" in front
    games = section(config, "backend rejoin_games")
    assert "balance hash var(txn.game_id)" in games
    assert "hash-type consistent" in games
    # The rest goes round robin, not to a hash of nothing (which would be one node).
    assert "balance roundrobin" in section(config, "backend rejoin_any")


def test_nodes_are_checked_on_healthz_every_250ms() -> None:
    games = section(haproxy_config(("0.0.0.0", 80), NODES), "backend rejoin_games")
    assert "option httpchk" in games
    assert any(line.startswith("http-check send meth GET uri /healthz") for line in games)
    assert "http-check expect status 200" in games
    server_defaults = next(line for line in games if line.startswith("default-server"))
    for setting in ("check", "inter 250ms", "fall 2", "rise 2"):
        assert f" {setting}" in server_defaults, server_defaults


def test_failover_timeouts_and_the_rest_of_the_contract() -> None:
    config = haproxy_config(("0.0.0.0", 80), NODES)
    defaults = section(config, "defaults")
    for line in (
        "mode http",
        "option forwardfor",
        "retries 3",
        "option redispatch 1",
        "retry-on conn-failure empty-response",
        "timeout connect 1s",
        "timeout client 30s",
        "timeout server 30s",
        "timeout tunnel 1h",
    ):
        assert line in defaults, line
    glob = section(config, "global")
    assert "daemon" not in glob
    assert not any(line.startswith("daemon") for line in directives(config))
    assert "log stderr format raw daemon notice" in glob
    assert f"maxconn {MAXCONN}" in glob
    # /metrics is a node's own, and a node beside the proxy sees every player as loopback.
    assert "http-request deny deny_status 404 if { path /metrics }" in section(
        config, "frontend rejoin"
    )
    assert MAXCONN >= 5000
    # The nodes' headers (X-Rejoin-Node) pass untouched.
    assert not any("del-header" in line or "http-response" in line for line in directives(config))


def seconds(value: str) -> float:
    """An HAProxy time (`30s`, `250ms`, `1h`; a bare number is milliseconds) in seconds."""
    found = re.fullmatch(r"(\d+)(ms|s|m|h|d)?", value)
    assert found is not None, f"not an HAProxy time: {value!r}"
    scale = {None: 1e-3, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
    return int(found[1]) * scale[found[2]]


def test_an_sse_stream_outlives_the_silences_between_its_heartbeats() -> None:
    """An SSE stream is a plain response, never a tunnel: HAProxy's client and server timeouts
    cut it after that long without a byte. The node's heartbeat comment (every ping interval, by
    default) must come well within them (twice over: a loaded node may send it late)."""
    heartbeat_s = ServerSettings().ping_interval_ms / 1000
    defaults = section(haproxy_config(("0.0.0.0", 80), NODES), "defaults")
    for side in ("client", "server"):
        line = next(line for line in defaults if line.startswith(f"timeout {side} "))
        assert seconds(line.split()[-1]) >= 2 * heartbeat_s, (line, heartbeat_s)


def test_an_sse_streams_events_are_sent_at_once() -> None:
    """Each event is a small piece of a response that never ends: by default HAProxy lets the
    kernel hold such a piece up to 200 ms for a fuller packet (every event ~200 ms late through
    the proxy, measured). The games' backend, which carries the streams, sends each at once;
    and nothing compresses them (a compressor keeps what it has not flushed)."""
    config = haproxy_config(("0.0.0.0", 80), NODES)
    assert "option http-no-delay" in section(config, "backend rejoin_games")
    assert not any(line.startswith("compression") for line in directives(config))


def test_every_section_explains_itself() -> None:
    """A comment before every group of settings, for the operator who reads the file."""
    config = haproxy_config(("0.0.0.0", 80), NODES)
    comments = [line for line in config.splitlines() if line.strip().startswith("#")]
    assert len(comments) > len(directives(config)) / 2
    lines = config.splitlines()
    for setting in ("timeout tunnel", "retry-on", "hash-type", "maxconn", "option forwardfor"):
        at = next(i for i, line in enumerate(lines) if line.startswith(f"    {setting}"))
        above = lines[max(0, at - 3) : at]
        assert any(line.strip().startswith("#") for line in above), f"{setting}: {above}"


# --- the values it takes ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "node"),
    [
        ("http://10.0.0.5:8000", Node("10.0.0.5", 8000)),
        ("http://10.0.0.5:8000/", Node("10.0.0.5", 8000)),
        ("HTTP://Node-1.Example:80", Node("node-1.example", 80)),
        ("http://[::1]:8001", Node("::1", 8001)),
        ("http://[2001:DB8::1]:8001", Node("2001:db8::1", 8001)),
    ],
)
def test_node_urls(url: str, node: Node) -> None:
    assert parse_node_url(url) == node
    assert parse_node_url(node.url) == node


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("https://10.0.0.5:8443", "the scheme must be http"),
        ("10.0.0.5:8000", "the scheme must be http"),
        ("http://10.0.0.5", "it needs a port"),
        ("http://10.0.0.5:0", "it needs a port"),
        ("http://10.0.0.5:70000", "is not a node URL"),
        ("http://10.0.0.5:http", "is not a node URL"),
        ("http://10.0.0.5:8000/rejoin", "nothing may follow the port"),
        ("http://10.0.0.5:8000?x=1", "nothing may follow the port"),
        ("http://u:p@10.0.0.5:8000", "no user or password"),
        ("http://:8000", "it names no host"),
        ("http://bad_host!:8000", "is not a host name or an IP address"),
        ("http://a\n#b:8000", "is not a node URL"),
        ("http://a b:8000", "is not a node URL"),
        ("", "is not a node URL"),
    ],
)
def test_bad_node_urls(url: str, says: str) -> None:
    with pytest.raises(ValueError, match=re.escape(says)):
        parse_node_url(url)


@pytest.mark.parametrize(
    ("text", "listen"),
    [
        ("0.0.0.0:80", ("0.0.0.0", 80)),
        ("127.0.0.1:8080", ("127.0.0.1", 8080)),
        ("[::]:443", ("::", 443)),
        ("proxy.example:80", ("proxy.example", 80)),
    ],
)
def test_listen_addresses(text: str, listen: tuple[str, int]) -> None:
    assert parse_listen(text) == listen


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("80", "is not HOST:PORT"),
        (":80", "is not HOST:PORT"),
        ("0.0.0.0:", "the port must be from 1 to 65535"),
        ("0.0.0.0:0", "the port must be from 1 to 65535"),
        ("0.0.0.0:65536", "the port must be from 1 to 65535"),
        ("::1:80", "an IPv6 address goes in brackets"),
        ("[proxy]:80", "brackets are for an IPv6 address"),
        ("bad host:80", "is not HOST:PORT"),
    ],
)
def test_bad_listen_addresses(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=re.escape(says)):
        parse_listen(text)


def test_a_cluster_needs_a_node_each_given_once_and_a_port() -> None:
    with pytest.raises(ValueError, match="at least one node"):
        haproxy_config(("0.0.0.0", 80), [])
    with pytest.raises(ValueError, match="given twice"):
        haproxy_config(("0.0.0.0", 80), ["http://10.0.0.5:8000", "http://10.0.0.5:8000/"])
    with pytest.raises(ValueError, match="from 1 to 65535"):
        haproxy_config(("0.0.0.0", 0), NODES)
    with pytest.raises(ValueError, match="not a host name"):
        haproxy_config(("0.0.0.0\n    daemon", 80), NODES)
