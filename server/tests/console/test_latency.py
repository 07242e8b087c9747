"""`LatencyBins`: the percentiles the console shows, and how far a bin may round them."""

from __future__ import annotations

import math
import random

from rejoin_server.console.latency import EXACT_MS, LatencyBins, bin_of, upper_bound


def test_each_duration_falls_in_the_bin_whose_bounds_hold_it() -> None:
    for ms in [*range(0, 3 * EXACT_MS), 999, 1000, 1001, 4096, 59_999, 60_000, 3_600_000]:
        index = bin_of(ms)
        assert ms <= upper_bound(index), ms
        assert index == 0 or ms > upper_bound(index - 1), ms
        # Rounded up by at most 9 % (exact below EXACT_MS).
        assert upper_bound(index) <= max(ms, ms * 1.091), ms


def test_percentiles_are_the_nearest_rank_rounded_up_to_their_bin() -> None:
    bins = LatencyBins()
    for ms in range(1, 101):  # 1 … 100 ms: exact bins
        bins.add(ms)
    assert bins.count == 100
    assert bins.quantile(0.5) == 50
    assert bins.quantile(0.99) == 99
    assert bins.quantile(1.0) == 100
    assert LatencyBins().quantile(0.5) is None


def test_a_percentile_is_never_below_the_true_one_nor_above_the_largest_sample() -> None:
    rng = random.Random(7)
    samples = [int(rng.lognormvariate(5, 1.5)) for _ in range(5_000)]
    bins = LatencyBins()
    for ms in samples:
        bins.add(ms)
    ordered = sorted(samples)
    for q in (0.5, 0.9, 0.99):
        true = ordered[max(1, math.ceil(q * len(ordered))) - 1]  # the nearest rank
        found = bins.quantile(q)
        assert found is not None
        assert true <= found <= max(true * 1.091, true + 1), (q, true, found)
        assert found <= max(samples)


def test_merged_bins_count_every_part() -> None:
    a, b = LatencyBins(), LatencyBins()
    for ms in (10, 20):
        a.add(ms)
    b.add(5000)
    both = LatencyBins.merged((a, b))
    assert both.count == 3
    assert both.max_ms == 5000
    assert both.quantile(0.5) == 20
    assert both.quantile(0.99) == 5000
