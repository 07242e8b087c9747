"""The table page's weight in Chromium (issue 17, part 7): the bytes a first visit transfers, what
a reload transfers (Pyodide's part should be none) and how soon the reloaded page is ready.

Each run is a fresh browser context (an empty HTTP cache): it opens a poker table page, waits for
it to be ready, reloads it (F5: the page itself is asked for again, the files it loads are taken
from the cache if their headers allow) and waits again. Bytes are the browser's own count, Resource
Timing's `transferSize` of the page and every file it loaded (headers included; 0 for a file the
cache answered without asking the server). "Ready" is the join form shown, what a visitor waits
for (ms from the navigation's start, read in the page, within ~10 ms).

Peer, in the same run and the same Chromium, alternating with ours (each first in every other
run): the same page with `Accept-Encoding: identity` (nothing compressed) and the HTTP cache
disabled (CDP `Network.setCacheDisabled`): every visit as heavy as a first one, uncompressed. The
ratios are ours over that. Its stdlib is the one the build re-stores uncompressed (8.5 MB where
npm's, deflated member by member, is 2.5 MB: see docs/operations.md), so the notes also give what
the server sent before it served the bundle pre-compressed: the peer's bytes with npm's stdlib
(an estimate on the high side: the peer's wheels are stored too, 0.56 MB, 0.1 MB deflated).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from playwright.sync_api import Browser, Page, Playwright
from rich.console import Console

from bench.goals import Goal
from bench.report import Target, columns_table
from bench.server_procs import served
from bench.server_suite import ServerRow
from bench.stats import Summary, fmt_ms, percentile
from e2e.support.chromium import launch
from e2e.support.page_load import Fetched, fetched, total
from rejoin_server.api.web import default_web_dir

NO_DB = "—"
READY_TIMEOUT_S = 120.0
FIRST_VISIT_GOAL_BYTES = 5_000_000
WARM_READY_GOAL_MS = 1_500.0
PYODIDE = "/pyodide/"

# The first moment the join form shows, recorded in the page (ms since the navigation began).
_READY = """() => {
    const join = document.querySelector('#join');
    if (join === null || join.hidden) return false;
    window.__benchReadyAt ??= performance.now();
    return true;
}"""


@dataclass(frozen=True, slots=True)
class Visit:
    ready_ms: float
    entries: list[Fetched]

    @property
    def bytes(self) -> int:
        return total(self.entries)

    @property
    def pyodide_bytes(self) -> int:
        return total(self.entries, under=PYODIDE)


@dataclass(slots=True)
class Series:
    """One way of serving the page: per run its first visit and its reload."""

    label: str
    first: list[Visit] = field(default_factory=list)
    reload: list[Visit] = field(default_factory=list)


@dataclass(slots=True)
class LoadResults:
    ours: Series
    plain: Series
    rows: list[ServerRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    goals: list[Goal] = field(default_factory=list)


def measure(playwright: Playwright, folder: Path, console: Console, runs: int) -> LoadResults:
    results = LoadResults(Series("ours"), Series("identity, no cache"))
    with served(folder, "browser-load") as server:
        with httpx.Client(base_url=server.url, timeout=30.0) as http:
            reply = http.post("/api/games", json={"seats": 6, "actionTimeoutMs": 600_000})
            reply.raise_for_status()
            url = f"{server.url}/play/{reply.json()['gameId']}"
        browser = launch(playwright)
        try:
            for run in range(runs):
                pair = [(results.ours, False), (results.plain, True)]
                # Each goes first in every other run: the first of a pair runs while the
                # previous context is still being torn down.
                for series, plain in pair if run % 2 == 0 else pair[::-1]:
                    first, again = _visit_twice(browser, url, plain=plain)
                    series.first.append(first)
                    series.reload.append(again)
                ours, theirs = results.ours, results.plain
                console.print(
                    f"  page load #{run + 1}: first visit {_mb(ours.first[-1].bytes)} "
                    f"(identity, no cache: {_mb(theirs.first[-1].bytes)}), ready "
                    f"{fmt_ms(ours.first[-1].ready_ms)}; reload {_kb(ours.reload[-1].bytes)}, "
                    f"Pyodide {ours.reload[-1].pyodide_bytes} B, ready "
                    f"{fmt_ms(ours.reload[-1].ready_ms)} (identity, no cache: "
                    f"{fmt_ms(theirs.reload[-1].ready_ms)})",
                    highlight=False,
                )
        finally:
            browser.close()
    _check_peer(results.plain)
    _summarize(results)
    return results


def _visit_twice(browser: Browser, url: str, *, plain: bool) -> tuple[Visit, Visit]:
    headers = {"Accept-Encoding": "identity"} if plain else {}
    context = browser.new_context(extra_http_headers=headers)
    try:
        page = context.new_page()
        if plain:
            cdp = context.new_cdp_session(page)
            cdp.send("Network.enable")
            cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        page.goto(url)
        first = _ready(page)
        page.reload()
        return first, _ready(page)
    finally:
        context.close()


def _ready(page: Page) -> Visit:
    page.wait_for_function(_READY, timeout=READY_TIMEOUT_S * 1000, polling=10)
    boot_error = page.evaluate("() => window.rejoinBoot && window.rejoinBoot.error")
    if boot_error:
        raise RuntimeError(f"the table page failed to boot: {boot_error}")
    return Visit(float(page.evaluate("() => window.__benchReadyAt")), fetched(page))


def _check_peer(plain: Series) -> None:
    """The peer must be what it claims: nothing compressed, nothing from the cache."""
    for visit in plain.first + plain.reload:
        for entry in visit.entries:
            if entry.decoded and entry.encoded != entry.decoded:
                raise RuntimeError(f"the uncompressed peer got {entry.path} compressed")
            if entry.from_cache:
                raise RuntimeError(f"the no-cache peer got {entry.path} from the cache")


def _summarize(results: LoadResults) -> None:
    ours, plain = results.ours, results.plain
    first, first_plain = (
        _median([v.bytes for v in ours.first]),
        _median([v.bytes for v in plain.first]),
    )
    reload_pyodide = max(v.pyodide_bytes for v in ours.reload)
    plain_pyodide = _median([v.pyodide_bytes for v in plain.reload])
    warm = Summary.of([v.ready_ms / 1e3 for v in ours.reload])
    plain_warm = Summary.of([v.ready_ms / 1e3 for v in plain.reload])
    results.rows.append(
        ServerRow(
            "browser: first visit (fresh context) → table page ready",
            NO_DB,
            Summary.of([v.ready_ms / 1e3 for v in ours.first]),
            "identity, no cache",
            Summary.of([v.ready_ms / 1e3 for v in plain.first]),
        )
    )
    results.rows.append(
        ServerRow(
            "browser: reload → table page ready (warm cache)",
            NO_DB,
            warm,
            "identity, no cache",
            plain_warm,
            Target(f"p50 ≤ {WARM_READY_GOAL_MS / 1e3:g} s", warm.median_ms <= WARM_READY_GOAL_MS),
        )
    )
    results.goals += [
        Goal(
            "browser: first visit of a table page, bytes transferred (median)",
            NO_DB,
            _mb(first),
            f"≤ {_mb(FIRST_VISIT_GOAL_BYTES)}",
            first <= FIRST_VISIT_GOAL_BYTES,
            f"identity, no cache: {_mb(first_plain)}",
            first / first_plain,
        ),
        Goal(
            "browser: reload, Pyodide bytes from the network (max)",
            NO_DB,
            f"{reload_pyodide} B",
            "0 B",
            reload_pyodide == 0,
            f"identity, no cache: {_mb(plain_pyodide)}",
            reload_pyodide / plain_pyodide,
        ),
        Goal(
            "browser: reload → table page ready (warm cache), median",
            NO_DB,
            fmt_ms(warm.median_ms),
            f"≤ {WARM_READY_GOAL_MS / 1e3:g} s",
            warm.median_ms <= WARM_READY_GOAL_MS,
            f"identity, no cache: {fmt_ms(plain_warm.median_ms)}",
            warm.median_ms / plain_warm.median_ms,
        ),
    ]
    results.notes.append(
        f"Page load ({len(ours.first)} fresh contexts per series, ours and the peer "
        "alternating, one Chromium): bytes are Resource Timing's transferSize of the page and "
        "every file it loaded, headers included. A reload asks again for the page, its scripts "
        "and /sdk/manifest.json (no-cache: 304s, headers only) and takes Pyodide and the wheels "
        "from the HTTP cache without asking (immutable, their addresses carry Pyodide's version "
        "and each wheel's hash). The peer sends `Accept-Encoding: identity` with the cache "
        "disabled: every visit as heavy as a first one, uncompressed. "
        + _before(plain.first[0], first)
        + _heaviest(ours.first[0])
    )


def _before(peer: Visit, ours: float) -> str:
    """The peer's first visit with npm's python_stdlib.zip in place of the re-stored one: every
    visit's bytes before the bundle was served pre-compressed (each file as npm has it)."""
    npm = default_web_dir() / "node_modules" / "pyodide" / "python_stdlib.zip"
    stored = next((e for e in peer.entries if "/python_stdlib." in e.path), None)
    if not npm.is_file() or stored is None:
        return ""
    before = peer.bytes - stored.transfer + npm.stat().st_size
    return (
        f"Before (each file as npm has it, uncompressed, stdlib deflated per member): "
        f"{_mb(before)} a visit; ours is {ours / before:.2f}x that on a first visit. "
    )


def _heaviest(visit: Visit) -> str:
    heavy = sorted(visit.entries, key=lambda e: e.transfer, reverse=True)[:4]
    parts = [
        f"{entry.path.rsplit('/', 1)[-1]} {_mb(entry.transfer)} ({_mb(entry.decoded)} decoded)"
        for entry in heavy
    ]
    return "Heaviest files of a first visit: " + ", ".join(parts) + "."


def render(results: LoadResults, console: Console) -> None:
    """Bytes per visit, ours beside the peer (the times are rows of the browser table)."""
    table = columns_table(
        "table page bytes transferred (Resource Timing transferSize; peer: identity, no cache)",
        (
            ("visit", "left"),
            ("ours p50", "right"),
            ("ours p99", "right"),
            ("its Pyodide", "right"),
            ("peer p50", "right"),
            ("peer p99", "right"),
            ("p50 ratio", "right"),
        ),
    )
    for name, mine, theirs in (
        ("first visit (empty cache)", results.ours.first, results.plain.first),
        ("reload (warm cache)", results.ours.reload, results.plain.reload),
    ):
        ours_bytes, peer_bytes = [v.bytes for v in mine], [v.bytes for v in theirs]
        table.add_row(
            name,
            _mb(_median(ours_bytes)),
            _mb(_p99(ours_bytes)),
            _mb(max(v.pyodide_bytes for v in mine)) + " (max)",
            _mb(_median(peer_bytes)),
            _mb(_p99(peer_bytes)),
            f"{_median(ours_bytes) / _median(peer_bytes):.3f}x",
        )
    console.print(table)


def _median(values: list[int]) -> float:
    return float(statistics.median(values))


def _p99(values: list[int] | list[float]) -> float:
    return float(percentile(sorted(values), 99.0))


def _mb(count: float) -> str:
    return f"{count / 1e6:.2f} MB" if count >= 100_000 else _kb(count)


def _kb(count: float) -> str:
    return f"{count / 1e3:.1f} kB"
