"""Exact and near duplicates: content keys, groups of equal keys, and cosine pairs above a threshold.

Pure functions on keys and embedding matrices; :mod:`transferkit.audit._audit` turns them into flags.
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable, Sequence

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

__all__ = ["cosine_pairs", "distance_pairs", "group_ids", "median_nn_distance", "normalize_text", "pair_components",
           "row_key"]


def normalize_text(text: str) -> str:
    """Collapse every run of whitespace (spaces, tabs, newlines, full-width spaces) into one space and
    strip the ends, so texts that differ only in spacing count as the same text.

    Examples
    --------
    >>> normalize_text("  so\\tgood \\n ")
    'so good'
    """
    return " ".join(text.split())


def row_key(values: np.ndarray) -> str:
    """Content key of one numeric row (``-0.0`` and ``0.0`` count as equal)."""
    row = np.ascontiguousarray(np.asarray(values, dtype=np.float64) + 0.0)
    return hashlib.blake2b(row.tobytes(), digest_size=16).hexdigest()


def group_ids(keys: Sequence[Hashable]) -> np.ndarray:
    """Group id per item: items with equal keys share an id; ids count up in order of first appearance.

    Examples
    --------
    >>> group_ids(["a", "b", "a", "c", "b"]).tolist()
    [0, 1, 0, 2, 1]
    """
    seen: dict[Hashable, int] = {}
    return np.asarray([seen.setdefault(k, len(seen)) for k in keys], dtype=np.intp)


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms > 0, norms, 1.0)


def cosine_pairs(
    a: np.ndarray, b: np.ndarray | None = None, *, threshold: float, block: int = 1024
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs of rows whose cosine similarity is at least ``threshold``.

    Parameters
    ----------
    a : numpy.ndarray of shape (n, d)
        Embeddings.
    b : numpy.ndarray of shape (m, d), optional
        A second set; without it, pairs ``i < j`` within ``a`` are returned.
    threshold : float
        Smallest cosine similarity counted (in ``[-1, 1]``), up to the round-off of the dot product.
    block : int, default=1024
        Rows of ``a`` compared at once: memory stays ``block x m`` however large the sets are.

    Returns
    -------
    i, j, similarity : numpy.ndarray
        Row of ``a``, row of ``b`` (or of ``a``), and their cosine similarity, sorted by ``(i, j)``.
        A zero row has similarity 0 with everything.

    Examples
    --------
    >>> import numpy as np
    >>> i, j, s = cosine_pairs(np.array([[1.0, 0], [0.99, 0.1], [0, 1.0]]), threshold=0.9)
    >>> i.tolist(), j.tolist()
    ([0], [1])
    """
    ua = _unit(a)
    ub = ua if b is None else _unit(b)
    # round-off of a dot product of unit rows: identical directions must reach threshold 1.0 (float32
    # gives 0.99999994 for x and 2x)
    slack = 4 * float(np.finfo(np.result_type(ua.dtype, ub.dtype, np.float32)).eps) * np.sqrt(max(ua.shape[1], 1))
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    sims: list[np.ndarray] = []
    for start in range(0, len(ua), block):
        s = ua[start : start + block] @ ub.T
        if b is None:  # keep the upper triangle only: each pair once, no self-pairs
            s[np.arange(s.shape[0])[:, None] >= (np.arange(s.shape[1])[None, :] - start)] = -np.inf
        r, c = np.nonzero(s >= threshold - slack)
        rows.append(r + start)
        cols.append(c)
        sims.append(s[r, c])
    if not rows:
        empty = np.empty(0, dtype=np.intp)
        return empty, empty, np.empty(0, dtype=np.float32)
    return np.concatenate(rows), np.concatenate(cols), np.concatenate(sims)


def _sq_dist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    d = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * (a @ b.T)
    return np.maximum(d, 0.0)


def median_nn_distance(a: np.ndarray, *, block: int = 1024) -> float:
    """Median over rows of the Euclidean distance to the nearest other row (0 for fewer than two rows)."""
    a = np.asarray(a, dtype=np.float64)
    if len(a) < 2:
        return 0.0
    nearest = np.empty(len(a))
    for start in range(0, len(a), block):
        d = _sq_dist(a[start : start + block], a)
        d[np.arange(d.shape[0]), np.arange(start, start + d.shape[0])] = np.inf
        nearest[start : start + block] = d.min(axis=1)
    return float(np.sqrt(np.median(nearest)))


def distance_pairs(
    a: np.ndarray, b: np.ndarray | None = None, *, radius: float, block: int = 1024
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs of rows at Euclidean distance at most ``radius`` (as :func:`cosine_pairs`, by distance).

    Examples
    --------
    >>> import numpy as np
    >>> i, j, d = distance_pairs(np.array([[0.0, 0], [0.1, 0], [5, 5]]), radius=0.5)
    >>> i.tolist(), j.tolist(), d.round(2).tolist()
    ([0], [1], [0.1])
    """
    a = np.asarray(a, dtype=np.float64)
    other = a if b is None else np.asarray(b, dtype=np.float64)
    rows, cols, dists = [], [], []
    for start in range(0, len(a), block):
        d = _sq_dist(a[start : start + block], other)
        if b is None:
            d[np.arange(d.shape[0])[:, None] >= (np.arange(d.shape[1])[None, :] - start)] = np.inf
        r, c = np.nonzero(d <= radius * radius)
        rows.append(r + start)
        cols.append(c)
        dists.append(np.sqrt(d[r, c]))
    if not rows:
        empty = np.empty(0, dtype=np.intp)
        return empty, empty, np.empty(0)
    return np.concatenate(rows), np.concatenate(cols), np.concatenate(dists)


def pair_components(n: int, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Component id per item of the graph whose edges are the pairs ``(i, j)`` (chains join up)."""
    graph = coo_matrix((np.ones(len(i), dtype=np.int8), (i, j)), shape=(n, n))
    return connected_components(graph, directed=False)[1]
