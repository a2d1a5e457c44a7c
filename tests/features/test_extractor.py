from __future__ import annotations

import gc
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sklearn.utils.estimator_checks import parametrize_with_checks
from tests.helpers import InferenceCounter, polarity_texts, save_pngs, stripe_images

from transferkit import FeatureExtractor
from transferkit.errors import DataError, ImageLoadError, UnknownBackboneError
from transferkit.features import FeatureCache


@parametrize_with_checks([FeatureExtractor(backbone="tiny-mlp", cache=False),
                          FeatureExtractor(backbone="identity", cache=False)])
def test_sklearn_contract(estimator, check) -> None:  # type: ignore[no-untyped-def]
    check(estimator)


_Counter = InferenceCounter


def test_second_call_is_served_from_the_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    X, _ = polarity_texts(10)
    counter = _Counter(monkeypatch)
    ext = FeatureExtractor(backbone="tiny-text", cache=tmp_path).fit(X)
    first = ext.transform(X)
    assert counter.items == len(X)
    FeatureCache.clear_memory()  # as in a new process: read back from the shard files
    second = FeatureExtractor(backbone="tiny-text", cache=tmp_path).fit(X).transform(X)
    assert counter.items == len(X), "second pass must not run the backbone"
    np.testing.assert_array_equal(first, second)
    assert list((tmp_path / "features").glob("*/*.npz"))


def test_partial_hits_compute_only_new_items(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    X, _ = polarity_texts(10)
    full = FeatureExtractor(backbone="tiny-text", cache=False).fit(X).transform(X)
    counter = _Counter(monkeypatch)
    ext = FeatureExtractor(backbone="tiny-text", cache=tmp_path).fit(X)
    ext.transform(X[:5])
    out = ext.transform(X)
    assert counter.items == len(X)  # 5 first, then only the 15 not seen yet
    np.testing.assert_allclose(out, full, atol=1e-6)


def test_cache_is_keyed_by_content_not_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    X, _ = stripe_images(3)
    paths = save_pngs(X, tmp_path, "img")
    counter = _Counter(monkeypatch)
    ext = FeatureExtractor(backbone="tiny-cnn", cache=tmp_path / "c").fit(paths)
    a = ext.transform(paths)
    renamed = [str(Path(p).rename(Path(p).with_name("moved_" + Path(p).name))) for p in paths]
    b = ext.transform(renamed)
    assert counter.items == len(paths)
    np.testing.assert_array_equal(a, b)
    Image.fromarray(255 - X[0]).save(renamed[0])  # edited content must miss the cache
    ext.transform(renamed)
    assert counter.items == len(paths) + 1


def test_different_weights_use_a_different_cache(tmp_path: Path) -> None:
    X, _ = polarity_texts(4)
    a = FeatureExtractor(backbone="tiny-text", cache=tmp_path, random_state=0).fit(X).transform(X)
    b = FeatureExtractor(backbone="tiny-text", cache=tmp_path, random_state=1).fit(X).transform(X)
    assert not np.allclose(a, b)
    assert len(list((tmp_path / "features").iterdir())) == 2


def test_features_do_not_depend_on_batching() -> None:
    X, _ = polarity_texts(9)
    a = FeatureExtractor(backbone="tiny-text", cache=False, batch_size=2).fit(X).transform(X)
    b = FeatureExtractor(backbone="tiny-text", cache=False, batch_size=64).fit(X).transform(X)
    np.testing.assert_allclose(a, b, atol=1e-5)


def test_corrupt_image_names_the_file(tmp_path: Path) -> None:
    X, _ = stripe_images(2)
    good = tmp_path / "good.png"
    Image.fromarray(X[0]).save(good)
    bad = tmp_path / "bad.png"
    bad.write_bytes(good.read_bytes()[:40])
    ext = FeatureExtractor(backbone="tiny-cnn", cache=tmp_path / "c").fit([str(good)])
    with pytest.raises(ImageLoadError, match="bad.png"):
        ext.transform([str(good), str(bad)])
    assert not list((tmp_path / "c").glob("**/*.tmp")), "no half-written cache shard"


def test_bad_inputs() -> None:
    with pytest.raises(DataError, match="text item 1 is empty"):
        FeatureExtractor(backbone="tiny-text", cache=False).fit(["fine", "  "])
    with pytest.raises(DataError, match="empty"):
        FeatureExtractor(backbone="tiny-text", cache=False).fit([])
    with pytest.raises(DataError, match="2-D array"):
        FeatureExtractor(backbone="tiny-cnn", cache=False).fit(np.zeros((3, 4)))
    with pytest.raises(UnknownBackboneError, match="Unknown backbone 'nope'"):
        FeatureExtractor(backbone="nope").fit(["a"])
    ext = FeatureExtractor(backbone="tiny-mlp", cache=False).fit(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="4 features"):
        ext.transform(np.zeros((3, 5)))


@pytest.mark.integration
def test_packaged_efficientnet_features_on_fashion_mnist_are_cached(tmp_path: Path) -> None:
    from transferkit.datasets import load_fashion_mnist

    data = load_fashion_mnist("test", n_per_class=3)
    ext = FeatureExtractor(backbone="efficientnet-lite0", image_size=64, cache=tmp_path).fit(data.X)
    a = ext.transform(data.X)
    assert a.shape == (30, 1280) and np.isfinite(a).all()
    FeatureCache.clear_memory()
    np.testing.assert_array_equal(a, ext.transform(data.X))


@pytest.mark.parametrize("damage", ["truncate", "empty", "flip", "wrong-shape"])
def test_a_damaged_cache_shard_is_recomputed_not_fatal(damage: str, tmp_path: Path) -> None:
    """np.load raises BadZipFile/EOFError on a truncated or empty shard, which the cache did not catch:
    every later run on that data failed with a traceback until the file was found and deleted."""
    X, _ = polarity_texts(6)
    expected = FeatureExtractor(backbone="tiny-text", cache=tmp_path).fit(X).transform(X)
    (shard,) = list((tmp_path / "features").glob("*/*.npz"))
    data = shard.read_bytes()
    if damage == "truncate":
        shard.write_bytes(data[: len(data) // 2])
    elif damage == "empty":
        shard.write_bytes(b"")
    elif damage == "flip":
        middle = len(data) // 2
        shard.write_bytes(data[:middle] + bytes(b ^ 0xFF for b in data[middle:middle + 64]) + data[middle + 64:])
    else:
        np.savez(shard, keys=np.array(["a", "b"]), features=np.zeros((3, 2), dtype=np.float32))
    FeatureCache.clear_memory()  # a new process
    with warnings.catch_warnings(record=True) as caught:  # np.load left the unreadable shard's file open
        warnings.simplefilter("always", ResourceWarning)
        again = FeatureExtractor(backbone="tiny-text", cache=tmp_path).fit(X).transform(X)
        gc.collect()
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)], [str(w.message) for w in caught]
    np.testing.assert_allclose(again, expected, atol=1e-6)
    FeatureCache.clear_memory()
    np.testing.assert_allclose(FeatureExtractor(backbone="tiny-text", cache=tmp_path).fit(X).transform(X), expected,
                               atol=1e-6)  # and the shard was rewritten


def test_a_cache_that_cannot_be_written_warns_and_the_run_goes_on(tmp_path: Path) -> None:
    """A read-only cache folder raised a raw OSError after the features were computed."""
    X, _ = polarity_texts(6)
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")  # nothing can be created under it, even as root
    FeatureCache.clear_memory()
    with pytest.warns(RuntimeWarning, match=r"feature cache .*a-file.* cannot be written.*--no-cache"):
        out = FeatureExtractor(backbone="tiny-text", cache=blocked).fit(X).transform(X)
    np.testing.assert_allclose(out, FeatureExtractor(backbone="tiny-text", cache=False).fit(X).transform(X), atol=1e-6)


def test_extract_features_takes_a_series_by_position() -> None:
    """Row i held the features of the item whose index label is i."""
    import pandas as pd

    from transferkit.backbones import create_backbone
    from transferkit.features import extract_features

    backbone = create_backbone("tiny-text")
    texts = ["alpha", "beta gamma", "delta epsilon zeta"]
    np.testing.assert_allclose(extract_features(backbone, pd.Series(texts, index=[2, 0, 1])),
                               extract_features(backbone, texts), atol=1e-6)
