"""Classification metrics and confidence intervals as pure functions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats
from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support


def classification_metrics(y_true: Any, y_pred: Any, labels: Sequence[Any]) -> dict[str, Any]:
    """Accuracy, macro precision/recall/F1, per-class table and confusion matrix.

    ``labels`` fixes the class order of the per-class table and the matrix (rows: true, columns:
    predicted). Classes never predicted get precision 0 (scikit-learn's ``zero_division=0``). Macro
    averages run over the classes that occur in ``y_true`` or ``y_pred`` (scikit-learn's default set): a
    training class absent from a test set and never predicted is listed with support 0 but would
    otherwise count as an F1 of 0.
    """
    labels = list(labels)
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    matrix = confusion_matrix(y_true, y_pred, labels=labels)
    seen = (s > 0) | (matrix.sum(axis=0) > 0)
    if not seen.any():
        seen[:] = True
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_precision": float(np.mean(p[seen])),
        "macro_recall": float(np.mean(r[seen])),
        "macro_f1": float(np.mean(f[seen])),
        "per_class": [
            {"label": lab, "precision": float(pi), "recall": float(ri), "f1": float(fi), "support": int(si)}
            for lab, pi, ri, fi, si in zip(labels, p, r, f, s, strict=True)
        ],
        "confusion_matrix": matrix.tolist(),
    }


def mean_ci(values: Sequence[float], confidence: float = 0.95) -> tuple[float, float, float]:
    """Mean and two-sided Student-t confidence interval over independent-ish runs (folds, seeds).

    With one value the interval is degenerate (the value itself); use :func:`paired_bootstrap_ci`
    for a single split.
    """
    v = np.asarray(values, dtype=float)
    m = float(v.mean())
    if len(v) < 2:
        return m, m, m
    half = float(stats.t.ppf(0.5 + confidence / 2, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v)))
    return m, m - half, m + half


def paired_bootstrap_ci(
    correct_a: np.ndarray, correct_b: np.ndarray, *, n_boot: int = 2000, confidence: float = 0.95, seed: int = 0
) -> tuple[float, float, float]:
    """Accuracy difference ``a - b`` on one test set, with a paired percentile-bootstrap interval.

    ``correct_a`` and ``correct_b`` are 0/1 arrays over the same test items; resampling items keeps
    the pairing, so the interval reflects which items each model gets right.
    """
    d = np.asarray(correct_a, dtype=float) - np.asarray(correct_b, dtype=float)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(d), size=(n_boot, len(d)))
    boots = d[idx].mean(axis=1)
    lo, hi = np.quantile(boots, [(1 - confidence) / 2, 0.5 + confidence / 2])
    return float(d.mean()), float(lo), float(hi)


def corrected_resampled_ci(
    differences: Sequence[float], *, n_train: float, n_test: float, confidence: float = 0.95
) -> tuple[float, float, float]:
    """Mean and interval of a score difference over repeated train/test splits, variance corrected
    for the overlap of the training sets (the corrected resampled t-test).

    The ``J`` split-wise differences of repeated cross-validation are not independent: every two
    training sets share most of their items, so the plain Student-t interval is too narrow and
    declares differences that do not replicate. Nadeau & Bengio (2003) replace the variance of the
    mean, ``s^2 / J``, by ``(1/J + n_test/n_train) s^2``; Bouckaert & Frank (2004) showed that this
    "corrected repeated k-fold cv test" (``J = k r`` splits of ``r`` repetitions of ``k``-fold CV,
    ``J - 1`` degrees of freedom) has the replicability and type-I error the naive test lacks::

        half = t_{J-1, (1+confidence)/2} * sqrt((1/J + n_test/n_train) * s^2)

    References
    ----------
    C. Nadeau and Y. Bengio, "Inference for the Generalization Error", Machine Learning 52(3),
    239-281, 2003. R. R. Bouckaert and E. Frank, "Evaluating the Replicability of Significance Tests
    for Comparing Learning Algorithms", PAKDD 2004, LNCS 3056, 3-12.

    Parameters
    ----------
    differences : sequence of float
        One score difference (model - baseline) per split, all folds of all repetitions.
    n_train, n_test : float
        Training and test set sizes of one split (means when folds differ by an item).
    confidence : float, default=0.95

    Returns
    -------
    (mean, low, high) : tuple of float
        Degenerate (the mean itself) with fewer than two splits.

    Examples
    --------
    >>> m, lo, hi = corrected_resampled_ci([0.02, 0.04, 0.03, 0.05, 0.01, 0.03], n_train=80, n_test=20)
    >>> round(m, 3), lo < m < hi
    (0.03, True)
    """
    d = np.asarray(differences, dtype=float)
    if n_train <= 0 or n_test <= 0:
        raise ValueError(f"n_train and n_test must be positive, got {n_train} and {n_test}")
    m = float(d.mean())
    if len(d) < 2:
        return m, m, m
    variance = (1.0 / len(d) + n_test / n_train) * float(d.var(ddof=1))
    half = float(stats.t.ppf(0.5 + confidence / 2, len(d) - 1) * np.sqrt(variance))
    return m, m - half, m + half


#: What a gain's interval says when :func:`clip_gain_interval` cut it.
GAIN_CLIPPED = "clipped to the possible range of a gain (+-100 points)"


def clip_gain_interval(low: float, high: float) -> tuple[float, float, bool]:
    """The interval ``[low, high]`` of a difference of two shares (accuracy, F1: each in [0, 1]) cut to
    the range such a difference can take, [-1, 1], and whether it was cut.

    A Student-t interval over few folds can pass that range (two folds once gave -142 to +112 points);
    callers add :data:`GAIN_CLIPPED` to their description of the interval when it was.

    Examples
    --------
    >>> clip_gain_interval(-1.42, 1.12)
    (-1.0, 1.0, True)
    >>> clip_gain_interval(-0.1, 0.3)
    (-0.1, 0.3, False)
    """
    clipped = low < -1.0 or high > 1.0
    return max(low, -1.0), min(high, 1.0), clipped


def described_interval(method: str, clipped: bool) -> str:
    """``method`` (how a gain's interval was made) with :data:`GAIN_CLIPPED` added when
    :func:`clip_gain_interval` cut the interval."""
    return f"{method}, {GAIN_CLIPPED}" if clipped else method


def signed_points(share: float) -> str:
    """``share`` (a gain in [-1, 1]) in points with a sign and one decimal, ``+4.1``; a value that
    rounds to zero is ``+0.0``, never ``-0.0``.

    Examples
    --------
    >>> signed_points(0.041), signed_points(-2.7e-17), signed_points(-0.0004)
    ('+4.1', '+0.0', '+0.0')
    """
    return f"{round(100 * share, 1) + 0.0:+.1f}"  # + 0.0 turns the -0.0 of round() into 0.0


def format_gain(mean: float, low: float, high: float) -> str:
    """A gain and its interval for a table cell: ``+4.1 pts [+1.2, +7.0]`` (no ``-0.0``)."""
    return f"{signed_points(mean)} pts [{signed_points(low)}, {signed_points(high)}]"
