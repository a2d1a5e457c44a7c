"""The no-transfer baselines and ``evaluate`` under ``sklearn.set_config(transform_output="pandas")`` (QA API
report, defect 5): transferkit's own pipelines give what they give with the default output."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import sklearn
from sklearn.base import clone
from tests.helpers import blobs, polarity_texts, stripe_images

from transferkit import TransferClassifier, evaluate
from transferkit.evaluation import make_baseline

DATA: dict[str, Any] = {"text": polarity_texts, "image": lambda: stripe_images(n_per_class=6), "table": blobs}


@pytest.mark.parametrize("modality", list(DATA))
def test_each_baseline_ignores_a_global_pandas_output(modality: str) -> None:
    X, y = DATA[modality]()
    expected = make_baseline(modality).fit(X, y).predict_proba(X)
    with sklearn.config_context(transform_output="pandas"):
        fresh = make_baseline(modality).fit(X, y).predict_proba(X)
        cloned = clone(make_baseline(modality)).fit(X, y).predict_proba(X)  # as cross-validation fits it
    np.testing.assert_allclose(fresh, expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(cloned, expected, rtol=0, atol=1e-12)


def test_evaluate_on_texts_under_a_global_pandas_output() -> None:
    X, y = polarity_texts(n_per_class=9)

    def run() -> Any:
        return evaluate({"probe": TransferClassifier(backbone="tiny-text", cache=False)}, X, y, cv=3)

    expected = run()
    with sklearn.config_context(transform_output="pandas"):
        got = run()
    def scores(result: Any) -> list[dict[str, Any]]:
        return [{k: v for k, v in row.items() if not k.endswith("_seconds")} for row in result.table()]

    assert len(got.table()) == 2  # the model and the TF-IDF baseline
    assert scores(got) == scores(expected)
