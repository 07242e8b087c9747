"""What a page fetched, from the browser's Resource Timing: per file its bytes on the wire
(`transferSize`: 0 when the HTTP cache answered without asking the server; headers only for a
304), its body as sent (`encodedBodySize`, compressed) and as used (`decodedBodySize`).

Shared by the browser tests (e2e/browser/test_page_load.py) and the page-load benchmark
(bench/browser_load.py). Entries of the page's current document only: a reload starts afresh.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from playwright.sync_api import Page

_ENTRIES = """() => [
    ...performance.getEntriesByType('navigation'),
    ...performance.getEntriesByType('resource'),
].map((e) => [e.name, e.transferSize, e.encodedBodySize, e.decodedBodySize, e.responseStatus ?? 0])"""


@dataclass(frozen=True, slots=True)
class Fetched:
    path: str
    transfer: int  # bytes on the wire, headers included; 0: from the HTTP cache, not asked
    encoded: int  # the body as sent (compressed, if it was)
    decoded: int  # the body as used
    status: int  # 0 when the cache answered (or the browser does not say)

    @property
    def from_cache(self) -> bool:
        return self.transfer == 0 and self.decoded > 0


def fetched(page: Page) -> list[Fetched]:
    rows: list[list[str | float]] = page.evaluate(_ENTRIES)
    return [
        Fetched(urlsplit(str(url)).path, int(t), int(e), int(d), int(s)) for url, t, e, d, s in rows
    ]


def total(entries: Iterable[Fetched], *, under: str = "") -> int:
    """Bytes on the wire of the entries whose path contains `under`."""
    return sum(entry.transfer for entry in entries if under in entry.path)
