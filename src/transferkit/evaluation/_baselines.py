"""No-transfer baselines: what a practitioner would fit without any pretrained model.

- text: TF-IDF over word unigrams+bigrams and character 1-3-grams (characters make it work for
  languages written without spaces), then logistic regression;
- images: raw pixels (resized to 32x32 RGB, scaled to [0, 1]), standardised, then logistic regression;
- tables: the features themselves, standardised, then logistic regression.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import sparse
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
        from ..data._images import image_array_to_uint8

        if isinstance(X, np.ndarray) and X.dtype != object and X.ndim in (3, 4):
            X = image_array_to_uint8(X)  # float pixels: one 0..1 / 0..255 decision for them all, not per image
        out = np.empty((len(X), 3 * self.size * self.size), dtype=np.float32)
        for i, item in enumerate(X):
            img = torch.from_numpy(np.ascontiguousarray(load_image(item, index=i))).permute(2, 0, 1)
            img = TF.resize(img, [self.size, self.size], antialias=True)
            out[i] = img.reshape(-1).numpy() / 255.0
        return out


class _Tfidf(TfidfVectorizer):
    """:class:`TfidfVectorizer` that gives one all-zero column instead of failing with "empty vocabulary"
    (texts of only 1-character words or punctuation have no word of two or more characters): the other
    features of the union, or the class prior, then carry the baseline."""

    def fit(self, raw_documents: Any, y: Any = None) -> _Tfidf:
        self.fit_transform(raw_documents, y)
        return self

    def fit_transform(self, raw_documents: Any, y: Any = None) -> Any:
        self.empty_vocabulary_ = False
        try:
            return super().fit_transform(raw_documents, y)
        except ValueError as exc:
            if "empty vocabulary" not in str(exc) and "no terms remain" not in str(exc):
                raise
        self.empty_vocabulary_ = True
        return sparse.csr_matrix((len(raw_documents), 1), dtype=np.float64)

    def transform(self, raw_documents: Any) -> Any:
        if getattr(self, "empty_vocabulary_", False):
            return sparse.csr_matrix((len(raw_documents), 1), dtype=np.float64)
        return super().transform(raw_documents)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        if getattr(self, "empty_vocabulary_", False):
            return np.asarray(["(empty vocabulary)"], dtype=object)
        return super().get_feature_names_out(input_features)

    def set_output(self, *, transform: str | None = None) -> _Tfidf:
        """Accepted, so that the union and the pipeline around it can be configured (scikit-learn refuses to
        configure a union with a step that lacks it); the output is a sparse matrix whatever is asked."""
        return self


def _as_text(X: Any) -> list[str]:
    return [str(t) for t in X]


def make_baseline(modality: str, *, random_state: int = 0) -> Pipeline:
    """The no-transfer baseline pipeline for ``modality`` ("text", "image" or "table"). Its steps give
    arrays (TF-IDF: sparse matrices) whatever scikit-learn's global ``transform_output`` says: they only
    pass them to each other, and a DataFrame cannot hold TF-IDF's sparse features."""
    head = LogisticRegression(C=1.0, max_iter=2000, random_state=random_state)
    if modality == "text":
        features = FeatureUnion([
            ("words", _Tfidf(ngram_range=(1, 2), min_df=1, sublinear_tf=True)),
            ("chars", _Tfidf(analyzer="char_wb", ngram_range=(1, 3), min_df=1, sublinear_tf=True)),
        ])
        return _plain_output(make_pipeline(FunctionTransformer(_as_text), features, head))
    if modality == "image":
        return _plain_output(make_pipeline(PixelFeatures(size=32), StandardScaler(), head))
    if modality == "table":
        return _plain_output(make_pipeline(StandardScaler(), head))
    raise DataError(f"no baseline for modality {modality!r}; expected text, image or table")


def _plain_output(pipeline: Pipeline) -> Pipeline:
    """``pipeline`` with every step that scikit-learn's ``set_output`` configures set to its default output
    (``clone`` keeps that setting), so that ``sklearn.set_config(transform_output="pandas")`` leaves it
    alone. Steps without ``set_output`` (:class:`PixelFeatures`, the classifier) give arrays anyway."""
    for _, step in pipeline.steps:
        if hasattr(step, "set_output"):
            step.set_output(transform="default")
    return pipeline


BASELINE_DESCRIPTIONS = {
    "text": "TF-IDF (word 1-2-grams + char 1-3-grams) + logistic regression",
    "image": "raw pixels (32x32 RGB, standardised) + logistic regression",
    "table": "the features themselves (standardised) + logistic regression",
}
