"""Sample and class weights reach the linear probe's head with scikit-learn's metadata routing on, and
LP-FT's probe stage, as they reach the fine-tuning loss."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sklearn
from sklearn.base import BaseEstimator
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from tests.helpers import blobs

from transferkit import TransferClassifier, load_model
from transferkit.backbones import TransferNet
from transferkit.strategies import (
    LPFT,
    AutoStrategy,
    FitContext,
    FullFineTune,
    LinearProbe,
    probe_head_weights,
)
from transferkit.strategies._finetune import validation_split
from transferkit.strategies._probe import fit_head


def _three_classes() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The QA report's data: class "c" is easy to predict, and weight 0 on it means it never should be."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 5))
    y = np.repeat(["a", "b", "c"], 30)
    X[y == "b"] += 1.0
    X[y == "c"] -= 1.0
    return X, y, np.where(y == "c", 0.0, 1.0)


def _fit(strategy: Any, X: np.ndarray, y: np.ndarray, w: np.ndarray | None, *, routing: bool = False) -> TransferClassifier:
    with sklearn.config_context(enable_metadata_routing=routing):
        return TransferClassifier(backbone="tiny-mlp", cache=False, strategy=strategy).fit(X, y, sample_weight=w)


def _proba(strategy: Any, X: np.ndarray, y: np.ndarray, w: np.ndarray | None, *, routing: bool = False) -> np.ndarray:
    return _fit(strategy, X, y, w, routing=routing).predict_proba(X)


@pytest.mark.parametrize("head", [None, make_pipeline(StandardScaler(), CalibratedClassifierCV(LogisticRegression(), cv=2)),
                                  CalibratedClassifierCV(LogisticRegression(), cv=2)],
                         ids=["default", "pipeline-with-meta-step", "meta-head"])
def test_probe_weights_are_the_same_with_metadata_routing_on(head: Any, tmp_path: Path) -> None:
    """With routing on, Pipeline.fit refused the `step__sample_weight` keywords the probe routed weights with."""
    X, y, w = _three_classes()
    off = _proba(LinearProbe(head=head), X, y, w)
    fitted = _fit(LinearProbe(head=head), X, y, w, routing=True)
    np.testing.assert_array_equal(fitted.predict_proba(X), off)
    unweighted = _proba(LinearProbe(head=head), X, y, None)
    assert np.abs(off - unweighted).max() > 0.1  # the weights act: no test passes when they are dropped
    # the fit requests were set only while fitting: a head that keeps them cannot be saved (skops recursion)
    estimators = [fitted.model_.head, *fitted.model_.head.get_params(deep=True).values()]
    assert not any(hasattr(e, "_metadata_request") for e in estimators if isinstance(e, BaseEstimator))
    np.testing.assert_array_equal(load_model(fitted.save(tmp_path / "m")).predict_proba(X), off)


def test_requests_a_head_had_are_given_back() -> None:
    scaler = StandardScaler()
    with sklearn.config_context(enable_metadata_routing=True):
        head = make_pipeline(scaler.set_fit_request(sample_weight=False), LogisticRegression())
        X, y, w = _three_classes()
        fit_head(head, X, y, w)
        assert scaler.get_metadata_routing().fit.requests["sample_weight"] is False
        assert not hasattr(head.steps[1][1], "_metadata_request")


def test_every_step_that_takes_weights_gets_them_with_routing_on() -> None:
    """A weighted scaler too: weight 2 on a row means the same as the row twice, routing on or off."""
    X, y = blobs(10, n_features=3)
    w = np.r_[np.full(5, 2.0), np.ones(len(y) - 5)]
    doubled = _proba(LinearProbe(), np.r_[X[:5], X], np.r_[y[:5], y], None)[5:]
    np.testing.assert_allclose(_proba(LinearProbe(), X, y, w, routing=True), doubled, atol=1e-4)


def test_the_auto_strategy_fits_weighted_with_metadata_routing_on() -> None:
    X, y, w = _three_classes()
    with sklearn.config_context(enable_metadata_routing=True):
        clf = TransferClassifier(backbone="tiny-mlp", cache=False, strategy=AutoStrategy(epochs=1, fallback=False))
        clf.fit(X, y, sample_weight=w)
    assert clf.fit_info_["auto"]["choice"]


def test_lpft_probe_stage_uses_the_sample_weights_like_the_linear_probe() -> None:
    """LP-FT's probe ignored sample_weight: weight 0 on class "c" still gave 33 of 90 predictions "c"."""
    X, y, w = _three_classes()
    for strategy in (LinearProbe(), LPFT(epochs=1)):
        plain = TransferClassifier(backbone="tiny-mlp", cache=False, strategy=strategy).fit(X, y)
        weighted = TransferClassifier(backbone="tiny-mlp", cache=False, strategy=strategy).fit(X, y, sample_weight=w)
        assert (plain.predict(X) == "c").sum() > 20
        assert (weighted.predict(X) == "c").sum() == 0, type(strategy).__name__


def test_lpft_probe_stage_uses_balanced_class_weights() -> None:
    rng = np.random.default_rng(0)
    y = np.r_[np.repeat("a", 90), np.repeat("b", 10)]
    X = rng.normal(size=(100, 5))
    X[y == "b"] += 0.8

    def mean_p_rare(class_weight: str | None) -> float:
        # with a learning rate of ~0 the fitted network is the probe itself
        strategy = LPFT(epochs=1, lr=1e-12, head_lr=1e-12, class_weight=class_weight)
        clf = TransferClassifier(backbone="tiny-mlp", cache=False, strategy=strategy).fit(X, y)
        return float(clf.predict_proba(X)[:, 1].mean())

    plain, balanced = mean_p_rare(None), mean_p_rare("balanced")
    assert plain == pytest.approx(0.1, abs=0.03) and balanced > plain + 0.1, (plain, balanced)


def test_probe_head_weights_treat_a_weight_of_two_as_a_duplicated_row() -> None:
    X, y = blobs(12, n_features=4, n_classes=3, seed=2)
    X = X * np.arange(1, 5) + 2
    y_enc = np.unique(y, return_inverse=True)[1]
    w = np.ones(len(y))
    w[:6] = 2.0
    weighted = probe_head_weights(X, y_enc, 3, C=0.5, seed=0, sample_weight=w)
    doubled = probe_head_weights(np.r_[X[:6], X], np.r_[y_enc[:6], y_enc], 3, C=0.5, seed=0)

    def proba(wb: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        logits = X @ wb[0].T + wb[1]
        e = np.exp(logits - logits.max(1, keepdims=True))
        return e / e.sum(1, keepdims=True)

    np.testing.assert_allclose(proba(weighted), proba(doubled), atol=1e-4)
    assert np.abs(proba(weighted) - proba(probe_head_weights(X, y_enc, 3, C=0.5, seed=0))).max() > 1e-3


def test_warm_start_gets_the_loss_weights_of_the_training_split() -> None:
    seen: dict[str, Any] = {}

    class Spy(FullFineTune):
        def warm_start(self, net: TransferNet, ctx: FitContext, X: Any, y: np.ndarray,
                       sample_weight: np.ndarray | None = None) -> None:
            seen["y"], seen["w"] = y, sample_weight

    X, y = blobs(10, n_features=3)
    sw = np.linspace(0.5, 2.0, len(y))
    y_enc = np.unique(y, return_inverse=True)[1]
    train, _ = validation_split(y_enc, 0.2, 0)
    for class_weight in (None, "balanced"):
        spy = Spy(epochs=1, val_fraction=0.2, min_val_size=0, class_weight=class_weight)
        TransferClassifier(backbone="tiny-mlp", cache=False, random_state=0, strategy=spy).fit(X, y, sample_weight=sw)
        expected = spy.sample_weights(y_enc, sw)
        assert expected is not None
        np.testing.assert_array_equal(seen["y"], y_enc[train])
        np.testing.assert_array_equal(seen["w"], expected[train])
    TransferClassifier(backbone="tiny-mlp", cache=False, strategy=Spy(epochs=1)).fit(X, y)
    assert seen["w"] is None


def test_auto_falling_back_to_the_baseline_keeps_the_weights() -> None:
    """The auto strategy's no-transfer baseline was fitted without sample_weight: a fallback dropped the weights."""
    from transferkit import AutoStrategy

    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 5))
    y = np.repeat(["a", "b", "c"], 30)
    X[y == "b"] += 1.0
    X[y == "c"] -= 1.0
    w = np.where(y == "c", 0.0, 1.0)
    fits = [TransferClassifier(backbone="tiny-mlp", strategy=AutoStrategy(max_finetune=0), cache=False)
            .fit(X, y, sample_weight=weights) for weights in (None, w)]
    assert [f.fit_info_["auto"]["choice"] for f in fits] == ["no-transfer baseline"] * 2  # random features lose
    assert (fits[0].predict(X) == "c").sum() > 20 and (fits[1].predict(X) == "c").sum() == 0
