"""The consensus of several transferability scores: each candidate's mean rank over them (a Borda count).

No single score ranks candidates best on every task: on this project's benchmark the cross-validated
probe ranks image backbones best and kNN and LogME rank text encoders best (docs/transferability.md), and
"the effectiveness of MTE metrics is highly task-dependent and no single metric is universally optimal"
(Liu, Zhao & Guo, MetaRank, arXiv 2511.21007, 2025). Averaging the ranks the scores give is a hedge with
no weights to fit: the scores live on different scales (an accuracy, a log evidence), so their values
are not averaged, only their orders. A Borda count is the classic rule for that (de Borda, 1781; as a
rank aggregation method, Dwork et al., WWW 2001).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import NDArray
from scipy.stats import rankdata

from ..errors import DataError

__all__ = ["CONSENSUS", "consensus_ranks", "merge_near_ties"]

#: Name of the consensus column of a ranking.
CONSENSUS = "consensus"


def merge_near_ties(values: NDArray[np.float64], rtol: float = 1e-6) -> NDArray[np.float64]:
    """``values`` with those within ``rtol`` (relative to the largest magnitude, at least 1) of their
    neighbour in sorted order made exactly equal, so that scores equal up to round-off tie instead of
    being ordered by it: a cross-validated accuracy of 0.7499999999999999 and one of 0.75, or the plain
    H-score saturated at ``n_classes - 1`` (0.9999999999999999, 1.0, 1.0000000000000022)."""
    out = np.asarray(values, dtype=np.float64).copy()
    if out.size < 2:
        return out
    tol = rtol * max(1.0, float(np.abs(out).max()))
    order = np.argsort(out, kind="stable")
    start = 0
    for i in range(1, len(order) + 1):
        if i == len(order) or out[order[i]] - out[order[i - 1]] > tol:
            group = order[start:i]
            out[group] = out[group].mean()
            start = i
    return out


def _complete(column: Sequence[float | None]) -> bool:
    return all(v is not None and math.isfinite(v) for v in column)


def consensus_ranks(scores: Mapping[str, Sequence[float | None]]) -> tuple[NDArray[np.float64], tuple[str, ...]]:
    """Each candidate's mean rank over several scores (higher is better), and the scores it averages.

    Parameters
    ----------
    scores : mapping of str to sequence of float or None
        Score name -> one value per candidate (higher is better), every sequence over the same candidates
        in the same order. A score that some candidate lacks (None, NaN or infinite: LEEP without a
        source classifier) cannot order every candidate and is left out.

    Returns
    -------
    ranks : ndarray of shape (n_candidates,)
        The mean over the kept scores of the candidate's rank: 1 for the lowest value, ``n_candidates``
        for the highest, average ranks for ties (values equal up to round-off tie, see
        :func:`merge_near_ties`). NaN everywhere when no score is kept.
    used : tuple of str
        The names of the kept scores, in the given order.

    Raises
    ------
    DataError
        No score, no candidate, or score columns of different lengths.

    Examples
    --------
    >>> ranks, used = consensus_ranks({"probe": [0.70, 0.80, 0.75], "logme": [-0.5, -0.9, 0.1],
    ...                                "leep": [None, -1.2, -0.8]})
    >>> ranks.tolist(), used
    ([1.5, 2.0, 2.5], ('probe', 'logme'))
    """
    if not scores:
        raise DataError("a consensus needs at least one score")
    lengths = {name: len(column) for name, column in scores.items()}
    n = next(iter(lengths.values()))
    if n == 0:
        raise DataError("a consensus needs at least one candidate")
    uneven = [name for name, length in lengths.items() if length != n]
    if uneven:
        raise DataError(f"score {uneven[0]!r} has {lengths[uneven[0]]} values, the first score {n}: every score "
                        "needs one value per candidate")
    used = tuple(name for name, column in scores.items() if _complete(column))
    if not used:
        return np.full(n, np.nan), used
    ranks = [rankdata(merge_near_ties(np.array(scores[name], dtype=np.float64)), method="average") for name in used]
    return np.mean(ranks, axis=0), used
