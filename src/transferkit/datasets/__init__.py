"""Real labeled datasets that ship inside installed packages, so demos and tests run offline.

Each loader returns a :class:`~transferkit.data.Dataset`; :func:`load_dataset` finds one by name.
"""

from transferkit.datasets._packaged import (
    FASHION_MNIST_CLASSES,
    load_digits_images,
    load_fashion_mnist,
    load_mnist_subset,
    load_sample_images,
)
from transferkit.datasets._registry import DATASETS, dataset_variants, list_datasets, load_dataset
from transferkit.datasets._sentiment import SENTIMENT_DOMAIN_KEYWORDS, load_chinese_sentiment

__all__ = [
    "DATASETS",
    "FASHION_MNIST_CLASSES",
    "SENTIMENT_DOMAIN_KEYWORDS",
    "dataset_variants",
    "list_datasets",
    "load_chinese_sentiment",
    "load_dataset",
    "load_digits_images",
    "load_fashion_mnist",
    "load_mnist_subset",
    "load_sample_images",
]
