"""TransferEnsemble under ``sklearn.set_config(transform_output="pandas")`` (QA API report, defects 4 and 5):
the ensemble's own scikit-learn objects and the text baseline give what they give with the default output."""

from __future__ import annotations

import numpy as np
import pytest
import sklearn
from tests.helpers import polarity_texts

from transferkit import load_model
from transferkit.ensembles import TransferEnsemble


def table() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 5))
    y = np.repeat(["a", "b", "c"], 20)
    X[y == "b"] += 1.5
    return X, y


@pytest.mark.parametrize("method", ["stacking", "voting"])
def test_a_global_pandas_output_changes_no_table_ensemble(method: str) -> None:
    X, y = table()

    def fitted() -> TransferEnsemble:
        return TransferEnsemble(members=["tiny-mlp:linear", "baseline"], method=method, cv=3, cache=False).fit(X, y)

    expected = fitted().predict_proba(X[:7])
    with sklearn.config_context(transform_output="pandas"):
        ens = fitted()
        got = ens.predict_proba(X[:7])
        predicted = ens.predict(X[:7])
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(predicted, ens.classes_[np.argmax(expected, axis=1)])


def test_a_text_ensemble_with_the_baseline_fits_under_a_global_pandas_output(tmp_path) -> None:  # type: ignore[no-untyped-def]
    X, y = polarity_texts(n_per_class=9)
    with sklearn.config_context(transform_output="pandas"):
        ens = TransferEnsemble(members=["tiny-text:linear", "baseline"], method="stacking", cv=3, cache=False).fit(X, y)
        got = ens.predict_proba(X)
        ens.save(tmp_path / "model")
        np.testing.assert_array_equal(load_model(tmp_path / "model").predict_proba(X), got)
    expected = TransferEnsemble(members=["tiny-text:linear", "baseline"], method="stacking", cv=3,
                                cache=False).fit(X, y).predict_proba(X)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9)
