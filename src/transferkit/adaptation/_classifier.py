"""``DomainAdaptClassifier``: one estimator for every adaptation method, on images, texts or tables."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, Self

import numpy as np
from numpy.typing import NDArray
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted

from ..backbones._providers import resolve_seed
from ..backbones._registry import check_backbone_options
from ..errors import DataError, StrategyError
from ..features._extractor import check_batch_size, check_cache, resolve_device
from ..strategies._base import Flag, Number, Rule, check_params
from ..training import UNLABELED
from ._choose import choose_method, score_methods
from ._deep import DeepDA
from ._domain import _masked, as_labels, split_domain_labels, typed_labels
from ._estimators import BaseReweighter, _MappingAdapter
from ._methods import METHODS, SOURCE_ONLY, default_candidates, make_method
from ._pipeline import DAPipeline, fit_name, takes_sample_weight
from ._scorers import SCORERS
from ._tradaboost import TrAdaBoostClassifier

__all__ = ["DomainAdaptClassifier"]


def _default_estimator() -> LogisticRegression:
    return LogisticRegression(max_iter=1000)


#: What the plain parameters of DomainAdaptClassifier accept (the others have checks of their own).
PARAMS: dict[str, Rule] = {
    "finetune": Flag(),
    "standardize": Flag(),
    "n_components": Number(low=1, integer=True, optional=True),
}
#: What ``method`` may be besides a name: the components DomainAdaptClassifier knows how to fit.
COMPONENTS = (BaseReweighter, _MappingAdapter, TrAdaBoostClassifier, DeepDA)


class DomainAdaptClassifier(ClassifierMixin, BaseEstimator):
    """A classifier trained on labelled source rows and unlabelled target rows, in the
    ``X, y, sample_domain`` convention (positive = source, negative = target; target labels masked).

    Raw items (images, texts or feature rows) go through ``backbone``; the features (cached on disk)
    then meet the adaptation ``method``:

    - ``"source-only"``: logistic regression on the source features (the baseline);
    - ``"coral"``, ``"sa"``, ``"tca"`` (feature mappings) and ``"kmm"``, ``"kliep"``, ``"discriminator"``
      (source reweighting): a :class:`DAPipeline` with ``estimator``;
    - ``"tradaboost"``: :class:`TrAdaBoostClassifier` (needs a few labelled target rows);
    - ``"dann"``, ``"mmd"``, ``"deep-coral"``: :class:`DeepDA` trains a bottleneck and head over the frozen
      features with the alignment loss, or the whole backbone with ``finetune=True``;
    - ``"auto"``: every method of ``candidates`` is fitted on a source holdout split and the best by the
      ``selection`` scorer (no target labels needed) is refitted on all rows; source-only wins ties.

    ``method`` may also be a component object (``CORALAdapter(eps=0.1)``, ``DeepDA(method="mmd",
    weight=0.3)``, ``TrAdaBoostClassifier(n_estimators=20)``), searchable as ``method__<param>``.

    Parameters
    ----------
    method : str or component, default="coral"
    backbone : str, default="identity"
        Feature extractor (``"identity"``: the rows are already features).
    estimator : classifier, default=None
        Classifier after shallow methods, and the learner TrAdaBoost boosts; None:
        ``LogisticRegression(max_iter=1000)``. It needs ``predict_proba`` (except with ``"tradaboost"``),
        and ``fit(..., sample_weight=...)`` for reweighting and TrAdaBoost: a classifier that takes it, or a
        :class:`~sklearn.pipeline.Pipeline` whose final step does (the weights then reach every step that
        takes them, as for a linear probe's head); deep methods train their own head and ignore it.
    candidates : list of str, default=None
        ``method="auto"``: the methods to choose from; None: all that apply.
    selection : {"dev", "dev-cv", "iwv", "entropy"}, default="dev"
        ``method="auto"``: the scorer that picks (see :mod:`transferkit.adaptation`'s scorers; "dev" is
        :class:`DEVScorer` with self-normalised weights, "dev-cv" DEV as published).
    finetune : bool, default=False
        Deep methods: train the backbone too (else only a bottleneck over its frozen features).
    standardize : bool, default=True
        Scale the frozen features to zero mean and unit variance over all fitted rows, source and target
        together (one affine map for both, so the shift between the domains is kept for the methods to
        correct; source-only statistics would blow up features that are nearly constant in the source
        but vary in the target).
    n_components : int, default=None
        Reduce the (standardized) frozen features to this many principal components, fitted on all rows
        of both domains, before any method; None keeps every feature. Wide features (1280 for
        EfficientNet) make CORAL, the kernels and the classifier slow and noisy on small samples.
    image_size, max_length, batch_size, cache, device, random_state :
        As in :class:`~transferkit.TransferClassifier`.

    Attributes
    ----------
    classes_ : ndarray
    model_ : the fitted component (pipeline, classifier or network model)
    method_ : str or component, the method actually fitted (the choice, for ``"auto"``)
    selection_scores_ : dict, ``"auto"`` only: every candidate's scores
    X_target_ : the target rows seen in ``fit`` (used by the scorers); a DataFrame with the fitted column
        names when ``fit`` got one
    n_features_in_ : int, tables only: the width of the fitted rows
    feature_names_in_ : ndarray of str, tables fitted on a DataFrame with string column names only. Later
        DataFrames are read by these names, as in :class:`~transferkit.TransferClassifier`: the same
        columns in another order are reordered, missing or other columns are a DataError naming them

    ``score`` is the accuracy on the rows of ``y`` that hold a label: masked rows (``-1``, NaN or None, as
    in ``fit``: ``-1`` only when it is no class) are left out, so a cross-validation fold that mixes
    source and masked target rows scores its labelled rows only.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> Xs, Xt = rng.normal(0, 1, (60, 3)), rng.normal(0, 3, (40, 3))
    >>> X, y = np.vstack([Xs, Xt]), np.r_[(Xs[:, 0] > 0).astype(int), -np.ones(40, int)]
    >>> sd = np.r_[np.ones(60), -np.ones(40)]
    >>> DomainAdaptClassifier(method="coral").fit(X, y, sample_domain=sd).predict(Xt).shape
    (40,)
    """

    def __init__(
        self,
        *,
        method: Any = "coral",
        backbone: str = "identity",
        estimator: Any = None,
        candidates: list[str] | None = None,
        selection: str = "dev",
        finetune: bool = False,
        standardize: bool = True,
        n_components: int | None = None,
        image_size: int | None = None,
        max_length: int | None = None,
        batch_size: int = 64,
        cache: bool | str | Path = True,
        device: str = "auto",
        random_state: int = 0,
    ) -> None:
        self.method = method
        self.backbone = backbone
        self.estimator = estimator
        self.candidates = candidates
        self.selection = selection
        self.finetune = finetune
        self.standardize = standardize
        self.n_components = n_components
        self.image_size = image_size
        self.max_length = max_length
        self.batch_size = batch_size
        self.cache = cache
        self.device = device
        self.random_state = random_state

    # --- inputs and features -----------------------------------------------------------------------
    def _modality(self) -> str:
        from ..backbones import backbone_modality

        return backbone_modality(self.backbone)

    def _check_X(self, X: Any, *, reset: bool) -> Any:
        """``X`` checked as :class:`~transferkit.TransferClassifier` checks it: a table as float64 rows with
        ``n_features_in_`` / ``feature_names_in_`` recorded on ``reset`` and checked (a DataFrame's columns
        reordered by name) otherwise; images and texts as items."""
        modality = self._modality()
        if modality == "table":
            from ..data._check import check_table

            return check_table(self, X, reset=reset, dtype=np.float64)
        from ..data._check import check_input, forget_table_width

        if reset:
            forget_table_width(self)
        return check_input(X, modality)

    def domain_features(self, X: Any) -> NDArray[np.float64]:
        """Frozen backbone features of raw rows: what reweighting, mappings and the scorers see."""
        check_is_fitted(self, "classes_")
        return self._features(self._check_X(X, reset=False))

    def _features(self, X: Any) -> NDArray[np.float64]:
        """:meth:`domain_features` of rows :meth:`_check_X` checked already (checking a table again would
        take its array for rows without the fitted column names)."""
        F = np.asarray(X if self.extractor_ is None else self.extractor_.transform(X), dtype=np.float64)
        if self.scale_ is not None:
            F = (F - self.scale_[0]) / self.scale_[1]
        if self.pca_ is not None:
            F = np.asarray(self.pca_.transform(F), dtype=np.float64)
        return F

    def _context(self, n_features: int | None, *, frozen: bool) -> Any:
        from ..strategies import FitContext

        if frozen:
            return FitContext(backbone="identity", in_features=n_features, batch_size=self.batch_size, cache=False,
                              device=self.device, random_state=self.random_seed_, n_classes=len(self.classes_))
        return FitContext(backbone=self.backbone, image_size=self.image_size, max_length=self.max_length,
                          in_features=getattr(self, "n_features_in_", None), batch_size=self.batch_size,
                          cache=self.cache, device=self.device, random_state=self.random_seed_,
                          n_classes=len(self.classes_))

    # --- fitting ----------------------------------------------------------------------------------
    def fit(self, X: Any, y: Any = None, *, sample_domain: Any = None) -> Self:
        """Fit on source and target rows; target labels are masked (-1, NaN or None). Returns self."""
        candidates = self._check_params()  # every parameter before any data is read
        self.random_seed_ = resolve_seed(self.random_state)  # checked too; None draws a seed for this fit
        X = self._check_X(X, reset=True)
        dom, ys, yt, target_labelled = split_domain_labels(y, sample_domain, len(X))
        self.classes_ = np.unique(ys)
        if len(self.classes_) < 2:
            raise DataError(f"the source rows hold one class ({self.classes_[0]!r}); a classifier needs two")
        self.X_target_ = self._target_rows(X, dom < 0)
        self.method_ = self._resolve_method(X, y, dom, candidates, has_target_labels=bool(target_labelled.any()))
        labels = as_labels(y)
        self.extractor_ = None
        if self.backbone != "identity":
            from ..features import FeatureExtractor

            self.extractor_ = FeatureExtractor(
                backbone=self.backbone, image_size=self.image_size, max_length=self.max_length,
                batch_size=self.batch_size, cache=self.cache, device=self.device, random_state=self.random_seed_,
            ).set_output(transform="default").fit(X[:1])  # arrays, whatever the global transform_output
        self.scale_: tuple[NDArray[np.float64], NDArray[np.float64]] | None = None
        self.pca_: Any = None
        if not (self.finetune and self._is_deep(self.method_)):
            self._fit_preprocessing(X)
        component = self.method_
        if isinstance(component, str):
            component = make_method(component, self._feature_width(X))
        if isinstance(component, DeepDA):
            self.model_ = self._fit_deep(clone(component), X, labels, dom)
            return self
        F = self._features(X)
        if component is None:
            self.model_ = self._estimator().fit(F[dom > 0], ys)  # ys: the source labels, in the rows' order
        elif isinstance(component, BaseReweighter | _MappingAdapter):
            self.model_ = DAPipeline(clone(component), self._estimator())
            self.model_.fit(F, labels, sample_domain=dom)
        else:  # TrAdaBoostClassifier (the components are checked in _check_params)
            booster = clone(component)
            if self.estimator is not None:  # the learner to boost; one the booster has itself is refused
                booster.set_params(estimator=self._estimator())
            self.model_ = booster.fit(F, labels, sample_domain=dom)
        return self

    def _target_rows(self, X: Any, is_target: NDArray[np.bool_]) -> Any:
        """The target rows of the checked ``X``, kept as ``X_target_``: as a DataFrame with the fitted column
        names when there are such (the scorers hand them back to :meth:`domain_features`, which reads a
        table fitted on a DataFrame by its column names)."""
        rows = X[is_target]
        names = getattr(self, "feature_names_in_", None)
        if names is None:
            return rows
        import pandas as pd

        return pd.DataFrame(rows, columns=names)

    def _estimator(self) -> Any:
        """A fresh copy of ``estimator`` (or of the default logistic regression)."""
        return clone(_default_estimator() if self.estimator is None else self.estimator)

    # --- parameter checks -------------------------------------------------------------------------------
    def _check_params(self) -> list[str] | None:
        """Refuse a bad parameter with a DataError naming it, before any data is read or any work done.
        Returns the candidate method names (None: the default ones)."""
        try:
            check_params(self, PARAMS)
        except StrategyError as exc:  # the strategies' rules and wording, as adaptation's DataError
            raise DataError(str(exc)) from None
        check_batch_size(self.batch_size)
        check_backbone_options(self.backbone, image_size=self.image_size, max_length=self.max_length)
        resolve_device(self.device)
        check_cache(self.cache)
        if not isinstance(self.selection, str) or self.selection not in SCORERS:
            raise DataError(f"unknown selection score {self.selection!r}; choose from: {', '.join(SCORERS)}")
        candidates = self._check_candidates()
        self._check_method()
        self._check_estimator(candidates)
        return candidates

    def _check_candidates(self) -> list[str] | None:
        if self.candidates is None:
            return None
        if isinstance(self.candidates, str | bytes) or not isinstance(self.candidates, Iterable):
            raise DataError(f"candidates must be a list of method names such as ['coral', 'kmm'], got "
                            f"{self.candidates!r}")
        names = list(self.candidates)
        for name in names:
            if not isinstance(name, str):
                raise DataError(f"candidates must hold method names, got {name!r}")
            if name == "auto":
                raise DataError("'auto' cannot be one of its own candidates")
            make_method(name, 1)  # an unknown name fails here
        return names

    def _check_method(self) -> None:
        method = self.method
        if isinstance(method, str):
            if method != "auto":
                make_method(method, 1)  # an unknown name fails here
        elif isinstance(method, COMPONENTS):
            if isinstance(method, DeepDA):
                method._check()  # its own settings (a StrategyError, as for any strategy)
        else:
            raise DataError(f"method must be a method name ({', '.join(METHODS)}, auto) or an adapter, a "
                            f"reweighter, TrAdaBoostClassifier or DeepDA; got {type(method).__name__} {method!r:.60}")

    def _check_estimator(self, candidates: list[str] | None) -> None:
        """``estimator`` has what the methods that would fit it use: ``predict_proba`` (for this classifier's
        probabilities and the scorers), ``fit(sample_weight=...)`` for reweighting and TrAdaBoost."""
        est = self.estimator
        if est is None:
            return
        name = type(est).__name__
        if not all(hasattr(est, a) for a in ("fit", "predict", "get_params")):
            raise DataError(f"estimator must be a scikit-learn classifier such as LogisticRegression(), got {name} "
                            f"{est!r:.60}")
        if self.method == "auto":
            names = [SOURCE_ONLY, *(candidates if candidates is not None else default_candidates(True))]
            components = [make_method(n, 1) for n in names]
        else:
            components = [make_method(self.method, 1) if isinstance(self.method, str) else self.method]
        if isinstance(self.method, TrAdaBoostClassifier) and self.method.estimator is not None:
            raise DataError("the learner to boost is given twice: as estimator and as the TrAdaBoostClassifier's "
                            "estimator; give it once")
        needs_proba = [c for c in components if c is None or isinstance(c, BaseReweighter | _MappingAdapter)]
        if needs_proba and not hasattr(est, "predict_proba"):
            raise DataError(f"estimator {name} has no predict_proba, which DomainAdaptClassifier needs with method "
                            f"{self._method_name()} (its predictions and scorers use probabilities); use a "
                            "classifier that has it (for an SVC: CalibratedClassifierCV(SVC()))")
        weighted = [c for c in components if isinstance(c, BaseReweighter | TrAdaBoostClassifier)]
        if weighted and not takes_sample_weight(est):
            if self.method == "auto":
                remedy = "which the reweighting and TrAdaBoost candidates need; leave them out of candidates or use"
            else:
                what = "TrAdaBoost" if isinstance(weighted[0], TrAdaBoostClassifier) else "reweighting"
                remedy = f"which {what} needs; use"
            raise DataError(f"{fit_name(est)} does not accept sample_weight, {remedy} an estimator that does (e.g. "
                            "LogisticRegression, or a Pipeline ending in one)")

    def _method_name(self) -> str:
        return repr(self.method) if isinstance(self.method, str) else type(self.method).__name__

    def _fit_preprocessing(self, X: Any) -> None:
        """Standardization and PCA of the frozen features, on the rows of both domains."""
        if self.standardize:
            pooled = self._features(X)
            std = pooled.std(axis=0)
            self.scale_ = (pooled.mean(axis=0), np.where(std > 1e-12, std, 1.0))
        if self.n_components is not None:
            from sklearn.decomposition import PCA

            pooled = self._features(X)
            if not 1 <= self.n_components <= min(pooled.shape):
                raise DataError(f"n_components must be between 1 and {min(pooled.shape)} (rows and features), "
                                f"got {self.n_components!r}")
            pca = PCA(n_components=self.n_components, random_state=self.random_seed_)
            self.pca_ = pca.set_output(transform="default").fit(pooled)  # arrays, whatever the global config

    @staticmethod
    def _is_deep(method: Any) -> bool:
        return isinstance(method, DeepDA) or (isinstance(method, str) and isinstance(make_method(method, 1), DeepDA))

    def _feature_width(self, X: Any) -> int:
        if self.n_components is not None:
            return int(self.n_components)
        if self.extractor_ is None:
            return int(np.shape(X)[1])
        return int(self.extractor_.backbone_.num_features)

    def _resolve_method(self, X: Any, y: Any, dom: NDArray[np.int64], candidates: list[str] | None, *,
                        has_target_labels: bool) -> Any:
        """The method to fit (checked in :meth:`_check_params`): ``method`` itself, or auto's choice."""
        self.__dict__.pop("selection_scores_", None)  # an earlier fit's auto scores do not describe this one
        if self.method != "auto":
            # fitted state must not share the parameter object
            return self.method if isinstance(self.method, str) else clone(self.method)
        names = list(candidates) if candidates is not None else default_candidates(has_target_labels)
        if SOURCE_ONLY not in names:
            names.insert(0, SOURCE_ONLY)  # the guard: adapt only when a method scores above the baseline
        scored = score_methods(self, X, y, dom, names, random_state=self.random_seed_)
        self.selection_scores_ = scored.scores
        return choose_method(scored, by=self.selection, seed=self.random_seed_)

    def _fit_deep(self, strategy: DeepDA, X: Any, labels: NDArray[Any], dom: NDArray[np.int64]) -> Any:
        y_enc = np.full(len(labels), UNLABELED, dtype=np.int64)
        classes = set(self.classes_.tolist())
        # masked target labels (-1, NaN, None) are no class; a set test also works on mixed object arrays
        known = np.fromiter((v in classes for v in labels.tolist()), dtype=bool, count=len(labels))
        y_enc[known] = np.searchsorted(self.classes_, typed_labels(labels[known]))
        if self.finetune:
            self.deep_frozen_ = False
            ctx = self._context(None, frozen=False)
            return strategy.fit_domains(ctx, X, y_enc, dom)
        self.deep_frozen_ = True
        F = self._features(X).astype(np.float32)
        return strategy.fit_domains(self._context(F.shape[1], frozen=True), F, y_enc, dom)

    # --- prediction -----------------------------------------------------------------------------------
    def _deep_input(self, X: Any) -> Any:
        return self.domain_features(X).astype(np.float32) if self.deep_frozen_ else self._check_X(X, reset=False)

    def predict_proba(self, X: Any, sample_domain: Any = None) -> NDArray[np.float64]:
        """Class probabilities (columns in the order of ``classes_``); rows are target rows unless
        ``sample_domain`` says otherwise (it matters for the mappings CORAL and SA only)."""
        check_is_fitted(self, "model_")
        from ..strategies import NetModel

        if isinstance(self.model_, NetModel):
            return np.asarray(self.model_.predict_proba(self._deep_input(X)), dtype=np.float64)
        F = self.domain_features(X)
        if isinstance(self.model_, DAPipeline):
            return np.asarray(self.model_.predict_proba(F, sample_domain), dtype=np.float64)
        return np.asarray(self.model_.predict_proba(F), dtype=np.float64)

    def predict(self, X: Any, sample_domain: Any = None) -> NDArray[Any]:
        proba = self.predict_proba(X, sample_domain)  # checks the model is fitted first
        return np.asarray(self.classes_[np.argmax(proba, axis=1)])

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Accuracy on the rows of ``X`` whose label in ``y`` is known.

        Rows masked as in ``fit`` (``-1``, NaN or None; ``-1`` only when it is no class of ``classes_``)
        have no label to be right or wrong about and are left out, as are their ``sample_weight``; so
        scikit-learn's default scoring of a fold that mixes source rows and masked target rows gives the
        accuracy on its labelled rows. A label that is no class counts as an error.

        Raises
        ------
        DataError
            ``y`` (or ``sample_weight``) and ``X`` of different lengths, or no labelled row at all.
        """
        from sklearn.metrics import accuracy_score

        predicted = self.predict(X)  # X checked as predict checks it; the masked rows are dropped below
        labels = np.asarray(y)
        n = len(predicted)
        if labels.shape != (n,):
            raise DataError(f"y has shape {labels.shape}, but X has {n} rows; give one label per row")
        labelled = ~_masked(labels, np.asarray(self.classes_, dtype=object))
        if not labelled.any():
            raise DataError(f"y holds no label to score: all {n} rows are masked (-1, NaN or None); score rows "
                            "whose true labels you know")
        weights = None
        if sample_weight is not None:
            weights = np.asarray(sample_weight)
            if weights.shape != (n,):
                raise DataError(f"sample_weight has shape {weights.shape}, but X has {n} rows")
            weights = weights[labelled]
        truth = typed_labels(as_labels(labels[labelled]))
        return float(accuracy_score(truth, predicted[labelled], sample_weight=weights))

    def adapted_features(self, X: Any, sample_domain: Any = None) -> NDArray[np.float64]:
        """The representation the final classifier sees: mapped features (CORAL, SA, TCA), the
        bottleneck of a deep method, or the backbone features (reweighting, TrAdaBoost, source-only)."""
        check_is_fitted(self, "model_")
        from ..features import batched_inference
        from ..strategies import NetModel

        if isinstance(self.model_, NetModel):
            net = self.model_.net
            return np.asarray(batched_inference(net.backbone, net.backbone, self._deep_input(X),
                                                batch_size=self.batch_size), dtype=np.float64)
        F = self.domain_features(X)
        if isinstance(self.model_, DAPipeline) and isinstance(self.model_.adapter_, _MappingAdapter):
            return self.model_.transform(F, sample_domain)
        return F

    def source_weights(self) -> NDArray[np.float64] | None:
        """Importance weights of the fitted rows for a reweighting method (0 on target rows), else None."""
        check_is_fitted(self, "model_")
        if isinstance(self.model_, DAPipeline) and isinstance(self.model_.adapter_, BaseReweighter):
            return np.asarray(self.model_.adapter_.weights_)
        return None
