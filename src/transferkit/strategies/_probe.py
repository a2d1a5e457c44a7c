"""Linear probe: frozen backbone features (cached) and a new scikit-learn head."""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from sklearn import get_config
from sklearn.base import BaseEstimator, clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import has_fit_parameter

from .._blas import one_blas_thread
from ..features import FeatureExtractor
from ._base import FitContext, Strategy
from ._serialize import load_sklearn, save_sklearn


def default_head() -> Pipeline:
    """Standardised features + L2 logistic regression: the usual linear probe. Standardising makes one
    regularisation strength sensible across backbones whose features differ in scale by orders of
    magnitude (unit-norm sentence embeddings vs. ReLU CNN activations)."""
    return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000))


@contextlib.contextmanager
def weights_requested(head: BaseEstimator) -> Iterator[None]:
    """Within the block, ``head`` and every estimator inside it whose ``fit`` takes ``sample_weight``
    (pipeline steps, a calibrated classifier's estimator) ask for the weights in ``fit``; their own
    requests come back afterwards.

    With scikit-learn's metadata routing enabled (``sklearn.set_config(enable_metadata_routing=True)``) a
    meta-estimator hands ``sample_weight`` only to the estimators that asked for it, and refuses the
    ``step__sample_weight`` keywords that route it without; asking on each of them routes the weights to
    the same estimators as with routing off. The requests are not kept: a fitted head that holds them
    cannot be saved (skops recurses forever on scikit-learn's request objects).
    """
    inner = [v for v in head.get_params(deep=True).values() if isinstance(v, BaseEstimator)]
    asked = [est for est in (head, *inner) if has_fit_parameter(est, "sample_weight") and hasattr(est, "set_fit_request")]
    # scikit-learn keeps an estimator's requests in ``_metadata_request`` (``clone`` copies them from there)
    before = [copy.deepcopy(vars(est).get("_metadata_request")) for est in asked]
    try:
        for est in asked:
            est.set_fit_request(sample_weight=True)
        yield
    finally:
        for est, requests in zip(asked, before, strict=True):
            if requests is None:
                vars(est).pop("_metadata_request", None)
            else:
                est._metadata_request = requests


def fit_head(head: BaseEstimator, features: Any, y: np.ndarray, sample_weight: np.ndarray | None) -> BaseEstimator:
    """Fit ``head`` on ``features`` (or any input it reads: the baseline pipelines take texts and images)
    with ``sample_weight``; in a pipeline every step that accepts weights gets them (a
    weighted scaler too), so a weight of 2 means the same as a duplicated example. With metadata routing
    enabled the weights reach the same steps, through fit requests set while fitting
    (:func:`weights_requested`)."""
    with one_blas_thread():  # small dense fits: faster on one thread (see transferkit._blas)
        if sample_weight is None:
            return head.fit(features, y)
        routing = bool(get_config().get("enable_metadata_routing", False))
        if isinstance(head, Pipeline):
            _, last = head.steps[-1]
            if has_fit_parameter(last, "sample_weight"):
                if routing:
                    with weights_requested(head):
                        return head.fit(features, y, sample_weight=sample_weight)
                routed = {f"{n}__sample_weight": sample_weight for n, step in head.steps
                          if step not in (None, "passthrough") and has_fit_parameter(step, "sample_weight")}
                return head.fit(features, y, **routed)
        elif has_fit_parameter(head, "sample_weight"):
            if routing:  # a meta-estimator head routes them on to its estimator
                with weights_requested(head):
                    return head.fit(features, y, sample_weight=sample_weight)
            return head.fit(features, y, sample_weight=sample_weight)
    raise ValueError(f"head {type(head).__name__} does not accept sample_weight")


def _head_name(head: BaseEstimator) -> str:
    return type(head).__name__ if not isinstance(head, Pipeline) else " -> ".join(type(s).__name__ for _, s in head.steps)


class ProbeModel:
    """Fitted linear probe: an extractor and a head on its features.

    Several tasks (``task_heads``, one fitted head per task, :class:`~transferkit.MultiTaskClassifier`): each
    reads the same frozen features; ``predict_proba`` puts their probabilities side by side and ``head`` is
    the first task's.
    """

    kind: ClassVar[str] = "probe"

    def __init__(self, extractor: FeatureExtractor, head: BaseEstimator,
                 task_heads: list[BaseEstimator] | None = None) -> None:
        self.extractor = extractor
        self.head = head
        self.task_heads = task_heads

    def features(self, X: Any) -> np.ndarray:
        return self.extractor.transform(X)

    def predict_proba(self, X: Any) -> np.ndarray:
        features = self.features(X)
        heads = self.task_heads or [self.head]
        return np.hstack([np.asarray(h.predict_proba(features), dtype=np.float64) for h in heads])

    def save(self, folder: Path) -> dict[str, Any]:
        if self.task_heads is None:
            save_sklearn(self.head, folder / "head.skops")
            return {"head_file": "head.skops"}
        files = [f"head-{t}.skops" for t in range(len(self.task_heads))]
        for head, name in zip(self.task_heads, files, strict=True):
            save_sklearn(head, folder / name)
        return {"task_head_files": files}

    def summary(self) -> dict[str, Any]:
        return {"head": _head_name(self.head)}


class LinearProbe(Strategy):
    """Train only a new head on frozen, cached backbone features.

    Parameters
    ----------
    head : scikit-learn classifier, optional
        Any classifier with ``predict_proba``; default :func:`default_head` (standardise + logistic
        regression). Searchable: ``strategy__head__logisticregression__C``.

    Examples
    --------
    >>> from sklearn.svm import SVC
    >>> LinearProbe(head=SVC(probability=True)).get_params()["head"]
    SVC(probability=True)
    """

    cli_name = "linear"
    fits_several_tasks = True

    def __init__(self, *, head: BaseEstimator | None = None) -> None:
        self.head = head

    def fit_transfer(self, ctx: FitContext, X: Any, y: np.ndarray, sample_weight: np.ndarray | None = None) -> ProbeModel:
        extractor = ctx.extractor()
        if ctx.in_features is not None:
            features = extractor.fit_transform(X)
        else:
            features = extractor.fit(X).transform(X)
        head = clone(self.head) if self.head is not None else default_head()
        if not hasattr(head, "predict_proba"):
            from ..errors import StrategyError

            raise StrategyError(f"the probe head {type(head).__name__} has no predict_proba")
        if ctx.task_sizes is None:
            fit_head(head, features, y, sample_weight)
            return ProbeModel(extractor, head)
        heads = []  # one head per task, on the rows labelled for it
        for t in range(len(ctx.task_sizes)):
            rows = y[:, t] >= 0
            heads.append(fit_head(clone(head), features[rows], y[rows, t],
                                  None if sample_weight is None else sample_weight[rows]))
        return ProbeModel(extractor, heads[0], heads)

    def check_multitask(self, ctx: FitContext) -> None:
        """Several tasks: one head (a clone of ``head``) per task on the same frozen features."""

    def load_model(self, folder: Path, config: dict[str, Any], ctx: FitContext) -> ProbeModel:
        extractor = ctx.extractor()
        if ctx.in_features is not None:
            extractor.fit(np.zeros((1, ctx.in_features)))
        else:
            extractor.backbone_ = ctx.shared_backbone()
            extractor.n_features_out_ = extractor.backbone_.num_features
        if "task_head_files" in config:
            heads = [load_sklearn(folder / name) for name in config["task_head_files"]]
            return ProbeModel(extractor, heads[0], heads)
        return ProbeModel(extractor, load_sklearn(folder / config["head_file"]))
