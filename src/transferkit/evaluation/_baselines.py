"""No-transfer baselines: what a practitioner would fit without any pretrained model.

- text: TF-IDF over word unigrams+bigrams and character 1-3-grams (characters make it work for
  languages written without spaces), then logistic regression;
- images: raw pixels (resized to 32x32 RGB, scaled to [0, 1]), standardised, then logistic regression;
- tables: the features themselves, standardised, then logistic regression.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from ..errors import DataError


class PixelFeatures(TransformerMixin, BaseEstimator):
    """Images (paths, arrays, PIL) -> flattened RGB pixels at ``size`` x ``size``, in [0, 1].

    Parameters
    ----------
    size : int, default=32
    """

    def __init__(self, *, size: int = 32) -> None:
        self.size = size

    def fit(self, X: Any, y: Any = None) -> PixelFeatures:
        self.n_features_out_ = 3 * self.size * self.size
        return self

    def transform(self, X: Any) -> np.ndarray:
        import torch
        from torchvision.transforms.v2 import functional as TF

        from ..data import load_image

        out = np.empty((len(X), 3 * self.size * self.size), dtype=np.float32)
        for i, item in enumerate(X):
            img = torch.from_numpy(np.ascontiguousarray(load_image(item, index=i))).permute(2, 0, 1)
            img = TF.resize(img, [self.size, self.size], antialias=True)
            out[i] = img.reshape(-1).numpy() / 255.0
        return out


def _as_text(X: Any) -> list[str]:
    return [str(t) for t in X]


def make_baseline(modality: str, *, random_state: int = 0) -> Pipeline:
    """The no-transfer baseline pipeline for ``modality`` ("text", "image" or "table")."""
    head = LogisticRegression(C=1.0, max_iter=2000, random_state=random_state)
    if modality == "text":
        features = FeatureUnion([
            ("words", TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True)),
            ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), min_df=1, sublinear_tf=True)),
        ])
        return make_pipeline(FunctionTransformer(_as_text), features, head)
    if modality == "image":
        return make_pipeline(PixelFeatures(size=32), StandardScaler(), head)
    if modality == "table":
        return make_pipeline(StandardScaler(), head)
    raise DataError(f"no baseline for modality {modality!r}; expected text, image or table")


BASELINE_DESCRIPTIONS = {
    "text": "TF-IDF (word 1-2-grams + char 1-3-grams) + logistic regression",
    "image": "raw pixels (32x32 RGB, standardised) + logistic regression",
    "table": "the features themselves (standardised) + logistic regression",
}
