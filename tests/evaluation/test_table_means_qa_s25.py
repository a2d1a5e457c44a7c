"""CLI QA round s25: under cross-validation the table's scores and its gain are on one basis (means over
folds), so the gain is the difference of the scores shown next to it."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from tests.helpers import blobs

from transferkit import evaluate
from transferkit.evaluation import evaluation_report


@pytest.fixture(scope="module")
def result():  # type: ignore[no-untyped-def]
    X, y = blobs(n_per_class=10, n_features=4, n_classes=3, seed=3)  # 30 rows in 4 folds: 8, 8, 7, 7
    X = X + np.random.default_rng(1).normal(scale=2.5, size=X.shape)  # imperfect scores, unequal per fold
    return evaluate({"lr": LogisticRegression(max_iter=500)}, X, y, cv=4)


def test_the_gain_is_the_difference_of_the_shown_scores(result) -> None:  # type: ignore[no-untyped-def]
    """The table showed accuracies pooled over all out-of-fold predictions beside a gain that is the mean of
    the per-fold differences: 0.709 vs 0.605 beside +10.6 points, macro-F1 12.2 points apart beside 13.0."""
    rows = {r["model"]: r for r in result.table()}
    model, base = rows["lr"], rows["no-transfer baseline"]
    for metric in ("accuracy", "macro_f1"):
        folds = [f[metric] for f in result.models["lr"].folds]
        assert model[metric] == pytest.approx(np.mean(folds), abs=1e-12)
        assert result.gains["lr"][metric].mean == pytest.approx(model[metric] - base[metric], abs=1e-12)
    assert model["macro_f1"] != pytest.approx(result.models["lr"].pooled["macro_f1"], abs=1e-6)  # the bases differ here


def test_json_report_and_table_agree(result) -> None:  # type: ignore[no-untyped-def]
    assert result.to_dict()["table"] == result.table()
    html = evaluation_report(result, title="t").render()
    lr = next(r for r in result.table() if r["model"] == "lr")
    assert f"<td>lr</td><td>{lr['accuracy']:.4f}</td>" in html and "means over the splits" in html
    assert result.best_model().name == "lr"
