from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import f1_score

from transferkit.evaluation import classification_metrics, mean_ci, paired_bootstrap_ci


def test_metrics_agree_with_scikit_learn() -> None:
    y = np.array(["a", "b", "c", "a", "b", "c", "a"])
    p = np.array(["a", "b", "b", "a", "c", "c", "b"])
    m = classification_metrics(y, p, ["a", "b", "c"])
    assert m["accuracy"] == pytest.approx(4 / 7)
    assert m["macro_f1"] == pytest.approx(f1_score(y, p, average="macro"))
    assert m["confusion_matrix"] == [[2, 1, 0], [0, 1, 1], [0, 1, 1]]
    assert [r["support"] for r in m["per_class"]] == [3, 2, 2]


def test_never_predicted_class_has_zero_precision_not_an_error() -> None:
    m = classification_metrics(["a", "b"], ["a", "a"], ["a", "b"])
    assert m["per_class"][1]["precision"] == 0.0


def test_macro_averages_skip_a_class_absent_from_the_test_set_and_never_predicted() -> None:
    """A training class with no test item and no prediction is listed (support 0) but not averaged in,
    as in scikit-learn's default; it used to count as an F1 of 0 (0.489 here instead of 0.733)."""
    y, p = list("aabb"), list("abbb")
    m = classification_metrics(y, p, ["a", "b", "c"])
    assert m["macro_f1"] == pytest.approx(f1_score(y, p, average="macro"))
    assert m["macro_precision"] == pytest.approx(0.8333, abs=1e-4)
    assert [r["label"] for r in m["per_class"]] == ["a", "b", "c"] and m["per_class"][2]["support"] == 0


def test_mean_ci_matches_the_t_interval() -> None:
    v = [0.1, 0.3, 0.2, 0.25]
    m, lo, hi = mean_ci(v)
    ref = stats.t.interval(0.95, len(v) - 1, loc=np.mean(v), scale=stats.sem(v))
    assert (lo, hi) == pytest.approx(ref) and m == pytest.approx(np.mean(v))
    assert mean_ci([0.5]) == (0.5, 0.5, 0.5)


def test_paired_bootstrap_covers_the_difference_and_shrinks_with_n() -> None:
    r = np.random.default_rng(0)
    a_small, b_small = r.random(100) < 0.8, r.random(100) < 0.7
    a_big, b_big = r.random(5000) < 0.8, r.random(5000) < 0.7
    _, lo_s, hi_s = paired_bootstrap_ci(a_small, b_small)
    m, lo_b, hi_b = paired_bootstrap_ci(a_big, b_big)
    assert lo_b < 0.1 < hi_b and lo_b > 0  # true gain 0.1, clearly positive with 5000 items
    assert hi_b - lo_b < hi_s - lo_s
    same = r.random(200) < 0.5
    assert paired_bootstrap_ci(same, same) == (0.0, 0.0, 0.0)
