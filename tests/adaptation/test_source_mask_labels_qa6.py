"""A source row labelled with the -1 mask has no label (QA sweep 6, item 1): it was read as class -1, which
then came out of ``predict``. Every estimator that takes ``y`` with ``sample_domain`` refuses it, naming the
rows; -1 stays a class where the documented convention allows it (numbers masked with NaN or None)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.linear_model import Ridge

from transferkit.adaptation import (
    DAPipeline,
    DeepDA,
    DEVScorer,
    DomainAdaptClassifier,
    ImportanceWeightedScorer,
    ReweightedClassifier,
    TrAdaBoostClassifier,
    split_domain_labels,
    split_domains,
)
from transferkit.errors import DataError
from transferkit.strategies import FitContext
from transferkit.training import UNLABELED

MASK_ON_SOURCE = r"the label -1 on source rows \(indices 0, 1, 2, 3, 4 and 5 more\), but -1 marks unlabelled target rows"


def rows(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """30 source rows (label: x0 > 0) and 30 shifted target rows masked with -1; source rows 0-9 masked too."""
    rng = np.random.default_rng(seed)
    X = np.vstack([rng.normal(size=(30, 4)), rng.normal(size=(30, 4)) + 0.5])
    y = np.r_[(X[:30, 0] > 0).astype(int), -np.ones(30, int)]
    y[:10] = -1
    dom = np.r_[np.ones(30, int), -np.ones(30, int)]
    return X, y, dom


ESTIMATORS = {
    "source-only": lambda: DomainAdaptClassifier(method="source-only", cache=False),
    "coral": lambda: DomainAdaptClassifier(method="coral", cache=False),
    "kmm": lambda: DomainAdaptClassifier(method="kmm", cache=False),
    "tradaboost": lambda: DomainAdaptClassifier(method="tradaboost", cache=False),
    "dann": lambda: DomainAdaptClassifier(method=DeepDA(method="dann", epochs=1, bottleneck=8), cache=False),
    "auto": lambda: DomainAdaptClassifier(method="auto", cache=False),
    "DAPipeline": lambda: DAPipeline(),
    "ReweightedClassifier": lambda: ReweightedClassifier(),
    "TrAdaBoostClassifier": lambda: TrAdaBoostClassifier(),
}


@pytest.mark.parametrize("make", ESTIMATORS.values(), ids=ESTIMATORS.keys())
def test_the_mask_on_source_rows_is_a_data_error_naming_them(make: Any) -> None:
    """The QA reproducer: classes_ were [-1, 0, 1] and predict returned -1 for target rows."""
    X, y, dom = rows()
    with pytest.raises(DataError, match=MASK_ON_SOURCE + r".*If -1 is a class, mask the unlabelled target rows "
                       "with NaN or None"):
        make().fit(X, y, sample_domain=dom)


@pytest.mark.parametrize(
    "y",
    [
        np.r_[np.zeros(5), np.ones(5), -np.ones(20)],  # float labels without NaN: -1.0 is the mask
        np.r_[np.array([0, 1] * 5, dtype=object), [-1] * 20],  # integers in an object array
        np.array(["a", "b"] * 5 + [-1] * 20),  # NumPy turns the mask into the text "-1"
        np.array(["a", "b"] * 5 + [-1] * 10 + [None] * 10, dtype=object),  # a number among text is the mask
        np.array([True, False] * 5 + [-1] * 20, dtype=object),  # -1 masks True/False labels
    ],
    ids=["float", "object-int", "text", "object-text", "bool"],
)
def test_the_mask_on_source_rows_is_refused_in_every_label_type(y: np.ndarray) -> None:
    X = np.random.default_rng(0).normal(size=(30, 3))
    dom = np.r_[np.ones(10, int), -np.ones(20, int)]
    y = y.copy()
    y[3] = y[10]  # source row 3 masked with the first target row's -1
    with pytest.raises(DataError, match=r"the label -1 on source rows \(index 3\), but -1 marks unlabelled target rows"):
        split_domains(X, y, dom)
    with pytest.raises(DataError, match=r"source rows \(index 3\),"):
        split_domain_labels(y, dom, len(y))


def test_none_on_a_source_row_of_integer_labels_is_missing_not_class_minus_one() -> None:
    """as_labels turns None into the -1 mask of integer labels: it was read as class -1 on a source row."""
    X, _, dom = rows()
    y = np.r_[np.array([0, 1] * 15, dtype=object), [None] * 30]
    y[[4, 7]] = None
    with pytest.raises(DataError, match=r"missing \(None/NaN\) labels on source rows \(indices 4, 7\);"):
        DomainAdaptClassifier(method="source-only", cache=False).fit(X, y, sample_domain=dom)


@pytest.mark.parametrize(
    "y",
    [
        np.r_[np.tile([-1.0, 1.0], 15), np.full(30, np.nan)],  # floats masked with NaN
        np.r_[np.tile([-1, 1], 15).astype(object), [None] * 30],  # integers masked with None
    ],
    ids=["nan-masked", "none-masked"],
)
def test_minus_one_stays_a_class_where_the_mask_is_nan_or_none(y: np.ndarray) -> None:
    X, _, dom = rows()
    clf = DomainAdaptClassifier(method="source-only", cache=False).fit(X, y, sample_domain=dom)
    assert clf.classes_.tolist() == [-1.0, 1.0]
    assert set(clf.predict(X[30:]).tolist()) <= {-1.0, 1.0}


def test_a_text_minus_one_class_in_an_object_array_stays_a_class() -> None:
    """What the CLI builds (stack_domains): text labels, target rows masked with None; a '-1' class is kept."""
    X, _, dom = rows()
    y = np.r_[np.tile(["-1", "1"], 15).astype(object), [None] * 30]
    clf = DomainAdaptClassifier(method="coral", cache=False).fit(X, y, sample_domain=dom)
    assert clf.classes_.tolist() == ["-1", "1"]


def test_a_text_array_hint_names_the_object_array_way() -> None:
    X = np.random.default_rng(0).normal(size=(6, 2))
    with pytest.raises(DataError, match=r"If '-1' is a class, give y as an object array"):
        split_domains(X, np.array(["a", "-1", "b", "-1", "-1", "-1"]), [1, 1, 1, -1, -1, -1])


def test_regression_targets_keep_minus_one_as_a_value() -> None:
    X, _, dom = rows()
    y = np.r_[X[:30, 0] * 2.0, np.full(30, np.nan)]
    y[:3] = -1.0
    model = DAPipeline(estimator=Ridge()).fit(X, y, sample_domain=dom)
    assert model.predict(X[30:]).shape == (30,)
    y[5] = np.nan
    with pytest.raises(DataError, match=r"missing \(None/NaN\) labels on source rows \(index 5\);"):
        DAPipeline(estimator=Ridge()).fit(X, y, sample_domain=dom)


@pytest.mark.parametrize("scorer", [DEVScorer(), ImportanceWeightedScorer()], ids=["dev", "iwv"])
def test_the_scorers_refuse_the_mask_on_source_rows_they_validate_on(scorer: Any) -> None:
    """They skipped such rows in silence: a held-out fold of GridSearchCV could score on fewer rows."""
    X, y, dom = rows()
    clean = y.copy()
    clean[:10] = (X[:10, 0] > 0).astype(int)
    clf = DomainAdaptClassifier(method="source-only", cache=False).fit(X, clean, sample_domain=dom)
    assert np.isfinite(scorer(clf, X, clean, dom))
    with pytest.raises(DataError, match=MASK_ON_SOURCE):
        scorer(clf, X, y, dom)
    with pytest.raises(DataError, match=r"the label -1 on source rows \(indices 0, 1"):  # held-out source rows only
        scorer(clf, X[:30], y[:30])


def test_the_scorers_read_minus_one_as_the_class_the_estimator_has() -> None:
    X, _, dom = rows()
    y = np.r_[np.where(X[:30, 0] > 0, 1.0, -1.0), np.full(30, np.nan)]
    clf = DomainAdaptClassifier(method="source-only", cache=False).fit(X, y, sample_domain=dom)
    assert np.isfinite(DEVScorer()(clf, X[:30], y[:30]))  # no NaN left on these rows: -1 is still a class


def test_deepda_fit_domains_refuses_entries_that_are_no_encoded_label() -> None:
    """The loss skipped a -1 as unlabelled while the validation split and class weights counted it."""
    X, _, dom = rows()
    y = np.r_[(X[:30, 0] > 0).astype(np.int64), np.full(30, UNLABELED)]
    y[[2, 40]] = -1
    ctx = FitContext(backbone="tiny-mlp", in_features=4, n_classes=2, cache=False, device="cpu")
    with pytest.raises(DataError, match=r"no encoded label on rows 2 \(-1\), 40 \(-1\);.*UNLABELED \(-100\)"):
        DeepDA(method="mmd", epochs=1, bottleneck=8).fit_domains(ctx, X.astype(np.float32), y, dom)


# --- docs/adaptation.md (QA sweep 6, items 11 and 17) -----------------------------------------------------------

DOC = Path(__file__).resolve().parents[2] / "docs" / "adaptation.md"


def _blocks(start: str) -> list[str]:
    """The fenced blocks of docs/adaptation.md whose text holds ``start``."""
    parts = DOC.read_text(encoding="utf-8").split("```")
    return [p.split("\n", 1)[1] for p in parts[1::2] if start in p]


def test_the_feature_names_snippet_runs_as_written() -> None:
    (snippet,) = _blocks("SubspaceAlignmentAdapter(n_components=2)")
    scope: dict[str, Any] = {}
    exec(compile(snippet, str(DOC), "exec"), scope)  # noqa: S102 - the documented snippet, on purpose
    out = scope["pipe"].transform(scope["df_target"])
    assert list(out.columns) == ["subspacealignmentadapter0", "subspacealignmentadapter1"]
    assert len(out) == len(scope["df_target"])


def test_the_adapt_synopsis_matches_the_command_options() -> None:
    """Every option of `transferkit adapt` is in the synopsis, in brackets exactly when it is optional."""
    from transferkit.cli._commands import cli

    (synopsis,) = _blocks("transferkit adapt --source S")
    depth, outside = 0, []
    for ch in synopsis:  # the synopsis with bracketed (optional) parts blanked out
        depth += ch == "["
        outside.append(ch if depth == 0 else " ")
        depth -= ch == "]"
    required_text = "".join(outside)
    for param in cli.commands["adapt"].params:
        name = max(param.opts, key=len)
        assert re.search(rf"{name}\b", synopsis), f"{name} is missing from the synopsis"
        shown_required = re.search(rf"{name}\b", required_text) is not None
        assert shown_required == bool(param.required), f"{name}: required={param.required} in the command"


def test_a_gain_that_rounds_to_zero_is_never_negative_zero() -> None:
    """'-0.0 pts' was printed in the guard's message and the adaptation report's gain cell."""
    from transferkit.adaptation._guard import GuardVerdict
    from transferkit.adaptation._report import _fmt_gain

    v = GuardVerdict("coral", "target accuracy", 0.5, 0.4, 0.6, -1e-17, -0.2, 0.2, "no clear difference")
    assert "-0.0" not in v.message() and "+0.0 pts [-20.0, +20.0]" in v.message()
    assert _fmt_gain(v) == "+0.0 pts [-20.0, +20.0]"
