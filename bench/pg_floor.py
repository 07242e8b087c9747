"""PostgreSQL's own durable commit on this machine, measured in the run that needs it.

A durable action on PostgreSQL waits for one commit, and a commit waits for the database's WAL
flush: on the shared 2-core machines here that flush was 0.25-0.3 ms with the disk idle and over
1 ms with other work on it. The WebSocket action → ack goal (p50 ≤ 1 ms) is read beside this
floor, taken from the same database just before: one single-row INSERT in autocommit, `count`
times, each timed.
"""

from __future__ import annotations

import time

import psycopg

from bench.stats import Summary

TABLE = "rejoin_bench_commit_floor"


def commit_floor(url: str, count: int = 300) -> Summary:
    """Median and p99 of one small committed INSERT on the database at `url`."""
    samples: list[float] = []
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (id bigserial PRIMARY KEY, v jsonb)")
        try:
            for _ in range(count):
                began = time.perf_counter()
                conn.execute(f"INSERT INTO {TABLE} (v) VALUES (%s)", ['{"seq":1}'])
                samples.append(time.perf_counter() - began)
        finally:
            conn.execute(f"DROP TABLE {TABLE}")
    return Summary.of(samples)
