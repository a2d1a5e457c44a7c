"""Model selection before training: transferability scores and domain distances.

Every score and distance is a pure function on numpy arrays, validated up front (bad input raises
:class:`~transferkit.errors.DataError`). Scores rank pre-trained models for a target task from the
features they produce on it (higher is better); distances compare a source and a target sample of
features (lower means closer domains).

- :data:`SCORES` maps a name to a score ``f(features, labels) -> float``: LogME, H-score, shrinkage
  H-score, GBC, the leave-one-out kNN accuracy and the cross-validated linear probe.
- :func:`leep` and :func:`nce` score a source *classifier* from its probabilities or hard predictions.
- :data:`DISTANCES` maps a name to a distance ``f(source, target) -> float``: MMD, proxy A-distance,
  CORAL.
- :func:`consensus_ranks` is each candidate's mean rank over several scores (a Borda count), the
  default order of a ranking.
- :func:`rank_backbones` scores candidate backbones on labelled data (features extracted once, cached)
  and :func:`domain_distance` compares two datasets through one backbone; :func:`ranking_report` and
  :func:`distance_report` turn them into HTML reports.
"""

from __future__ import annotations

from collections.abc import Callable

from numpy.typing import ArrayLike

from ._consensus import consensus_ranks
from ._distance_report import check_metrics, distance_report, domain_distance
from ._distances import coral_distance, mmd_rbf, proxy_a_distance
from ._gbc import gbc
from ._knn import knn_score
from ._logme import logme
from ._rank import BackboneScores, RankingResult, check_backbones, check_scores, rank_backbones
from ._ranking_report import ranking_report
from ._scores import h_score, h_score_shrinkage, linear_probe_score
from ._source_scores import leep, nce

#: A transferability score ``score(features, labels) -> float``; higher means a better fit.
FeatureScore = Callable[[ArrayLike, ArrayLike], float]
#: A domain distance ``distance(source, target) -> float``; lower means closer domains.
DomainDistance = Callable[[ArrayLike, ArrayLike], float]

SCORES: dict[str, FeatureScore] = {
    "logme": logme,
    "h_score": h_score,
    "h_score_shrinkage": h_score_shrinkage,
    "gbc": gbc,
    "knn": knn_score,
    "linear_probe": linear_probe_score,
}

DISTANCES: dict[str, DomainDistance] = {
    "mmd_rbf": mmd_rbf,
    "proxy_a": proxy_a_distance,
    "coral": coral_distance,
}

__all__ = [
    "BackboneScores",
    "DISTANCES",
    "DomainDistance",
    "FeatureScore",
    "SCORES",
    "RankingResult",
    "check_backbones",
    "check_metrics",
    "check_scores",
    "consensus_ranks",
    "coral_distance",
    "distance_report",
    "domain_distance",
    "gbc",
    "h_score",
    "h_score_shrinkage",
    "knn_score",
    "leep",
    "linear_probe_score",
    "logme",
    "mmd_rbf",
    "nce",
    "proxy_a_distance",
    "rank_backbones",
    "ranking_report",
]
