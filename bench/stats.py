"""Latency samples and their summaries: median, p99, throughput, and ours-over-theirs ratios.

Every figure the benchmarks print goes through here, so they are computed one way: samples are
seconds from `time.perf_counter`, summaries are in milliseconds, p99 is the nearest-rank
percentile (with fewer than 100 samples it is the maximum).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Summary:
    """Latencies in milliseconds; `rate` is operations per second when a wall time is known."""

    count: int
    median_ms: float
    p99_ms: float
    rate: float | None = None

    @classmethod
    def of(cls, seconds: Sequence[float], wall_s: float | None = None) -> Summary:
        if not seconds:
            raise ValueError("no samples")
        ordered = sorted(seconds)
        rate = len(ordered) / wall_s if wall_s else None
        return cls(len(ordered), _median(ordered) * 1e3, percentile(ordered, 99.0) * 1e3, rate)


def percentile(ordered: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile of sorted samples."""
    rank = max(1, math.ceil(pct / 100.0 * len(ordered)))
    return ordered[rank - 1]


def _median(ordered: Sequence[float]) -> float:
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[mid]
    return (ordered[mid - 1] + ordered[mid]) / 2


def ratio(ours: float, theirs: float) -> float:
    """Ours over theirs: below 1 means we are faster (for times)."""
    return ours / theirs if theirs else math.inf


@contextmanager
def stopwatch(samples: list[float]) -> Iterator[None]:
    """Appends the seconds the block took to `samples`."""
    start = time.perf_counter()
    try:
        yield
    finally:
        samples.append(time.perf_counter() - start)


def fmt_ms(value: float) -> str:
    if value < 1:
        return f"{value * 1000:.0f} µs"
    if value < 100:
        return f"{value:.2f} ms"
    return f"{value:.0f} ms"


def fmt_ratio(value: float) -> str:
    return "—" if math.isinf(value) else f"{value:.2f}x"
