"""Image folders read without labels (``label_column=None``): flat folders of images, the usual target of
unsupervised domain adaptation, and class folders whose labels are not wanted."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from transferkit.data import load_data
from transferkit.errors import DataError, NoClassFoldersError
from transferkit.workflows import resolve_data


def _png(path: Path, rng: np.random.Generator, size: int = 6) -> Path:
    """A tiny random RGB image (seeded by ``rng``) saved at ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rng.integers(0, 256, size=(size, size, 3), dtype=np.uint8)).save(path)
    return path


@pytest.fixture
def flat_folder(tmp_path: Path) -> Path:
    """Images directly in the folder and in a plain sub-folder, next to files that must be skipped."""
    rng = np.random.default_rng(0)
    root = tmp_path / "target"
    for name in ("b.png", "a.jpg", "C.PNG"):
        _png(root / name, rng)
    _png(root / "batch2" / "d.png", rng)  # images in sub-folders count too
    (root / "notes.txt").write_text("not an image")
    _png(root / ".hidden.png", rng)  # hidden files and folders are skipped, as in labelled folders
    _png(root / ".ipynb_checkpoints" / "e.png", rng)
    _png(root / "__MACOSX" / "f.png", rng)
    return root


def _names(data: object) -> list[str]:
    return [Path(p).name for p in data.X]  # type: ignore[attr-defined]


def test_a_flat_folder_reads_unlabelled(flat_folder: Path) -> None:
    data = load_data(flat_folder, label_column=None)
    assert data.modality == "image" and data.y is None
    assert _names(data) == ["C.PNG", "a.jpg", "b.png", "d.png"]  # sorted by path, sub-folders included
    assert data.X.dtype == object and all(Path(p).is_file() and Path(p).is_absolute() for p in data.X)
    assert str(flat_folder) in data.source
    assert data.summary()["n_classes"] is None and data.classes.tolist() == []


def test_the_unlabelled_images_load_as_images(flat_folder: Path) -> None:
    from transferkit.data import load_image

    data = load_data(flat_folder, label_column=None)
    first = load_image(data.X[0])
    assert first.shape == (6, 6, 3) and first.dtype == np.uint8


def test_a_flat_folder_read_with_labels_keeps_the_clear_error(flat_folder: Path) -> None:
    with pytest.raises(NoClassFoldersError, match="no class sub-folders") as info:
        load_data(flat_folder / "batch2")  # only images, no sub-folder: nothing to take labels from
    assert isinstance(info.value, DataError)
    assert str(flat_folder / "batch2") in str(info.value) and "holds 1 images directly" in str(info.value)


def test_a_class_folder_read_without_labels_gives_every_image(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    root = tmp_path / "photos"
    _png(root / "dog" / "a.png", rng)
    _png(root / "cat" / "deep" / "b.png", rng)
    _png(root / "loose.png", rng)
    with pytest.warns(UserWarning, match="Ignored 1 images"):
        labelled = load_data(root)
    assert labelled.y is not None and labelled.y.tolist() == ["cat", "dog"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing is ignored, so nothing to warn about
        unlabelled = load_data(root, label_column=None)
    assert unlabelled.y is None
    assert _names(unlabelled) == ["b.png", "a.png", "loose.png"]


@pytest.mark.parametrize("content", ["nothing", "only other files", "only hidden images"])
def test_a_folder_without_images_is_named(tmp_path: Path, content: str) -> None:
    root = tmp_path / "empty"
    root.mkdir()
    if content == "only other files":
        (root / "sub").mkdir()
        (root / "sub" / "labels.csv").write_text("a,b\n")
    elif content == "only hidden images":
        _png(root / ".thumbs" / "x.png", np.random.default_rng(2))
    with pytest.raises(DataError, match="contains no images") as info:
        load_data(root, label_column=None)
    assert str(info.value).startswith(f"Image folder '{root}'") and ".png" in str(info.value)


def test_resolve_data_passes_label_column_none_through(flat_folder: Path) -> None:
    data = resolve_data(flat_folder, label_column=None, per_class=1)
    assert data.y is None and len(data) == 4  # per_class subsamples labelled data only
    with pytest.raises(NoClassFoldersError):
        resolve_data(flat_folder / "batch2")


def test_an_unlabelled_folder_still_refuses_labels(flat_folder: Path) -> None:
    with pytest.raises(DataError, match="drop labels="):
        load_data(flat_folder, label_column=None, labels=["x"] * 4)
