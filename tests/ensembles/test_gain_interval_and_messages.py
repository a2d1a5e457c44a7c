"""The ensemble's gain over its best member stays inside the possible +-100 points and says when it was
clipped; a member without probabilities is told to use CalibratedClassifierCV, not a deprecated parameter."""

from __future__ import annotations

import json

import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.svm import SVC
from tests.helpers import FoldFlip, flip_data

from transferkit.ensembles import EnsembleError, compare_ensemble, ensemble_report
from transferkit.ensembles._members import check_probabilities
from transferkit.evaluation._metrics import GAIN_CLIPPED


def test_two_very_different_folds_give_a_clipped_interval_that_says_so() -> None:
    """--cv 2 printed '-50.0 accuracy points (95% CI -685.3 to +585.3 over folds)'."""
    X, y = flip_data()
    members = [("flip", FoldFlip()), ("right", FoldFlip(flip_features=None, confidence=0.6))]
    result = compare_ensemble(X, y, members=members, method="voting", cv=2, modality="table")
    ensemble = sorted(f["accuracy"] for f in result.evaluation.models[result.ensemble].folds)
    assert result.best_member() == "right" and ensemble == [0.0, 1.0]  # the ensemble follows the confident member
    v = result.versus_best()
    assert -1.0 <= float(v["gain_low"]) <= float(v["gain"]) <= float(v["gain_high"]) <= 1.0
    assert v["interval"] == f"Student-t over 2 folds, {GAIN_CLIPPED}"
    assert "(95% CI -100.0 to +100.0, Student-t over 2 folds, clipped" in result.verdict()
    assert json.loads(json.dumps(result.to_dict(), default=str))["versus_best"]["interval"] == v["interval"]
    assert GAIN_CLIPPED in ensemble_report(result, title="t").render()


def test_an_interval_inside_the_range_is_not_said_to_be_clipped() -> None:
    X, y = flip_data(6)
    members = [("right", FoldFlip(flip_features=None)), ("also right", FoldFlip(flip_features=None))]
    v = compare_ensemble(X, y, members=members, method="voting", cv=3, modality="table").versus_best()
    assert v["interval"] == "Student-t over 3 folds" and "clipped" not in str(v)


def test_a_member_without_probabilities_is_told_to_use_calibration() -> None:
    """The message advised SVC(probability=True), deprecated in scikit-learn 1.9."""
    with pytest.raises(EnsembleError, match=r"member 'svm' \(SVC\) has no predict_proba, and voting combines .*"
                                            r"CalibratedClassifierCV\(SVC\(\)\)") as err:
        check_probabilities([("ok", FoldFlip()), ("svm", SVC())], "voting")
    assert "probability=True" not in str(err.value)
    check_probabilities([("svm", CalibratedClassifierCV(SVC()))], "stacking")  # what it advises passes
    X, y = flip_data(6)
    assert CalibratedClassifierCV(SVC(), cv=2).fit(X, y).predict_proba(X).shape == (len(y), 2)
