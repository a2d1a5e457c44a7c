"""What a fitted model does is decided by its fitted state, not by parameters set after the fit (the
scikit-learn contract): ``set_params(backbone="tiny-text")`` on a fitted table model made ``predict``
refuse the table it was fitted on; ``FeatureExtractor.get_feature_names_out`` named the features after the
current ``backbone`` parameter and ignored ``input_features``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from transferkit import FeatureExtractor, TransferClassifier, load_model

X = np.random.default_rng(0).normal(size=(30, 4))
y = (X[:, 0] > 0).astype(int)


def test_predict_reads_what_the_fitted_backbone_reads(tmp_path: Path) -> None:
    clf = TransferClassifier(backbone="tiny-mlp", cache=False).fit(X, y)
    expected = clf.predict_proba(X)
    clf.set_params(backbone="tiny-text")
    np.testing.assert_array_equal(clf.predict_proba(X), expected)
    loaded = load_model(TransferClassifier(backbone="tiny-mlp", cache=False).fit(X, y).save(tmp_path / "m"))
    loaded.set_params(backbone="tiny-text")
    np.testing.assert_array_equal(loaded.predict_proba(X), expected)
    clf.fit(["a text", "another text"] * 15, y)  # a new fit reads the new backbone's modality
    assert clf.modality_ == "text"


def test_feature_names_follow_the_fitted_backbone_and_check_input_features() -> None:
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    ext = FeatureExtractor(backbone="tiny-mlp", cache=False).fit(frame)
    names = ext.get_feature_names_out()
    assert names[0] == "tiny-mlp_0" and len(names) == 16
    ext.set_params(backbone="identity")
    np.testing.assert_array_equal(ext.get_feature_names_out(), names)
    np.testing.assert_array_equal(ext.get_feature_names_out(["a", "b", "c", "d"]), names)
    with pytest.raises(ValueError, match="input_features is not equal to feature_names_in_"):
        ext.get_feature_names_out(["a", "b", "c", "x"])


def test_the_identity_backbone_passes_column_names_through() -> None:
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    ext = FeatureExtractor(backbone="identity", cache=False).fit(frame)
    assert list(ext.get_feature_names_out()) == ["a", "b", "c", "d"]
    assert list(ext.set_output(transform="pandas").transform(frame).columns) == ["a", "b", "c", "d"]
    plain = FeatureExtractor(backbone="identity", cache=False).fit(X)
    assert list(plain.get_feature_names_out()) == ["identity_0", "identity_1", "identity_2", "identity_3"]
    assert list(plain.get_feature_names_out(["p", "q", "r", "s"])) == ["p", "q", "r", "s"]
    with pytest.raises(ValueError, match="length equal to number of features \\(4\\), got 2"):
        plain.get_feature_names_out(["p", "q"])


def test_a_text_model_given_several_columns_says_so() -> None:
    """It said 'text item 0 is ndarray, not a string'."""
    from transferkit.errors import DataError

    texts = ["good movie", "bad film"] * 5
    clf = TransferClassifier(backbone="tiny-text", cache=False)
    with pytest.raises(DataError, match=r"^a text backbone reads one column of texts; got 2 columns \(t, u\): pass "):
        clf.fit(pd.DataFrame({"t": texts, "u": texts}), [1, 0] * 5)
    with pytest.raises(DataError, match="got 2 columns: pass the text column alone"):
        clf.fit(np.array([texts, texts], dtype=object).T, [1, 0] * 5)
    assert clf.fit(pd.DataFrame({"t": texts}), [1, 0] * 5).score(pd.DataFrame({"t": texts}), [1, 0] * 5) >= 0


def test_an_image_model_given_texts_says_it_reads_images() -> None:
    from transferkit.errors import DataError

    with pytest.raises(DataError, match=r"Image 'good movie' \(item 0\) does not exist; check the path \(an image "
                                        r"model reads image files or pixel arrays, not texts\)\."):
        TransferClassifier(backbone="tiny-cnn", cache=False).fit(["good movie", "bad film"] * 3, [1, 0] * 3)


def test_a_grid_searches_strategy_names_and_their_parameters() -> None:
    """``{"strategy": ["finetune"], "strategy__epochs": [1]}`` failed: "'str' object has no attribute 'set_params'"."""
    import warnings

    from sklearn.model_selection import GridSearchCV

    from transferkit import LPFT, FullFineTune
    from transferkit.errors import StrategyError

    grid = [{"strategy": ["finetune", "lpft"], "strategy__epochs": [1, 2]}, {"strategy": ["linear"]}]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search = GridSearchCV(TransferClassifier(backbone="tiny-mlp", cache=False), grid, cv=2).fit(X, y)
    assert len(search.cv_results_["params"]) == 5
    clf = TransferClassifier(backbone="tiny-mlp", strategy="lpft").set_params(strategy__epochs=3)
    assert isinstance(clf.strategy, LPFT) and clf.strategy.epochs == 3
    clf = TransferClassifier(backbone="tiny-mlp").set_params(strategy="finetune", strategy__lr=0.1)
    assert isinstance(clf.strategy, FullFineTune) and clf.strategy.lr == 0.1
    with pytest.raises(StrategyError, match="unknown strategy 'fine'"):
        TransferClassifier().set_params(strategy="fine", strategy__lr=0.1)
    with pytest.raises(ValueError, match="Invalid parameter 'epochs' for estimator LinearProbe"):
        TransferClassifier(strategy="linear").set_params(strategy__epochs=3)
