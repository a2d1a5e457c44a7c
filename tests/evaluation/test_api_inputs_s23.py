"""evaluate() as a scikit-learn user calls it: pandas input taken by position, models checked, the
baseline's modality from the data, and the held-out test set checked before anything is fitted."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from tests.helpers import blobs, polarity_texts

from transferkit import TransferClassifier, evaluate
from transferkit.errors import DataError
from transferkit.evaluation._evaluate import BASELINE


def _accuracies(result) -> dict[str, float]:  # type: ignore[no-untyped-def]
    return {row["model"]: row["accuracy"] for row in result.table()}


def test_a_shuffled_text_series_is_split_by_position_not_by_index_label() -> None:
    """Row i of a shuffled Series was taken by its index label: texts and labels no longer matched."""
    X, y = polarity_texts(10)
    frame = pd.DataFrame({"text": X, "label": y}).sample(frac=1, random_state=0)
    model = {"tfidf": make_pipeline(TfidfVectorizer(), LogisticRegression())}
    by_series = _accuracies(evaluate(model, frame.text, frame.label, cv=3))
    by_array = _accuracies(evaluate(model, frame.text.to_numpy(), frame.label.to_numpy(), cv=3))
    assert by_series == by_array and by_series["tfidf"] > 0.9


@pytest.mark.parametrize("columns", [None, ["a", "b", "c", "d", "e", "f"]])
def test_a_dataframe_table_is_split_by_row_position(columns: list[str] | None) -> None:
    """Integer column names were taken as rows (wrong scores); named columns were a KeyError."""
    X, y = blobs(12)
    frame = pd.DataFrame(X, columns=columns).sample(frac=1, random_state=1)
    labels = pd.Series(y, index=range(len(y))).loc[frame.index].to_numpy()
    model = {"lr": LogisticRegression()}
    assert _accuracies(evaluate(model, frame, labels, cv=3)) == _accuracies(evaluate(model, frame.to_numpy(), labels,
                                                                                     cv=3))


@pytest.mark.parametrize(("models", "message"), [
    ({BASELINE: DummyClassifier()}, r"the name 'no-transfer baseline' is the baseline's"),
    ([DummyClassifier()], r"models must be an estimator or a mapping of names to estimators .* got a list"),
    ({"p": "linear"}, r"model 'p' is 'linear', not an estimator"),
    ({}, r"no model to evaluate"),
])
def test_models_that_cannot_be_compared_are_refused(models: object, message: str) -> None:
    X, y = blobs(6)
    with pytest.raises(DataError, match=message):
        evaluate(models, X, y, cv=2)  # type: ignore[arg-type]


def test_verdict_on_an_unknown_name_lists_the_models() -> None:
    X, y = blobs(6)
    result = evaluate({"lr": LogisticRegression()}, X, y, cv=2)
    with pytest.raises(DataError, match=r"no compared model is named 'LR'; the models are: 'lr'"):
        result.verdict("LR")


def test_the_baseline_reads_the_data_when_no_model_declares_a_modality() -> None:
    """A text pipeline first got a table baseline, which failed on the strings inside scikit-learn."""
    X, y = polarity_texts(8)
    result = evaluate({"tfidf": make_pipeline(TfidfVectorizer(), LogisticRegression())}, X, y, cv=2)
    assert result.modality == "text" and BASELINE in result.models


class _NeverFit(DummyClassifier):
    def fit(self, X, y, sample_weight=None):  # type: ignore[no-untyped-def,override]
        raise AssertionError("a model was fitted before the test set was checked")


@pytest.mark.parametrize(("test", "message"), [
    (lambda X, y: (X[:10], np.r_[y[:9], [None]].astype(object)), r"the test labels are missing at index 9"),
    (lambda X, y: (X[:10], y[:12]), r"the test set has 10 rows but 12 labels"),
    (lambda X, y: (X[:10], np.c_[y[:10], y[:10]]), r"the test labels must be one column, got an array of shape \(10, 2\)"),
    (lambda X, y: (X[:0], y[:0]), r"the test set is empty"),
    (lambda X, y: (X[:4], np.array(["c0", "c0", "zz", "c0"])), r"labels that are no class of the training data: 'zz'"),
])
def test_a_bad_test_set_is_refused_before_any_fit(test, message: str) -> None:  # type: ignore[no-untyped-def]
    X, y = blobs(10)
    with pytest.raises(DataError, match=message):
        evaluate({"m": _NeverFit()}, X, y, test=test(X, y))


def test_a_one_class_test_set_is_still_scored() -> None:
    X, y = blobs(10)
    result = evaluate({"m": TransferClassifier(backbone="identity", cache=False)}, X, y, test=(X[:5], y[:5]))
    assert result.models["m"].pooled["accuracy"] == 1.0


def test_float_images_take_one_scale_for_training_and_test() -> None:
    """A held-out set of dark float images (0..255 scale, every pixel <= 1) was read as 0..1: white images."""
    from tests.helpers import stripe_images

    X, y = stripe_images(6)
    dark = np.minimum(X[:4], 1).astype(np.uint8)  # pixels 0 or 1
    model = {"tiny": TransferClassifier(backbone="tiny-cnn", cache=False)}
    as_float = evaluate(model, X.astype(np.float32), y, test=(dark.astype(np.float32), y[:4]), keep_models=True)
    as_bytes = evaluate(model, X, y, test=(dark, y[:4]), keep_models=True)
    assert _accuracies(as_float) == _accuracies(as_bytes)
    assert as_float.models["tiny"].probabilities == as_bytes.models["tiny"].probabilities  # log loss, Brier, ...


def test_a_gain_interval_never_passes_the_possible_range() -> None:
    """Two folds gave '95% CI -142.1 to +112.1' accuracy points."""
    from transferkit.evaluation._evaluate import ModelResult, _gains

    def result(accuracies: list[float]) -> ModelResult:
        r = ModelResult("m", "")
        r.folds = [{"accuracy": a, "macro_f1": a} for a in accuracies]
        return r

    y = np.array([0, 1])
    gains = _gains(result([0.9, 0.2]), result([0.3, 0.8]), y, y, y, [0, 1], seed=0)
    g = gains["accuracy"]
    assert -1.0 <= g.low <= g.mean <= g.high <= 1.0 and "clipped" in g.method
    inside = _gains(result([0.8, 0.82, 0.81]), result([0.7, 0.71, 0.72]), y, y, y, [0, 1], seed=0)["accuracy"]
    assert "clipped" not in inside.method
