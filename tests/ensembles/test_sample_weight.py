"""Sample weights through an ensemble: every member and stacking's combiner get them; a member that cannot
take them is named before anything is fitted."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier

from transferkit.ensembles import EnsembleError, TransferEnsemble
from transferkit.errors import DataError


def _overlapping(n: int = 30, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two classes that overlap, so that weights move every member's probabilities."""
    r = np.random.default_rng(seed)
    X = np.concatenate([r.normal(0.0, 1.0, (n, 4)), r.normal(0.8, 1.0, (n, 4))])
    return X, np.repeat(["a", "b"], n)


class _Recorder(ClassifierMixin, BaseEstimator):
    """A logistic regression that keeps the weights it was fitted with (in a class-level log: the ensemble
    fits clones)."""

    seen: list[np.ndarray | None] = []

    def fit(self, X, y, sample_weight=None):  # type: ignore[no-untyped-def]
        type(self).seen.append(None if sample_weight is None else np.asarray(sample_weight))
        self.model_ = LogisticRegression().fit(X, y, sample_weight=sample_weight)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):  # type: ignore[no-untyped-def]
        return self.model_.predict_proba(X)

    def predict(self, X):  # type: ignore[no-untyped-def]
        return self.model_.predict(X)


def test_a_weight_of_two_counts_as_a_duplicated_row_for_every_member_of_a_vote() -> None:
    X, y = _overlapping()
    w = np.ones(len(y))
    w[::3] = 2.0
    dup = np.r_[np.arange(len(y)), np.arange(len(y))[::3]]
    members = ["tiny-mlp:linear", "baseline"]
    weighted = TransferEnsemble(members=members, method="voting", cache=False).fit(X, y, sample_weight=w)
    duplicated = TransferEnsemble(members=members, method="voting", cache=False).fit(X[dup], y[dup])
    plain = TransferEnsemble(members=members, method="voting", cache=False).fit(X, y)
    np.testing.assert_allclose(weighted.predict_proba(X), duplicated.predict_proba(X), atol=1e-4)
    assert np.abs(weighted.predict_proba(X) - plain.predict_proba(X)).max() > 1e-3  # the weights did something
    for name, member in weighted.ensemble_.named_estimators_.items():  # each member on its own, too
        twin = duplicated.ensemble_.named_estimators_[name]
        np.testing.assert_allclose(member.predict_proba(X), twin.predict_proba(X), atol=1e-4)


@pytest.mark.parametrize("method", ["voting", "stacking", "bagging", "boosting"])
def test_every_method_passes_the_weights_on(method: str) -> None:
    X, y = _overlapping()
    w = np.linspace(0.5, 2.0, len(y))
    _Recorder.seen = []
    ens = TransferEnsemble(members=["tiny-mlp:linear", ("recorder", _Recorder())], method=method, cv=2,
                           n_estimators=2, cache=False).fit(X, y, sample_weight=w)
    assert ens.predict_proba(X).shape == (len(y), 2)
    if method in ("voting", "stacking"):  # bagging and boosting swap the recorder for their own head
        assert _Recorder.seen and all(s is not None for s in _Recorder.seen)
        full = [s for s in _Recorder.seen if len(s) == len(y)]  # stacking also fits it on each inner fold
        np.testing.assert_array_equal(full[-1], w)
    if method == "stacking":
        assert len(_Recorder.seen) == 3  # 2 inner folds + the refit on every row, each weighted
        unweighted = TransferEnsemble(members=["tiny-mlp:linear", ("recorder", _Recorder())], method=method, cv=2,
                                      cache=False).fit(X, y)
        assert not np.allclose(unweighted.ensemble_.final_estimator_.coef_, ens.ensemble_.final_estimator_.coef_)


def test_a_member_or_combiner_that_cannot_take_weights_is_named_before_any_fit() -> None:
    X, y = _overlapping()
    w = np.ones(len(y))
    _Recorder.seen = []
    with pytest.raises(EnsembleError, match=r"ensemble member 'knn' \(KNeighborsClassifier\) cannot be fitted with "
                                            r"sample_weight"):
        TransferEnsemble(members=[("recorder", _Recorder()), ("knn", KNeighborsClassifier())], method="voting",
                         cache=False).fit(X, y, sample_weight=w)
    with pytest.raises(EnsembleError, match=r"stacking's final_estimator \(KNeighborsClassifier\) cannot be fitted"):
        TransferEnsemble(members=[("recorder", _Recorder())], method="stacking", cv=2,
                         final_estimator=KNeighborsClassifier(), modality="table", cache=False).fit(X, y, sample_weight=w)
    assert _Recorder.seen == []  # nothing was fitted
    # without weights the same members are fine
    TransferEnsemble(members=[("recorder", _Recorder()), ("knn", KNeighborsClassifier())], method="voting",
                     cache=False).fit(X, y)


@pytest.mark.parametrize(("weights", "message"), [
    (np.ones(3), r"sample_weight has shape \(3,\), expected \(60,\)"),
    (-np.ones(60), "sample_weight must be finite and non-negative"),
    (np.zeros(60), "sample_weight sums to zero"),
])
def test_bad_weights_are_refused_before_any_fit(weights: np.ndarray, message: str) -> None:
    X, y = _overlapping()
    _Recorder.seen = []
    with pytest.raises(DataError, match=message):
        TransferEnsemble(members=[("recorder", _Recorder())], method="voting", modality="table",
                         cache=False).fit(X, y, sample_weight=weights)
    assert _Recorder.seen == []
