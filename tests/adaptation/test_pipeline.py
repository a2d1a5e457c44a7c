from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.neighbors import KNeighborsClassifier
from sklearn.svm import SVC

from transferkit.adaptation import (
    CORALAdapter,
    DAPipeline,
    DiscriminatorReweighter,
    KLIEPReweighter,
    KMMReweighter,
    ReweightedClassifier,
    SubspaceAlignmentAdapter,
    make_da_pipeline,
)
from transferkit.errors import DataError

Problem = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _convention(Xs: np.ndarray, ys: np.ndarray, Xt: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stack into ``X, y, sample_domain`` with the target labels masked."""
    X = np.vstack([Xs, Xt])
    y = np.r_[ys, -np.ones(len(Xt), dtype=int)]
    sd = np.r_[np.ones(len(Xs), dtype=int), -np.ones(len(Xt), dtype=int)]
    return X, y, sd


def scale_shift(seed: int) -> Problem:
    """Target = source latent points stretched 4x on one axis and squeezed 4x on the other.

    The labelling rule x1 + x2 > 0 holds in latent space, so on the target it reads x1/4 + 4 x2 > 0: a
    source-only linear classifier has the wrong boundary, while CORAL stretches the source the same way.
    """
    rng = np.random.default_rng(seed)
    Zs, Zt = rng.normal(size=(200, 2)), rng.normal(size=(200, 2))
    label = lambda Z: (Z.sum(axis=1) > 0).astype(int)  # noqa: E731
    return Zs, label(Zs), Zt * [4.0, 0.25], label(Zt)


def covariate_shift(seed: int) -> Problem:
    """A curved boundary x2 > x1^2 / 2 and a target concentrated where a global line fits it badly.

    ``p(y | x)`` is the same in both domains; only the inputs move. A linear model fitted to the whole
    source tilts the wrong way around x1 = 1.5, whereas source points reweighted towards the target fit
    the local slope.
    """
    rng = np.random.default_rng(seed)
    Xs = rng.normal(0.0, 1.0, size=(200, 2))
    Xt = rng.normal([1.5, 1.0], [0.35, 0.5], size=(150, 2))
    label = lambda X: (X[:, 1] > 0.5 * X[:, 0] ** 2).astype(int)  # noqa: E731
    return Xs, label(Xs), Xt, label(Xt)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_coral_pipeline_beats_source_only_under_a_scale_shift(seed: int) -> None:
    Xs, ys, Xt, yt = scale_shift(seed)
    source_only = LogisticRegression().fit(Xs, ys).score(Xt, yt)
    pipe = make_da_pipeline(CORALAdapter(eps=1e-3), LogisticRegression())
    X, y, sd = _convention(Xs, ys, Xt)
    adapted = pipe.fit(X, y, sample_domain=sd).score(Xt, yt)
    assert adapted >= source_only + 0.08 and adapted > 0.85


@pytest.mark.parametrize(
    "reweighter",
    [KMMReweighter(), KLIEPReweighter(), DiscriminatorReweighter()],
    ids=lambda r: type(r).__name__,
)
def test_reweighting_beats_source_only_under_covariate_shift(reweighter: Any) -> None:
    Xs, ys, Xt, yt = covariate_shift(0)
    X, y, sd = _convention(Xs, ys, Xt)
    source_only = LogisticRegression().fit(Xs, ys).score(Xt, yt)
    clf = ReweightedClassifier(reweighter, LogisticRegression()).fit(X, y, sample_domain=sd)
    assert clf.score(Xt, yt) >= source_only + 0.15
    # The same adapter in a DAPipeline passes the weights on as sample_weight: identical model.
    pipe = DAPipeline(reweighter, LogisticRegression()).fit(X, y, sample_domain=sd)
    np.testing.assert_allclose(pipe.predict_proba(Xt), clf.predict_proba(Xt))


def test_target_labels_are_never_used_for_training() -> None:
    Xs, ys, Xt, yt = scale_shift(0)
    X, y_masked, sd = _convention(Xs, ys, Xt)
    y_revealed = np.r_[ys, 1 - yt]  # deliberately wrong target labels: must change nothing
    for model in (DAPipeline(CORALAdapter()), ReweightedClassifier(KLIEPReweighter(n_centers=20))):
        a = model.fit(X, y_masked, sample_domain=sd).predict_proba(Xt)
        b = model.fit(X, y_revealed, sample_domain=sd).predict_proba(Xt)
        np.testing.assert_array_equal(a, b)


def test_pipeline_delegates_prediction_api_and_classes() -> None:
    Xs, ys, Xt, _ = scale_shift(0)
    X, y, sd = _convention(Xs, ys, Xt)
    pipe = DAPipeline(SubspaceAlignmentAdapter(n_components=2), LogisticRegression()).fit(
        X, y, sample_domain=sd
    )
    assert pipe.classes_.tolist() == [0, 1]
    assert pipe.predict_proba(Xt).shape == (200, 2) and pipe.decision_function(Xt).shape == (200,)
    # Source rows can be mapped with the source map when their domain is given.
    np.testing.assert_array_equal(
        pipe.predict(Xs, sample_domain=np.ones(200)),
        pipe.estimator_.predict(pipe.adapter_.transform(Xs, sample_domain=np.ones(200))),
    )
    svc = DAPipeline(CORALAdapter(), SVC()).fit(X, y, sample_domain=sd)
    assert not hasattr(svc, "predict_proba") and hasattr(svc, "decision_function")


def test_pipeline_with_a_regressor_accepts_nan_masked_targets() -> None:
    rng = np.random.default_rng(0)
    Xs, Xt = rng.normal(size=(60, 2)), rng.normal(1.0, 1.0, size=(40, 2))
    X = np.vstack([Xs, Xt])
    y = np.r_[Xs @ [1.0, -2.0], np.full(40, np.nan)]
    sd = np.r_[np.ones(60), -np.ones(40)]
    pipe = DAPipeline(KMMReweighter(), Ridge(alpha=1e-6)).fit(X, y, sample_domain=sd)
    assert pipe.score(Xt, Xt @ [1.0, -2.0]) > 0.999


def test_meta_estimators_reject_bad_input() -> None:
    Xs, ys, Xt, _ = scale_shift(0)
    X, y, sd = _convention(Xs, ys, Xt)
    with pytest.raises(DataError, match="KNeighborsClassifier.fit does not accept sample_weight"):
        ReweightedClassifier(DiscriminatorReweighter(), KNeighborsClassifier()).fit(X, y, sample_domain=sd)
    with pytest.raises(DataError, match="KNeighborsClassifier.fit does not accept sample_weight"):
        DAPipeline(KMMReweighter(), KNeighborsClassifier()).fit(X, y, sample_domain=sd)
    with pytest.raises(DataError, match="reweighter must be a transferkit reweighter"):
        ReweightedClassifier(CORALAdapter()).fit(X, y, sample_domain=sd)
    y_unknown = y.copy()
    y_unknown[-1] = 5
    for model in (DAPipeline(), ReweightedClassifier()):
        with pytest.raises(DataError, match="target labels 5 do not occur in the source labels"):
            model.fit(X, y_unknown, sample_domain=sd)
        with pytest.raises(DataError, match="no target rows"):
            model.fit(X, y, sample_domain=np.ones(len(X)))
        with pytest.raises(DataError, match="y is required"):
            model.fit(X, None, sample_domain=sd)
        fitted = model.fit(X, y, sample_domain=sd)
        with pytest.raises(DataError, match="X has 3 features but the model was fitted on 2"):
            fitted.predict(np.c_[Xt, Xt[:, :1]])


def test_tags_declare_the_transform_so_scikit_learn_checks_can_run() -> None:
    """``check_estimator`` refuses an estimator with ``transform`` but no transformer tags."""
    from sklearn.utils import get_tags

    from transferkit.adaptation import DAPipeline

    tags = get_tags(DAPipeline())
    assert tags.transformer_tags is not None and tags.transformer_tags.preserves_dtype == ["float64"]
    assert tags.estimator_type == "classifier"
