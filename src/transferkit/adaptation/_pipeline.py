"""Meta-estimators that chain one adapter and one ordinary scikit-learn estimator.

``fit(X, y, *, sample_domain)`` fits the adapter on all rows (source and target), then the estimator on
the source rows only: on adapted features for a mapping adapter, or on the original features with the
adapter's weights as ``sample_weight`` for a reweighter. Target labels are never used for training (they
may be masked with -1/NaN). At prediction time the rows are treated as target rows.
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone, is_classifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.utils import TransformerTags, get_tags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, has_fit_parameter

from transferkit.errors import DataError

from ._domain import DomainSplit, check_transform_input, split_domains
from ._estimators import BaseReweighter, CORALAdapter, DiscriminatorReweighter

__all__ = ["DAPipeline", "ReweightedClassifier", "make_da_pipeline"]


def takes_sample_weight(estimator: Any) -> bool:
    """Whether :func:`fit_weighted` can hand ``estimator`` sample weights: its ``fit`` takes
    ``sample_weight``, or it is a :class:`~sklearn.pipeline.Pipeline` whose final step's does."""
    if isinstance(estimator, Pipeline):
        return has_fit_parameter(estimator.steps[-1][1], "sample_weight")
    return has_fit_parameter(estimator, "sample_weight")


def fit_name(estimator: Any) -> str:
    """``estimator``'s ``fit`` as an error names it: ``"SVC.fit"``, or a pipeline's final step's
    (``"the Pipeline's final step KNeighborsClassifier.fit"``), which is what must take ``sample_weight``."""
    if isinstance(estimator, Pipeline):
        return f"the Pipeline's final step {type(estimator.steps[-1][1]).__name__}.fit"
    return f"{type(estimator).__name__}.fit"


def fit_weighted(estimator: Any, X: NDArray[np.float64], y: NDArray[Any], weights: NDArray[np.float64], *,
                 needs: str = "reweighting") -> Any:
    """``estimator`` fitted with ``sample_weight=weights`` as a linear probe's head is
    (:func:`~transferkit.strategies._probe.fit_head`): in a pipeline every step that takes weights gets
    them, so a weight of 2 counts as a duplicated row. An estimator that takes none is a DataError saying
    that ``needs`` them."""
    from ..strategies._probe import fit_head

    if not takes_sample_weight(estimator):
        raise DataError(
            f"{fit_name(estimator)} does not accept sample_weight, which {needs} needs; "
            "use an estimator that does (e.g. LogisticRegression, or a Pipeline ending in one)."
        )
    return fit_head(estimator, X, y, weights)


def _delegates(method: str) -> Any:
    """``available_if`` check: the (fitted, else unfitted) inner estimator has ``method``."""

    def check(self: Any) -> bool:
        inner = getattr(self, "estimator_", None)
        if inner is None:
            inner = self._estimator()
        return hasattr(inner, method)

    return check


class ReweightedClassifier(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """A classifier trained on source rows weighted by a reweighter, to correct covariate shift.

    Importance weighting for covariate shift: Shimodaira, "Improving predictive inference under
    covariate shift by weighting the log-likelihood function", J. Statistical Planning and Inference,
    2000. The reweighter (KMM, KLIEP or a domain classifier) is fitted on all rows; ``estimator`` is then
    fitted on the source rows with ``sample_weight=reweighter_.weights_[source]``.

    Parameters
    ----------
    reweighter : BaseReweighter, default=None
        None uses :class:`DiscriminatorReweighter`.
    estimator : classifier accepting ``sample_weight`` in ``fit``, default=None
        None uses :class:`~sklearn.linear_model.LogisticRegression`. A
        :class:`~sklearn.pipeline.Pipeline` whose final step accepts it will do: every step that takes
        weights gets them.

    Examples
    --------
    >>> from transferkit.adaptation import KMMReweighter
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal(0, 1, (40, 2)), rng.normal(1, 1, (30, 2))])
    >>> y = np.r_[(X[:40, 0] > 0).astype(int), -np.ones(30, dtype=int)]  # target labels masked
    >>> clf = ReweightedClassifier(KMMReweighter()).fit(X, y, sample_domain=np.r_[np.ones(40), -np.ones(30)])
    >>> clf.predict(X[40:]).shape
    (30,)
    """

    def __init__(self, reweighter: BaseReweighter | None = None, estimator: Any = None) -> None:
        self.reweighter = reweighter
        self.estimator = estimator

    def _estimator(self) -> Any:
        return LogisticRegression() if self.estimator is None else self.estimator

    def fit(
        self, X: ArrayLike, y: ArrayLike | None = None, *, sample_domain: ArrayLike | None = None
    ) -> Self:
        split = split_domains(X, y, sample_domain)
        reweighter = clone(DiscriminatorReweighter() if self.reweighter is None else self.reweighter)
        if not isinstance(reweighter, BaseReweighter):
            raise DataError(f"reweighter must be a transferkit reweighter, got {type(reweighter).__name__}.")
        self.reweighter_ = reweighter.fit(X, sample_domain=sample_domain)
        weights = self.reweighter_.weights_[split.source_mask]
        self.estimator_ = fit_weighted(clone(self._estimator()), split.X_source, split.y_source, weights)
        self.classes_ = self.estimator_.classes_
        self.n_features_in_ = split.X_source.shape[1]
        return self

    def _check(self, X: ArrayLike) -> NDArray[np.float64]:
        check_is_fitted(self, "estimator_")
        arr, _ = check_transform_input(X, None, self.n_features_in_)
        return arr

    # each method checks X (and that the model is fitted) before it touches ``estimator_``
    def predict(self, X: ArrayLike) -> NDArray[Any]:
        arr = self._check(X)
        return np.asarray(self.estimator_.predict(arr))

    @available_if(_delegates("predict_proba"))
    def predict_proba(self, X: ArrayLike) -> NDArray[np.float64]:
        arr = self._check(X)
        return np.asarray(self.estimator_.predict_proba(arr))

    @available_if(_delegates("decision_function"))
    def decision_function(self, X: ArrayLike) -> NDArray[np.float64]:
        arr = self._check(X)
        return np.asarray(self.estimator_.decision_function(arr))


class DAPipeline(MetaEstimatorMixin, BaseEstimator):
    """One domain adapter followed by one estimator, fitted with ``sample_domain``.

    ``fit`` fits ``adapter`` on all rows, then ``estimator`` on the source rows with ``y[source]``:
    on the adapted source rows for a mapping adapter (CORAL, SA, TCA), on the original source rows with
    ``sample_weight`` for a reweighter. ``predict``, ``predict_proba`` and ``score`` adapt ``X`` as target
    rows (or as given by ``sample_domain``) and delegate to the fitted estimator.

    Parameters
    ----------
    adapter : adapter, default=None
        A transferkit adapter; None uses :class:`CORALAdapter`.
    estimator : estimator, default=None
        Any scikit-learn estimator (after a reweighter it must accept ``sample_weight``, or be a
        :class:`~sklearn.pipeline.Pipeline` whose final step does); None uses
        :class:`~sklearn.linear_model.LogisticRegression`.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal(0, 1, (40, 2)), rng.normal(0, 3, (30, 2))])
    >>> y = np.r_[(X[:40, 0] > 0).astype(int), -np.ones(30, dtype=int)]
    >>> pipe = make_da_pipeline(CORALAdapter(), LogisticRegression())
    >>> pipe.fit(X, y, sample_domain=np.r_[np.ones(40), -np.ones(30)]).predict(X[40:]).shape
    (30,)
    """

    def __init__(self, adapter: Any = None, estimator: Any = None) -> None:
        self.adapter = adapter
        self.estimator = estimator

    def _estimator(self) -> Any:
        return LogisticRegression() if self.estimator is None else self.estimator

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        inner = get_tags(self._estimator())
        tags.estimator_type = inner.estimator_type
        tags.classifier_tags = inner.classifier_tags
        tags.regressor_tags = inner.regressor_tags
        # ``transform`` gives the adapted features (float64), so scikit-learn's checks see a transformer too
        tags.transformer_tags = TransformerTags(preserves_dtype=["float64"])
        return tags

    def _split(self, X: ArrayLike, y: ArrayLike | None, sample_domain: ArrayLike | None) -> DomainSplit:
        # Label checks (target labels within the source classes) only make sense for classifiers.
        return split_domains(X, y, sample_domain, check_target_labels=is_classifier(self._estimator()))

    def fit(
        self, X: ArrayLike, y: ArrayLike | None = None, *, sample_domain: ArrayLike | None = None
    ) -> Self:
        split = self._split(X, y, sample_domain)
        adapter = clone(CORALAdapter() if self.adapter is None else self.adapter)
        self.adapter_ = adapter.fit(X, sample_domain=sample_domain)
        estimator = clone(self._estimator())
        if isinstance(self.adapter_, BaseReweighter):
            weights = self.adapter_.weights_[split.source_mask]
            self.estimator_ = fit_weighted(estimator, split.X_source, split.y_source, weights)
        else:
            Xs = self.adapter_.transform(
                split.X_source, sample_domain=np.ones(split.X_source.shape[0], dtype=int)
            )
            self.estimator_ = estimator.fit(Xs, split.y_source)
        self.n_features_in_ = split.X_source.shape[1]
        return self

    @property
    def classes_(self) -> NDArray[Any]:
        check_is_fitted(self, "estimator_")
        return np.asarray(self.estimator_.classes_)

    @property
    def feature_names_in_(self) -> NDArray[Any]:
        """The column names the adapter was fitted on (only when fitted on a DataFrame with string names)."""
        check_is_fitted(self, "adapter_")
        return np.asarray(self.adapter_.feature_names_in_)

    def get_feature_names_out(self, input_features: ArrayLike | None = None) -> NDArray[Any]:
        """The names of :meth:`transform`'s output columns: the adapter's (``input_features`` as for it)."""
        check_is_fitted(self, "adapter_")
        return np.asarray(self.adapter_.get_feature_names_out(input_features))

    def transform(self, X: ArrayLike, sample_domain: ArrayLike | None = None) -> NDArray[np.float64]:
        """``X`` through the fitted adapter (rows are target rows unless ``sample_domain`` says otherwise)."""
        check_is_fitted(self, "adapter_")
        return np.asarray(self.adapter_.transform(X, sample_domain), dtype=np.float64)

    # each method transforms X (which checks the pipeline is fitted) before it touches ``estimator_``
    def predict(self, X: ArrayLike, sample_domain: ArrayLike | None = None) -> NDArray[Any]:
        Z = self.transform(X, sample_domain)
        return np.asarray(self.estimator_.predict(Z))

    @available_if(_delegates("predict_proba"))
    def predict_proba(self, X: ArrayLike, sample_domain: ArrayLike | None = None) -> NDArray[np.float64]:
        Z = self.transform(X, sample_domain)
        return np.asarray(self.estimator_.predict_proba(Z))

    @available_if(_delegates("decision_function"))
    def decision_function(self, X: ArrayLike, sample_domain: ArrayLike | None = None) -> NDArray[np.float64]:
        Z = self.transform(X, sample_domain)
        return np.asarray(self.estimator_.decision_function(Z))

    def score(self, X: ArrayLike, y: ArrayLike, sample_domain: ArrayLike | None = None) -> float:
        """The estimator's own score (accuracy for classifiers, R^2 for regressors) on adapted ``X``."""
        Z = self.transform(X, sample_domain)
        return float(self.estimator_.score(Z, y))


def make_da_pipeline(adapter: Any = None, estimator: Any = None) -> DAPipeline:
    """A :class:`DAPipeline` of ``adapter`` then ``estimator`` (defaults: CORAL, logistic regression)."""
    return DAPipeline(adapter, estimator)
