"""TransferEnsemble and compare_ensemble with ``random_state`` None or a RandomState: one seed per fit
(``random_seed_``) seeds members, folds and heads alike, is saved in the model folder and read back as
``random_state``; bad values are refused before any work; an int seed is passed on as it is."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.ensemble import AdaBoostClassifier, BaggingClassifier, StackingClassifier, VotingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline
from tests.helpers import InferenceCounter, polarity_texts

from transferkit import load_model
from transferkit.backbones._providers import resolve_seed
from transferkit.ensembles import (
    EnsembleError,
    NamedMember,
    TransferEnsemble,
    compare_ensemble,
    member_estimator,
)
from transferkit.ensembles._members import with_head
from transferkit.errors import DataError

MEMBERS = ["tiny-text:linear", "baseline"]


def _last_step(est: Any) -> Any:
    return _last_step(est.steps[-1][1]) if isinstance(est, Pipeline) else est


def _seeds_inside(ens: TransferEnsemble) -> set[Any]:
    """Every random_state the fitted ensemble handed on: members, their heads, stacking's folds."""
    seeds = set()
    for member in ens.ensemble_.estimators_:
        est = member.estimator_
        if hasattr(est, "model_"):  # a TransferClassifier: its seed, and a bagged or boosted head's
            seeds.add(est.random_state)
            if isinstance(est.model_.head, BaggingClassifier | AdaBoostClassifier):
                seeds.add(est.model_.head.random_state)
        else:  # the baseline pipeline's classifier
            seeds.add(_last_step(est).random_state)
    if hasattr(ens.ensemble_, "cv"):
        seeds.add(ens.ensemble_.cv.random_state)
    return seeds


@pytest.mark.parametrize("method", ["stacking", "bagging"])
@pytest.mark.parametrize("random_state", [None, "generator"])
def test_a_drawn_seed_seeds_everything_and_round_trips_through_the_folder(method: str, random_state: Any,
                                                                          tmp_path: Path) -> None:
    X, y = polarity_texts(8)
    rs = np.random.RandomState(3) if random_state == "generator" else None
    ens = TransferEnsemble(members=MEMBERS, method=method, cv=3, n_estimators=3, random_state=rs).fit(X, y)
    seed = ens.random_seed_
    assert isinstance(seed, int) and ens.random_state is rs  # the parameter is left as given
    assert _seeds_inside(ens) == {seed}
    ens.save(tmp_path / "m")
    assert json.loads((tmp_path / "m" / "transferkit.json").read_text())["params"]["random_state"] == seed
    back = load_model(tmp_path / "m")
    assert back.random_state == seed and back.random_seed_ == seed
    np.testing.assert_array_equal(back.predict_proba(X), ens.predict_proba(X))
    np.testing.assert_array_equal(back.predict(X), ens.predict(X))
    refit = clone(back).fit(X, y)  # the saved seed repeats the fit
    assert refit.random_seed_ == seed
    np.testing.assert_allclose(refit.predict_proba(X), ens.predict_proba(X), atol=1e-6)


def test_a_random_state_generator_draws_the_seed_an_int_would_give() -> None:
    X, y = polarity_texts(8)
    expected = resolve_seed(np.random.RandomState(5))
    drawn = TransferEnsemble(members=MEMBERS, cv=3, random_state=np.random.RandomState(5)).fit(X, y)
    given = TransferEnsemble(members=MEMBERS, cv=3, random_state=expected).fit(X, y)
    assert drawn.random_seed_ == expected
    np.testing.assert_array_equal(drawn.predict_proba(X), given.predict_proba(X))


def test_none_draws_a_new_seed_at_each_fit() -> None:
    X, y = polarity_texts(8)
    ens = TransferEnsemble(members=MEMBERS, method="voting", random_state=None)
    assert ens.fit(X, y).random_seed_ != clone(ens).fit(X, y).random_seed_


@pytest.mark.parametrize("method", ["stacking", "bagging", "boosting"])
def test_an_int_seed_is_passed_on_as_it_is_and_fits_reproducibly(method: str) -> None:
    X, y = polarity_texts(8)
    ens = TransferEnsemble(members=MEMBERS, method=method, cv=3, n_estimators=3, random_state=7).fit(X, y)
    assert ens.random_seed_ == 7 and ens.random_state == 7 and _seeds_inside(ens) == {7}
    assert ens.named_members()[0][1].random_state == 7
    again = clone(ens).fit(X, y)
    np.testing.assert_array_equal(again.predict_proba(X), ens.predict_proba(X))


@pytest.mark.parametrize("bad", ["x", -1, 1.5, True])
def test_a_bad_random_state_is_named_before_any_work(bad: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    X, y = polarity_texts(8)
    counter = InferenceCounter(monkeypatch)
    with pytest.raises(DataError, match="random_state must be"):
        TransferEnsemble(members=MEMBERS, random_state=bad).fit(X, y)
    with pytest.raises(DataError, match="random_state must be"):
        TransferEnsemble(members=["baseline"], modality="text", random_state=bad).fit(X, y)
    with pytest.raises(DataError, match="random_state must be"):
        compare_ensemble(X, y, members=MEMBERS, method="voting", cv=2, random_state=bad)
    assert counter.items == 0


def test_an_ensemble_whose_fit_seed_is_unknown_is_not_saved(tmp_path: Path) -> None:
    X, y = polarity_texts(6)
    ens = TransferEnsemble(members=["baseline"], method="voting", random_state=None).fit(X, y)
    del ens.random_seed_  # as an ensemble fitted before the seed was kept
    with pytest.raises(EnsembleError, match="seed of its fit is unknown"):
        ens.save(tmp_path / "m")
    assert list(tmp_path.iterdir()) == []


def test_compare_draws_one_seed_for_every_model_and_fold() -> None:
    X, y = polarity_texts(6)
    kw: dict[str, Any] = {"members": MEMBERS, "method": "voting", "cv": 2}
    drawn = compare_ensemble(X, y, random_state=np.random.RandomState(4), **kw)
    given = compare_ensemble(X, y, random_state=resolve_seed(np.random.RandomState(4)), **kw)
    assert drawn.estimator is not None and drawn.estimator.random_state == resolve_seed(np.random.RandomState(4))
    assert drawn.table() == [{**row, "fit seconds (all folds)": a["fit seconds (all folds)"]}
                             for a, row in zip(drawn.table(), given.table(), strict=True)]
    unseeded = compare_ensemble(X, y, random_state=None, **kw)
    assert unseeded.estimator is not None and isinstance(unseeded.estimator.random_state, int)


@pytest.mark.parametrize("method", ["stacking", "bagging"])
def test_an_int_seed_gives_the_ensemble_scikit_learn_builds_from_it(method: str) -> None:
    """The ensemble of ``random_state=7`` is the one built by hand with 7 everywhere (as before seeds were
    drawn): the same probabilities, bit for bit."""
    X, y = polarity_texts(8)
    pairs = [(spec, member_estimator(spec, modality="text", random_state=7)) for spec in MEMBERS]
    if method == "bagging":
        pairs = [(n, with_head(n, e, "bagging", 3, 7)) for n, e in pairs]
    wrapped = [(f"m{i}", NamedMember(estimator=e, name=n)) for i, (n, e) in enumerate(pairs)]
    by_hand = (StackingClassifier(wrapped, final_estimator=LogisticRegression(max_iter=2000), stack_method="predict_proba",
                                  cv=StratifiedKFold(3, shuffle=True, random_state=7))
               if method == "stacking" else VotingClassifier(wrapped, voting="soft")).fit(X, y)
    ens = TransferEnsemble(members=MEMBERS, method=method, cv=3, n_estimators=3, random_state=7).fit(X, y)
    np.testing.assert_array_equal(ens.predict_proba(X), by_hand.predict_proba(X))
