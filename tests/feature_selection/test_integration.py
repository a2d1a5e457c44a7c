"""Feature selection on real pretrained features (packaged weights and data)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from transferkit.datasets import load_chinese_sentiment, load_fashion_mnist
from transferkit.errors import DataError
from transferkit.feature_selection import ALL, compare_on_data

FAST = dict(cv=2, selector_cv=2, fractions=(0.05, 1.0), timing_rows=200, timing_repeats=2)


@pytest.mark.integration
def test_chi2_on_signed_text_embeddings_names_the_column(tmp_path: Path) -> None:
    data = load_chinese_sentiment(deduplicate=True, n_per_class=6, random_state=0)
    with pytest.raises(DataError, match=r"chi2 needs non-negative features, but column \d+ \(minilm-l6_\d+\)"):
        compare_on_data(data, backbone="minilm-l6", methods=["anova", "chi2"], cache=tmp_path, **FAST)
    res = compare_on_data(data, backbone="minilm-l6", methods=["chi2"], shift="minmax", cache=tmp_path, **FAST)
    assert res.n_features == 384 and res.info["shift"] == "minmax"


@pytest.mark.integration
def test_selection_on_efficientnet_features(tmp_path: Path) -> None:
    data = load_fashion_mnist(n_per_class=6, random_state=0)
    # EfficientNet-Lite's activations are ReLU6: pooled features are non-negative, chi2 needs no shift
    res = compare_on_data(data, backbone="efficientnet-lite0", image_size=64, methods=["anova", "chi2"],
                          cache=tmp_path, **FAST)
    rows = {r["method"]: r for r in res.table()}
    assert res.n_features == 1280 and set(rows) == {ALL, "anova", "chi2"}
    assert {f["k"] for f in res.folds["anova"]} <= {64, 1280}
    assert all(np.isfinite(r["accuracy"]) and r["predict_time_ratio"] > 0 for r in rows.values())
