"""Ensembles over transfer members: methods, shared features, per-member scores, named failures."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.ensemble import AdaBoostClassifier, BaggingClassifier, StackingClassifier, VotingClassifier
from sklearn.linear_model import LogisticRegression
from tests.helpers import InferenceCounter, blobs, polarity_texts, stripe_images

from transferkit.ensembles import (
    EnsembleError,
    TransferEnsemble,
    compare_ensemble,
    ensemble_report,
    split_spec,
)
from transferkit.evaluation import BASELINE


@pytest.mark.parametrize("method", ["voting", "stacking", "bagging", "boosting"])
def test_every_method_fits_text_members_and_predicts_probabilities(method: str) -> None:
    X, y = polarity_texts(10)
    ens = TransferEnsemble(members=["tiny-text:linear", "baseline"], method=method, cv=3, n_estimators=3).fit(X, y)
    proba = ens.predict_proba(X)
    assert proba.shape == (len(X), 2) and np.allclose(proba.sum(1), 1)
    assert ens.score(X, y) >= 0.9
    inner = ens.ensemble_
    assert isinstance(inner, StackingClassifier if method == "stacking" else VotingClassifier)
    probe_head = inner.named_estimators_["m0"].estimator_.model_.head
    baseline_last = inner.named_estimators_["m1"].estimator_.steps[-1][1]
    expected = {"bagging": BaggingClassifier, "boosting": AdaBoostClassifier}.get(method)
    if expected is not None:  # the head on cached features, and the baseline's classifier, are swapped
        assert isinstance(probe_head, expected) and isinstance(baseline_last, expected)
    else:
        assert isinstance(baseline_last, LogisticRegression)


def test_members_on_one_backbone_share_its_features(monkeypatch: pytest.MonkeyPatch) -> None:
    X, y = stripe_images(8, size=16)
    counter = InferenceCounter(monkeypatch)
    members = [("probe a", "tiny-cnn:linear"), ("probe b", "tiny-cnn:linear")]
    from transferkit.ensembles import member_estimator

    pairs = [(n, member_estimator(s, image_size=16)) for n, s in members]
    pairs[1][1].set_params(strategy__head=LogisticRegression(C=0.1, max_iter=500))
    TransferEnsemble(members=pairs, method="stacking", cv=3).fit(X, y)
    assert counter.items == len(X)  # 2 members x (3 stacking folds + full fit), one extraction


def test_compare_scores_members_and_ensemble_on_the_same_folds() -> None:
    X, y = stripe_images(9, size=16)
    result = compare_ensemble(X, y, members=["tiny-cnn", "baseline"], method="voting", cv=3, image_size=16)
    assert result.members == ["tiny-cnn", BASELINE] and result.ensemble == "ensemble (voting)"
    folds = {name: [sum(f["per_class"][i]["support"] for i in range(2)) for f in m.folds]
             for name, m in result.evaluation.models.items()}
    assert len(set(map(tuple, folds.values()))) == 1 and len(folds["tiny-cnn"]) == 3  # same splits for all
    v = result.versus_best()
    assert v["best_member"] in result.members and v["gain_low"] <= v["gain"] <= v["gain_high"]
    assert v["gain"] == pytest.approx(v["ensemble_accuracy"] - v["best_member_accuracy"])
    html = ensemble_report(result, title="t").render()
    assert "Ensemble vs its members" in html and "ensemble (voting)" in html


def test_a_member_that_fails_to_fit_is_named_with_its_cause() -> None:
    X, y = blobs(10)
    ens = TransferEnsemble(members=["tiny-mlp", ("broken head", LogisticRegression(C=-1.0))], method="voting",
                           cache=False)
    with pytest.raises(EnsembleError, match=r"ensemble member 'broken head' failed to fit: .*'C' parameter"):
        ens.fit(X, y)
    with pytest.raises(EnsembleError, match="ensemble member 'broken head' failed to fit"):
        clone(ens).set_params(method="stacking", cv=2).fit(X, y)


def test_a_member_without_probabilities_is_named_before_any_fit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Soft voting with an SVC member failed at predict_proba, after every fit, without naming it."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.svm import SVC

    X, y = blobs(10)
    counter = InferenceCounter(monkeypatch)
    for method in ("voting", "stacking"):
        with pytest.raises(EnsembleError, match=r"member 'svm' \(SVC\) has no predict_proba.*CalibratedClassifierCV\(SVC\(\)\)"):
            TransferEnsemble(members=["tiny-mlp", ("svm", SVC())], method=method, cv=2, cache=False).fit(X, y)
    assert counter.items == 0
    ens = TransferEnsemble(members=["tiny-mlp", ("svm", CalibratedClassifierCV(SVC(), cv=2))], method="voting",
                           cache=False)  # SVC(probability=True) is deprecated since scikit-learn 1.9
    assert ens.fit(X, y).predict_proba(X).shape == (len(y), 2)
    # bagging and boosting give the member a head with probabilities
    assert TransferEnsemble(members=[("svm", SVC())], method="boosting", n_estimators=2, modality="table",
                            cache=False).fit(X, y).predict_proba(X).shape == (len(y), 2)


def test_bad_member_specs_fail_before_any_work(monkeypatch: pytest.MonkeyPatch) -> None:
    X, y = polarity_texts(6)
    counter = InferenceCounter(monkeypatch)
    with pytest.raises(EnsembleError, match="ensemble member 'minilm-l7:linear'.*Unknown backbone"):
        TransferEnsemble(members=["minilm-l7:linear", "baseline"]).fit(X, y)
    with pytest.raises(EnsembleError, match="member 'tiny-text:bogus': unknown strategy 'bogus'; choose one of"):
        TransferEnsemble(members=["tiny-text:bogus", "baseline"]).fit(X, y)
    with pytest.raises(EnsembleError, match="member 'tiny-cnn' reads image data, but the first member, 'tiny-text', "
                                            "reads text data; every member must read the same data"):
        TransferEnsemble(members=["tiny-text", "tiny-cnn"], method="voting").fit(X, y)
    with pytest.raises(EnsembleError, match="member 'tiny-cnn' reads image data, but the data holds text data$"):
        TransferEnsemble(members=["tiny-cnn"], modality="text").fit(X, y)
    with pytest.raises(EnsembleError, match="unknown ensemble method 'blend'"):
        TransferEnsemble(members=["tiny-text"], method="blend").fit(X, y)
    with pytest.raises(EnsembleError, match="'tiny-text' is listed twice"):
        TransferEnsemble(members="tiny-text,tiny-text", method="voting").fit(X, y)
    with pytest.raises(EnsembleError, match="FullFineTune model does not have"):
        TransferEnsemble(members=["tiny-text:finetune"], method="bagging").fit(X, y)
    assert counter.items == 0


def test_spec_parsing_keeps_colons_inside_backbone_names() -> None:
    assert split_spec("minilm-l6:linear") == ("minilm-l6", "linear")
    assert split_spec("timm:resnet18") == ("timm:resnet18", "linear")
    assert split_spec("timm:resnet18:finetune") == ("timm:resnet18", "finetune")


def test_the_ensemble_is_a_clonable_estimator() -> None:
    ens = TransferEnsemble(members=["tiny-mlp:linear", "baseline"], method="stacking", cv=2)
    copy = clone(ens)
    assert copy.get_params()["members"] == ["tiny-mlp:linear", "baseline"] and not hasattr(copy, "ensemble_")


def test_table_input_is_checked_before_any_member_fits() -> None:
    """Table ensembles validate X like any scikit-learn classifier: width recorded and checked, sparse,
    empty and label-less input refused with the usual errors."""
    import scipy.sparse as sp

    from transferkit.errors import DataError
    from transferkit.estimators._classifier import check_targets

    X, y = blobs()
    ens = TransferEnsemble(members=["tiny-mlp:linear", "baseline"], method="voting", cache=False)
    with pytest.raises(TypeError, match="Sparse data was passed"):
        clone(ens).fit(sp.csr_matrix(X), y)
    with pytest.raises(ValueError, match="0 sample"):
        clone(ens).fit(np.empty((0, X.shape[1])), np.array([]))
    with pytest.raises(DataError, match="no labels: the data is empty"):
        check_targets(np.array([]), 0)
    fitted = clone(ens).fit(X, y)
    assert fitted.n_features_in_ == X.shape[1]
    with pytest.raises(ValueError, match="X has 3 features"):
        fitted.predict(X[:, :3])
    texts, yt = polarity_texts()
    text_ens = clone(ens).set_params(members=["tiny-text:linear", "baseline"])
    assert not hasattr(text_ens.fit(texts, yt), "n_features_in_")
