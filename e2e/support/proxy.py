"""HAProxy in front of rejoin nodes, configured by `rejoin-server proxy-config` as a user runs it."""

from __future__ import annotations

from pathlib import Path

from rejoin_testkit.haproxy import find_haproxy
from rejoin_testkit.processes import ServerProcess, free_port, run_server_command


def start_proxy(tmp: Path, node_urls: list[str]) -> tuple[ServerProcess, str]:
    """HAProxy with the configuration `rejoin-server proxy-config` prints for `node_urls`,
    started (the caller cleans it up) and answering; and that configuration."""
    port = free_port()
    printed = run_server_command(
        "proxy-config",
        "--listen",
        f"127.0.0.1:{port}",
        *(arg for url in node_urls for arg in ("--node", url)),
        cwd=tmp,
    )
    assert printed.returncode == 0, printed.stderr
    config = tmp / "haproxy.cfg"
    config.write_text(printed.stdout)
    proxy = ServerProcess(
        tmp / "haproxy.log",
        command=[find_haproxy(), "-f", str(config)],
        address_flags=False,
        port=port,
    )
    proxy.start()
    return proxy, printed.stdout
