"""``MultiTaskClassifier``: several classification tasks on the same inputs, one shared pretrained backbone."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ..data._validation import format_positions
from ..errors import DataError, StrategyError
from ..strategies import FitContext, FullFineTune, Strategy, TransferModel
from ..training import UNLABELED
from ._classifier import TransferClassifier, check_one_label_type, check_sample_weight, check_targets


def missing_labels(values: np.ndarray) -> np.ndarray:
    """Where ``values`` holds no label: None, NaN or pandas' NA."""
    import pandas as pd

    return np.asarray(pd.isna(values), dtype=bool)


def task_columns(y: Any, n_samples: int) -> tuple[list[str], list[np.ndarray], bool]:
    """The tasks' names and label columns of ``y`` (a DataFrame, a mapping name -> labels, or a 2-D array
    with one column per task, named ``task_0``, ``task_1``, ...), and whether ``y`` named them."""
    import pandas as pd

    if y is None:
        raise DataError("labels are required: MultiTaskClassifier needs y, one column of labels per task")
    if isinstance(y, Mapping):
        y = pd.DataFrame({k: list(v) if not isinstance(v, np.ndarray) else v for k, v in y.items()})
    if isinstance(y, pd.DataFrame):
        names = [str(c) for c in y.columns]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise DataError(f"task names must differ; {duplicated[0]!r} names more than one column of y")
        columns = [y.iloc[:, j].to_numpy(dtype=object) for j in range(y.shape[1])]
        named = True
    else:
        array = np.asarray(y, dtype=object)
        if array.ndim != 2:
            raise DataError(f"MultiTaskClassifier needs one column of labels per task (a 2-D array or a DataFrame), "
                            f"got an array of shape {array.shape}; for one task use TransferClassifier")
        names = [f"task_{j}" for j in range(array.shape[1])]
        columns = [array[:, j] for j in range(array.shape[1])]
        named = False
    if not columns:
        raise DataError("y has no columns: MultiTaskClassifier needs one column of labels per task")
    for name, col in zip(names, columns, strict=True):
        if len(col) != n_samples:
            raise DataError(f"{n_samples} samples but {len(col)} labels of task {name!r}: they must have the same length")
    return names, columns, named


def plain_labels(values: np.ndarray) -> np.ndarray:
    """The labels of one task as numpy would hold them alone (strings as ``<U``). Whole numbers read as
    floats become integers: a table column of integer labels with blanks (unlabelled rows) reads as floats."""
    plain = np.asarray(values.tolist())
    if plain.dtype.kind == "f" and np.isfinite(plain).all() and (plain == np.round(plain)).all():
        return plain.astype(np.int64)
    return plain


def encode_tasks(names: list[str], columns: list[np.ndarray]) -> tuple[list[np.ndarray], np.ndarray]:
    """Each task's classes and the labels as class indices, one column per task, ``UNLABELED`` where a row has
    no label for it. Refuses a task with fewer than two classes and a row labelled for no task."""
    n = len(columns[0])
    classes, codes = [], np.full((n, len(columns)), UNLABELED, dtype=np.int64)
    for t, (name, col) in enumerate(zip(names, columns, strict=True)):
        rows = np.flatnonzero(~missing_labels(col))
        try:
            check_one_label_type(col[rows])  # as given: numpy alone would read 0, "x", 1 as three strings
            labels = check_targets(plain_labels(col[rows]), len(rows))
        except DataError as exc:
            raise DataError(f"task {name!r}: {exc}") from None
        task_classes, idx = np.unique(labels, return_inverse=True)
        classes.append(task_classes)
        codes[rows, t] = idx
    none = np.flatnonzero((codes < 0).all(axis=1))
    if len(none):
        raise DataError(f"{format_positions(none.tolist())} of y {'has' if len(none) == 1 else 'have'} no label for "
                        "any task; drop them or label them for one task at least")
    return classes, codes


def check_task_weights(task_weights: Any, names: list[str]) -> tuple[float, ...] | None:
    """``task_weights`` as one positive weight per task: None, a sequence in task order, or a mapping
    task name -> weight (unnamed tasks weigh 1)."""
    if task_weights is None:
        return None
    if isinstance(task_weights, Mapping):
        unknown = [k for k in task_weights if str(k) not in names]
        if unknown:
            raise StrategyError(f"task_weights names task {unknown[0]!r}, which y does not have; tasks: {', '.join(names)}")
        values = [task_weights.get(n, 1.0) for n in names]
    elif isinstance(task_weights, Sequence | np.ndarray) and not isinstance(task_weights, str):
        values = list(task_weights)
        if len(values) != len(names):
            raise StrategyError(f"task_weights has {len(values)} weights for {len(names)} tasks ({', '.join(names)})")
    else:
        raise StrategyError(f"task_weights must be None, one number per task or a mapping task -> number; got "
                            f"{task_weights!r:.60}")
    for name, w in zip(names, values, strict=True):
        if isinstance(w, bool) or not isinstance(w, int | float | np.integer | np.floating) or not math.isfinite(w) \
                or w <= 0:
            raise StrategyError(f"the weight of task {name!r} must be a finite number > 0, got {w!r}")
    return tuple(float(w) for w in values)


class MultiTaskClassifier(TransferClassifier):
    """Several classification tasks on the same inputs, learnt together on one pretrained backbone.

    Hard parameter sharing (Caruana, 1997): every task trains the one shared backbone, and each has its own
    linear head (its block of one linear layer). A task labelled on few rows borrows the representation
    that the others shape; a row may be labelled for some tasks only (missing labels: None, NaN or pandas'
    NA), and contributes to those. The loss is the tasks' cross-entropies weighted by ``task_weights``;
    validation, early stopping and checkpoints are the fine-tuning loop's, with each task's accuracy and
    macro-F1 logged beside their means.

    Compare it with one :class:`TransferClassifier` per task (and the no-transfer baseline) before relying
    on it: sharing helps related tasks and can hurt unrelated ones (negative transfer between tasks).

    Parameters
    ----------
    strategy : Strategy or str, optional
        :class:`~transferkit.strategies.FullFineTune` by default; also ``"partial"``, ``"gradual"``,
        ``"lpft"`` (one probe per task initialises the heads), ``"lora"``, or ``"linear"`` (one probe per task
        on frozen features: nothing trained is shared, the baseline to beat). ``"auto"`` and ``"distill"``
        are refused; so are ``class_weight="balanced"`` and MixUp/CutMix.
    task_weights : sequence or mapping of float > 0, optional
        Weight of each task in the loss (in the order of the columns of ``y``, or by task name; default 1).
    **others
        As :class:`TransferClassifier`.

    Attributes
    ----------
    tasks_ : ndarray of str
        The tasks' names: the columns of a DataFrame ``y``, else ``task_0``, ``task_1``, ...
    classes_ : list of ndarray
        Each task's classes, in the order of its ``predict_proba`` columns.
    model_, strategy_, random_seed_, fit_seconds_
        As :class:`TransferClassifier`.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from transferkit import MultiTaskClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 4))
    >>> Y = pd.DataFrame({"sign": np.where(X[:, 0] > 0, "pos", "neg"), "big": X[:, 1] > 0})
    >>> clf = MultiTaskClassifier(backbone="tiny-mlp", strategy="linear", cache=False).fit(X, Y)
    >>> clf.tasks_.tolist(), clf.predict(X[:1]).shape
    (['sign', 'big'], (1, 2))
    """

    def __init__(
        self,
        *,
        backbone: str = "minilm-l6",
        strategy: Strategy | str | None = None,
        task_weights: Sequence[float] | Mapping[str, float] | None = None,
        pretrained: bool = True,
        image_size: int | None = None,
        weights: str | None = None,
        max_length: int | None = None,
        batch_size: int = 64,
        cache: bool | str | Path = True,
        device: str = "auto",
        verbose: int = 0,
        random_state: Any = 0,
    ) -> None:
        super().__init__(backbone=backbone, strategy=strategy, pretrained=pretrained, image_size=image_size,
                         weights=weights, max_length=max_length, batch_size=batch_size, cache=cache, device=device,
                         verbose=verbose, random_state=random_state)
        self.task_weights = task_weights

    def _strategy(self) -> Strategy:
        return FullFineTune() if self.strategy is None else super()._strategy()

    def _context(self, n_classes: int) -> FitContext:
        ctx = super()._context(n_classes)
        ctx.classes = None  # one array per task: see classes_
        ctx.task_sizes = tuple(len(c) for c in self.classes_)
        ctx.task_names = tuple(str(n) for n in self.tasks_)
        ctx.task_weights = getattr(self, "task_weights_", None)
        return ctx

    # --- scikit-learn API ------------------------------------------------------------------------
    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> MultiTaskClassifier:
        """Fit every task on ``X``: ``y`` has one column of labels per task (a DataFrame, a mapping task ->
        labels or a 2-D array; missing where a row is not labelled for that task). Returns self."""
        strategy, seed, X = self._begin_fit(X)
        names, columns, _ = task_columns(y, len(X))
        task_weights = check_task_weights(self.task_weights, names)
        classes, codes = encode_tasks(names, columns)
        sample_weight = check_sample_weight(sample_weight, len(X))
        self.tasks_ = np.asarray(names, dtype=object)
        self.classes_ = classes  # type: ignore[assignment]
        self.task_weights_ = task_weights
        ctx = self._context(sum(len(c) for c in classes))
        strategy.check_multitask(ctx)  # before any work
        start = time.perf_counter()
        self.strategy_ = strategy
        self.random_seed_ = seed
        self.model_: TransferModel = strategy.fit_transfer(ctx, X, codes, sample_weight)
        self.fit_info_ = ctx.info
        self.fit_seconds_ = time.perf_counter() - start
        return self

    def predict_proba(self, X: Any) -> list[np.ndarray]:  # type: ignore[override]
        """Each task's class probabilities (a list, in the order of ``tasks_``; columns as its ``classes_``)."""
        check_is_fitted(self, "model_")
        proba = self.model_.predict_proba(self._validate_X(X, reset=False))
        ends = np.cumsum([0, *(len(c) for c in self.classes_)])
        return [proba[:, a:b] for a, b in zip(ends[:-1], ends[1:], strict=True)]

    def predict(self, X: Any) -> np.ndarray:
        """Each task's predicted label, one column per task (in the order of ``tasks_``)."""
        check_is_fitted(self, "model_")
        labels = [c[np.argmax(p, axis=1)] for c, p in zip(self.classes_, self.predict_proba(X), strict=True)]
        same = len({c.dtype for c in self.classes_}) == 1
        out = np.empty((len(labels[0]), len(labels)), dtype=self.classes_[0].dtype if same else object)
        for t, column in enumerate(labels):
            out[:, t] = column
        return out

    def task_scores(self, X: Any, y: Any) -> dict[str, float]:
        """Each task's accuracy over the rows of ``y`` labelled for it (a task with none: NaN). A DataFrame
        ``y`` is matched to the tasks by column name, in any order."""
        check_is_fitted(self, "model_")
        names, columns, named = task_columns(y, len(X))
        tasks = [str(n) for n in self.tasks_]
        if named and names != tasks:
            if sorted(names) != sorted(tasks):
                raise DataError(f"y's columns ({', '.join(names)}) are not this model's tasks ({', '.join(tasks)})")
            columns = [columns[names.index(n)] for n in tasks]
        elif len(columns) != len(tasks):
            raise DataError(f"y has {len(columns)} columns, this model has {len(tasks)} tasks ({', '.join(tasks)})")
        predicted = self.predict(X)
        scores = {}
        for t, (name, col) in enumerate(zip(tasks, columns, strict=True)):
            rows = np.flatnonzero(~missing_labels(col))
            truth = plain_labels(col[rows])
            hits = [p == v for p, v in zip(predicted[rows, t].tolist(), truth.tolist(), strict=True)]
            scores[name] = float(np.mean(hits)) if hits else float("nan")
        return scores

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """The mean over tasks of each task's accuracy on the rows labelled for it (see :meth:`task_scores`)."""
        if sample_weight is not None:
            raise DataError("MultiTaskClassifier.score takes no sample_weight: each task is scored on its own rows")
        return float(np.nanmean(list(self.task_scores(X, y).values())))

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = False
        return tags
