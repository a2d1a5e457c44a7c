"""select: a gain interval stays inside the possible +-100 points and says when it was clipped; the scheme
line gives the inner folds that ran, and the lowered-folds note counts training parts, not methods x folds."""

from __future__ import annotations

import json

import numpy as np
from tests.feature_selection.test_compare import planted_binary
from tests.helpers import FoldFlip, flip_data

from transferkit.evaluation._metrics import GAIN_CLIPPED
from transferkit.feature_selection import compare_selectors, selection_report


def test_two_very_different_folds_give_a_clipped_interval_and_a_note() -> None:
    """select printed '+0.0 pts [-196.4, +196.4]'. FoldFlip on all 3 features is always right; on the one
    feature anova keeps, it is wrong on the fold whose training part holds the marker."""
    X, y = flip_data(n_features=3)
    res = compare_selectors(X, y, methods=["anova", "model"], cv=2, candidates=[1], classifier=FoldFlip(),
                            timing_rows=8, timing_repeats=1)
    assert sorted(f["accuracy"] for f in res.folds["anova"]) == [0.0, 1.0]
    for g in res.gains.values():
        assert -1.0 <= g["low"] <= g["mean"] <= g["high"] <= 1.0 and GAIN_CLIPPED in g["method"]
    note = (f"the gain intervals of anova, model were {GAIN_CLIPPED}: with so few folds the t interval passed it")
    assert res.notes == [note]
    assert json.loads(json.dumps(res.to_dict()))["notes"] == [note]
    html = selection_report(res, title="sel").render()
    assert note in html and "-100.0, +100.0]" in html
    assert res.scheme == "2-fold stratified cross-validation; a single candidate number of features, so no inner CV"


def test_an_interval_inside_the_range_has_no_note() -> None:
    X, y = planted_binary(20, n_features=12)
    res = compare_selectors(X, y, methods=["anova"], cv=3, selector_cv=2, candidates=(2, 12), timing_rows=10,
                            timing_repeats=1)
    assert res.gains["anova"]["low"] > -1.0 and res.gains["anova"]["high"] < 1.0
    assert "clipped" not in res.gains["anova"]["method"] and res.notes == []


def test_the_scheme_gives_the_inner_folds_that_ran_and_the_note_counts_training_parts() -> None:
    """--per-class 3 --cv 5 --selector-cv 3 said 'k chosen by 3-fold CV inside each training part' and
    'lowered to 2 folds inside 9 of 9 training parts' (3 training parts; 9 counted 3 methods x 3 folds)."""
    X, y = planted_binary(3, n_features=12)
    res = compare_selectors(X, y, methods=["anova", "rfe", "model"], cv=5, selector_cv=3, candidates=(2, 12),
                            timing_rows=10, timing_repeats=1)
    assert res.scheme == "3-fold stratified cross-validation; k chosen by 2-fold CV inside each training part"
    assert ("selector_cv=3 lowered to 2 folds inside 3 of 3 training parts: a class there has fewer examples than "
            "that, and each fold needs one of every class") in res.notes
    full = compare_selectors(X, y, methods=["anova", "rfe"], cv=3, selector_cv=2, candidates=(2, 12),
                             timing_rows=10, timing_repeats=1)
    assert full.scheme == "3-fold stratified cross-validation; k chosen by 2-fold CV inside each training part"
    assert not any("selector_cv" in n for n in full.notes)


def test_training_parts_of_different_sizes_give_a_range_of_inner_folds() -> None:
    """5 'neg' and 8 'pos' in 2 outer folds: the training parts hold 2 or 3 'neg' (and 4 'pos'), so 3 inner
    folds run in one part and 2 in the other."""
    X, y = planted_binary(8, n_features=12)
    X, y = X[3:], y[3:]
    res = compare_selectors(X, y, methods=["anova", "rfe"], cv=2, selector_cv=3, candidates=(2, 12),
                            timing_rows=10, timing_repeats=1)
    assert res.scheme == "2-fold stratified cross-validation; k chosen by 2- to 3-fold CV inside each training part"
    assert ("selector_cv=3 lowered to 2 folds inside 1 of 2 training parts: a class there has fewer examples than "
            "that, and each fold needs one of every class") in res.notes
    assert np.isfinite(res.gains["anova"]["mean"])
