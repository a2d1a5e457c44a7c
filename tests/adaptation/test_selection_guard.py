"""TrAdaBoost, the scorers' maths, the auto choice's guard, the negative-transfer guard, dataset checks."""

from __future__ import annotations

import numpy as np
import pytest

from transferkit.adaptation import (
    MethodScores,
    TrAdaBoostClassifier,
    check_adaptation_data,
    choose_method,
    dev_risk,
    importance_weighted_accuracy,
    negative_transfer_guard,
    prediction_entropy,
    stack_domains,
    unsupervised_guard,
)
from transferkit.data import Dataset
from transferkit.errors import DataError

# --- TrAdaBoost -------------------------------------------------------------------------------------------------


def concept_shift(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Half the source agrees with the target's rule (x0 > 0), half follows another rule (x1 > 0): a
    learner on all source rows is misled; the few target labels tell which source rows to trust."""
    rng = np.random.default_rng(seed)
    Xs = rng.normal(size=(300, 2))
    ys = np.where(np.arange(300) < 150, Xs[:, 0] > 0, Xs[:, 1] > 0).astype(int)
    Xt = rng.normal(size=(200, 2))
    yt = (Xt[:, 0] > 0).astype(int)
    X = np.vstack([Xs, Xt])
    y = np.r_[ys, -np.ones(200, dtype=int)]
    y[300:320] = yt[:20]  # 20 labelled target rows
    dom = np.r_[np.ones(300, dtype=int), -np.ones(200, dtype=int)]
    return X, y, dom, Xt[20:], yt[20:]


def test_tradaboost_beats_source_only_under_concept_shift() -> None:
    from sklearn.linear_model import LogisticRegression

    X, y, dom, Xt_eval, yt_eval = concept_shift()
    labelled = y >= 0
    pooled = LogisticRegression().fit(X[labelled], y[labelled])  # source + the few target labels, unweighted
    boost = TrAdaBoostClassifier(n_estimators=20).fit(X, y, sample_domain=dom)
    acc_pooled = np.mean(pooled.predict(Xt_eval) == yt_eval)
    acc_boost = np.mean(boost.predict(Xt_eval) == yt_eval)
    assert acc_boost > acc_pooled + 0.05
    assert len(boost.estimators_) == 11 and np.all(boost.estimator_weights_ > 0)  # rounds ceil(N/2)..N
    assert np.allclose(boost.predict_proba(Xt_eval).sum(axis=1), 1)


def test_tradaboost_bad_input() -> None:
    X, y, dom, _, _ = concept_shift()
    y_masked = y.copy()
    y_masked[dom < 0] = -1
    with pytest.raises(DataError, match="labelled target rows"):
        TrAdaBoostClassifier().fit(X, y_masked, sample_domain=dom)
    with pytest.raises(DataError, match="n_estimators"):
        TrAdaBoostClassifier(n_estimators=0).fit(X, y, sample_domain=dom)
    from sklearn.neighbors import KNeighborsClassifier

    with pytest.raises(DataError, match="sample_weight"):
        TrAdaBoostClassifier(KNeighborsClassifier()).fit(X, y, sample_domain=dom)


# --- scorer maths ---------------------------------------------------------------------------------------------


def test_importance_weighted_accuracy_and_dev_reference_values() -> None:
    assert importance_weighted_accuracy([1, 1, 0, 0], [3, 1, 1, 1]) == pytest.approx(4 / 6)
    rng = np.random.default_rng(0)
    losses, w = rng.random(200), rng.random(200) * 2
    # the control variate removes the part of the weighted loss that moves with w (reference: You et al. eq. 8)
    weighted = w * losses
    eta = -np.cov(weighted, w)[0, 1] / np.var(w, ddof=1)
    assert dev_risk(losses, w) == pytest.approx(weighted.mean() + eta * w.mean() - eta)
    assert dev_risk(losses, np.ones(200)) == pytest.approx(losses.mean())


def test_prediction_entropy_bounds() -> None:
    assert prediction_entropy([[1.0, 0.0, 0.0]]) == pytest.approx(0.0, abs=1e-9)
    assert prediction_entropy([[1 / 3] * 3]) == pytest.approx(np.log(3))


def _scores(base: np.ndarray, other: np.ndarray) -> MethodScores:
    ms = MethodScores()
    for name, correct in (("source-only", base), ("coral", other)):
        terms = np.column_stack([correct.astype(float), np.ones(len(correct))])
        ms.terms[name] = {"iwv": terms}
        ms.scores[name] = {"iwv": float(correct.mean())}
    return ms


def test_auto_choice_needs_a_sure_improvement() -> None:
    rng = np.random.default_rng(0)
    base = rng.random(300) < 0.6
    clearly = base | (rng.random(300) < 0.5)  # much better on the same rows
    barely = base.copy()
    barely[np.flatnonzero(~base)[:2]] = True  # 2 rows better out of 300: noise
    assert choose_method(_scores(base, clearly), by="iwv") == "coral"
    assert choose_method(_scores(base, barely), by="iwv") == "source-only"
    with pytest.raises(DataError, match="selection score"):
        choose_method(_scores(base, clearly), by="accuracy")


# --- the negative-transfer guard ------------------------------------------------------------------------------


def test_guard_says_when_adaptation_hurt() -> None:
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, 400)
    base = np.where(rng.random(400) < 0.7, y, (y + 1) % 3)
    worse = np.where(rng.random(400) < 0.4, y, (y + 1) % 3)
    same = base.copy()
    better = np.where(rng.random(400) < 0.95, y, (y + 2) % 3)
    verdicts = {v.method: v for v in negative_transfer_guard(y, {"source-only": base, "worse": worse, "same": same,
                                                                   "better": better})}
    assert verdicts["worse"].hurt and verdicts["worse"].gain_high < 0
    assert verdicts["same"].verdict == "no clear difference"
    assert verdicts["better"].verdict == "helped"
    assert verdicts["source-only"].value_low <= verdicts["source-only"].value <= verdicts["source-only"].value_high
    assert "hurt" in verdicts["worse"].message()
    with pytest.raises(DataError, match="source-only"):
        negative_transfer_guard(y, {"worse": worse})
    with pytest.raises(DataError, match="predictions"):
        negative_transfer_guard(y, {"source-only": base, "short": base[:10]})


def test_unsupervised_guard_marks_estimates() -> None:
    verdicts = unsupervised_guard({"source-only": {"dev": -1.0}, "a": {"dev": -2.0}, "b": {"dev": -0.5}})
    assert [v.verdict for v in verdicts] == ["baseline", "hurt (estimated)", "helped (estimated)"]
    assert verdicts[1].hurt and verdicts[1].gain_low is None


# --- datasets checked against each other ------------------------------------------------------------------------


def _table(n: int, width: int, labels: list[str] | None) -> Dataset:
    y = None if labels is None else np.resize(np.asarray(labels, dtype=object), n)
    return Dataset(X=np.zeros((n, width)), y=y, modality="table", source=f"table {width}")


def test_check_adaptation_data_names_the_problem() -> None:
    src = _table(6, 3, ["a", "b"])
    check_adaptation_data(src, _table(4, 3, None))
    with pytest.raises(DataError, match="3 feature columns but the target has 4"):
        check_adaptation_data(src, _table(4, 4, None))
    with pytest.raises(DataError, match="target set is empty"):
        check_adaptation_data(src, Dataset(X=np.zeros((0, 3)), y=None, modality="table"))
    texts = Dataset(X=np.array(["x", "y"], dtype=object), y=None, modality="text")
    with pytest.raises(DataError, match="table data but the target holds text"):
        check_adaptation_data(src, texts)
    with pytest.raises(DataError, match="the target has labels that are no source class: 'c'"):
        check_adaptation_data(src, _table(4, 3, ["a", "c"]))
    with pytest.raises(DataError, match="labelled target examples have labels that are no source class"):
        check_adaptation_data(src, _table(4, 3, None), target_labels=_table(2, 3, ["z"]))
    with pytest.raises(DataError, match="no labels"):
        check_adaptation_data(_table(4, 3, None), _table(4, 3, None))
    with pytest.raises(DataError, match="single class"):
        check_adaptation_data(_table(4, 3, ["a"]), _table(4, 3, None))


def test_stack_domains_masks_target_labels_and_keeps_few() -> None:
    X, y, dom = stack_domains(_table(4, 3, ["a", "b"]), _table(3, 3, ["a", "b"]), target_labels=_table(2, 3, ["b"]))
    assert X.shape == (9, 3) and dom.tolist() == [1] * 4 + [-1] * 5
    assert y[:6].tolist() == ["a", "b", "a", "b", "b", "b"] and all(v is None for v in y[6:])
    images = Dataset(X=np.zeros((2, 8, 8), dtype=np.uint8), y=np.array([0, 1]), modality="image")
    other = Dataset(X=[np.zeros((5, 5), dtype=np.uint8)], y=None, modality="image")
    Xi, _, _ = stack_domains(images, other)
    assert Xi.dtype == object and Xi[0].shape == (8, 8) and Xi[2].shape == (5, 5)


def test_the_published_dev_scorer_keeps_its_control_variate() -> None:
    """dev-cv: raw density ratios, so DEV's control variate acts (You et al.'s reference uses p_t/p_s * n_s/n_t
    as is). The default dev rescales them to mean 1, where the control variate is 0 and the risk is the
    self-normalised importance-weighted loss."""
    from sklearn.linear_model import LogisticRegression

    from transferkit.adaptation import SCORERS, DEVScorer, PublishedDEVScorer, discriminator_weights

    rng = np.random.default_rng(3)
    Xs, Xt = rng.normal(size=(200, 3)), rng.normal(size=(150, 3)) + [0.8, 0.0, 0.0]
    ys = (Xs[:, 0] + 0.5 * rng.normal(size=200) > 0).astype(int)
    model = LogisticRegression().fit(Xs, ys)
    model.domain_features = lambda X: np.asarray(X)  # type: ignore[attr-defined]
    X, dom = np.vstack([Xs, Xt]), np.r_[np.ones(200, dtype=int), -np.ones(150, dtype=int)]
    y = np.r_[ys, -np.ones(150, dtype=int)]
    assert SCORERS["dev-cv"] is PublishedDEVScorer and SCORERS["dev"] is DEVScorer
    terms = PublishedDEVScorer().terms(model, X, y, dom)
    losses, w = terms[:, 0], terms[:, 1]
    np.testing.assert_allclose(w, discriminator_weights(Xs, Xt, normalize=False))
    assert abs(w.mean() - 1.0) > 1e-3, "raw ratios: mean 1 only in expectation"
    assert PublishedDEVScorer.aggregate(terms) == pytest.approx(-dev_risk(losses, w))
    assert abs(dev_risk(losses, w) - float(np.mean(w * losses))) > 1e-4, "the control variate moves the estimate"
    default = DEVScorer().terms(model, X, y, dom)
    np.testing.assert_allclose(default[:, 1], w / w.mean())
    self_normalised = float(np.sum(w * losses) / np.sum(w))
    assert DEVScorer.aggregate(default) == pytest.approx(-self_normalised)
    assert repr(PublishedDEVScorer()) == "PublishedDEVScorer(control_variate=True)"


def test_a_target_not_evaluated_on_keeps_no_labels_to_check() -> None:
    """evaluate=False drops the target's labels at once: labels that are no source class (batch names) are
    then no error; evaluated on, they are, with the way out named."""
    from transferkit.adaptation._workflow import run_adaptation

    rng = np.random.default_rng(0)
    src = Dataset(X=rng.normal(size=(40, 3)), y=np.repeat(["a", "b"], 20).astype(object), modality="table")
    tgt = Dataset(X=rng.normal(size=(20, 3)) + 0.5, y=np.repeat(["batch0", "batch1"], 10).astype(object),
                  modality="table")
    with pytest.raises(DataError, match=r"no source class: 'batch0'.*--no-eval-labels; evaluate=False in Python"):
        run_adaptation(src, tgt, methods=["coral"], backbone="identity", cache=False)
    run = run_adaptation(src, tgt, methods=["coral"], backbone="identity", cache=False, evaluate=False)
    assert not run.evaluated and len(run.predictions["coral"]) == 20
