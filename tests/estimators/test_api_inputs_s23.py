"""Estimator settings checked before any work with one-line errors: max_length / image_size, random_state
(accepted as scikit-learn reads it), strategy names, the device; transform_features on a fine-tuned model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.base import clone
from tests.helpers import blobs, polarity_texts, stripe_images

from transferkit import FeatureExtractor, FullFineTune, LinearProbe, TransferClassifier, load_model
from transferkit.backbones import create_backbone
from transferkit.backbones._text import ByteTokenizer
from transferkit.errors import DataError, StrategyError, TransferkitError
from transferkit.features import resolve_device


# --- max_length and image_size ----------------------------------------------------------------------
@pytest.mark.parametrize("value", [0, -3, 7, True, 16.0, "64"])
def test_max_length_below_eight_or_not_a_whole_number_fails_before_any_work(value: Any, tmp_path: Path) -> None:
    """0 silently meant the default; -3 cut every text with a negative slice (4 distinct rows of 40)."""
    X, y = polarity_texts(6)
    for est in (TransferClassifier(backbone="tiny-text", max_length=value, cache=tmp_path),
                FeatureExtractor(backbone="tiny-text", max_length=value, cache=tmp_path)):
        with pytest.raises(DataError, match=f"^max_length must be a whole number of at least 8, got {value!r}$"):
            est.fit(X, y)
    with pytest.raises(DataError, match="max_length must be"):
        create_backbone("tiny-text", max_length=value)
    assert not list(tmp_path.rglob("*.npz")), "nothing cached"


@pytest.mark.parametrize("value", [0, -5, 15, False, 32.0])
def test_image_size_below_sixteen_fails_before_any_work(value: Any) -> None:
    """0 failed inside torchvision: 'Input and output sizes should be greater than 0'."""
    X, y = stripe_images(5, size=8)
    with pytest.raises(DataError, match=f"^image_size must be a whole number of at least 16, got {value!r}$"):
        TransferClassifier(backbone="tiny-cnn", image_size=value, cache=False).fit(X, y)
    with pytest.raises(DataError, match="image_size must be"):
        FeatureExtractor(backbone="tiny-cnn", image_size=value, cache=False).fit(X)
    with pytest.raises(DataError, match="image_size must be"):
        create_backbone("tiny-cnn", image_size=value)


def test_the_smallest_accepted_sizes_work() -> None:
    X, y = polarity_texts(6)
    np.testing.assert_array_equal(TransferClassifier(backbone="tiny-text", max_length=np.int64(8), cache=False)
                                  .fit(X, y).model_.extractor.backbone_.spec.max_length, 8)
    images, labels = stripe_images(5, size=8)
    clf = TransferClassifier(backbone="tiny-cnn", image_size=16, cache=False).fit(images, labels)
    assert clf.model_.extractor.backbone_.spec.input_size == (16, 16)


@pytest.mark.parametrize(("backbone", "param", "X"), [
    ("tiny-mlp", "image_size", blobs(5)[0]),
    ("tiny-mlp", "max_length", blobs(5)[0]),
    ("tiny-text", "image_size", polarity_texts(5)[0]),
    ("tiny-cnn", "max_length", stripe_images(5)[0]),
])
def test_an_option_for_another_modality_is_refused(backbone: str, param: str, X: Any) -> None:
    """Silently ignored before (the CLI refuses it as a usage error)."""
    modality = {"image_size": "image", "max_length": "text"}[param]
    reads = {"tiny-mlp": "table", "tiny-text": "text", "tiny-cnn": "image"}[backbone]
    message = (f"^{param}=64 applies to {modality} backbones, but backbone '{backbone}' reads {reads} data; "
               f"leave {param} unset")
    y = np.repeat([0, 1], len(X) // 2)
    with pytest.raises(DataError, match=message):
        TransferClassifier(backbone=backbone, cache=False, **{param: 64}).fit(X, y)
    with pytest.raises(DataError, match=message):
        FeatureExtractor(backbone=backbone, cache=False, **{param: 64}).fit(X)
    with pytest.raises(DataError, match=message):
        create_backbone(backbone, in_features=6, **{param: 64})


def test_the_byte_tokenizer_never_slices_from_the_end() -> None:
    ids = ByteTokenizer()(["abcdef"], max_length=1)["input_ids"][0].tolist()
    assert ids == [1, 2]  # start and end only; [: max_length - 2] kept 'abcde' before


@pytest.mark.integration
def test_max_length_beyond_the_position_table_is_refused() -> None:
    """minilm-l6 has 512 positions: max_length=1000 failed at the first long text with a tensor-size error."""
    with pytest.raises(DataError, match=r"^max_length=1000 is more than backbone 'minilm-l6' reads \(512 tokens\)"):
        create_backbone("minilm-l6", max_length=1000)
    assert create_backbone("minilm-l6", max_length=512).spec.max_length == 512


# --- random_state -----------------------------------------------------------------------------------
def test_random_state_none_draws_a_seed_per_fit() -> None:
    X, y = blobs(10)
    clf = TransferClassifier(backbone="tiny-mlp", random_state=None, cache=False)
    seeds = {clone(clf).fit(X, y).random_seed_ for _ in range(3)}
    assert len(seeds) > 1 and all(isinstance(s, int) for s in seeds)
    assert clf.random_state is None  # the parameter is left as given
    assert TransferClassifier(backbone="tiny-mlp", random_state=7, cache=False).fit(X, y).random_seed_ == 7


def test_random_state_from_a_randomstate_is_reproducible() -> None:
    X, y = blobs(10)
    a = TransferClassifier(backbone="tiny-mlp", random_state=np.random.RandomState(0), cache=False).fit(X, y)
    b = TransferClassifier(backbone="tiny-mlp", random_state=np.random.RandomState(0), cache=False).fit(X, y)
    assert a.random_seed_ == b.random_seed_
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


@pytest.mark.parametrize("random_state", [None, np.random.RandomState(3)], ids=["none", "randomstate"])
def test_a_model_fitted_with_a_drawn_seed_loads_with_the_same_weights(tmp_path: Path, random_state: Any) -> None:
    """The tiny backbone's random weights come from the seed: the folder records the seed drawn (saving a
    model fitted with a RandomState failed: 'cannot store RandomState in JSON')."""
    X, y = blobs(10)
    clf = TransferClassifier(backbone="tiny-mlp", random_state=random_state, cache=False).fit(X, y)
    loaded = load_model(clf.save(tmp_path / "m"))
    assert loaded.random_state == loaded.random_seed_ == clf.random_seed_ and clf.random_state is random_state
    np.testing.assert_allclose(loaded.predict_proba(X), clf.predict_proba(X), rtol=0, atol=1e-6)
    refit = clone(loaded).fit(X, y)  # the saved seed repeats the fit
    np.testing.assert_allclose(refit.predict_proba(X), clf.predict_proba(X), rtol=0, atol=1e-6)
    ext = FeatureExtractor(backbone="tiny-mlp", random_state=np.random.RandomState(1), cache=False)
    assert ext.fit_transform(X).shape == (len(X), 16)


@pytest.mark.parametrize("value", ["0", 1.5, -1, 2**32, np.random.default_rng(0)])
def test_a_random_state_that_is_no_seed_is_refused(value: Any) -> None:
    X, y = blobs(5)
    with pytest.raises(DataError, match=r"^random_state must be"):
        TransferClassifier(backbone="tiny-mlp", random_state=value, cache=False).fit(X, y)


# --- strategy names, transform_features, device -----------------------------------------------------
def test_a_strategy_name_means_that_strategy() -> None:
    X, y = blobs(10)
    clf = TransferClassifier(backbone="tiny-mlp", strategy="linear", cache=False)
    fitted = clone(clf).fit(X, y)
    assert fitted.strategy == "linear" and isinstance(fitted.strategy_, LinearProbe)
    assert fitted.score(X, y) > 0.9


@pytest.mark.parametrize(("strategy", "match"), [
    ("linaer", r"^unknown strategy 'linaer'; choose one of: auto, linear, finetune"),
    (5, r"^strategy must be a Strategy such as LinearProbe\(\) or one of the names auto, linear"),
])
def test_an_unknown_strategy_fails_before_any_work(strategy: Any, match: str) -> None:
    with pytest.raises(StrategyError, match=match):
        TransferClassifier(backbone="tiny-mlp", strategy=strategy, cache=False).fit(np.full((4, 2), np.nan), [0, 1] * 2)


def test_transform_features_of_a_fine_tuned_model_says_which_strategies_have_them() -> None:
    X, y = blobs(10)
    clf = TransferClassifier(backbone="tiny-mlp", strategy=FullFineTune(epochs=1), cache=False).fit(X, y)
    with pytest.raises(StrategyError, match=r"fitted with strategy 'finetune' \(net model\).*only strategy 'linear'"):
        clf.transform_features(X)
    assert TransferClassifier(backbone="tiny-mlp", cache=False).fit(X, y).transform_features(X).shape == (20, 16)


@pytest.mark.parametrize("device", ["gpu9", "cuda:x", ""])
def test_an_invalid_device_is_named_with_the_accepted_forms(device: str) -> None:
    with pytest.raises(DataError, match=f"^device {device!r} is no device; use 'auto', 'cpu', 'cuda', 'cuda:N'"):
        resolve_device(device)
    with pytest.raises(DataError, match=f"^device {device!r}"):  # before the data is even looked at
        TransferClassifier(backbone="tiny-mlp", device=device, cache=False).fit(np.full((4, 2), np.nan), [0, 1] * 2)
    with pytest.raises(TransferkitError):
        FeatureExtractor(backbone="tiny-mlp", device=device, cache=False).fit(np.ones((4, 2)))
    assert resolve_device("cpu").type == "cpu" and resolve_device("auto").type in ("cpu", "cuda")
