"""The auto strategy: choice on a validation split, the budget, the negative-transfer fallback, persistence."""

from __future__ import annotations

import numpy as np
import pytest
from tests.helpers import blobs

from transferkit import TransferClassifier, load_model
from transferkit.errors import StrategyError
from transferkit.strategies import AutoStrategy, parse_budget


def _hard_table(n: int = 60, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Linear labels in 40 dimensions: the raw-feature baseline is right, 16 random MLP features are not."""
    r = np.random.default_rng(seed)
    X = r.normal(size=(2 * n, 40))
    y = np.where(X @ r.normal(size=40) > 0, "a", "b")
    return X, y


def test_budget_parsing() -> None:
    assert parse_budget("2m") == 120.0 and parse_budget("1.5h") == 5400.0 and parse_budget("45") == 45.0
    with pytest.raises(StrategyError, match="cannot read the time budget 'soon'"):
        parse_budget("soon")
    with pytest.raises(StrategyError, match="must be a positive, finite time, got '0m'"):
        parse_budget("0m")


def test_auto_falls_back_to_the_baseline_under_negative_transfer(tmp_path) -> None:  # type: ignore[no-untyped-def]
    X, y = _hard_table()
    clf = TransferClassifier(backbone="tiny-mlp", cache=False, strategy=AutoStrategy(budget=0.001)).fit(X, y)
    info = clf.fit_info_["auto"]
    acc = {c["name"]: c["cv_accuracy"] for c in info["candidates"]}
    assert acc["no-transfer baseline"] > acc["linear probe"]
    assert info["choice"] == "no-transfer baseline"
    assert any("negative transfer guard" in r for r in info["reasons"])
    assert any("more than the" in r for r in info["reasons"])  # 1 ms leaves no room for fine-tuning
    again = load_model(clf.save(tmp_path / "m"))
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))
    off = TransferClassifier(backbone="tiny-mlp", cache=False, strategy=AutoStrategy(budget=0.001, fallback=False)).fit(X, y)
    assert off.fit_info_["auto"]["choice"] != "no-transfer baseline"


def test_auto_tries_fine_tuning_candidates_when_budget_and_data_allow(tmp_path) -> None:  # type: ignore[no-untyped-def]
    X, y = _hard_table(80)
    clf = TransferClassifier(backbone="tiny-mlp", cache=False, strategy=AutoStrategy(epochs=3)).fit(X, y)
    info = clf.fit_info_["auto"]
    assert [c["name"] for c in info["candidates"]] == ["linear probe", "no-transfer baseline", "LP-FT", "LoRA"]
    assert info["estimated_seconds_per_epoch"] > 0
    best = max(info["candidates"], key=lambda c: c["estimate"])["estimate"]
    chosen = next(c for c in info["candidates"] if c["name"] == info["choice"])
    assert chosen["estimate"] == best
    est = {c["name"]: c for c in info["candidates"]}
    for name in ("LP-FT", "LoRA"):  # the probe's CV score plus the paired gain on validation, less its SE
        gain = est[name]["val_accuracy"] - est["linear probe"]["val_accuracy"]
        assert est[name]["val_gain"] == pytest.approx(gain) and est[name]["val_gain_se"] >= 0
        assert est[name]["estimate"] == pytest.approx(est["linear probe"]["cv_accuracy"] + gain
                                                      - est[name]["val_gain_se"])
    if info["choice"] in ("LP-FT", "LoRA"):  # no budget: a fine-tuned winner is refitted on all the data
        assert info["refit"].startswith("yes") and info["refit_seconds"] > 0
    again = load_model(clf.save(tmp_path / "m"))
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))


def test_auto_candidates_train_the_fine_tuning_default_length_and_the_budget_counts_it(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    X, y = _hard_table(80)  # 128 training rows after the 20% validation split: 4 batches an epoch
    monkeypatch.setattr(AutoStrategy, "_step_seconds", staticmethod(lambda ctx, X, batch_size: 1.0))
    clf = TransferClassifier(backbone="tiny-mlp", cache=False, strategy=AutoStrategy(budget=60, refit=False)).fit(X, y)
    info = clf.fit_info_["auto"]
    assert AutoStrategy().epochs is None and info["candidate_epochs"] == 25  # >= 100 optimiser steps
    assert [c["name"] for c in info["candidates"]] == ["linear probe", "no-transfer baseline"]
    assert any(r.startswith("LP-FT would take about 115 s, more than the") for r in info["reasons"]), info["reasons"]
    six = TransferClassifier(backbone="tiny-mlp", cache=False,
                             strategy=AutoStrategy(budget=60, epochs=6, refit=False)).fit(X, y)
    info = six.fit_info_["auto"]
    assert info["candidate_epochs"] == 6 and [c["name"] for c in info["candidates"]][2:] == ["LP-FT", "LoRA"]
    assert any("6 epochs, estimated 28 s of" in r for r in info["reasons"]), info["reasons"]


def test_auto_candidates_follow_data_size_and_settings() -> None:
    X, y = _hard_table(80)
    # 64+ training examples in the smallest class: full fine-tuning replaces LoRA as the second candidate
    big = TransferClassifier(backbone="tiny-mlp", cache=False,
                             strategy=AutoStrategy(epochs=1, full_per_class=20, refit=False)).fit(X, y)
    info = big.fit_info_["auto"]
    assert [c["name"] for c in info["candidates"]][2:] == ["LP-FT", "full fine-tune (layer decay 0.75)"]
    if info["choice"] not in ("linear probe", "no-transfer baseline"):
        assert info["refit"].startswith("no (refit=False)")
    one = TransferClassifier(backbone="tiny-mlp", cache=False, strategy=AutoStrategy(epochs=1, max_finetune=1)).fit(X, y)
    assert [c["name"] for c in one.fit_info_["auto"]["candidates"]][2:] == ["LP-FT"]
    none = TransferClassifier(backbone="tiny-mlp", cache=False, strategy=AutoStrategy(max_finetune=0)).fit(X, y)
    assert len(none.fit_info_["auto"]["candidates"]) == 2
    for bad, match in (({"refit": "sometimes"}, "refit must be"), ({"max_finetune": -1}, "max_finetune must be")):
        with pytest.raises(StrategyError, match=match):
            TransferClassifier(backbone="tiny-mlp", cache=False, strategy=AutoStrategy(**bad)).fit(X, y)


def test_auto_skips_fine_tuning_for_tiny_classes_and_frozen_engines() -> None:
    X, y = blobs(6, n_features=4)  # 6 per class, below min_per_class
    info = TransferClassifier(backbone="tiny-mlp", cache=False, strategy=AutoStrategy()).fit(X, y).fit_info_["auto"]
    assert any("too few to fine-tune" in r or "already at" in r for r in info["reasons"])
    assert "LP-FT" not in [c["name"] for c in info["candidates"]]
    info = TransferClassifier(backbone="identity", cache=False, strategy=AutoStrategy()).fit(*_hard_table()).fit_info_["auto"]
    assert any("cannot be fine-tuned" in r for r in info["reasons"])


def test_an_auto_fitted_classifier_pickles_and_copies() -> None:
    """The chosen model's wrapper forwards attributes to the inner model; unpickling and deep-copying
    look up ``__setstate__`` before the wrapper's own fields exist, which must read as absent."""
    import copy
    import pickle

    X, y = _hard_table()
    clf = TransferClassifier(backbone="tiny-mlp", cache=False, strategy=AutoStrategy(max_finetune=0)).fit(X, y)
    for twin in (pickle.loads(pickle.dumps(clf)), copy.deepcopy(clf)):
        np.testing.assert_array_equal(twin.predict_proba(X), clf.predict_proba(X))
        assert twin.model_.name == clf.model_.name
