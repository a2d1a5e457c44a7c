"""Continuous labels in the adaptation estimators, DeepDA's method names and message grammar (QA sweep 3,
sections 12 and 15)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sklearn.linear_model import Ridge

from transferkit.adaptation import (
    DAPipeline,
    DeepDA,
    DomainAdaptClassifier,
    ReweightedClassifier,
    TrAdaBoostClassifier,
    check_adaptation_data,
    make_method,
)
from transferkit.adaptation._deep_terms import CORALTerm
from transferkit.data import Dataset
from transferkit.errors import DataError, StrategyError

CONTINUOUS = r"labels such as .* are continuous \(non-integer\) numbers, not classes; .*round or bin them"


def _rows(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(50, 4))
    dom = np.r_[np.ones(30, dtype=int), -np.ones(20, dtype=int)]
    return X, dom


ESTIMATORS = [
    lambda: DomainAdaptClassifier(cache=False),
    lambda: ReweightedClassifier(),
    lambda: DAPipeline(),
    lambda: TrAdaBoostClassifier(),
]


@pytest.mark.parametrize("make", ESTIMATORS, ids=["DomainAdaptClassifier", "ReweightedClassifier", "DAPipeline",
                                                  "TrAdaBoostClassifier"])
@pytest.mark.parametrize("mask", [-1.0, np.nan])
def test_continuous_source_labels_are_a_data_error(make: Any, mask: float) -> None:
    """The QA reproducer: scikit-learn's "Unknown label type: continuous" came through instead."""
    X, dom = _rows()
    y = np.r_[np.random.default_rng(1).normal(size=30), np.full(20, mask)]
    with pytest.raises(DataError, match=CONTINUOUS):
        make().fit(X, y, sample_domain=dom)


def test_a_continuous_labelled_target_row_is_a_data_error_and_masks_are_not_labels() -> None:
    X, dom = _rows()
    y = np.r_[np.tile([0.0, 1.0], 15), np.full(20, np.nan)]  # whole numbers as floats are classes
    clf = DomainAdaptClassifier(cache=False).fit(X, y, sample_domain=dom)  # the NaN masks are not checked
    assert clf.classes_.tolist() == [0.0, 1.0]
    y[-1] = 0.5  # one labelled target row with a continuous value
    with pytest.raises(DataError, match=r"labels such as 0\.5 are continuous"):
        DomainAdaptClassifier(cache=False).fit(X, y, sample_domain=dom)


def test_a_regressor_in_a_pipeline_still_takes_continuous_targets() -> None:
    X, dom = _rows()
    y = np.r_[np.random.default_rng(1).normal(size=30), np.full(20, np.nan)]
    model = DAPipeline(estimator=Ridge()).fit(X, y, sample_domain=dom)
    assert np.isfinite(model.predict(X[dom < 0])).all()


def test_datasets_with_continuous_source_labels_are_refused() -> None:
    rng = np.random.default_rng(0)
    source = Dataset(X=rng.normal(size=(10, 3)), y=rng.normal(size=10), modality="table")
    target = Dataset(X=rng.normal(size=(8, 3)), y=None, modality="table")
    with pytest.raises(DataError, match=CONTINUOUS):
        check_adaptation_data(source, target)


# --- DeepDA takes DomainAdaptClassifier's names --------------------------------------------------------------


def test_deepda_takes_the_name_domain_adapt_classifier_uses() -> None:
    deep = DeepDA(method="deep-coral")
    deep._check()  # refused before: "unknown deep adaptation method 'deep-coral'"
    assert isinstance(deep.make_term(8), CORALTerm)
    made = make_method("deep-coral", 4)  # one table: the classifier's name builds the same DeepDA
    assert isinstance(made, DeepDA) and made.method == "deep-coral"
    old = DeepDA(method="coral")  # the former spelling still works (code and model folders using it)
    old._check()
    assert isinstance(old.make_term(8), CORALTerm)
    with pytest.raises(StrategyError, match="unknown deep adaptation method 'adda'; choose from: dann, mmd, deep-coral"):
        DeepDA(method="adda")._check()


@pytest.mark.parametrize(("params", "match"), [
    ({"n_kernels": 0}, r"^n_kernels must be an integer >= 1, got 0$"),
    ({"discriminator_hidden": 2.5}, r"^discriminator_hidden must be an integer >= 1, got 2.5$"),
    ({"bottleneck": True}, r"^bottleneck must be an integer >= 1 or None, got True$"),
    ({"weight": float("nan")}, r"^weight must be a finite number >= 0, got nan$"),
    ({"label_smoothing": 2.0}, r"^label_smoothing must be"),  # FullFineTune's table applies to DeepDA too
])
def test_deepda_settings_fail_before_any_feature_is_extracted(params: dict[str, Any], match: str,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from transferkit.features import FeatureExtractor

    def refuse(self: Any, X: Any, y: Any = None) -> Any:
        raise AssertionError("features were extracted before DeepDA's settings were checked")

    monkeypatch.setattr(FeatureExtractor, "fit", refuse)
    X, dom = _rows()
    y = np.r_[np.tile([0, 1], 15), -np.ones(20, dtype=int)]
    with pytest.raises(StrategyError, match=match):
        DomainAdaptClassifier(method=DeepDA(epochs=1, **params), backbone="tiny-mlp", cache=False).fit(
            X, y, sample_domain=dom)


# --- message grammar ----------------------------------------------------------------------------------------


def test_modality_mismatch_reads_as_a_sentence() -> None:
    source = Dataset(X=np.zeros((4, 2)), y=np.array([0, 1, 0, 1]), modality="table")
    target = Dataset(X=np.array(["a", "b"], dtype=object), y=None, modality="text")
    with pytest.raises(DataError, match=r"^the source set holds table data but the target holds text data; both"):
        check_adaptation_data(source, target)


def test_domain_distance_messages_agree_with_their_subject() -> None:
    from transferkit.selection import mmd_rbf
    from transferkit.selection._distance_report import domain_distance

    X = np.random.default_rng(0).normal(size=(6, 3))
    with pytest.raises(DataError, match=r"^source contains NaN or infinite values in 6 of 6 rows$"):
        mmd_rbf(np.full((6, 3), np.nan), X)
    with pytest.raises(DataError, match=r"^target has no rows$"):
        mmd_rbf(X, X[:0])
    from transferkit.selection import leep

    with pytest.raises(DataError, match=r"^source_probs must be a 2-D array \(samples x classes\), got 1-D"):
        leep(np.full(6, 0.5), [0, 1] * 3)  # the columns are class probabilities, not features
    texts = np.array(["a b", "c d", "e f"], dtype=object)
    with pytest.raises(DataError, match=r"^the first dataset holds a table and the second text; both must be"):
        domain_distance(Dataset(X=X, y=None, modality="table"), Dataset(X=texts, y=None, modality="text"),
                        backbone="identity", cache=False)
