"""The bootstrap interval of bench/bench_loop_throughput.py (the benchmark itself is not part of the suite)."""

from __future__ import annotations

import numpy as np
from bench.bench_loop_throughput import median_ci


def test_median_ci_brackets_the_median_is_seeded_and_narrows_with_more_pairs() -> None:
    rng = np.random.default_rng(0)
    few = list(1.0 + 0.05 * rng.standard_normal(8))
    many = list(1.0 + 0.05 * rng.standard_normal(200))
    low, high = median_ci(few)
    assert low <= float(np.median(few)) <= high
    assert median_ci(few) == (low, high)  # the same seed, the same interval
    low_many, high_many = median_ci(many)
    assert high_many - low_many < high - low and low_many < 1.0 < high_many
    assert median_ci([0.97] * 5) == (0.97, 0.97)
