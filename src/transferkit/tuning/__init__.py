"""Hyperparameter search of transfer heads with Optuna: features extracted once, persistent resumable
studies (SQLite or any database URL), grid / random / TPE samplers, pruning per CV fold, a refittable
best configuration and a report with the optimisation history and parameter importances."""

from ._errors import TuningError
from ._report import load_best, param_importances, refit_to_folder, tune_report, write_tune_outputs
from ._search import PRUNERS, SAMPLERS, TuneResult, check_scoring, make_objective, tune
from ._space import HEADS, Categorical, Float, Int, check_space, default_space, make_head, space_grid

__all__ = [
    "HEADS",
    "PRUNERS",
    "SAMPLERS",
    "Categorical",
    "Float",
    "Int",
    "TuneResult",
    "TuningError",
    "check_scoring",
    "check_space",
    "default_space",
    "load_best",
    "make_head",
    "make_objective",
    "param_importances",
    "refit_to_folder",
    "space_grid",
    "tune",
    "tune_report",
    "write_tune_outputs",
]
