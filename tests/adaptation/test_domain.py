from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from transferkit.adaptation import check_domains, check_source_target, split_domains
from transferkit.errors import DataError

X = np.arange(12, dtype=float).reshape(6, 2)
SD = np.array([1, 1, 2, -1, -1, -3])


def test_check_domains_splits_positive_source_and_negative_target() -> None:
    Xs, Xt, mask = check_domains(X, SD)
    assert mask.tolist() == [True, True, True, False, False, False]
    np.testing.assert_array_equal(Xs, X[:3])
    np.testing.assert_array_equal(Xt, X[3:])


def test_check_domains_accepts_integer_valued_floats() -> None:
    _, _, mask = check_domains(X, SD.astype(float))
    assert mask.sum() == 3


@pytest.mark.parametrize(
    ("features", "domains", "message"),
    [
        (X, np.ones(6), "no target rows"),
        (X, -np.ones(6), "no source rows"),
        (X, SD[:5], "5 entries but X has 6 rows"),
        (X, SD.reshape(2, 3), "sample_domain must be 1-D"),
        (X, np.array([1, 1, 0, -1, -1, -1]), "contains 0"),
        (X, np.array([1, 1, 1.5, -1, -1, -1]), "integers"),
        (X, np.array(["a"] * 6), "finite integers"),
        (X, None, "sample_domain is required"),
        (np.arange(6.0), SD, "must be 2-D"),
        (np.where(X == 4.0, np.nan, X), SD, "NaN or infinite"),
        (np.where(X == 4.0, np.inf, X), SD, "NaN or infinite"),
        (np.empty((0, 2)), np.empty(0), "no samples"),
        ([["a", "b"]] * 6, SD, "numeric"),
    ],
)
def test_check_domains_rejects_bad_input(features: Any, domains: Any, message: str) -> None:
    with pytest.raises(DataError, match=message):
        check_domains(features, domains)


def test_check_source_target_requires_matching_non_empty_arrays() -> None:
    with pytest.raises(DataError, match="source has 2 features but target has 3"):
        check_source_target(np.zeros((4, 2)), np.zeros((4, 3)))
    with pytest.raises(DataError, match="target has no samples"):
        check_source_target(np.zeros((4, 2)), np.zeros((0, 2)))
    with pytest.raises(DataError, match="source contains NaN"):
        check_source_target(np.full((4, 2), np.nan), np.zeros((4, 2)))


def test_split_domains_masks_target_labels() -> None:
    y = np.array([0, 1, 0, -1, 1, -1])
    split = split_domains(X, y, SD)
    assert split.y_source.tolist() == [0, 1, 0]
    assert split.y_target.tolist() == [1]
    assert split.target_labelled.tolist() == [False, True, False]


def test_split_domains_nan_and_none_mask_targets_and_minus_one_can_be_a_class() -> None:
    assert split_domains(X, [0.0, 1.0, 0.0, np.nan, np.nan, 1.0], SD).target_labelled.tolist() == [
        False,
        False,
        True,
    ]
    y_obj = np.array(["a", "b", "a", None, "b", None], dtype=object)
    assert split_domains(X, y_obj, SD).y_target.tolist() == ["b"]
    assert split_domains(X, np.array(["a", "b", "a", -1, "b", -1]), SD).y_target.tolist() == ["b"]
    # With -1 a real source class (numbers masked with NaN), a target -1 is a label, not a mask.
    assert split_domains(X, [-1.0, 1.0, 1.0, -1.0, 1.0, np.nan], SD).target_labelled.tolist() == [True, True, False]
    with pytest.raises(DataError, match=r"the label -1 on source rows \(index 0"):  # without NaN/None, -1 is the mask
        split_domains(X, [-1, 1, 1, -1, 1, 1], SD)


def test_numeric_labels_masked_with_none_become_numeric() -> None:
    """scikit-learn cannot type an object array of numbers: None-masked integer labels come out as
    integers masked with -1 (NaN when -1 is a class), None-masked floats with NaN."""
    ints = np.array([3, 7, 3, None, 7, None], dtype=object)
    split = split_domains(X, ints, SD)
    assert split.y_source.dtype.kind == "i" and split.y_source.tolist() == [3, 7, 3]
    assert split.y_target.tolist() == [7] and split.target_labelled.tolist() == [False, True, False]
    with_minus_one = split_domains(X, np.array([-1, 7, 7, None, -1, None], dtype=object), SD)
    assert with_minus_one.y_source.dtype.kind == "f" and with_minus_one.y_target.tolist() == [-1.0]
    floats = split_domains(X, np.array([2.0, 5.0, 2.0, None, 5.0, None], dtype=object), SD)
    assert floats.y_source.dtype.kind == "f" and floats.y_target.tolist() == [5.0]
    text_with_minus_one = np.array(["a", "b", "a", -1, "b", None], dtype=object)  # -1 masks text labels too
    assert split_domains(X, text_with_minus_one, SD).y_target.tolist() == ["b"]
    mixed = np.array(["a", 1, "a", None, 1, None], dtype=object)
    with pytest.raises(DataError, match="y mixes text and non-text labels \\(e.g. 'a' and 1\\)"):
        split_domains(X, mixed, SD)


def test_split_domains_rejects_target_labels_outside_the_source_classes() -> None:
    with pytest.raises(DataError, match="target labels 7 do not occur in the source labels"):
        split_domains(X, [0, 1, 0, 7, -1, 1], SD)
    with pytest.raises(DataError, match="'z'"):
        split_domains(X, ["a", "b", "a", "z", "a", "b"], SD)


def test_split_domains_regression_mode_skips_the_label_set_check() -> None:
    split = split_domains(X, [0.5, 1.5, 2.5, 9.0, np.nan, 3.0], SD, check_target_labels=False)
    assert split.y_target.tolist() == [9.0, 3.0]


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (None, "y is required"),
        ([0, 1, 0, 1], "y has 4 entries but X has 6 rows"),
        ([[0, 1, 0, 1, 0, 1]], "y must be 1-D"),
        ([0.0, np.nan, 1.0, 0.0, 1.0, 0.0], "missing"),
        (np.array(["a", None, "b", "a", "a", "b"], dtype=object), "missing"),
    ],
)
def test_split_domains_rejects_bad_labels(labels: Any, message: str) -> None:
    with pytest.raises(DataError, match=message):
        split_domains(X, labels, SD)
