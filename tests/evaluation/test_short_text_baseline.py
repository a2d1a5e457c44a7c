"""The TF-IDF baseline works on texts of 1-character words or punctuation ("empty vocabulary" crashed
fit and evaluate)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, make_pipeline
from sklearn.preprocessing import FunctionTransformer
from tests.helpers import polarity_texts

from transferkit import LinearProbe, TransferClassifier
from transferkit.evaluation import evaluate, make_baseline
from transferkit.evaluation._baselines import _as_text


@pytest.mark.parametrize("texts", [["a b", "x y"], ["!!", "??"], ["a", "b"], ["你", "好"]])
def test_baseline_fits_texts_without_words_of_two_characters(texts: list[str]) -> None:
    X = np.array(texts * 10, dtype=object)
    y = np.array(["pos", "neg"] * 10)
    base = make_baseline("text").fit(X, y)
    assert base.predict_proba(X).shape == (20, 2)
    assert base.score(X, y) == 1.0  # the character n-grams still tell the two texts apart


def test_baseline_with_no_usable_text_at_all_falls_back_to_the_prior() -> None:
    X = np.array([" ", "  "] * 10, dtype=object)
    y = np.array(["pos", "neg"] * 10)
    proba = make_baseline("text").fit(X, y).predict_proba(X)
    np.testing.assert_allclose(proba, 0.5, atol=1e-6)


def test_baseline_is_unchanged_on_ordinary_text() -> None:
    X, y = polarity_texts(12)
    before = make_pipeline(FunctionTransformer(_as_text), FeatureUnion([
        ("words", TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True)),
        ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), min_df=1, sublinear_tf=True)),
    ]), LogisticRegression(C=1.0, max_iter=2000, random_state=0)).fit(X, y)
    after = make_baseline("text").fit(X, y)
    np.testing.assert_allclose(after.predict_proba(X), before.predict_proba(X), atol=1e-12)


def test_evaluate_on_one_character_tokens() -> None:
    X = np.array(["a b", "x y"] * 10, dtype=object)
    y = np.array(["pos", "neg"] * 10)
    result = evaluate({"probe": TransferClassifier(backbone="tiny-text", strategy=LinearProbe(), cache=False)},
                      X, y, cv=2)
    assert result.baseline.pooled["accuracy"] == 1.0
