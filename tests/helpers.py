"""Small synthetic data sets for unit tests (learnable, seeded)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression


def blobs(n_per_class: int = 20, n_features: int = 6, n_classes: int = 2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Well-separated Gaussian blobs: any working classifier scores near 1."""
    r = np.random.default_rng(seed)
    X = np.concatenate([r.normal(loc=3.0 * c, size=(n_per_class, n_features)) for c in range(n_classes)])
    y = np.repeat([f"c{c}" for c in range(n_classes)], n_per_class)
    return X, y


def stripe_images(n_per_class: int = 12, size: int = 28, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Noisy uint8 images whose class is a bright half (top vs left): learnable by any image model."""
    r = np.random.default_rng(seed)
    X = r.integers(0, 90, size=(2 * n_per_class, size, size), dtype=np.uint8)
    X[:n_per_class, : size // 2] += 150
    X[n_per_class:, :, : size // 2] += 150
    y = np.repeat(["top", "left"], n_per_class)
    return X, y


def save_pngs(images: np.ndarray, folder: Path, prefix: str = "") -> list[str]:
    """Each image as ``folder/{prefix}{i}.png``; the paths as strings, in order."""
    from PIL import Image

    paths = [str(folder / f"{prefix}{i}.png") for i in range(len(images))]
    for img, path in zip(images, paths, strict=True):
        Image.fromarray(img).save(path)
    return paths


def truncate_file(path: str | Path) -> None:
    """Cut the file at ``path`` in half: a PNG that no longer decodes."""
    data = Path(path).read_bytes()
    Path(path).write_bytes(data[: len(data) // 2])


def images_with_a_bad_one(tmp_path: Path, bad: int, kind: str) -> tuple[list[Any], np.ndarray]:
    """12 :func:`stripe_images` (6 per class) with item ``bad`` unreadable: ``kind`` "paths" gives PNG paths
    (that one truncated), "arrays" image arrays (that one of 5 channels)."""
    X, y = stripe_images(6)
    if kind == "paths":
        paths = save_pngs(X, tmp_path)
        truncate_file(paths[bad])
        return list(paths), y
    items: list[Any] = list(X)
    items[bad] = np.zeros((28, 28, 5), dtype=np.uint8)
    return items, y


def polarity_texts(n_per_class: int = 12, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    r = np.random.default_rng(seed)
    pos = ["great", "lovely", "excellent", "good", "wonderful"]
    neg = ["awful", "bad", "terrible", "poor", "horrible"]
    texts = [" ".join(r.choice(words, 4)) for words in (pos, neg) for _ in range(n_per_class)]
    return np.asarray(texts, dtype=object), np.repeat(["pos", "neg"], n_per_class)


class InferenceCounter:
    """Counts the items that go through a network (features or logits), by wrapping
    ``transferkit.features._extractor.batched_inference`` for the duration of a test."""

    def __init__(self, monkeypatch: Any) -> None:
        from transferkit.features import _extractor

        self.items = 0
        real = _extractor.batched_inference

        def counting(module, backbone, items, **kw):  # type: ignore[no-untyped-def]
            self.items += len(items)
            return real(module, backbone, items, **kw)

        monkeypatch.setattr(_extractor, "batched_inference", counting)


def run_cli(*args: object) -> tuple[int, str]:
    """Run the ``transferkit`` command in-process; returns (exit code, output)."""
    from click.testing import CliRunner

    from transferkit.cli import cli

    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    return result.exit_code, result.output


class BlasThreadsSpy(LogisticRegression):
    """A logistic head that records, in the class-wide ``seen`` (clones included; clear it first), the
    BLAS thread counts in effect while it fits."""

    seen: ClassVar[list[int]] = []

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> BlasThreadsSpy:
        from threadpoolctl import threadpool_info

        BlasThreadsSpy.seen += [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
        return super().fit(X, y, sample_weight)


def named_columns_table(path: Path) -> pd.DataFrame:
    """A 60-row table with columns f1, f2, f3 and a label (pos/neg) that depends on f1 and f2, written to
    ``path``: for tests of matching table columns by name."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3)) * [1.0, 5.0, 0.2]
    y = np.where(X[:, 0] + 0.2 * X[:, 1] > 0, "pos", "neg")
    frame = pd.DataFrame(X, columns=["f1", "f2", "f3"]).assign(label=y)
    frame.to_csv(path, index=False)
    return frame


def check_predict_reads_columns_by_name(model: Path, frame: pd.DataFrame, tmp_path: Path) -> None:
    """``transferkit predict`` with the model folder ``model`` on ``frame`` (from :func:`named_columns_table`):
    the same predictions with the columns reordered and extra ones (carried first into the predictions, so
    that they join back to the input rows); a renamed column named, nothing written."""
    from transferkit import load_model

    assert list(load_model(model).feature_names_in_) == ["f1", "f2", "f3"]

    def predict(table: pd.DataFrame, name: str) -> tuple[int, str]:
        table.to_csv(tmp_path / name, index=False)
        return run_cli("predict", model, tmp_path / name, "-o", tmp_path / f"{name}.out.csv")

    assert predict(frame, "same.csv")[0] == 0
    same = pd.read_csv(tmp_path / "same.csv.out.csv")
    ids = [f"row-{i}" for i in range(len(frame))]  # not numeric: ignored as the README says, not refused
    code, out = predict(frame[["f3", "label", "f1", "f2"]].assign(extra=1.0, id=ids, prediction="x"),
                        "reordered.csv")
    assert code == 0, out
    reordered = pd.read_csv(tmp_path / "reordered.csv.out.csv")
    assert list(reordered.columns[:3]) == ["extra", "id", "input_prediction"], reordered.columns
    assert reordered["id"].tolist() == ids and (reordered["input_prediction"] == "x").all()
    pd.testing.assert_frame_equal(reordered.iloc[:, 3:], same)
    partial = frame.assign(label=frame["label"].where(np.arange(len(frame)) % 3 > 0))  # every third label empty
    code, out = predict(partial, "partial.csv")  # was "missing values ... in column 'label'": read as a feature
    assert code == 0, out
    written = pd.read_csv(tmp_path / "partial.csv.out.csv")
    pd.testing.assert_frame_equal(written.drop(columns="label"), same.drop(columns="label"))
    assert written["label"].isna().tolist() == (np.arange(len(frame)) % 3 == 0).tolist()
    assert (written["label"].dropna() == same["label"][written["label"].notna()]).all()
    code, out = predict(frame.rename(columns={"f2": "g2"}), "renamed.csv")
    assert code == 1 and "lacks the feature column(s) 'f2'" in out, out
    assert not (tmp_path / "renamed.csv.out.csv").exists()


def interrupt_trial(monkeypatch: Any, n: int) -> dict[str, int]:
    """Make the search's objective raise KeyboardInterrupt (Ctrl-C) when its ``n``-th trial starts; the
    returned counter keeps counting the trials that start afterwards."""
    from transferkit.tuning import _search

    real = _search.make_objective
    calls = {"n": 0}

    def interrupted(*args, **kwargs):  # type: ignore[no-untyped-def]
        objective = real(*args, **kwargs)

        def wrapped(trial):  # type: ignore[no-untyped-def]
            calls["n"] += 1
            if calls["n"] == n:
                raise KeyboardInterrupt
            return objective(trial)

        return wrapped

    monkeypatch.setattr(_search, "make_objective", interrupted)
    return calls


class FoldFlip(ClassifierMixin, BaseEstimator):
    """Predicts "a" where the first feature is positive, else "b", with probability ``confidence``. When its
    training part holds the marker item (first feature 2) and ``X`` has at most ``flip_features`` columns, it
    predicts every item wrong: on :func:`flip_data` with 2 folds, accuracy 1 on one fold and 0 on the other."""

    def __init__(self, *, flip_features: int | None = 1, confidence: float = 1.0) -> None:
        self.flip_features = flip_features
        self.confidence = confidence

    def fit(self, X: Any, y: Any) -> FoldFlip:
        X = np.asarray(X, dtype=float)
        self.classes_ = np.array(["a", "b"])
        self.n_features_in_ = X.shape[1]
        self.flipped_ = (self.flip_features is not None and X.shape[1] <= self.flip_features
                         and bool(np.any(X[:, 0] == 2)))
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        first = np.asarray(X, dtype=float)[:, 0] > 0
        p = np.where(first != self.flipped_, self.confidence, 1 - self.confidence)
        return np.c_[p, 1 - p]

    def predict(self, X: Any) -> np.ndarray:
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


def flip_data(n_per_class: int = 4, n_features: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Class "a" at +1, "b" at -1 in the first column (one "a" item, the marker, at 2); noise in the others."""
    y = np.repeat(["a", "b"], n_per_class)
    X = np.random.default_rng(0).normal(scale=0.1, size=(len(y), n_features))
    X[:, 0] = np.where(y == "a", 1.0, -1.0)
    X[0, 0] = 2.0
    return X, y
