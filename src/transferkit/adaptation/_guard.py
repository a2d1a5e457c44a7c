"""The negative-transfer guard: does adaptation beat training on the source alone, or did it hurt?

With target labels for evaluation, each method's target accuracy is compared with source-only training
on the same rows by a paired bootstrap (Efron & Tibshirani 1993): the gain gets a 95% interval, and a
method *hurt* when the whole interval lies below 0. Without target labels the comparison falls back on a
target-aware score (:mod:`._scorers`): an estimate, stated as such, without an interval.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ..errors import DataError
from ..evaluation import paired_bootstrap_ci
from ..evaluation._metrics import format_gain
from ._methods import SOURCE_ONLY

__all__ = ["GuardVerdict", "negative_transfer_guard", "unsupervised_guard"]


@dataclass(frozen=True)
class GuardVerdict:
    """One method against the source-only baseline.

    ``basis`` is ``"target accuracy"`` or the name of the score used; ``value`` that accuracy or score,
    with its interval where one exists; ``gain`` the difference to the baseline with its interval;
    ``verdict`` one of ``"helped"``, ``"hurt"``, ``"no clear difference"`` (suffixed ``"(estimated)"``
    when no target label was available).
    """

    method: str
    basis: str
    value: float
    value_low: float | None
    value_high: float | None
    gain: float
    gain_low: float | None
    gain_high: float | None
    verdict: str

    @property
    def hurt(self) -> bool:
        return self.verdict.startswith("hurt")

    def message(self) -> str:
        if self.gain_low is not None and self.gain_high is not None:
            gain = format_gain(self.gain, self.gain_low, self.gain_high)
            return f"{self.method}: {self.verdict} ({gain} {self.basis} vs {SOURCE_ONLY})"
        return f"{self.method}: {self.verdict} ({self.basis} {self.gain:+.4f} vs {SOURCE_ONLY})"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def negative_transfer_guard(
    y_true: ArrayLike,
    predictions: Mapping[str, ArrayLike],
    *,
    baseline: str = SOURCE_ONLY,
    confidence: float = 0.95,
    n_boot: int = 2000,
    seed: int = 0,
) -> list[GuardVerdict]:
    """Compare every method's target accuracy with the baseline's, with paired bootstrap intervals.

    Parameters
    ----------
    y_true : array-like of shape (n,)
        True target labels (used for evaluation only).
    predictions : mapping of str to array-like of shape (n,)
        Predicted target labels per method; must include ``baseline``.

    Returns
    -------
    list of GuardVerdict
        One per method, the baseline first (gain 0).

    Examples
    --------
    >>> y = np.array([0, 1] * 50)
    >>> v = negative_transfer_guard(y, {"source-only": y, "bad": 1 - y})
    >>> [x.verdict for x in v]
    ['baseline', 'hurt']
    """
    truth = np.asarray(y_true)
    if baseline not in predictions:
        raise DataError(f"the guard needs the {baseline!r} predictions to compare against")
    correct = {}
    for name, pred in predictions.items():
        p = np.asarray(pred)
        if p.shape != truth.shape:
            raise DataError(f"{name}: {p.shape[0] if p.ndim else 0} predictions for {len(truth)} target labels")
        correct[name] = (p == truth).astype(float)
    if len(truth) == 0:
        raise DataError("no target labels to evaluate on")
    base = correct[baseline]
    rng = np.random.default_rng(seed)
    boot_idx = rng.integers(0, len(truth), size=(n_boot, len(truth)))
    q = [(1 - confidence) / 2, 0.5 + confidence / 2]
    out = []
    for name in [baseline, *[n for n in correct if n != baseline]]:
        c = correct[name]
        lo, hi = np.quantile(c[boot_idx].mean(axis=1), q)
        if name == baseline:
            out.append(GuardVerdict(name, "target accuracy", float(c.mean()), float(lo), float(hi), 0.0, 0.0, 0.0,
                                    "baseline"))
            continue
        gain, glo, ghi = paired_bootstrap_ci(c, base, n_boot=n_boot, confidence=confidence, seed=seed)
        verdict = "hurt" if ghi < 0 else "helped" if glo > 0 else "no clear difference"
        out.append(GuardVerdict(name, "target accuracy", float(c.mean()), float(lo), float(hi), gain, glo, ghi, verdict))
    return out


def unsupervised_guard(
    scores: Mapping[str, Mapping[str, float]], *, by: str = "dev", baseline: str = SOURCE_ONLY
) -> list[GuardVerdict]:
    """Without target labels: compare each method's ``by`` score (greater is better) with the baseline's.

    The verdicts are estimates (marked ``"(estimated)"``) with no interval.

    Examples
    --------
    >>> s = {"source-only": {"dev": -0.5}, "coral": {"dev": -0.4}, "tca": {"dev": -0.9}}
    >>> [v.verdict for v in unsupervised_guard(s)]
    ['baseline', 'helped (estimated)', 'hurt (estimated)']
    """
    if baseline not in scores:
        raise DataError(f"the guard needs the {baseline!r} scores to compare against")
    ref = float(scores[baseline][by])
    out = [GuardVerdict(baseline, by, ref, None, None, 0.0, None, None, "baseline")]
    for name, s in scores.items():
        if name == baseline:
            continue
        gain = float(s[by]) - ref
        verdict = "helped (estimated)" if gain > 0 else "hurt (estimated)" if gain < 0 else "no clear difference"
        out.append(GuardVerdict(name, by, float(s[by]), None, None, gain, None, None, verdict))
    return out
