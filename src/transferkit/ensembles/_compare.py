"""Score an ensemble and each of its members on the same cross-validation splits, against the
no-transfer baseline (via :func:`transferkit.evaluation.evaluate`), and report ensemble vs the best
single member."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..backbones._providers import resolve_seed
from ..data._validation import check_folds
from ..evaluation import BASELINE, EvaluationResult, Report, add_evaluation, evaluate, make_baseline, mean_ci
from ..evaluation._metrics import clip_gain_interval, described_interval, signed_points
from ._ensemble import TransferEnsemble
from ._members import BASELINE_SPEC, EnsembleError
from ._modality import fit_modality, required_modality


@dataclass
class EnsembleComparison:
    """Per-member and ensemble scores on shared folds."""

    evaluation: EvaluationResult
    method: str
    ensemble: str
    members: list[str]
    #: The unfitted ensemble that was cross-validated: ``clone(...).fit(X, y)`` fits it on all the data.
    estimator: TransferEnsemble | None = field(default=None, repr=False)

    def _folds(self, name: str, metric: str = "accuracy") -> np.ndarray:
        return np.asarray([f[metric] for f in self.evaluation.models[name].folds])

    def best_member(self) -> str:
        """The member with the highest mean accuracy over folds."""
        return max(self.members, key=lambda n: float(self._folds(n).mean()))

    def versus_best(self) -> dict[str, float | str]:
        """Ensemble minus best member, accuracy averaged over folds, with a Student-t 95% interval over
        the paired fold differences (clipped to the possible +-100 points; ``interval`` says how it was
        made)."""
        best = self.best_member()
        diff = self._folds(self.ensemble) - self._folds(best)
        mean, low, high = mean_ci(diff.tolist())
        low, high, clipped = clip_gain_interval(low, high)
        interval = described_interval(f"Student-t over {len(diff)} folds", clipped)
        return {"best_member": best, "ensemble_accuracy": float(self._folds(self.ensemble).mean()),
                "best_member_accuracy": float(self._folds(best).mean()), "gain": mean, "gain_low": low,
                "gain_high": high, "interval": interval}

    def table(self) -> list[dict[str, Any]]:
        rows = []
        for name in [*self.members, self.ensemble]:
            acc, f1 = self._folds(name), self._folds(name, "macro_f1")
            rows.append({"model": name, "role": "ensemble" if name == self.ensemble else "member",
                         "accuracy (mean over folds)": float(acc.mean()),
                         "± (std over folds)": float(acc.std(ddof=1)) if len(acc) > 1 else 0.0,
                         "macro F1 (mean over folds)": float(f1.mean()),
                         "fit seconds (all folds)": float(np.sum(self.evaluation.models[name].fit_seconds))})
        return rows

    def verdict(self) -> str:
        v = self.versus_best()
        pts = (f"{signed_points(float(v['gain']))} accuracy points (95% CI {signed_points(float(v['gain_low']))} "
               f"to {signed_points(float(v['gain_high']))}, {v['interval']})")
        return (f"The {self.method} ensemble scores {float(v['ensemble_accuracy']):.3f} against "
                f"{float(v['best_member_accuracy']):.3f} for its best member, {v['best_member']}: {pts}.")

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "ensemble": self.ensemble, "members": self.members,
                "versus_best": self.versus_best(), "table": self.table(), "evaluation": self.evaluation.to_dict()}


def compare_ensemble(
    X: Any,
    y: Any,
    *,
    members: Any,
    method: str = "stacking",
    cv: int = 5,
    modality: str | None = None,
    image_size: int | None = None,
    max_length: int | None = None,
    cache: Any = True,
    n_estimators: int = 10,
    random_state: Any = 0,
    verbose: int = 0,
) -> EnsembleComparison:
    """Cross-validate each member and the ensemble on the same stratified folds.

    A ``"baseline"`` member is the no-transfer baseline row itself (voting, stacking); with bagging or
    boosting each member enters with its swapped head, and is scored that way. Every model also gets
    its gain over the plain no-transfer baseline with a 95% interval. Without ``modality``, the one the
    members' backbones read, else the one ``X`` shows.

    ``random_state`` (int, ``numpy.random.RandomState`` or None) stands for one seed, drawn once: it seeds
    the folds, the members, the ensemble and the baseline alike (None draws a fresh one at each call).
    The returned ``estimator`` holds that int as its ``random_state``.

    Returns
    -------
    EnsembleComparison
    """
    cv = check_folds(cv, error=EnsembleError)
    seed = resolve_seed(random_state)  # one seed for every model and fold; a bad value fails before any work
    ensemble = TransferEnsemble(members=members, method=method, cv=min(cv, 5), n_estimators=n_estimators,
                                modality=modality, image_size=image_size, max_length=max_length, cache=cache,
                                random_state=seed)
    ensemble._check_params()
    if modality is None:  # the members' (a member reading other data than X holds is named), else X's
        modality = fit_modality(members, None, X)[0] or required_modality(
            X, why="the no-transfer baseline every model is compared with reads the data's modality")
    ensemble.set_params(modality=modality)
    if method == "stacking":
        ensemble.set_params(cv=_inner_folds(y, cv, min(cv, 5)))
    pairs = ensemble.named_members()  # also checks names and the method before any data work
    suffix = f" ({method})" if method in ("bagging", "boosting") else ""
    models: dict[str, Any] = {}
    names = []
    for name, est in pairs:
        if name == BASELINE_SPEC and not suffix:
            names.append(BASELINE)  # the baseline member is evaluate's own baseline row
            continue
        models[name + suffix] = est
        names.append(name + suffix)
    label = f"ensemble ({method})"
    models[label] = ensemble
    result = evaluate(models, X, y, cv=cv, baseline=make_baseline(modality, random_state=seed),
                      modality=modality, random_state=seed, verbose=verbose)
    return EnsembleComparison(evaluation=result, method=method, ensemble=label, members=names, estimator=ensemble)


def _inner_folds(y: Any, cv: int, wanted: int) -> int:
    """Stacking's inner folds within each of ``cv`` outer training folds: ``wanted``, lowered so that the
    smallest class of the smallest training fold fills them (it failed after the members' first fits: "stacking
    with cv=3 needs at least 3 examples per class"); an :class:`EnsembleError` before any work when fewer than
    2 are possible. Labels that cannot be counted are left to ``evaluate``'s checks."""
    try:
        _, counts = np.unique(np.asarray(y), return_counts=True)
    except TypeError:
        return wanted
    if len(counts) == 0:
        return wanted
    smallest = int(counts.min())
    outer = max(2, min(cv, smallest))  # as evaluate lowers its folds
    in_training = smallest - -(-smallest // outer)  # the class's rows outside its largest test fold
    if in_training < 2:
        raise EnsembleError(f"stacking cross-validates inside each training fold, and the smallest class has "
                            f"{smallest} example(s), {max(in_training, 0)} in a training fold; it needs 2 there: add "
                            "examples or use method='voting'")
    return min(wanted, in_training)


def ensemble_report(comparison: EnsembleComparison, *, title: str, summary: dict[str, Any] | None = None) -> Report:
    """Ensemble vs best member first, then the full evaluation against the baseline."""
    report = Report(title)
    v = comparison.versus_best()
    css = "positive" if float(v["gain_low"]) > 0 else "negative" if float(v["gain_high"]) < 0 else "inconclusive"
    report.paragraph(comparison.verdict(), css)
    report.heading("Ensemble vs its members (same folds)")
    report.table(comparison.table())
    if summary:
        report.table([{"setting": k, "value": val} for k, val in summary.items()])
    add_evaluation(report, comparison.evaluation)
    return report
