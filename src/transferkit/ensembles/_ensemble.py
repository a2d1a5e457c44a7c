"""``TransferEnsemble``: scikit-learn's voting, stacking, bagging and boosting over transfer members.

The combination is scikit-learn's own (:class:`~sklearn.ensemble.VotingClassifier`,
:class:`~sklearn.ensemble.StackingClassifier`, :class:`~sklearn.ensemble.BaggingClassifier`,
:class:`~sklearn.ensemble.AdaBoostClassifier`); this module only turns member specs into estimators.
Members on the same backbone share its cached features: the backbone runs once per item, whichever
member, fold or stacking split asks for it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import StackingClassifier, VotingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.utils.validation import check_is_fitted

from .._blas import one_blas_thread
from ..backbones._providers import resolve_seed
from ..errors import DataError
from ..features._extractor import check_cache
from ._members import (
    BASELINE_SPEC,
    EnsembleError,
    NamedMember,
    check_pair_names,
    check_probabilities,
    check_weighted,
    estimator_pairs,
    member_estimator,
    member_modality,
    replace_pairs,
    split_spec,
    with_head,
)
from ._modality import fit_modality, member_specs

METHODS = ("voting", "stacking", "bagging", "boosting")


def build_members(members: Any, *, modality: str | None, image_size: int | None, max_length: int | None,
                  cache: Any, random_state: int, modality_of: str = "the data") -> list[tuple[str, BaseEstimator]]:
    """(name, estimator) pairs from specs (``"minilm-l6:linear"``, ``"baseline"``) or pairs; names unique.
    ``modality_of`` says where ``modality`` comes from (the data, or the first member)."""
    if isinstance(members, str):
        members = [m for m in members.split(",") if m.strip()]
    pairs: list[tuple[str, BaseEstimator]] = []
    for m in members or []:
        if isinstance(m, str):
            pairs.append((m.strip(), member_estimator(m, modality=modality, image_size=image_size,
                                                      max_length=max_length, cache=cache, random_state=random_state,
                                                      modality_of=modality_of)))
        elif isinstance(m, tuple) and len(m) == 2 and isinstance(m[0], str) and hasattr(m[1], "fit"):
            from ..estimators import MultiTaskClassifier

            if isinstance(m[1], MultiTaskClassifier):
                raise EnsembleError(f"ensemble member {m[0]!r} is a MultiTaskClassifier, which predicts several tasks; "
                                    "an ensemble combines members that predict one")
            pairs.append(m)
        else:
            raise EnsembleError(f"ensemble member {m!r} is neither a spec string nor a (name, estimator) pair")
    if not pairs:
        raise EnsembleError("an ensemble needs at least one member")
    names = [n for n, _ in pairs]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise EnsembleError(f"ensemble member {dupes[0]!r} is listed twice")
    same: dict[tuple[str, str], str] = {}  # "minilm-l6" and "minilm-l6:linear" are one model
    for spec in (m.strip() for m in members if isinstance(m, str) and m.strip() != BASELINE_SPEC):
        key = split_spec(spec)
        if key in same:
            raise EnsembleError(f"ensemble members {same[key]!r} and {spec!r} are the same model ({key[0]} with the "
                                f"{key[1]} strategy); list it once")
        same[key] = spec
    return pairs


class TransferEnsemble(ClassifierMixin, BaseEstimator):
    """An ensemble of transfer models and baselines.

    Parameters
    ----------
    members : list of str or (name, estimator), or a comma-separated str
        ``"<backbone>:<strategy>"`` (``minilm-l6:linear``, ``efficientnet-lite0:finetune``; the strategy
        defaults to ``linear``), ``"baseline"`` (the no-transfer baseline of the data's modality), or
        your own (name, classifier) pairs.
    method : {"voting", "stacking", "bagging", "boosting"}, default="stacking"
        ``voting``: mean of the members' probabilities (soft vote). ``stacking``: a logistic
        regression on the members' out-of-fold probabilities (Wolpert, 1992). ``bagging``: each
        member's head becomes a bagged ensemble of ``n_estimators`` copies on its features, then soft
        vote. ``boosting``: each member's head becomes AdaBoost over depth-2 trees on its features,
        then soft vote.
    cv : int, default=5
        Inner folds of stacking.
    n_estimators : int, default=10
        Bagged copies, or boosting rounds (x5) per member.
    final_estimator : classifier, optional
        Stacking's combiner (default: logistic regression).
    modality : {"image", "text", "table"}, optional
        Data modality. By default the one the members' backbones read, else (only baselines and your
        own members) the one ``X`` shows when fitted.
    image_size, max_length, cache : settings of the transfer members (see
        :class:`~transferkit.TransferClassifier`).
    random_state : int, RandomState or None, default=0
        Seeds the members, stacking's folds and the bagged or boosted heads, all with one seed per fit:
        an int is that seed; None draws a fresh one at each fit (not reproducible); a
        ``numpy.random.RandomState`` draws it from that generator. The seed used is ``random_seed_``.

    Attributes
    ----------
    ensemble_ : the fitted scikit-learn ensemble
    classes_ : ndarray
    modality_ : str or None
        The modality the members were fitted on (None: only your own members, given ``X`` as it is).
    random_seed_ : int
        The seed this fit used (``random_state`` itself when it is an int).

    A fitted ensemble saves to a model folder (:meth:`save`) that :func:`transferkit.load_model` reads. The
    folder keeps ``random_seed_``: loaded back, ``random_state`` reads as that int (as for
    :class:`~transferkit.TransferClassifier`), so a refit of the loaded ensemble repeats this fit.

    Examples
    --------
    >>> import numpy as np
    >>> from transferkit.ensembles import TransferEnsemble
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(40, 4)), np.repeat(["a", "b"], 20)
    >>> X[y == "b"] += 2
    >>> ens = TransferEnsemble(members=["tiny-mlp:linear", "baseline"], method="voting", cache=False).fit(X, y)
    >>> ens.score(X, y) > 0.9
    True
    """

    def __init__(self, *, members: Any = ("baseline",), method: str = "stacking", cv: int = 5,
                 n_estimators: int = 10, final_estimator: BaseEstimator | None = None, modality: str | None = None,
                 image_size: int | None = None, max_length: int | None = None, cache: Any = True,
                 random_state: Any = 0) -> None:
        self.members = members
        self.method = method
        self.cv = cv
        self.n_estimators = n_estimators
        self.final_estimator = final_estimator
        self.modality = modality
        self.image_size = image_size
        self.max_length = max_length
        self.cache = cache
        self.random_state = random_state

    def _modality(self) -> str | None:
        """The modality the members read: once fitted, the one they were fitted on (``modality_``); before,
        the ``modality`` given, else the first member's."""
        if hasattr(self, "modality_"):
            return self.modality_
        return self._modality_and_source()[0]

    def _modality_and_source(self) -> tuple[str | None, str]:
        """The modality the members must read, and where it comes from (the data, or the first member)."""
        if self.modality is not None:
            return self.modality, "the data"
        modality, first = member_modality(member_specs(self.members))
        return modality, f"the first member, {first!r},"

    def _check_params(self) -> None:
        """The method, ``cv`` and ``n_estimators``, before any member is built or any data read."""
        from ..data._validation import check_folds

        if self.method not in METHODS:
            raise EnsembleError(f"unknown ensemble method {self.method!r}; choose one of: {', '.join(METHODS)}")
        check_folds(self.cv, error=EnsembleError)
        check_pair_names(self.members, set(self._get_param_names()))
        n = self.n_estimators
        if isinstance(n, bool | np.bool_) or not isinstance(n, int | np.integer) or n < 1:
            raise EnsembleError(f"n_estimators must be a positive integer, got {n!r}")
        try:
            check_cache(self.cache)
        except DataError as exc:
            raise EnsembleError(str(exc)) from None

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The parameters; with ``deep``, each member given as a (name, estimator) pair also as ``<name>``,
        and its parameters as ``<name>__<param>`` (as scikit-learn's ``VotingClassifier`` exposes its
        estimators), so ``GridSearchCV`` can search a member's settings. Spec-string members are built at
        fit and have none here: give a member as a pair to search it."""
        out = super().get_params(deep=deep)
        if deep:
            for name, est in estimator_pairs(self.members):
                if name in out or "__" in name:  # fit refuses such a name, with the reason
                    continue
                out[name] = est
                out.update({f"{name}__{key}": value for key, value in est.get_params(deep=True).items()})
        return out

    def set_params(self, **params: Any) -> TransferEnsemble:
        """Set parameters: ``members`` first, then ``<name>=estimator`` replaces that pair's estimator (in a
        new list: the one given is not changed), then the rest, ``<name>__<param>`` included."""
        if "members" in params:
            self.members = params.pop("members")
        own = set(self._get_param_names())
        names = {n for n, _ in estimator_pairs(self.members) if n not in own and "__" not in n}
        new = {key: params.pop(key) for key in list(params) if key in names}
        if new:
            self.members = replace_pairs(self.members, new)
        return super().set_params(**params)

    def named_members(self) -> list[tuple[str, BaseEstimator]]:
        """The members as (name, unfitted estimator), heads swapped for bagging and boosting, seeded with
        ``random_seed_`` once fitted, else with the seed ``random_state`` stands for (None or a
        ``RandomState`` draws one at each call)."""
        self._check_params()
        seed = getattr(self, "random_seed_", None)
        return self._named_members(*self._modality_and_source(),
                                   seed=resolve_seed(self.random_state) if seed is None else seed)

    def _named_members(self, modality: str | None, modality_of: str, *, seed: int) -> list[tuple[str, BaseEstimator]]:
        """The members seeded with ``seed``; the caller checked the parameters (:meth:`_check_params`)."""
        pairs = build_members(self.members, modality=modality, image_size=self.image_size, max_length=self.max_length,
                              cache=self.cache, random_state=seed, modality_of=modality_of)
        if self.method in ("bagging", "boosting"):
            rounds = self.n_estimators if self.method == "bagging" else 5 * self.n_estimators
            pairs = [(n, with_head(n, e, self.method, rounds, seed)) for n, e in pairs]
        check_probabilities(pairs, self.method)  # every method combines probabilities: fail before fitting
        return pairs

    def _ensemble(self, modality: str | None, modality_of: str, *, seed: int) -> BaseEstimator:
        """scikit-learn's ensemble over the members, its ``transform`` set to give arrays whatever the global
        ``transform_output`` says: stacking's ``predict_proba`` goes through it, and a DataFrame output
        needs input feature names that the ensemble over NamedMember members does not record (scikit-learn
        then calls the fitted ensemble not fitted)."""
        wrapped = [(f"m{i}", NamedMember(estimator=e, name=n))
                   for i, (n, e) in enumerate(self._named_members(modality, modality_of, seed=seed))]
        ensemble: BaseEstimator
        if self.method == "stacking":
            final = self.final_estimator if self.final_estimator is not None else LogisticRegression(max_iter=2000)
            ensemble = StackingClassifier(wrapped, final_estimator=final, stack_method="predict_proba",
                                          cv=StratifiedKFold(self.cv, shuffle=True, random_state=seed))
        else:
            ensemble = VotingClassifier(wrapped, voting="soft")
        return ensemble.set_output(transform="default")

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> TransferEnsemble:
        """Fit every member (and, for stacking, the combiner on out-of-fold probabilities). Without
        ``modality``, and with no member whose backbone fixes it, the modality is the one ``X`` shows
        (kept as ``modality_``). One seed (``random_seed_``) drawn from ``random_state`` seeds everything.

        ``sample_weight`` (one non-negative weight per row) reaches every member's fit (a transfer model's
        loss or head, every weighted step of a baseline pipeline, the bagged or boosted heads) and
        stacking's combiner; a member that cannot take weights is named before anything is fitted."""
        from ..estimators._classifier import check_sample_weight, check_targets

        self._check_params()
        seed = resolve_seed(self.random_state)  # checked before any work; None draws a seed for this fit
        modality, modality_of = fit_modality(self.members, self.modality, X)
        X = self._check_X(X, reset=True, modality=modality)
        y = check_targets(y, len(X))
        sample_weight = check_sample_weight(sample_weight, len(y))
        if self.method == "stacking":
            _, counts = np.unique(y, return_counts=True)
            if counts.min() < self.cv:
                raise EnsembleError(f"stacking with cv={self.cv} needs at least {self.cv} examples per class; the "
                                    f"smallest class has {counts.min()} (lower cv or use method='voting')")
        with one_blas_thread():  # baselines, heads, the combiner: small scikit-learn fits (torch keeps its threads)
            ensemble = self._ensemble(modality, modality_of, seed=seed)
            if sample_weight is not None:
                check_weighted(ensemble)
            self.ensemble_ = ensemble.fit(X, y, sample_weight=sample_weight)
        self.classes_ = self.ensemble_.classes_
        self.modality_ = modality
        self.random_seed_ = seed
        return self

    def _check_X(self, X: Any, *, reset: bool, modality: str | None) -> Any:
        """Tables through scikit-learn's checks (``n_features_in_``, no sparse input), images and texts
        through transferkit's; with only your own members (modality unknown) ``X`` goes to them as given."""
        from ..data._check import check_data, forget_table_width

        if modality is not None:
            return check_data(self, X, modality, reset=reset)
        if reset:
            forget_table_width(self)
        return X

    def predict_proba(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "ensemble_")
        X = self._check_X(X, reset=False, modality=self._modality())
        return np.asarray(self.ensemble_.predict_proba(X))

    def predict(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "ensemble_")
        X = self._check_X(X, reset=False, modality=self._modality())
        return np.asarray(self.ensemble_.predict(X))

    def save(self, path: str | Path, *, overwrite: bool = False) -> Path:
        """Save the fitted ensemble to a model folder, atomically: one sub-folder per member (a transferkit
        model folder, or skops for a scikit-learn member), the combiner in skops, no pickle. Load it with
        :func:`transferkit.load_model`; ``transferkit predict`` reads it too."""
        from ._folder import save_ensemble

        return save_ensemble(self, Path(path), overwrite=overwrite)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        try:
            modality = self._modality()
        except EnsembleError:
            modality = None
        if modality in ("text", "image"):
            tags.input_tags.two_d_array = False
            tags.input_tags.string = modality == "text"
            tags.input_tags.three_d_array = modality == "image"
        return tags


__all__ = ["BASELINE_SPEC", "METHODS", "TransferEnsemble", "build_members"]
