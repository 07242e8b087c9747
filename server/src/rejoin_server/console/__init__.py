"""The operator console's figures (`/admin`, `GET /api/admin/…`, docs/operations.md).

- `latency` (`LatencyBins`): a small histogram of durations in milliseconds, for percentiles.
- `activity` (`Activity`): what happened lately, in 5-second buckets for 15 minutes: actions and
  resumes (with how long each seat was gone). O(1) per event: the hot paths only count.
- `overview`: the console's one-look JSON (games hosted, storage, degraded state, resumes, tokens).
- `full_state`: one game's whole state in a readable form (every seat's cards included).
- `snapshots`: a game's stored snapshots, and one opened apart from the game (restore-inspect).
"""
