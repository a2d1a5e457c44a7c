"""Registry of the packaged datasets: names for the CLI and :func:`load_dataset`."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any

from transferkit.data import Dataset
from transferkit.datasets._packaged import (
    _FASHION_MNIST_FILES,
    load_digits_images,
    load_fashion_mnist,
    load_mnist_subset,
    load_sample_images,
)
from transferkit.datasets._sentiment import SENTIMENT_DOMAIN_KEYWORDS, load_chinese_sentiment
from transferkit.errors import DataError

__all__ = ["DATASETS", "dataset_variants", "list_datasets", "load_dataset"]

#: Dataset name -> loader returning a :class:`~transferkit.data.Dataset`.
DATASETS: dict[str, Callable[..., Dataset]] = {
    "fashion-mnist": load_fashion_mnist,
    "mnist": load_mnist_subset,
    "digits": load_digits_images,
    "chinese-sentiment": load_chinese_sentiment,
    "sample-images": load_sample_images,
}

# The keyword that the part after a colon fills in ("fashion-mnist:test" -> split="test"), and its values.
_QUALIFIERS = {"fashion-mnist": "split", "chinese-sentiment": "domain"}
_QUALIFIER_VALUES: dict[str, tuple[str, ...]] = {"fashion-mnist": tuple(_FASHION_MNIST_FILES),
                                                  "chinese-sentiment": tuple(SENTIMENT_DOMAIN_KEYWORDS)}


def dataset_variants(name: str) -> list[str]:
    """The qualified names a packaged dataset also answers to (``fashion-mnist:test``), none for most.

    Examples
    --------
    >>> dataset_variants("fashion-mnist")
    ['fashion-mnist:train', 'fashion-mnist:test']
    """
    return [f"{name}:{value}" for value in _QUALIFIER_VALUES.get(name, ())]


def list_datasets() -> list[str]:
    """Return the names of the packaged datasets, sorted.

    Examples
    --------
    >>> "fashion-mnist" in list_datasets()
    True
    """
    return sorted(DATASETS)


def load_dataset(name: str, **kwargs: Any) -> Dataset:
    """Load a packaged dataset by name.

    Parameters
    ----------
    name : str
        A name from :func:`list_datasets`, optionally with a qualifier after a colon:
        ``"fashion-mnist:test"`` means ``split="test"``, ``"chinese-sentiment:hotel"`` means
        ``domain="hotel"``. Case and ``_`` versus ``-`` do not matter.
    **kwargs
        Passed to the loader (e.g. ``n_per_class=100, random_state=0``).

    Returns
    -------
    Dataset

    Raises
    ------
    DataError
        The name is unknown (the message suggests the closest one), or a qualifier is not accepted.
    """
    base, _, qualifier = name.partition(":")
    key = base.strip().lower().replace("_", "-")
    if key not in DATASETS:
        close = difflib.get_close_matches(key, list(DATASETS), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise DataError(f"Unknown dataset {name!r}; available: {', '.join(list_datasets())}.{hint}")
    if qualifier:
        keyword = _QUALIFIERS.get(key)
        if keyword is None:
            raise DataError(f"Dataset {key!r} takes no ':' qualifier; got {name!r}.")
        if keyword in kwargs and kwargs[keyword] != qualifier:
            raise DataError(
                f"Dataset name {name!r} sets {keyword}={qualifier!r} but {keyword}= was also given."
            )
        kwargs[keyword] = qualifier
    return DATASETS[key](**kwargs)
