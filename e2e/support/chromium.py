"""Debian's Chromium, launched the one way the browser tests and the browser benchmarks share.

`REJOIN_CHROMIUM` names the executable (default /usr/bin/chromium, `apt-get install -y
chromium`). A missing one is an error, never a skip. Never `playwright install`: it downloads
browsers, and cannot here. This module imports no pytest, so `bench/` uses it too.
"""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import Browser, Playwright

CHROMIUM = os.environ.get("REJOIN_CHROMIUM", "/usr/bin/chromium")
# Playwright already passes --no-sandbox (needed as root) and --headless. Without these Chromium
# keeps trying to reach Google (updates, sync, variations, QUIC probes).
LAUNCH_ARGS = (
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
    "--disable-gpu",
)


class ChromiumMissing(RuntimeError):
    """The Chromium executable is not there. Browser tests fail on it; they never skip."""


def launch(playwright: Playwright, *, headless: bool = True) -> Browser:
    """Start Chromium at `CHROMIUM` with `LAUNCH_ARGS`."""
    if not Path(CHROMIUM).is_file():
        raise ChromiumMissing(
            f"Chromium not found at {CHROMIUM}: install it with `apt-get install -y chromium` "
            "(or set REJOIN_CHROMIUM)"
        )
    return playwright.chromium.launch(
        executable_path=CHROMIUM, headless=headless, args=list(LAUNCH_ARGS)
    )
