"""Finding and starting HAProxy, for the tests of `rejoin-server proxy-config` (`haproxy -c`, and a
real proxy in front of real nodes) and the cluster benchmarks.

A missing HAProxy fails those tests, it never skips them (`programs.find_program`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .processes import ServerProcess, free_port, run_server_command
from .programs import find_program


def find_haproxy() -> str:
    """The path of the `haproxy` executable (`programs.find_program`)."""
    return find_program("haproxy", "2.6 or newer")


def start_proxy(
    tmp: Path, node_urls: list[str], frontend_rules: Sequence[str] = ()
) -> tuple[ServerProcess, str]:
    """HAProxy with the configuration `rejoin-server proxy-config` prints for `node_urls` (as a
    user runs it), started in `tmp` (the caller waits for it and cleans it up); and that
    configuration. `frontend_rules`: lines put first in its frontend, after `bind` (a test's
    own network, e.g. one that refuses WebSocket upgrades)."""
    port = free_port()
    printed = run_server_command(
        "proxy-config",
        "--listen",
        f"127.0.0.1:{port}",
        *(arg for url in node_urls for arg in ("--node", url)),
        cwd=tmp,
    )
    if printed.returncode != 0:
        raise RuntimeError(f"rejoin-server proxy-config failed: {printed.stderr}")
    text = _with_frontend_rules(printed.stdout, frontend_rules)
    config = tmp / "haproxy.cfg"
    config.write_text(text)
    proxy = ServerProcess(
        tmp / "haproxy.log",
        command=[find_haproxy(), "-f", str(config)],
        address_flags=False,
        port=port,
    )
    proxy.start()
    return proxy, text


def _with_frontend_rules(config: str, rules: Sequence[str]) -> str:
    if not rules:
        return config
    head, frontend, rest = config.partition("\nfrontend rejoin\n")
    bind, newline, after = rest.partition("\n")
    if not frontend or not bind.strip().startswith("bind "):
        raise RuntimeError("proxy-config printed no `frontend rejoin` beginning with `bind`")
    added = "".join(f"    {rule}\n" for rule in rules)
    return f"{head}{frontend}{bind}{newline}{added}{after}"
