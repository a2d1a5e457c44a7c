"""Rank candidate backbones for a labelled target task before training any of them.

Each backbone turns the target data into features once (through :class:`~transferkit.FeatureExtractor`,
so the features land in the on-disk cache and a second ranking reads them back), then every requested
transferability score of :data:`transferkit.selection.SCORES` is computed on those features; LEEP and
NCE are added for pretrained backbones that keep their source classifier. ``random:<name>`` stands for the
same architecture with random weights: a control that a pretrained backbone should beat.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ..errors import DataError
from ._checks import check_label_codes
from ._consensus import CONSENSUS, consensus_ranks, merge_near_ties

if TYPE_CHECKING:
    from ..backbones import Backbone

__all__ = [
    "DEFAULT_SCORES",
    "RANDOM_PREFIX",
    "BackboneChoice",
    "BackboneScores",
    "RankingResult",
    "check_backbones",
    "check_request",
    "rank_backbones",
]

#: Prefix naming a backbone's architecture with random weights (a negative control).
RANDOM_PREFIX = "random:"
#: The ranking is by the consensus (mean rank) of three scores (0.76 / 0.74 mean weighted tau against probe /
#: fine-tuning accuracy over 6 datasets x 4 seeds in docs/transferability.md): the cross-validated probe,
#: the best single score (0.74 / 0.69; best on images), kNN (0.70 / 0.60; strong on text, ~60x cheaper)
#: and LogME (0.58 / 0.60). h_score_shrinkage ranked a random-weight control first and is available on
#: request only.
DEFAULT_SCORES = (CONSENSUS, "linear_probe", "knn", "logme")
LEEP = "leep"
NCE = "nce"
#: Scores from the backbone's source classifier: in every row, None where there is none.
SOURCE_SCORES = (LEEP, NCE)
#: Items on which a source head applied to cached features is checked against ``source_logits``.
_HEAD_CHECK_ITEMS = 4

SCORE_DESCRIPTIONS = {
    "logme": "LogME (You et al., ICML 2021): log marginal evidence of a Bayesian linear model from features "
             "to one-hot labels, per sample.",
    "h_score": "H-score (Bao et al., ICIP 2019): inter-class variance of the features relative to their "
               "covariance.",
    "h_score_shrinkage": "H-score with a Ledoit-Wolf shrunk covariance (Ibrahim et al., ICLR 2023): stable "
                         "when features outnumber examples.",
    "gbc": "GBC (Pándy et al., CVPR 2022): minus the pairwise Bhattacharyya overlap of Gaussian class models on "
           "64 principal components; 0 when the classes are apart.",
    "knn": "Leave-one-out accuracy of a 20-nearest-neighbour cosine vote on the centred features (Renggli et al., "
           "CVPR 2022; Sorkhei et al., TMLR 2025); no model is fitted.",
    "linear_probe": "Cross-validated accuracy of a logistic regression on the features (stratified folds).",
    LEEP: "LEEP (Nguyen et al., ICML 2020): log-likelihood of the source classifier's predictions mapped to the "
          "target labels; only for pretrained backbones that keep their source classifier (else blank).",
    NCE: "NCE (Tran et al., ICCV 2019): negative conditional entropy of the target labels given the source "
         "classifier's predicted classes; only for pretrained backbones that keep their source classifier.",
    CONSENSUS: "Mean rank (a Borda count) of the backbone over the other requested scores that every backbone has: "
               "1 when it is last by all of them, the number of backbones when it is first by all.",
}


@dataclass(frozen=True)
class BackboneChoice:
    """A candidate as written (``random:efficientnet-lite0``), the backbone it builds and its weights."""

    name: str
    backbone: str
    pretrained: bool


def parse_backbone(name: Any) -> BackboneChoice:
    """``name`` as a candidate; ``random:<backbone>`` asks for random weights."""
    if not isinstance(name, str) or not name.strip():
        raise DataError(f"backbone names must be non-empty strings, got {name!r}")
    if name.startswith(RANDOM_PREFIX):
        base = name[len(RANDOM_PREFIX):]
        if not base.strip():
            raise DataError(f"{name!r} names no backbone; write random:<backbone>, e.g. random:efficientnet-lite0")
        return BackboneChoice(name, base, pretrained=False)
    return BackboneChoice(name, name, pretrained=True)


def check_backbone_modality(choice: BackboneChoice, modality: str) -> None:
    """Raise when the candidate does not read ``modality`` (checked without building the backbone)."""
    from ..backbones import backbone_modality, backbones_for

    reads = backbone_modality(choice.backbone)  # an unknown name raises UnknownBackboneError
    if reads != modality:
        raise DataError(f"backbone {choice.name!r} reads {reads} data, but the data holds {modality} data; "
                        f"{modality} backbones: {backbones_for(modality)}")


def check_items(X: Any) -> tuple[Any, str]:
    """``X`` as an indexable array for feature extraction, and its modality (a Dataset keeps its own)."""
    from ..data import Dataset, infer_modality
    from ..data._check import check_input

    modality: str | None = None
    if isinstance(X, Dataset):
        X, modality = X.X, X.modality
    if X is None or isinstance(X, str | bytes):
        raise DataError(f"expected a sequence of samples, got {type(X).__name__}")
    if not hasattr(X, "__len__"):  # a generator or other one-pass iterable
        X = list(X)
    if len(X) == 0:
        raise DataError("no samples: the input is empty")
    modality = modality or infer_modality(X)
    if modality != "table":
        return check_input(X, modality), modality
    table = np.asarray(X, dtype=np.float64)
    if table.ndim != 2 or table.shape[1] == 0:
        raise DataError(f"a table must be 2-D with at least one column, got shape {table.shape}")
    bad = ~np.isfinite(table).all(axis=1)
    if bad.any():
        raise DataError(f"the table holds NaN or infinite values in {int(bad.sum())} of {len(table)} rows "
                        f"(first: row {int(np.argmax(bad))}); fill or drop them")
    return table, modality


def feature_extractor(choice: BackboneChoice, *, image_size: int | None, max_length: int | None,
                      cache: bool | str | Path, random_state: int, verbose: int) -> Any:
    from ..backbones import get_spec
    from ..features import FeatureExtractor

    try:  # a fixed-graph backbone (open-nsfw) reads its own size only; rank it there beside the others
        if get_spec(choice.backbone).extra.get("fixed_input_size"):
            image_size = None
    except KeyError:
        pass
    return FeatureExtractor(backbone=choice.backbone, pretrained=choice.pretrained, image_size=image_size,
                            max_length=max_length, cache=cache, progress=verbose > 0, random_state=random_state)


@dataclass(frozen=True)
class BackboneScores:
    """One row of a ranking: every score of one backbone on the target data, with timings.

    ``scores`` maps each requested score, and ``"leep"`` and ``"nce"``, to its value (None where the
    backbone has no source classifier). ``feature_seconds`` covers loading the backbone and extracting (or reading cached)
    features; ``score_seconds`` maps each computed score to its time.
    """

    backbone: str
    scores: dict[str, float | None]
    feature_seconds: float
    score_seconds: dict[str, float]
    n_features: int
    pretrained: bool

    @property
    def total_score_seconds(self) -> float:
        return float(sum(self.score_seconds.values()))

    def to_dict(self) -> dict[str, Any]:
        return {"backbone": self.backbone, "pretrained": self.pretrained, "n_features": self.n_features,
                "scores": dict(self.scores), "feature_seconds": self.feature_seconds,
                "score_seconds": dict(self.score_seconds)}


def _sort_key(value: float | None) -> tuple[bool, float]:
    if value is None or not math.isfinite(value):
        return True, 0.0
    return False, -value


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def _names(names: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


@dataclass
class RankingResult:
    """Scores of candidate backbones on one labelled dataset.

    Attributes
    ----------
    rows : list of BackboneScores
        One row per backbone, in the order given.
    scores : tuple of str
        The requested scores; the first, ``primary``, orders :meth:`ranked`.
    modality, n_samples, n_classes :
        What the backbones were scored on.
    consensus_of : tuple of str
        The scores whose ranks the ``consensus`` column averages (empty without that column, or when no
        requested score is available for every backbone).

    Ties: backbones whose primary scores are equal, or equal up to round-off (within 1e-6 of the largest
    magnitude, at least 1, as :func:`~transferkit.selection.consensus_ranks` treats each score), keep the
    order of the backbone list among themselves, in :meth:`ranked`, :attr:`best` and the ranks of
    :meth:`table`. Nothing else tells them apart, so the ranking says so: :meth:`ties` lists them,
    :meth:`verdict` names a tie for first place, :meth:`tie_verdicts` the ties below it.
    """

    rows: list[BackboneScores]
    scores: tuple[str, ...]
    modality: str
    n_samples: int
    n_classes: int
    consensus_of: tuple[str, ...] = ()
    columns: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.columns = [*self.scores, *(s for s in SOURCE_SCORES if s not in self.scores)]

    @property
    def primary(self) -> str:
        return self.scores[0]

    def _primary_values(self) -> list[float | None]:
        """Each row's primary score (None where missing or not finite), values equal up to round-off made
        exactly equal (:func:`~transferkit.selection._consensus.merge_near_ties`): a consensus of
        3.3333333333333335 and one of 3.333333333333333 tie instead of being ordered by round-off."""
        raw = [r.scores.get(self.primary) for r in self.rows]
        kept = [i for i, v in enumerate(raw) if _finite(v)]
        merged = merge_near_ties(np.array([raw[i] for i in kept], dtype=np.float64))
        values: list[float | None] = [None] * len(raw)
        for i, v in zip(kept, merged, strict=True):
            values[i] = float(v)
        return values

    def ranked(self) -> list[BackboneScores]:
        """Rows by the primary score, best first (missing values last; ties, also up to round-off, keep the
        given order: see :meth:`ties`)."""
        values = self._primary_values()
        order = sorted(range(len(self.rows)), key=lambda i: _sort_key(values[i]))
        return [self.rows[i] for i in order]

    def _tie_groups(self) -> list[tuple[int, float, list[BackboneScores]]]:
        """Groups of two or more rows tied on the primary score, best first: (the group's first rank, the
        shared value, the rows in the given order)."""
        values = dict(zip((id(r) for r in self.rows), self._primary_values(), strict=True))
        groups: list[tuple[int, float, list[BackboneScores]]] = []
        for rank, row in enumerate(self.ranked(), start=1):
            value = values[id(row)]
            if value is None:
                break
            if groups and groups[-1][1] == value:
                groups[-1][2].append(row)
            else:
                groups.append((rank, value, [row]))
        return [g for g in groups if len(g[2]) > 1]

    def ties(self) -> list[list[str]]:
        """The backbones tied on the primary score (equal up to round-off), one list per tie, best first,
        each in the order of the backbone list (the order that ranks them); empty without ties."""
        return [[r.backbone for r in rows] for _, _, rows in self._tie_groups()]

    def tie_verdicts(self) -> list[str]:
        """One sentence per tie below first place (a tie for first place is in :meth:`verdict`)."""
        return [f"{_names([r.backbone for r in rows])} tie on {self.primary} ({value:.4g}), ranks {rank} to "
                f"{rank + len(rows) - 1}: the order of the backbone list decided."
                for rank, value, rows in self._tie_groups() if rank > 1]

    def _ranks(self) -> list[tuple[int | None, BackboneScores]]:
        """Rows best first with their rank; rows without a (finite) primary score get no rank."""
        return [(None if _sort_key(r.scores.get(self.primary))[0] else i, r)
                for i, r in enumerate(self.ranked(), start=1)]

    @property
    def best(self) -> BackboneScores | None:
        """The top row, or None when no backbone has the primary score (e.g. LEEP without a source head). On
        a tie for first place, the first of the tied backbones in the given list (:meth:`verdict` says so)."""
        rank, row = self._ranks()[0]
        return row if rank is not None else None

    def verdict(self) -> str:
        """One sentence: which backbone the primary score puts first, or why none."""
        if self.best is None:
            why = " (it needs a source classifier head)" if self.primary in SOURCE_SCORES else ""
            if self.primary == CONSENSUS:
                why = " (no other requested score is available for every backbone)"
            return (f"no backbone has a {self.primary} score{why}: nothing is ranked by it; "
                    "put another score first in --scores")
        if self.primary == CONSENSUS:
            text = (f"ranked by consensus, the mean rank over {', '.join(self.consensus_of)} (higher is better): "
                    f"best is {self.best.backbone}")
        else:
            text = f"ranked by {self.primary} (higher is better): best is {self.best.backbone}"
        top = [(value, rows) for rank, value, rows in self._tie_groups() if rank == 1]
        if top:
            value, rows = top[0]
            text += (f", tied with {_names([r.backbone for r in rows[1:]])} ({self.primary} {value:.4g}): the "
                     "order of the backbone list decided")
        return text

    def table(self) -> list[dict[str, Any]]:
        """Flat rows for printing, best first: rank (None without the primary score), backbone, each score,
        feature width and seconds."""
        return [{"rank": i, "backbone": r.backbone, **{c: r.scores.get(c) for c in self.columns},
                 "n_features": r.n_features, "feature_seconds": r.feature_seconds,
                 "score_seconds": r.total_score_seconds}
                for i, r in self._ranks()]

    def control_verdicts(self) -> list[str]:
        """One sentence per ``random:<name>`` control whose pretrained ``<name>`` is ranked too."""
        by_name = {r.backbone: r for r in self.rows}
        compared = dict(zip((r.backbone for r in self.rows), self._primary_values(), strict=True))  # round-off ties
        lines = []
        for row in self.rows:
            base = row.backbone[len(RANDOM_PREFIX):] if row.backbone.startswith(RANDOM_PREFIX) else None
            if base is None or base not in by_name:
                continue
            trained, control = by_name[base].scores.get(self.primary), row.scores.get(self.primary)
            if trained is None or control is None:
                continue
            merged_trained, merged_control = compared[base], compared[row.backbone]
            if merged_trained is None or merged_control is None:
                verdict = "beats" if trained > control else "ties with" if trained == control else "does not beat"
            else:
                verdict = ("beats" if merged_trained > merged_control else "ties with"
                           if merged_trained == merged_control else "does not beat")
            lines.append(f"{base} {verdict} its random-weight control on {self.primary} "
                         f"({trained:.4g} vs {control:.4g}).")
        return lines

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view; unavailable scores are None."""
        return {"primary": self.primary, "scores": list(self.scores), "consensus_of": list(self.consensus_of),
                "modality": self.modality, "n_samples": self.n_samples, "n_classes": self.n_classes,
                "ties": self.ties(), "ranking": [{"rank": i, **r.to_dict()} for i, r in self._ranks()]}


def check_scores(scores: Sequence[str]) -> tuple[str, ...]:
    """The requested score names, checked: known (:data:`~transferkit.selection.SCORES`, the source scores,
    ``consensus``), none twice, and ``consensus`` with at least two others. Raises :class:`DataError`."""
    from . import SCORES

    if isinstance(scores, str):
        scores = (scores,)
    names = tuple(scores)
    known = [*SCORES, *SOURCE_SCORES, CONSENSUS]
    if not names:
        raise DataError(f"no score requested; choose from: {', '.join(known)}")
    unknown = [s for s in names if s not in known]
    if unknown:
        raise DataError(f"unknown score {unknown[0]!r}; choose from: {', '.join(known)}")
    if len(set(names)) != len(names):
        raise DataError(f"score {next(s for s in names if names.count(s) > 1)!r} is requested twice")
    if CONSENSUS in names and len(names) < 3:
        raise DataError(f"{CONSENSUS} averages the ranks of the other requested scores: request at least two more "
                        f"(e.g. {','.join(DEFAULT_SCORES)})")
    return names


def _check_backbone_list(backbones: str | Sequence[str]) -> list[BackboneChoice]:
    if isinstance(backbones, str):
        backbones = [backbones]
    choices = [parse_backbone(b) for b in backbones]
    if not choices:
        raise DataError("no backbone to rank; pass at least one name")
    seen: set[str] = set()
    for c in choices:
        if c.name in seen:
            raise DataError(f"backbone {c.name!r} is listed twice")
        seen.add(c.name)
    return choices


def check_backbones(backbones: str | Sequence[str]) -> list[BackboneChoice]:
    """Candidate names (``random:<name>`` for random weights) checked without building or loading anything:
    at least one, each listed once and known (registered, provider-prefixed or a path), ``random:`` only
    for a backbone that can be re-initialised; an unknown name raises :class:`~transferkit.errors.UnknownBackboneError` with a suggestion."""
    from ..backbones import backbone_modality
    from ..backbones._registry import random_init_problem

    choices = _check_backbone_list(backbones)
    for choice in choices:
        backbone_modality(choice.backbone)
        problem = None if choice.pretrained else random_init_problem(choice.backbone)
        if problem:
            raise DataError(f"{choice.name!r}: {problem}")
    return choices


def check_request(backbones: Sequence[str], scores: Sequence[str]) -> tuple[list[BackboneChoice], tuple[str, ...]]:
    """The candidates and score names of a ranking, checked before any data is read: scores known and
    distinct (:func:`check_scores`), backbones as :func:`check_backbones` wants them."""
    names = check_scores(scores)
    return check_backbones(backbones), names


def _score_function(name: str, random_state: int) -> Callable[[Any, Any], float]:
    from . import SCORES

    fn = SCORES[name]
    if "random_state" in inspect.signature(fn).parameters:
        return lambda f, y: fn(f, y, random_state=random_state)  # type: ignore[call-arg]
    return fn


def rank_backbones(
    X: Any,
    y: Any,
    backbones: Sequence[str],
    *,
    scores: Sequence[str] = DEFAULT_SCORES,
    image_size: int | None = None,
    max_length: int | None = None,
    cache: bool | str | Path = True,
    random_state: int = 0,
    verbose: int = 0,
) -> RankingResult:
    """Score candidate backbones on labelled target data, to pick one before training.

    Every input is checked before any feature pass: the score names, the backbone list (non-empty, no
    duplicates, every name known and reading the data's modality), the samples and the labels (two
    classes or more, each with two examples or more).

    Parameters
    ----------
    X : array-like or Dataset
        Target samples: images (paths, PIL images or ``(N, H, W[, C])`` arrays), texts, or a numeric
        ``(N, F)`` table. A :class:`~transferkit.data.Dataset` keeps its modality (and its labels
        when ``y`` is None).
    y : array-like of shape (n_samples,)
        Target class labels.
    backbones : sequence of str
        Candidate names (see :func:`transferkit.backbones.list_backbones`); ``random:<name>`` is the
        same architecture with random weights, a control for the others.
    scores : sequence of str, default=("consensus", "linear_probe", "knn", "logme")
        Names from :data:`transferkit.selection.SCORES` (or ``"leep"``, ``"nce"``, ``"consensus"``); the
        first orders the ranking. LEEP and NCE are added to every row anyway, None where the backbone has
        no source classifier. ``"consensus"`` is each backbone's mean rank over the other requested scores
        that every backbone has (:func:`~transferkit.selection.consensus_ranks`); it needs two more.
    image_size : int, optional
        Square input size for image backbones (default: each backbone's own).
    max_length : int, optional
        Token limit for text backbones.
    cache : bool or path, default=True
        Feature cache, as in :class:`~transferkit.FeatureExtractor`.
    random_state : int, default=0
        Seed of random weights and of the linear probe's folds.
    verbose : int, default=0
        Above 0, show progress bars of the feature passes.

    Returns
    -------
    RankingResult

    Raises
    ------
    DataError
        A bad score name, backbone list, sample or label; a backbone reading another modality.
    UnknownBackboneError
        A backbone name that is not registered, prefixed or a path.

    Examples
    --------
    The class lives in one column of 32; a random 16-wide network mixes it with the noise columns:

    >>> import numpy as np
    >>> X = np.random.default_rng(0).normal(size=(40, 32)); y = np.repeat(["a", "b"], 20)
    >>> X[:, 0] += np.where(y == "a", 3.0, -3.0)
    >>> result = rank_backbones(X, y, ["random:tiny-mlp", "identity"], scores=["h_score_shrinkage"], cache=False)
    >>> [row.backbone for row in result.ranked()]
    ['identity', 'random:tiny-mlp']
    """
    from ..data import Dataset

    choices, names = check_request(backbones, scores)
    if y is None and isinstance(X, Dataset):
        y = X.y
    items, modality = check_items(X)
    labels, n_classes = _check_labels(y, len(items))
    for choice in choices:
        check_backbone_modality(choice, modality)
    options = dict(image_size=image_size, max_length=max_length, cache=cache, random_state=random_state,
                   verbose=verbose)
    rows = [_score_backbone(c, items, labels, names, options) for c in choices]
    if CONSENSUS not in names:
        return RankingResult(rows, names, modality, len(items), n_classes)
    ranks, used = consensus_ranks({s: [r.scores[s] for r in rows] for s in names if s != CONSENSUS})
    rows = [dataclasses.replace(r, scores={**r.scores, CONSENSUS: None if math.isnan(v) else float(v)})
            for r, v in zip(rows, ranks, strict=True)]
    return RankingResult(rows, names, modality, len(items), n_classes, consensus_of=used)


def _check_labels(y: Any, n_samples: int) -> tuple[NDArray[Any], int]:
    from ..data import check_labels

    if y is None:
        raise DataError("ranking needs labels; the data has none (check the label column)")
    labels = check_labels(y)
    _, classes = check_label_codes(labels, n_samples)
    return labels, len(classes)


def _score_backbone(choice: BackboneChoice, items: Any, labels: NDArray[Any], names: tuple[str, ...],
                    options: dict[str, Any]) -> BackboneScores:
    start = time.perf_counter()
    extractor = feature_extractor(choice, **options).fit(items)
    features = extractor.transform(items)
    feature_seconds = time.perf_counter() - start
    values: dict[str, float | None] = {}
    seconds: dict[str, float] = {}
    try:
        for name in names:
            if name in SOURCE_SCORES or name == CONSENSUS:  # LEEP and NCE below; the consensus over all rows
                continue
            start = time.perf_counter()
            values[name] = float(_score_function(name, options["random_state"])(features, labels))
            seconds[name] = time.perf_counter() - start
        start = time.perf_counter()
        values.update(_source_scores(choice, extractor.backbone_, items, features, labels))
        if values[LEEP] is not None:
            seconds[LEEP] = seconds[NCE] = (time.perf_counter() - start) / 2  # one pass of the source head
    except DataError as exc:  # e.g. a random network whose features overflow: say which backbone
        raise DataError(f"backbone {choice.name!r}: {exc}") from exc
    ordered = {n: values.get(n) for n in [*names, *(s for s in SOURCE_SCORES if s not in names)]}
    return BackboneScores(choice.name, ordered, feature_seconds, seconds, int(features.shape[1]),
                          choice.pretrained and bool(extractor.backbone_.spec.pretrained))


# --- LEEP and NCE from the source classifier ----------------------------------------------------------
def _source_scores(choice: BackboneChoice, backbone: Backbone, items: Any, features: np.ndarray,
                   labels: NDArray[Any]) -> dict[str, float | None]:
    """LEEP (from the source classifier's probabilities) and NCE (from its predicted classes), both None
    without a source classifier (or with random weights: a random head predicts no source task)."""
    from scipy.special import softmax

    from . import leep, nce

    none: dict[str, float | None] = dict.fromkeys(SOURCE_SCORES)
    if not (choice.pretrained and backbone.spec.has_source_head):
        return none
    try:
        logits = _source_logits(backbone, items, features).astype(np.float64)
    except NotImplementedError:
        return none
    return {LEEP: float(leep(softmax(logits, axis=1), labels)), NCE: float(nce(logits.argmax(axis=1), labels))}


def _source_logits(backbone: Backbone, items: Any, features: np.ndarray) -> np.ndarray:
    """Source logits for every item.

    When the source head sits directly on the pooled features (timm and torchvision backbones), it is
    applied to the (cached) features, so a second ranking needs no forward pass; this is checked on a
    few items against :meth:`Backbone.source_logits`. Otherwise the network runs again, in batches.
    """
    import torch

    from ..features import _extractor

    head = getattr(backbone, "source_head", None)
    if isinstance(head, torch.nn.Module):
        device = next(head.parameters(), torch.empty(0)).device
        with torch.inference_mode():
            on_features = head(torch.from_numpy(np.ascontiguousarray(features)).to(device)).float().cpu().numpy()
        k = min(_HEAD_CHECK_ITEMS, len(features))
        direct = _direct_source_logits(backbone, items[:k])
        scale = max(1.0, float(np.abs(direct).max()))
        if direct.shape == on_features[:k].shape and np.allclose(direct, on_features[:k], rtol=1e-3,
                                                                   atol=1e-3 * scale):
            return on_features
    return _extractor.batched_inference(_source_logits_module(backbone).eval(), backbone, items,  # eval: see below
                                        device=_extractor.resolve_device("auto"))


def _direct_source_logits(backbone: Backbone, items: Any) -> np.ndarray:
    import torch

    device = next(backbone.parameters(), torch.empty(0)).device
    batch = {k: v.to(device) for k, v in backbone.preprocess(items).items()}
    with torch.inference_mode():
        return backbone.source_logits(batch).float().cpu().numpy()


def _source_logits_module(backbone: Backbone) -> Any:
    """``backbone.source_logits`` as a module for :func:`batched_inference` (built on first use: importing
    this module stays torch-free).

    It must be put in eval mode before the call: batched_inference restores the wrapper's training flag
    afterwards, and a wrapper left in training mode would switch the shared backbone to training too.
    """
    import torch

    class SourceLogits(torch.nn.Module):
        def __init__(self, backbone: Backbone) -> None:
            super().__init__()
            self.backbone = backbone

        def forward(self, batch: dict[str, Any]) -> Any:
            return self.backbone.source_logits(batch)

    return SourceLogits(backbone)


# --- report -------------------------------------------------------------------------------------------
