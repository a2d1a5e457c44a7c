"""scikit-learn wrappers around the reweighting and mapping functions.

All adapters follow the ``X, y, sample_domain`` convention: ``fit(X, y=None, *, sample_domain)`` sees
source rows (``sample_domain > 0``) and target rows (``< 0``) together; ``__init__`` only stores
parameters, so :func:`sklearn.base.clone` and grid search work. ``y`` is accepted and ignored.

scikit-learn's metadata routing is not used, so a plain :class:`sklearn.pipeline.Pipeline` passes
``sample_domain`` to an adapter inside it only as a fit parameter (``pipe.fit(X, adapter__sample_domain=sd)``)
and then fits its later steps on all rows, target rows included. To train an estimator after an adapter,
use :class:`~transferkit.adaptation.DAPipeline` / :class:`~transferkit.adaptation.ReweightedClassifier`,
which take ``sample_domain`` in ``fit`` and treat rows seen at prediction time as target rows.

Every adapter has scikit-learn's feature-name surface: fitted on a DataFrame with string column names it
keeps ``feature_names_in_`` (and refuses other column names at ``transform``), and ``get_feature_names_out``
names its output (the input names for those that keep the columns, ``classname0, classname1, ...`` for new
components), so ``Pipeline(...).set_output(transform="pandas")`` gives DataFrames.
"""

from __future__ import annotations

from typing import Any, Literal, Self

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    OneToOneFeatureMixin,
    TransformerMixin,
)
from sklearn.utils.validation import check_is_fitted, validate_data

from ..data._check import TableTypeError, in_fitted_order, table_problem
from ..errors import DataError, error_cause
from ._domain import check_domains, check_transform_input
from ._mapping import (
    SubspaceAlignment,
    TransferComponents,
    _fit_coral,
    _fit_subspace_alignment,
    _fit_tca,
)
from ._reweight import discriminator_weights, kliep_weights, kmm_weights

__all__ = [
    "BaseReweighter",
    "CORALAdapter",
    "DiscriminatorReweighter",
    "KLIEPReweighter",
    "KMMReweighter",
    "SubspaceAlignmentAdapter",
    "TCAAdapter",
]


# --- Feature names -----------------------------------------------------------------------------------------


def _record_input(estimator: BaseEstimator, X: Any) -> None:
    """scikit-learn's record of the fitted input (``X`` validated already): ``n_features_in_`` and, for a
    DataFrame with string column names, ``feature_names_in_`` (read by ``get_feature_names_out`` and
    ``set_output``); a refit on rows without names forgets earlier ones."""
    try:
        validate_data(estimator, X, reset=True, skip_check_array=True)
    except TypeError as exc:  # column names of mixed types
        raise TableTypeError(f"X cannot be read as a table: {error_cause(exc)}") from exc


def _in_fitted_columns(estimator: BaseEstimator, X: Any) -> Any:
    """``X`` at transform time: a DataFrame with the fitted column names in another order is reordered, one
    with other names is refused (DataError naming them); rows without names (arrays) pass as they are."""
    names = getattr(estimator, "feature_names_in_", None)
    if names is None or not hasattr(X, "columns"):
        return X
    X = in_fitted_order(estimator, X)
    if [str(c) for c in X.columns] != [str(n) for n in names]:
        problem = table_problem(estimator, X, reset=False)
        raise DataError(problem or f"X has the columns {[str(c) for c in X.columns]} but "
                        f"{type(estimator).__name__} was fitted on {[str(n) for n in names]}")
    return X


# --- Reweighting -----------------------------------------------------------------------------------------


class BaseReweighter(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Computes importance weights for source rows; the features pass through unchanged.

    After ``fit``, ``weights_`` holds one weight per row of the fitted ``X``: the importance weight on
    source rows, 0 on target rows, ready to hand to the next estimator as ``sample_weight``. The output
    columns are the input columns (``get_feature_names_out`` gives the input names).
    """

    def _source_weights(self, Xs: NDArray[np.float64], Xt: NDArray[np.float64]) -> NDArray[np.float64]:
        raise NotImplementedError

    def compute_weights(self, X: ArrayLike, sample_domain: ArrayLike | None) -> NDArray[np.float64]:
        """Weights for the rows of ``X`` (source rows weighted, target rows 0), without fitting.

        The weights are computed afresh from these rows (the methods are transductive: a weight exists
        for a source row only relative to a given target sample); fitted state is left unchanged.
        """
        Xs, Xt, source_mask = check_domains(X, sample_domain)
        weights = np.zeros(source_mask.shape[0])
        weights[source_mask] = self._source_weights(Xs, Xt)
        return weights

    def fit(
        self, X: ArrayLike, y: ArrayLike | None = None, *, sample_domain: ArrayLike | None = None
    ) -> Self:
        """Compute ``weights_`` for the rows of ``X``; ``y`` is ignored. Returns self."""
        self.weights_ = self.compute_weights(X, sample_domain)
        _record_input(self, X)
        return self

    def transform(self, X: ArrayLike, sample_domain: ArrayLike | None = None) -> NDArray[np.float64]:
        """``X`` unchanged (validated, as floats); reweighting does not move features."""
        check_is_fitted(self, "weights_")
        arr, _ = check_transform_input(_in_fitted_columns(self, X), sample_domain, self.n_features_in_)
        return arr

    def fit_transform(
        self, X: ArrayLike, y: ArrayLike | None = None, *, sample_domain: ArrayLike | None = None
    ) -> NDArray[np.float64]:
        """Fit, then return ``X`` unchanged; the weights are in ``weights_``."""
        return self.fit(X, y, sample_domain=sample_domain).transform(X, sample_domain)


class KMMReweighter(BaseReweighter):
    """Kernel Mean Matching weights (Huang et al., NIPS 2006); see :func:`kmm_weights`.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal(0, 1, (30, 2)), rng.normal(1, 1, (20, 2))])
    >>> sd = np.r_[np.ones(30), -np.ones(20)]
    >>> w = KMMReweighter().fit(X, sample_domain=sd).weights_
    >>> w.shape, bool(np.all(w[30:] == 0))
    ((50,), True)
    """

    def __init__(
        self, *, kernel_bandwidth: float | None = None, B: float = 1000.0, eps: float | None = None
    ) -> None:
        self.kernel_bandwidth = kernel_bandwidth
        self.B = B
        self.eps = eps

    def _source_weights(self, Xs: NDArray[np.float64], Xt: NDArray[np.float64]) -> NDArray[np.float64]:
        return kmm_weights(Xs, Xt, kernel_bandwidth=self.kernel_bandwidth, B=self.B, eps=self.eps)


class KLIEPReweighter(BaseReweighter):
    """KLIEP weights (Sugiyama et al., NIPS 2007); see :func:`kliep_weights`."""

    def __init__(
        self, *, n_centers: int = 100, sigmas: ArrayLike | None = None, cv: int = 5, random_state: int = 0
    ) -> None:
        self.n_centers = n_centers
        self.sigmas = sigmas
        self.cv = cv
        self.random_state = random_state

    def _source_weights(self, Xs: NDArray[np.float64], Xt: NDArray[np.float64]) -> NDArray[np.float64]:
        return kliep_weights(
            Xs, Xt, n_centers=self.n_centers, sigmas=self.sigmas, cv=self.cv, random_state=self.random_state
        )


class DiscriminatorReweighter(BaseReweighter):
    """Domain-classifier density-ratio weights (Bickel et al., ICML 2007); see :func:`discriminator_weights`."""

    def __init__(
        self, *, clip: tuple[float, float] = (0.01, 100.0), cv: int = 5, C: float = 1.0, random_state: int = 0
    ) -> None:
        self.clip = clip
        self.cv = cv
        self.C = C
        self.random_state = random_state

    def _source_weights(self, Xs: NDArray[np.float64], Xt: NDArray[np.float64]) -> NDArray[np.float64]:
        return discriminator_weights(
            Xs, Xt, clip=self.clip, cv=self.cv, C=self.C, random_state=self.random_state
        )


# --- Mapping -----------------------------------------------------------------------------------------------


class _MappingAdapter(TransformerMixin, BaseEstimator):
    """Learns a map from source and target rows; ``transform`` applies the map of each row's domain.

    At prediction time the domain is usually unknown and the rows are the target's: ``sample_domain``
    None means every row is treated as target.
    """

    def fit(
        self, X: ArrayLike, y: ArrayLike | None = None, *, sample_domain: ArrayLike | None = None
    ) -> Self:
        raise NotImplementedError

    def transform(self, X: ArrayLike, sample_domain: ArrayLike | None = None) -> NDArray[np.float64]:
        raise NotImplementedError

    def fit_transform(
        self, X: ArrayLike, y: ArrayLike | None = None, *, sample_domain: ArrayLike | None = None
    ) -> NDArray[np.float64]:
        """Fit on ``X`` and map its rows, each with its own domain's map."""
        return self.fit(X, y, sample_domain=sample_domain).transform(X, sample_domain)


class CORALAdapter(OneToOneFeatureMixin, _MappingAdapter):
    """CORAL (Sun, Feng & Saenko, AAAI 2016); see :func:`coral`.

    Source rows map to ``X @ coral_matrix_``; target rows are left as they are. The output keeps the input
    columns (recoloured), so ``get_feature_names_out`` gives the input names.
    """

    def __init__(self, *, eps: float = 1.0) -> None:
        self.eps = eps

    def fit(
        self, X: ArrayLike, y: ArrayLike | None = None, *, sample_domain: ArrayLike | None = None
    ) -> Self:
        Xs, Xt, _ = check_domains(X, sample_domain)
        self.coral_matrix_ = _fit_coral(Xs, Xt, float(self.eps))
        _record_input(self, X)
        return self

    def transform(self, X: ArrayLike, sample_domain: ArrayLike | None = None) -> NDArray[np.float64]:
        check_is_fitted(self, "coral_matrix_")
        arr, source = check_transform_input(_in_fitted_columns(self, X), sample_domain, self.n_features_in_)
        out = arr.copy()
        out[source] = arr[source] @ self.coral_matrix_
        return out


class SubspaceAlignmentAdapter(ClassNamePrefixFeaturesOutMixin, _MappingAdapter):
    """Subspace Alignment (Fernando et al., ICCV 2013); see :func:`subspace_alignment`.

    Source rows map to ``(X - mean_source_) @ basis_source_ @ alignment_``, target rows to
    ``(X - mean_target_) @ basis_target_``; the output has ``n_components_`` columns, named
    ``subspacealignmentadapter0``, ``subspacealignmentadapter1``, ... by ``get_feature_names_out``.

    ``n_components`` is the number of PCA directions per domain, an integer from 1 to ``min(n_features,
    n_source, n_target)`` (a DataError otherwise, also for a bool or a float); None takes as many as the data
    allows, up to :data:`MAX_AUTO_COMPONENTS` (what ``DomainAdaptClassifier(method="sa")`` uses). The
    function :func:`subspace_alignment` follows the same rule.
    """

    def __init__(self, *, n_components: int | None = 2) -> None:
        self.n_components = n_components

    def fit(
        self, X: ArrayLike, y: ArrayLike | None = None, *, sample_domain: ArrayLike | None = None
    ) -> Self:
        Xs, Xt, _ = check_domains(X, sample_domain)
        fitted = _fit_subspace_alignment(Xs, Xt, self.n_components)
        self.n_components_ = int(fitted.alignment.shape[1])
        self.mean_source_ = fitted.mean_source
        self.basis_source_ = fitted.basis_source
        self.mean_target_ = fitted.mean_target
        self.basis_target_ = fitted.basis_target
        self.alignment_ = fitted.alignment
        _record_input(self, X)
        return self

    @property
    def _n_features_out(self) -> int:
        """The output width, for ``get_feature_names_out`` (an AttributeError before ``fit``)."""
        return self.n_components_

    def transform(self, X: ArrayLike, sample_domain: ArrayLike | None = None) -> NDArray[np.float64]:
        check_is_fitted(self, "alignment_")
        arr, source = check_transform_input(_in_fitted_columns(self, X), sample_domain, self.n_features_in_)
        fitted = SubspaceAlignment(
            self.mean_source_, self.basis_source_, self.mean_target_, self.basis_target_, self.alignment_
        )
        out = np.empty((arr.shape[0], self.alignment_.shape[1]))
        out[source] = fitted.map_source(arr[source])
        out[~source] = fitted.map_target(arr[~source])
        return out


class TCAAdapter(ClassNamePrefixFeaturesOutMixin, _MappingAdapter):
    """Transfer Component Analysis (Pan et al., IEEE TNN 2011); see :func:`tca`.

    Both domains share one map: new rows are embedded as ``k(X, X_fit_) @ projection_``, the kernel
    against the fitted rows, so ``sample_domain`` does not change the result. Fitting is O(n^3) in the
    number of fitted rows; keep it to a few thousand. The output columns are named ``tcaadapter0``,
    ``tcaadapter1``, ... by ``get_feature_names_out``.

    ``n_components`` is the embedding's width, an integer from 1 to ``n_source + n_target`` (a DataError
    otherwise, also for a bool or a float); None takes ``min(n_features, n_source + n_target)`` up to
    :data:`MAX_AUTO_COMPONENTS` (what ``DomainAdaptClassifier(method="tca")`` uses). The function
    :func:`tca` follows the same rule.
    """

    def __init__(
        self,
        *,
        n_components: int | None = 2,
        mu: float = 1.0,
        kernel: Literal["linear", "rbf"] = "linear",
        gamma: float | None = None,
    ) -> None:
        self.n_components = n_components
        self.mu = mu
        self.kernel = kernel
        self.gamma = gamma

    def fit(
        self, X: ArrayLike, y: ArrayLike | None = None, *, sample_domain: ArrayLike | None = None
    ) -> Self:
        Xs, Xt, _ = check_domains(X, sample_domain)
        fitted = _fit_tca(Xs, Xt, self.n_components, float(self.mu), self.kernel, self.gamma)
        self.n_components_ = int(fitted.projection.shape[1])
        self.X_fit_ = fitted.X_fit
        self.gamma_ = fitted.gamma
        self.projection_ = fitted.projection
        _record_input(self, X)
        return self

    @property
    def _n_features_out(self) -> int:
        """The output width, for ``get_feature_names_out`` (an AttributeError before ``fit``)."""
        return self.n_components_

    def transform(self, X: ArrayLike, sample_domain: ArrayLike | None = None) -> NDArray[np.float64]:
        check_is_fitted(self, "projection_")
        arr, _ = check_transform_input(_in_fitted_columns(self, X), sample_domain, self.n_features_in_)
        kernel: Literal["linear", "rbf"] = "rbf" if self.kernel == "rbf" else "linear"
        return TransferComponents(self.X_fit_, kernel, self.gamma_, self.projection_).transform(arr)
