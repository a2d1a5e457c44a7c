"""A gain's interval stays inside the possible +-100 points and says when it was clipped (evaluate, ensemble
and select share :func:`clip_gain_interval`); a gain that rounds to zero prints as +0.0, never -0.0."""

from __future__ import annotations

from tests.helpers import FoldFlip, flip_data

from transferkit.evaluation import EvaluationResult, Gain, evaluate
from transferkit.evaluation._metrics import GAIN_CLIPPED, clip_gain_interval, format_gain, signed_points


def test_clip_gain_interval_cuts_to_plus_minus_one_and_says_so() -> None:
    assert clip_gain_interval(-6.85, 5.85) == (-1.0, 1.0, True)
    assert clip_gain_interval(-0.2, 1.3) == (-0.2, 1.0, True)
    assert clip_gain_interval(-1.0, 1.0) == (-1.0, 1.0, False)
    assert clip_gain_interval(-0.1, 0.4) == (-0.1, 0.4, False)


def test_evaluate_with_two_very_different_folds_clips_the_interval_and_says_so() -> None:
    X, y = flip_data()
    result = evaluate({"flip": FoldFlip()}, X, y, cv=2)
    assert sorted(f["accuracy"] for f in result.models["flip"].folds) == [0.0, 1.0]
    for g in result.gains["flip"].values():
        assert -1.0 <= g.low <= g.mean <= g.high <= 1.0 and GAIN_CLIPPED in g.method
    assert GAIN_CLIPPED in result.verdict("flip")
    assert GAIN_CLIPPED in result.to_dict()["gains"]["flip"]["accuracy"]["method"]


def test_a_gain_that_rounds_to_zero_is_printed_without_a_minus_sign() -> None:
    """evaluate printed '-0.0 pts [-40.3, +40.3]' and '... is -0.0 accuracy points'."""
    tiny = (0.3 - 0.4 + (0.4 - 0.3)) / 2 - 1e-17  # a mean of fold differences that should be 0
    assert tiny < 0
    assert signed_points(tiny) == "+0.0" and signed_points(-0.0004) == "+0.0" and signed_points(-0.0) == "+0.0"
    assert signed_points(0.041) == "+4.1" and signed_points(-0.403) == "-40.3" and signed_points(-1.0) == "-100.0"
    assert format_gain(tiny, -0.403, 0.403) == "+0.0 pts [-40.3, +40.3]"
    gain = Gain("accuracy", tiny, -0.403, 0.403, "Student-t over 2 folds")
    result = EvaluationResult(modality="table", classes=["a", "b"], scheme="", n_samples=8, class_counts={},
                              models={}, gains={"m": {"accuracy": gain}})
    assert "is +0.0 accuracy points (95% CI -40.3 to +40.3" in result.verdict("m")
    assert "-0.0" not in result.verdict("m")
