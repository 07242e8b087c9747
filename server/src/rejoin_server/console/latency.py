"""`LatencyBins`: durations in milliseconds counted in bins, so that percentiles over thousands of
resumes cost a fixed amount of memory and O(1) per sample.

Below `EXACT_MS` every millisecond has its own bin (a resume after a restart is often a few tens of
ms, and rounding there would hide what matters); above it, bins grow by a factor of 2^(1/8)
(9 %). A percentile is the upper bound of the bin it falls in: at most 9 % above the true value,
never below it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

EXACT_MS = 128
STEPS_PER_DOUBLING = 8


def bin_of(ms: int) -> int:
    if ms < EXACT_MS:
        return max(ms, 0)
    return EXACT_MS + int(STEPS_PER_DOUBLING * math.log2(ms / EXACT_MS))


def upper_bound(index: int) -> int:
    """The largest duration (ms) counted in bin `index`."""
    if index < EXACT_MS:
        return index
    return math.ceil(EXACT_MS * 2 ** ((index - EXACT_MS + 1) / STEPS_PER_DOUBLING)) - 1


class LatencyBins:
    __slots__ = ("count", "counts", "max_ms")

    def __init__(self) -> None:
        self.counts: dict[int, int] = {}  # bin -> samples (sparse: a few bins are ever used)
        self.count = 0
        self.max_ms = 0

    def add(self, ms: int) -> None:
        index = bin_of(ms)
        self.counts[index] = self.counts.get(index, 0) + 1
        self.count += 1
        self.max_ms = max(self.max_ms, ms)

    @classmethod
    def merged(cls, parts: Iterable[LatencyBins]) -> LatencyBins:
        total = cls()
        for part in parts:
            for index, n in part.counts.items():
                total.counts[index] = total.counts.get(index, 0) + n
            total.count += part.count
            total.max_ms = max(total.max_ms, part.max_ms)
        return total

    def quantile(self, q: float) -> int | None:
        """The duration (ms) that a fraction `q` of the samples do not exceed (None: no samples).
        The nearest-rank percentile, rounded up to its bin's bound, and never above the largest
        sample."""
        if self.count == 0:
            return None
        rank = max(1, math.ceil(q * self.count))
        seen = 0
        for index in sorted(self.counts):
            seen += self.counts[index]
            if seen >= rank:
                return min(upper_bound(index), self.max_ms)
        return self.max_ms  # unreachable: the counts add up to `count`
