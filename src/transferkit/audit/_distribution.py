"""How the data is spread: class imbalance over the labels and outliers in embedding space."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.ensemble import IsolationForest

__all__ = ["class_imbalance", "isolation_outliers"]

#: A class counts as under-represented below this share of an equal split (cleanlab's class_imbalance
#: issue uses the same rule: fewer than 0.1 x n / k examples).
IMBALANCE_SHARE = 0.1


def class_imbalance(labels: np.ndarray, *, share: float = IMBALANCE_SHARE) -> dict[str, Any]:
    """Class counts, the largest-to-smallest ratio and the classes below ``share`` of an equal split.

    Parameters
    ----------
    labels : numpy.ndarray of shape (n,)
    share : float, default=0.1
        A class with fewer than ``share * n / k`` items is reported as under-represented.

    Returns
    -------
    dict
        ``counts`` (label -> count, largest first), ``ratio`` (largest / smallest count),
        ``smallest`` (label), ``smallest_count``, ``under_represented`` (labels).

    Examples
    --------
    >>> info = class_imbalance(np.array(["a"] * 40 + ["b"] * 1))
    >>> info["ratio"], info["smallest"], info["under_represented"]
    (40.0, 'b', ['b'])
    """
    values, counts = np.unique(np.asarray([str(v) for v in labels], dtype=object), return_counts=True)
    order = np.argsort(-counts, kind="stable")
    values, counts = values[order], counts[order]
    floor = share * counts.sum() / len(counts)
    return {
        "counts": {str(v): int(c) for v, c in zip(values, counts, strict=True)},
        "ratio": float(counts[0] / counts[-1]),
        "smallest": str(values[-1]),
        "smallest_count": int(counts[-1]),
        "under_represented": [str(v) for v, c in zip(values, counts, strict=True) if c < floor],
    }


def isolation_outliers(
    features: np.ndarray, *, contamination: float | str | None = None, random_state: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Outliers by an isolation forest (Liu, Ting and Zhou, ICDM 2008), as scikit-learn fits it.

    Parameters
    ----------
    features : numpy.ndarray of shape (n, d)
    contamination : float, "auto" or None, default=None
        None flags the items whose anomaly score is an outlier among the scores, above Tukey's upper
        fence ``Q3 + 1.5 IQR``: the forest ranks the items and the cut adapts to how the scores spread.
        (``"auto"``, the paper's fixed cut at 0.5, flags a third or more of small or clustered data:
        the paper reads scores near 0.5 as "no distinct anomaly", not as anomalies.) A float flags that
        share of the items.
    random_state : int, default=0

    Returns
    -------
    is_outlier : numpy.ndarray of bool, shape (n,)
    anomaly : numpy.ndarray of shape (n,)
        The paper's anomaly score ``s(x)`` in ``(0, 1]``: near 1 clearly isolated, well below 0.5 normal.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal(size=(200, 3)), [[8.0, 8.0, 8.0]]])
    >>> is_outlier, _ = isolation_outliers(X)
    >>> bool(is_outlier[-1]), int(is_outlier.sum()) < 10
    (True, True)
    """
    forest = IsolationForest(contamination="auto" if contamination is None else contamination,
                             random_state=random_state)
    forest.fit(features)
    anomaly = -forest.score_samples(features)
    if contamination is None:
        q1, q3 = np.percentile(anomaly, [25, 75])
        return anomaly > q3 + 1.5 * (q3 - q1), anomaly
    return forest.predict(features) == -1, anomaly
