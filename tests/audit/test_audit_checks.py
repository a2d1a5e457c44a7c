"""The audit's maths as pure functions: duplicates, confident learning, imbalance, outliers."""

from __future__ import annotations

import numpy as np
import pytest

from transferkit.audit._distribution import class_imbalance, isolation_outliers
from transferkit.audit._duplicates import (
    cosine_pairs,
    distance_pairs,
    group_ids,
    median_nn_distance,
    normalize_text,
    pair_components,
)
from transferkit.audit._labels import confident_label_issues, out_of_fold_probabilities, per_class_thresholds


def test_normalize_text_collapses_every_kind_of_whitespace() -> None:
    assert normalize_text(" 很好\u3000 酒店\n\t") == "很好 酒店"
    assert normalize_text("a  b") == normalize_text("a b") != normalize_text("ab")


def test_group_ids_follow_first_appearance() -> None:
    assert group_ids(["x", "y", "x", "z", "y", "x"]).tolist() == [0, 1, 0, 2, 1, 0]


@pytest.mark.parametrize("block", [1, 3, 1024])
def test_cosine_pairs_match_brute_force(rng: np.random.Generator, block: int) -> None:
    a = rng.normal(size=(13, 4))
    a[7] = 2.5 * a[2]  # same direction, other length: cosine 1
    a[11] = 0.0  # a zero row is similar to nothing
    unit = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    sims = unit @ unit.T
    want = {(i, j) for i in range(13) for j in range(i + 1, 13) if sims[i, j] >= 0.6}
    i, j, s = cosine_pairs(a, threshold=0.6, block=block)
    assert set(zip(i.tolist(), j.tolist(), strict=True)) == want
    assert (2, 7) in want
    np.testing.assert_allclose(s, sims[i, j], rtol=1e-5)


def test_collinear_rows_reach_threshold_one(rng: np.random.Generator) -> None:
    """float32 unit rows of x and c*x have a dot product a hair below 1.0; threshold=1.0 must find them."""
    x = rng.normal(size=(200, 384)).astype(np.float32)
    scaled = x * rng.uniform(0.5, 3.0, size=(200, 1)).astype(np.float32)
    i, j, _ = cosine_pairs(x, scaled, threshold=1.0)
    assert set(zip(i.tolist(), j.tolist(), strict=True)) == {(k, k) for k in range(200)}


def test_cosine_pairs_across_two_sets(rng: np.random.Generator) -> None:
    a, b = rng.normal(size=(5, 3)), rng.normal(size=(4, 3))
    b[3] = a[1] * 0.5
    i, j, s = cosine_pairs(a, b, threshold=0.999)
    assert (i.tolist(), j.tolist()) == ([1], [3])
    assert s[0] == pytest.approx(1.0, abs=1e-6)


def test_distance_pairs_and_median_nearest_neighbour(rng: np.random.Generator) -> None:
    a = np.array([[0.0, 0.0], [3.0, 4.0], [0.0, 0.1], [10.0, 10.0]])
    i, j, d = distance_pairs(a, radius=0.2)
    assert (i.tolist(), j.tolist()) == ([0], [2]) and d[0] == pytest.approx(0.1)
    # nearest distances: 0.1, 4.9..., 0.1, 8.6...: median of 0.1, 0.1, 4.92, 8.6 (squared, then sqrt)
    nearest = sorted([0.1, float(np.hypot(3, 3.9)), 0.1, float(np.hypot(7, 6))])
    assert median_nn_distance(a) == pytest.approx(np.sqrt(np.median(np.square(nearest))))


def test_pair_components_join_chains() -> None:
    comp = pair_components(6, np.array([0, 1, 4]), np.array([1, 2, 5]))
    assert comp[0] == comp[1] == comp[2] != comp[3]
    assert comp[4] == comp[5] and len(set(comp.tolist())) == 3


def test_thresholds_are_mean_self_confidence() -> None:
    probs = np.array([[0.9, 0.1], [0.6, 0.4], [0.3, 0.7], [0.1, 0.9]])
    np.testing.assert_allclose(per_class_thresholds(probs, np.array([0, 0, 1, 1])), [0.75, 0.8])


def test_confident_learning_flags_only_below_own_and_above_other_threshold() -> None:
    # three classes; thresholds: t0 = mean(.8, .7, .1) = .533, t1 = mean(.8, .6) = .7, t2 = mean(.9, .2) = .55
    probs = np.array([
        [0.8, 0.1, 0.1],   # 0, confident: fine
        [0.7, 0.2, 0.1],   # 0: fine
        [0.1, 0.85, 0.05],  # labelled 0, class 1 above its threshold: issue, suggest 1
        [0.1, 0.8, 0.1],   # 1: fine
        [0.3, 0.6, 0.1],   # 1 below t1 but no other class above its threshold: not an issue
        [0.05, 0.05, 0.9],  # 2: fine
        [0.6, 0.2, 0.2],   # labelled 2, class 0 above t0: issue, suggest 0
    ])
    labels = np.array([0, 0, 0, 1, 1, 2, 2])
    issues, suggested, thresholds = confident_label_issues(probs, labels)
    np.testing.assert_allclose(thresholds, [(0.8 + 0.7 + 0.1) / 3, 0.7, 0.55])
    assert np.flatnonzero(issues).tolist() == [2, 6]
    assert suggested.tolist() == [-1, -1, 1, -1, -1, -1, 0]


def test_confident_learning_follows_cleanlab_on_its_two_edge_cases() -> None:
    """cleanlab's confident_learning filter: an item counts under the most probable class reaching its
    threshold, the given label's own included; items the model predicts as labelled are never issues."""
    # thresholds .733, .75, .40: item 2's top class is its label 0, although class 2 passes its threshold
    probs = np.array([[.9, .05, .05], [.8, .1, .1], [.5, .05, .45], [.1, .8, .1], [.2, .7, .1], [.3, .3, .4],
                      [.5, .1, .4]])
    issues, _, _ = confident_label_issues(probs, np.array([0, 0, 0, 1, 1, 2, 2]))
    assert not issues.any()
    # thresholds .40, .45, .50: item 0 passes both its label's (.42) and class 1's (.48); class 1 is likelier
    probs = np.array([[.42, .48, .10], [.40, .30, .30], [.38, .32, .30], [.30, .45, .25], [.30, .45, .25],
                      [.2, .3, .5], [.3, .2, .5]])
    issues, suggested, thresholds = confident_label_issues(probs, np.array([0, 0, 0, 1, 1, 2, 2]))
    np.testing.assert_allclose(thresholds, [0.4, 0.45, 0.5])
    assert np.flatnonzero(issues).tolist() == [0] and suggested[0] == 1


def test_out_of_fold_probabilities_keep_groups_in_one_fold(rng: np.random.Generator) -> None:
    """A copy in another fold would let the probe memorise the planted wrong label of its twin."""
    X = np.concatenate([rng.normal(-2, 1, (20, 3)), rng.normal(2, 1, (20, 3))])
    y = np.repeat([0, 1], 20)
    X = np.concatenate([X, X[:6]])  # six copies of class-0 items, all labelled 1
    y = np.concatenate([y, np.ones(6, dtype=int)])
    groups = np.concatenate([np.arange(40), np.arange(6)])
    probs, n_splits = out_of_fold_probabilities(X, y, groups, cv=5)
    assert n_splits == 5 and probs.shape == (46, 2)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    assert (probs[40:, 1] < 0.5).all()  # judged by the cluster, not by the twin


def test_class_imbalance_reports_ratio_and_smallest_class() -> None:
    info = class_imbalance(np.array(["a"] * 50 + ["b"] * 30 + ["c"] * 2))
    assert info["counts"] == {"a": 50, "b": 30, "c": 2}
    assert (info["ratio"], info["smallest"], info["smallest_count"]) == (25.0, "c", 2)
    assert info["under_represented"] == ["c"]  # 2 < 0.1 * 82 / 3
    assert class_imbalance(np.array(["a", "b"] * 5))["under_represented"] == []


def test_isolation_outliers_flag_the_planted_point_only(rng: np.random.Generator) -> None:
    X = np.vstack([rng.normal(size=(300, 4)), [[9.0, -9.0, 9.0, -9.0]]])
    is_out, anomaly = isolation_outliers(X, random_state=0)
    assert is_out[-1] and anomaly.argmax() == 300
    assert is_out.sum() <= 15  # Tukey's fence: a few Gaussian tail points at most, not a third of the data
    assert isolation_outliers(X, contamination=0.1)[0].sum() == pytest.approx(30, abs=1)


def test_near_duplicates_centre_embeddings_and_keep_chains_apart() -> None:
    """A direction shared by every embedding must not make items near; in a chain a~b~c (a and c apart),
    only b goes: c's one close partner is b, which is already dropped."""
    from transferkit.audit._audit import _Run
    from transferkit.audit._input import read_for_audit

    angles = np.deg2rad([0, 20, 40, 180, 200, 220])  # cos 20 deg = 0.94, cos 40 deg = 0.77; mean zero
    emb = np.column_stack([np.cos(angles), np.sin(angles), np.full(6, 10.0)])  # + a common offset
    data = read_for_audit(np.arange(18.0).reshape(6, 3), ["a", "a", "a", "b", "b", "b"])
    run, findings = _Run(data, 0), {}
    run.exact(data.usable(), findings)
    run.near(emb, 0.9, findings)
    near = findings["near-duplicates"]
    assert near.indices == [1, 4]
    assert [f.related for f in near.flags] == [(0,), (3,)]
    assert "cosine 0.940" in near.flags[0].reason
    assert len(set(run.component.tolist())) == 2  # the chains still group for cross-validation
