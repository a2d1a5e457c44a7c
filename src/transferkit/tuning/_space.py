"""Search spaces over probe heads: named head presets, their default spaces, and grids.

A space maps a scikit-learn parameter path of the head (``logisticregression__C``) to a dimension:
:class:`Float`, :class:`Int` or :class:`Categorical`. The paths are the head's own ``get_params``
keys, so any head (a preset or your own pipeline) can be searched without glue. Dimensions turn into
Optuna ``suggest_*`` calls, and into finite value lists for the grid sampler.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ._errors import TuningError

#: Grid values taken from a continuous range when the grid sampler needs a finite set.
GRID_POINTS = 5


@dataclass(frozen=True)
class Float:
    """A real range ``[low, high]``; ``log=True`` samples its logarithm uniformly (scales, rates)."""

    low: float
    high: float
    log: bool = False

    def grid(self, n: int = GRID_POINTS) -> list[float]:
        values = np.geomspace(self.low, self.high, n) if self.log else np.linspace(self.low, self.high, n)
        return [float(f"{v:.6g}") for v in values]

    def suggest(self, trial: Any, name: str) -> float:
        return float(trial.suggest_float(name, self.low, self.high, log=self.log))

    def to_dict(self) -> dict[str, Any]:
        return {"low": self.low, "high": self.high, "log": self.log}


@dataclass(frozen=True)
class Int:
    """An integer range ``[low, high]`` (``log=True`` for widths and counts)."""

    low: int
    high: int
    log: bool = False

    def grid(self, n: int = GRID_POINTS) -> list[int]:
        values = np.geomspace(self.low, self.high, n) if self.log else np.linspace(self.low, self.high, n)
        return sorted({int(round(v)) for v in values})

    def suggest(self, trial: Any, name: str) -> int:
        return int(trial.suggest_int(name, self.low, self.high, log=self.log))

    def to_dict(self) -> dict[str, Any]:
        return {"low": self.low, "high": self.high, "log": self.log, "int": True}


@dataclass(frozen=True)
class Categorical:
    """A finite set of choices (None, bool, int, float or str, as Optuna stores them)."""

    choices: tuple[Any, ...]

    def grid(self, n: int = GRID_POINTS) -> list[Any]:
        return list(self.choices)

    def suggest(self, trial: Any, name: str) -> Any:
        return trial.suggest_categorical(name, list(self.choices))

    def to_dict(self) -> dict[str, Any]:
        return {"choices": list(self.choices)}


Dimension = Float | Int | Categorical
Space = dict[str, Dimension]


def _logistic() -> BaseEstimator:
    return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000))


def _pca_logistic() -> BaseEstimator:
    return make_pipeline(StandardScaler(), PCA(n_components=0.95, svd_solver="full"),
                         LogisticRegression(C=1.0, max_iter=2000))


def _mlp() -> BaseEstimator:
    return make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(128,), alpha=1e-4, max_iter=300,
                                                         random_state=0))


#: Head presets by name: (factory, default search space). ``logistic`` is the default probe head.
HEADS: dict[str, tuple[Callable[[], BaseEstimator], Space]] = {
    "logistic": (_logistic, {
        "logisticregression__C": Float(1e-3, 1e2, log=True),
        "logisticregression__class_weight": Categorical((None, "balanced")),
    }),
    "pca-logistic": (_pca_logistic, {
        "pca__n_components": Float(0.5, 0.99),
        "logisticregression__C": Float(1e-3, 1e2, log=True),
    }),
    "mlp": (_mlp, {
        "mlpclassifier__hidden_layer_sizes": Categorical((64, 128, 256)),
        "mlpclassifier__alpha": Float(1e-5, 1e-1, log=True),
        "mlpclassifier__learning_rate_init": Float(1e-4, 1e-2, log=True),
    }),
}


def make_head(name: str) -> BaseEstimator:
    """A fresh, unfitted head preset (``logistic``, ``pca-logistic`` or ``mlp``)."""
    if name not in HEADS:
        raise TuningError(f"unknown head {name!r}; choose one of: {', '.join(HEADS)}")
    return HEADS[name][0]()


def default_space(name: str) -> Space:
    """The default search space of a head preset."""
    make_head(name)  # the name check
    return dict(HEADS[name][1])


def parse_dimension(name: str, spec: Any) -> Dimension:
    """A dimension from its JSON form: a list of choices, or ``{"low", "high", "log", "int"}``."""
    if isinstance(spec, Float | Int | Categorical):
        return spec
    if isinstance(spec, list | tuple):
        if not spec:
            raise TuningError(f"search dimension {name!r} has no choices")
        for choice in spec:  # what Optuna can store; NaN would never compare equal to itself
            if not (choice is None or isinstance(choice, bool | int | str)
                    or (isinstance(choice, float) and math.isfinite(choice))):
                raise TuningError(f"search dimension {name!r}: choice {choice!r} is not null, a boolean, a finite "
                                  "number or a string")
        if len({(type(c), c) for c in spec}) < len(spec):
            raise TuningError(f"search dimension {name!r} repeats a choice: {list(spec)!r}")
        return Categorical(tuple(spec))
    if isinstance(spec, Mapping) and "choices" in spec:
        choices = spec["choices"]
        if not isinstance(choices, list | tuple):
            raise TuningError(f"search dimension {name!r}: choices must be a list, got {choices!r}")
        return parse_dimension(name, list(choices))
    if isinstance(spec, Mapping) and {"low", "high"} <= set(spec):
        low, high = spec["low"], spec["high"]
        unknown = sorted(set(spec) - {"low", "high", "log", "int"})
        if unknown:
            raise TuningError(f"search dimension {name!r}: unknown key {unknown[0]!r}; a range takes low, high, "
                              "log and int")
        for key in ("log", "int"):
            if not isinstance(spec.get(key, False), bool):
                raise TuningError(f"search dimension {name!r}: {key} must be true or false, got {spec[key]!r}")
        for key, value in (("low", low), ("high", high)):
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise TuningError(f"search dimension {name!r}: {key} must be a finite number, got {value!r}")
        log = bool(spec.get("log", False))
        if not low < high or (log and low <= 0):
            raise TuningError(f"search dimension {name!r}: need low < high (and low > 0 with log), got "
                              f"{low!r}..{high!r}")
        if spec.get("int") or (isinstance(low, int) and isinstance(high, int)):
            if not (float(low).is_integer() and float(high).is_integer()):
                raise TuningError(f"search dimension {name!r}: an integer range needs whole-number bounds, got "
                                  f"{low!r}..{high!r}")
            return Int(int(low), int(high), log)
        return Float(float(low), float(high), log)
    raise TuningError(f"search dimension {name!r} must be a list of choices or {{\"low\": .., \"high\": ..}}, "
                      f"got {spec!r}")


def check_space(space: Mapping[str, Any], head: BaseEstimator) -> Space:
    """Parse ``space`` and check every key is a parameter of ``head`` (a typo fails before any work)."""
    if not space:
        raise TuningError("the search space is empty; give at least one parameter to search")
    params = head.get_params(deep=True)
    parsed = {}
    for key, spec in space.items():
        if key not in params:
            near = [p for p in params if p.split("__")[-1] == key.split("__")[-1]]
            hint = f"; did you mean {near[0]!r}?" if near else f"; searchable: {', '.join(sorted(params)[:12])}"
            raise TuningError(f"{key!r} is not a parameter of the head {type(head).__name__}{hint}")
        parsed[key] = parse_dimension(key, spec)
        check_values(key, parsed[key], head, params)
    return parsed


def check_values(key: str, dim: Dimension, head: BaseEstimator, params: Mapping[str, Any]) -> None:
    """Refuse a dimension whose bounds or choices the head's own parameter checks reject (a negative ``C``,
    an unknown ``class_weight``): every trial would fail. Checked on the scikit-learn estimator that owns
    the parameter, through its declared constraints (estimators without them are not checked)."""
    owner_path, _, leaf = key.rpartition("__")
    owner = params[owner_path] if owner_path else head
    # scikit-learn's private validation API (>= 1.2): without it, nothing is checked here, never everything refused
    if not isinstance(owner, BaseEstimator) or not hasattr(owner, "_parameter_constraints") \
            or not callable(getattr(owner, "_validate_params", None)):
        return
    values = dim.choices if isinstance(dim, Categorical) else (dim.low, dim.high)
    for value in values:
        try:
            clone(owner).set_params(**{leaf: value})._validate_params()
        except Exception as exc:  # scikit-learn's InvalidParameterError, or a setter that refuses the value
            raise TuningError(f"search dimension {key!r}: {value!r} is not a valid value ({exc})") from exc


def space_grid(space: Space, n: int = GRID_POINTS) -> dict[str, list[Any]]:
    """The finite grid the grid sampler walks: choices as given, ranges at ``n`` points."""
    return {key: dim.grid(n) for key, dim in space.items()}


def grid_size(grid: Mapping[str, Sequence[Any]]) -> int:
    return int(np.prod([len(v) for v in grid.values()]))


def space_to_dict(space: Space) -> dict[str, Any]:
    return {key: dim.to_dict() for key, dim in space.items()}
