"""Chromium's own `EventSource` on a player's event stream, recorded in the page (the e2e test of
native EventSource clients, e2e/browser/test_native_eventsource.py, and the browser benchmark's
row beside the table pages, bench/browser_sse.py).

- `LISTEN`: evaluate it with `[url, KINDS]`: opens the stream and records, in page time (epoch ms:
  `performance.timeOrigin + now()`, comparable with `time.time()` on one machine), each (re)open
  in `window.__opens`, the id of each event heard in `window.__ids`, each error (the stream lost,
  or a retry that failed) in `window.__errors`.
"""

from __future__ import annotations

# The poker event kinds (docs/protocol.md): an EventSource hears a named event only by its name.
KINDS = [
    "player_joined", "player_left", "hand_started", "hole_cards", "blind_posted", "action",
    "timeout", "street", "showdown", "pot_awarded", "hand_ended", "game_completed",
    "snapshot_restored",
]  # fmt: skip

# Opens the stream and records, in page time (epoch ms), each event's id and each (re)open.
LISTEN = """([url, kinds]) => {
    window.__ids = []; window.__opens = []; window.__errors = [];
    const source = new EventSource(url);
    const heard = (e) => window.__ids.push(Number(e.lastEventId));
    for (const kind of kinds) source.addEventListener(kind, heard);
    source.onopen = () => window.__opens.push(performance.timeOrigin + performance.now());
    source.onerror = () => window.__errors.push(performance.timeOrigin + performance.now());
}"""
