"""Ensemble members: parse specs (``minilm-l6:linear``, ``baseline``) into estimators, name their
failures, and swap a member's head for a bagged or boosted one on the same (cached) features."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.ensemble import AdaBoostClassifier, BaggingClassifier
from sklearn.pipeline import Pipeline
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils.validation import check_is_fitted

from ..errors import TransferkitError, error_cause

BASELINE_SPEC = "baseline"


class EnsembleError(TransferkitError, ValueError):
    """An ensemble member cannot be built or fitted; the message names the member and the cause."""


def split_spec(spec: str) -> tuple[str, str]:
    """``"backbone:strategy"`` -> (backbone, strategy); a spec without a known strategy suffix is a
    backbone probed linearly (backbone names may contain colons: ``random:tiny-text``)."""
    from ..strategies import STRATEGIES

    backbone, sep, strategy = spec.rpartition(":")
    if sep and strategy in STRATEGIES:
        return backbone, strategy
    return spec, "linear"


def _spec_error(spec: str, exc: Exception) -> EnsembleError:
    """The error of a spec whose backbone is unknown: a known backbone before the last colon means the
    strategy after it is what is unknown (``identity:bogus``)."""
    from ..backbones import backbone_modality
    from ..strategies import STRATEGIES

    head, sep, tail = spec.rpartition(":")
    if sep:
        try:
            backbone_modality(head)
        except KeyError:
            pass
        else:
            return EnsembleError(f"ensemble member {spec!r}: unknown strategy {tail!r}; choose one of: "
                                 f"{', '.join(STRATEGIES)}")
    return EnsembleError(f"ensemble member {spec!r}: {exc}")


def member_estimator(spec: str, *, modality: str | None = None, image_size: int | None = None,
                     max_length: int | None = None, cache: Any = True, random_state: int = 0,
                     modality_of: str = "the data") -> BaseEstimator:
    """The estimator of one member spec: the no-transfer baseline, or a TransferClassifier. ``modality_of``
    says where ``modality`` comes from, for the error of a member that reads another modality."""
    from ..backbones import backbone_modality
    from ..estimators import TransferClassifier
    from ..evaluation import make_baseline
    from ..workflows import make_strategy

    spec = spec.strip()
    if spec == BASELINE_SPEC:
        if modality is None:
            raise EnsembleError("member 'baseline' reads the data's modality, unknown before fit; pass modality= "
                                "or add a member with a backbone")
        return make_baseline(modality, random_state=random_state)
    backbone, strategy = split_spec(spec)
    if strategy == "distill":  # its teacher is an estimator or a folder: no spec can name it
        raise EnsembleError(f"ensemble member {spec!r}: the distill strategy needs a teacher, which a member spec "
                            "cannot name; fit a distilled model with `transferkit fit -s distill --teacher ...` "
                            "(or Distill(teacher=...) in Python), or use its teacher as a member")
    try:
        member_modality = backbone_modality(backbone)
        est = make_strategy(strategy)
    except (TransferkitError, KeyError) as exc:
        raise _spec_error(spec, exc) from exc
    if modality is not None and member_modality != modality:
        other = (f"{modality_of} holds {modality} data" if modality_of == "the data"
                 else f"{modality_of} reads {modality} data; every member must read the same data")
        raise EnsembleError(f"ensemble member {spec!r} reads {member_modality} data, but {other}")
    return TransferClassifier(backbone=backbone, strategy=est, image_size=image_size, max_length=max_length,
                              cache=cache, random_state=random_state)


def member_modality(specs: list[str]) -> tuple[str | None, str]:
    """The modality of the first member with a backbone (None if all are baselines), and that member's
    spec ("" when None)."""
    from ..backbones import backbone_modality

    for spec in specs:
        if spec.strip() != BASELINE_SPEC:
            try:
                return backbone_modality(split_spec(spec.strip())[0]), spec.strip()
            except KeyError as exc:
                raise _spec_error(spec.strip(), exc) from exc
    return None, ""


def estimator_pairs(members: Any) -> list[tuple[str, BaseEstimator]]:
    """The (name, estimator) pairs among ``members``, in order; spec strings are left out (their estimators
    are built at fit, so they have no parameters to expose)."""
    if isinstance(members, str) or not isinstance(members, list | tuple):
        return []
    return [m for m in members if isinstance(m, tuple) and len(m) == 2 and isinstance(m[0], str)
            and hasattr(m[1], "get_params")]


def check_pair_names(members: Any, reserved: set[str]) -> None:
    """Member names reachable as ``<name>__<param>``: none may contain ``__`` or be one of the ensemble's
    own parameters (``reserved``), or scikit-learn's ``set_params`` could not tell them apart."""
    for name, _ in estimator_pairs(members):
        if "__" in name:
            raise EnsembleError(f"ensemble member name {name!r} contains '__', which scikit-learn's parameter "
                                "names use to reach a member's parameters; rename the member")
        if name in reserved:
            raise EnsembleError(f"ensemble member name {name!r} is also a parameter of the ensemble; rename the "
                                "member")


def replace_pairs(members: list[Any] | tuple[Any, ...], new: dict[str, Any]) -> list[Any] | tuple[Any, ...]:
    """``members`` with the estimator of each pair named in ``new`` replaced, order and container type kept
    (a new container: the one given is not changed)."""
    out = [(m[0], new[m[0]]) if isinstance(m, tuple) and len(m) == 2 and m[0] in new else m for m in members]
    return tuple(out) if isinstance(members, tuple) else out


def check_probabilities(pairs: list[tuple[str, BaseEstimator]], method: str) -> None:
    """Every member has ``predict_proba``, which every ensemble ``method`` combines: a member without it is
    named before anything is fitted, with the way to give it probabilities (``SVC(probability=True)`` is
    deprecated since scikit-learn 1.9)."""
    for name, est in pairs:
        if not hasattr(est, "predict_proba"):
            raise EnsembleError(f"ensemble member {name!r} ({type(est).__name__}) has no predict_proba, and "
                                f"{method} combines the members' probabilities; wrap it in CalibratedClassifierCV "
                                "(for an SVC: CalibratedClassifierCV(SVC()))")


def takes_weights(est: Any) -> bool:
    """Whether :func:`~transferkit.strategies._probe.fit_head` can fit ``est`` with sample weights: its own
    ``fit`` takes them, or (a pipeline) its last step's does."""
    from sklearn.utils.validation import has_fit_parameter

    if isinstance(est, Pipeline):
        est = est.steps[-1][1]
    return has_fit_parameter(est, "sample_weight")


def check_weighted(ensemble: Any) -> None:
    """Every member of a scikit-learn ``ensemble`` over :class:`NamedMember` s, and a stacking combiner, can
    be fitted with sample weights; the first that cannot is named, before anything is fitted."""
    for _, member in ensemble.estimators:
        if not takes_weights(member.estimator):
            raise EnsembleError(f"ensemble member {member.name!r} ({type(member.estimator).__name__}) cannot be "
                                "fitted with sample_weight; drop the weights or that member")
    final = getattr(ensemble, "final_estimator", None)
    if final is not None and not takes_weights(final):
        raise EnsembleError(f"stacking's final_estimator ({type(final).__name__}) cannot be fitted with "
                            "sample_weight; use one that can (the default logistic regression does)")


class NamedMember(ClassifierMixin, BaseEstimator):
    """A member that names itself when it fails: fitting errors become :class:`EnsembleError`
    ("ensemble member 'x' failed to fit: cause"), wherever scikit-learn's ensemble fits it.

    Parameters
    ----------
    estimator : classifier with ``predict_proba``
    name : str
    """

    def __init__(self, *, estimator: Any = None, name: str = "") -> None:
        self.estimator = estimator
        self.name = name

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> NamedMember:
        from ..strategies._probe import fit_head

        est = clone(self.estimator)
        try:
            if sample_weight is None:
                est.fit(X, y)
            else:  # a pipeline's weighted steps get them (scikit-learn's ensembles pass them to fit as given)
                fit_head(est, X, y, np.asarray(sample_weight))
        except EnsembleError:
            raise
        except Exception as exc:  # any cause: the member is named, the cause kept
            cause = error_cause(exc)
            raise EnsembleError(f"ensemble member {self.name!r} failed to fit: {cause}") from exc
        self.estimator_ = est
        self.classes_ = est.classes_
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "estimator_")
        return np.asarray(self.estimator_.predict_proba(X))

    def predict(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "estimator_")
        return np.asarray(self.estimator_.predict(X))

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        if self.estimator is not None:
            inner = self.estimator.__sklearn_tags__()
            tags.input_tags = inner.input_tags
        return tags


def bagged(head: BaseEstimator, n_estimators: int, random_state: int) -> BaseEstimator:
    """Bootstrap aggregation of ``head`` (Breiman, 1996, "Bagging predictors")."""
    return BaggingClassifier(estimator=head, n_estimators=n_estimators, random_state=random_state)


def boosted(n_estimators: int, random_state: int) -> BaseEstimator:
    """AdaBoost (SAMME; Zhu et al., 2009, "Multi-class AdaBoost") of depth-2 trees: it takes dense
    backbone features and sparse TF-IDF alike."""
    return AdaBoostClassifier(estimator=DecisionTreeClassifier(max_depth=2), n_estimators=n_estimators,
                              learning_rate=0.5, random_state=random_state)


def with_head(name: str, est: BaseEstimator, method: str, n_estimators: int, random_state: int) -> BaseEstimator:
    """``est`` with its classifier replaced by a bagged copy (``bagging``) or a boosted model
    (``boosting``) on the same features: a probe's head on cached backbone features, or the last
    step of a baseline pipeline."""
    from ..estimators import TransferClassifier
    from ..strategies import LinearProbe, default_head

    def swap(head: BaseEstimator) -> BaseEstimator:
        return bagged(head, n_estimators, random_state) if method == "bagging" else boosted(n_estimators, random_state)

    if isinstance(est, TransferClassifier):
        strategy = est.strategy if est.strategy is not None else LinearProbe()
        if not isinstance(strategy, LinearProbe):
            raise EnsembleError(f"ensemble member {name!r}: {method} refits a head on extracted features, which "
                                f"a {type(strategy).__name__} model does not have; use {name.rpartition(':')[0]}:linear")
        head = strategy.head if strategy.head is not None else default_head()
        return clone(est).set_params(strategy=LinearProbe(head=swap(head)))
    if isinstance(est, Pipeline):
        last_name, last = est.steps[-1]
        return clone(est).set_params(**{last_name: swap(last)})
    return swap(est)
