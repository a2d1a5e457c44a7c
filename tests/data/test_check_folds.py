"""One check for every ``cv`` setting: the same sentence, naming the parameter, before any work."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.dummy import DummyClassifier

from transferkit.adaptation import discriminator_weights, kliep_weights
from transferkit.audit._audit import check_audit_params
from transferkit.data._validation import check_folds
from transferkit.errors import DataError, StrategyError
from transferkit.evaluation import evaluate
from transferkit.feature_selection import CVFeatureSelector
from transferkit.tuning import TuningError, tune

BAD = [1, 0, -3, 2.5, True, np.True_, "5", None]
X = np.random.default_rng(0).normal(size=(12, 3))
Y = np.array([0, 1] * 6)


@pytest.mark.parametrize("value", BAD)
def test_check_folds_refuses_what_is_not_two_or_more_folds(value: object) -> None:
    with pytest.raises(DataError, match=rf"^cv must be an integer of at least 2 folds, got {value!r}$"):
        check_folds(value)


@pytest.mark.parametrize("value", [2, 5, np.int64(3)])
def test_check_folds_returns_a_plain_int(value: object) -> None:
    out = check_folds(value)
    assert out == value and type(out) is int


def test_check_folds_names_the_parameter_and_raises_the_callers_error() -> None:
    with pytest.raises(TuningError, match=r"^selector_cv must be an integer of at least 2 folds, got 1$"):
        check_folds(1, "selector_cv", error=TuningError)


@pytest.mark.parametrize(("call", "error"), [
    (lambda: evaluate({"d": DummyClassifier()}, X, Y, cv=1, modality="table"), DataError),
    (lambda: tune(X, Y, backbone="tiny-mlp", cv=1, storage=None, out=None), TuningError),
    (lambda: check_audit_params(cv=1), DataError),
    (lambda: CVFeatureSelector(cv=1).fit(X, Y), DataError),
    (lambda: kliep_weights(X, X, cv=1), DataError),
    (lambda: discriminator_weights(X, X, cv=1), DataError),
])
def test_every_cv_setting_reads_the_same(call, error) -> None:
    with pytest.raises(error, match=r"^cv must be an integer of at least 2 folds, got 1$"):
        call()


def test_auto_strategy_refuses_one_fold_before_any_training() -> None:
    from transferkit import TransferClassifier
    from transferkit.strategies import AutoStrategy

    clf = TransferClassifier(backbone="tiny-mlp", cache=False, strategy=AutoStrategy(cv=1))
    with pytest.raises(StrategyError, match=r"cv must be an integer of at least 2 folds, got 1"):
        clf.fit(X, Y)
