"""Finding and starting HAProxy, for the tests of `rejoin-server proxy-config` (`haproxy -c`, and a
real proxy in front of real nodes) and the cluster benchmarks.

CI installs Debian's `haproxy` (`.ci/run`), so a missing one fails those tests, it never skips
them. Debian puts it in /usr/sbin, which is not on a user's PATH: that is looked in too.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from .processes import ServerProcess, free_port, run_server_command

# Where HAProxy is looked for after PATH, in this order.
SBIN_DIRS = ("/usr/sbin", "/usr/local/sbin", "/sbin")


class HaproxyMissing(AssertionError):
    """No HAProxy executable: an AssertionError, so a test that needs it fails (not skips)."""


def find_haproxy() -> str:
    """The path of the `haproxy` executable: the first on PATH, else in /usr/sbin,
    /usr/local/sbin or /sbin. Raises `HaproxyMissing` saying how to install it."""
    found = shutil.which("haproxy") or shutil.which("haproxy", path=os.pathsep.join(SBIN_DIRS))
    if found is None:
        raise HaproxyMissing(
            f"haproxy is not installed (looked on PATH and in {', '.join(SBIN_DIRS)}): install "
            "it with `apt-get install -y haproxy` (2.6 or newer; .ci/run does)"
        )
    return found


def start_proxy(tmp: Path, node_urls: list[str]) -> tuple[ServerProcess, str]:
    """HAProxy with the configuration `rejoin-server proxy-config` prints for `node_urls` (as a
    user runs it), started in `tmp` (the caller waits for it and cleans it up); and that
    configuration."""
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
