"""A loaded model has the parameters of the one that was saved, so ``clone(load_model(p)).fit`` repeats
the fit: a probe's custom head, ``cache``, ``verbose`` and a distillation teacher named by spec were lost
(a refit of the loaded model used the default head; ``cache=False`` came back as ``True``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression

from transferkit import Distill, LinearProbe, TransferClassifier, load_model
from transferkit.ensembles import TransferEnsemble


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = np.r_[rng.normal(0, 1, (20, 4)), rng.normal(1.5, 1, (20, 4))]
    return X, np.repeat(["a", "b"], 20)


def test_a_custom_head_and_the_settings_come_back(tmp_path: Path) -> None:
    X, y = _data()
    clf = TransferClassifier(backbone="tiny-mlp", cache=False, verbose=0,
                             strategy=LinearProbe(head=LogisticRegression(C=0.001))).fit(X, y)
    loaded = load_model(clf.save(tmp_path / "m"))
    assert repr(loaded) == repr(clf)
    assert loaded.get_params()["strategy__head__C"] == 0.001 and loaded.cache is False
    np.testing.assert_array_equal(clone(loaded).fit(X, y).predict_proba(X), clone(clf).fit(X, y).predict_proba(X))
    assert json.loads((tmp_path / "m" / "transferkit.json").read_text())["strategy"]["head_file"] == "strategy_head.skops"
    # the saved head parameter is unfitted: the fitted one is head.skops, as before
    assert not hasattr(loaded.strategy.head, "coef_") and hasattr(loaded.model_.head, "coef_")


def test_the_default_head_stays_the_default(tmp_path: Path) -> None:
    X, y = _data()
    clf = TransferClassifier(backbone="tiny-mlp", cache=False).fit(X, y)
    loaded = load_model(clf.save(tmp_path / "m"))
    assert loaded.strategy_.head is None and not (tmp_path / "m" / "strategy_head.skops").exists()
    assert repr(loaded.strategy) == "LinearProbe()"  # strategy=None resolved to what it means


def test_a_cache_folder_is_not_carried_to_another_machine(tmp_path: Path) -> None:
    X, y = _data()
    clf = TransferClassifier(backbone="tiny-mlp", cache=str(tmp_path / "cache"), verbose=1).fit(X, y)
    loaded = load_model(clf.save(tmp_path / "m"))
    assert loaded.cache is True and loaded.verbose == 1


def test_a_teacher_named_by_spec_is_kept_and_refits(tmp_path: Path) -> None:
    X, y = _data()
    clf = TransferClassifier(backbone="tiny-mlp", cache=False,
                             strategy=Distill(teacher="tiny-mlp:linear", epochs=1)).fit(X, y)
    loaded = load_model(clf.save(tmp_path / "m"))
    assert loaded.strategy.teacher == "tiny-mlp:linear"
    np.testing.assert_array_equal(clone(loaded).fit(X, y).predict_proba(X), clone(clf).fit(X, y).predict_proba(X))


def test_an_ensemble_member_keeps_its_head(tmp_path: Path) -> None:
    X, y = _data()
    member = TransferClassifier(backbone="tiny-mlp", strategy=LinearProbe(head=LogisticRegression(C=0.01)))
    ens = TransferEnsemble(members=[("p", member), "baseline"], method="voting", cache=False).fit(X, y)
    loaded = load_model(ens.save(tmp_path / "e"))
    assert loaded.cache is False
    assert loaded.get_params()["p__strategy__head__C"] == 0.01
    np.testing.assert_allclose(clone(loaded).fit(X, y).predict_proba(X), clone(ens).fit(X, y).predict_proba(X),
                               atol=1e-6)
