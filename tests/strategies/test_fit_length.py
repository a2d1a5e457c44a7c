"""How long a fine-tune trains: epochs=None (enough steps on small data) and the validation floor."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from sklearn.base import clone
from tests.helpers import blobs, run_cli, save_pngs, stripe_images

from transferkit import TransferClassifier
from transferkit.adaptation import DeepDA
from transferkit.errors import StrategyError
from transferkit.strategies import LPFT, FullFineTune, GradualUnfreeze
from transferkit.strategies._finetune import (
    DEFAULT_EPOCHS,
    DEFAULT_MIN_STEPS,
    default_epochs,
    describe_fit,
    describe_training,
    validation_split,
)
from transferkit.training import History


@pytest.mark.parametrize(("steps_per_epoch", "expected"), [(1, 100), (3, 34), (4, 25), (9, 12), (10, 10), (11, 10),
                                                           (32, 10), (0, 100)])
def test_default_epochs_give_at_least_the_minimum_steps(steps_per_epoch: int, expected: int) -> None:
    assert (DEFAULT_EPOCHS, DEFAULT_MIN_STEPS) == (10, 100)
    assert default_epochs(steps_per_epoch) == expected
    assert default_epochs(steps_per_epoch) * max(1, steps_per_epoch) >= 100
    assert default_epochs(4, epochs=3, min_steps=6) == 3 and default_epochs(4, epochs=1, min_steps=6) == 2


def _fit(strategy: FullFineTune, n_per_class: int = 6) -> TransferClassifier:
    X, y = blobs(n_per_class, n_features=4)
    return TransferClassifier(backbone="tiny-mlp", cache=False, random_state=0, strategy=strategy).fit(X, y)


def test_epochs_none_trains_small_data_for_the_minimum_steps_and_an_int_as_given() -> None:
    # 12 rows, batch 3, no validation: 4 batches per epoch -> 25 epochs, 100 steps
    clf = _fit(FullFineTune(batch_size=3, val_fraction=0.0))
    assert clf.fit_info_["epochs"] == 25 and len(clf.model_.history.epochs) == 25
    explicit = _fit(FullFineTune(epochs=2, batch_size=4, val_fraction=0.0))
    assert explicit.fit_info_["epochs"] == 2 and len(explicit.model_.history.epochs) == 2
    # subclasses share the rule, and the validation rows do not count (they do not train): 12 of 24 rows
    # train, 6 batches -> 17 epochs (24 rows would be 12 batches, 10 epochs)
    lpft = _fit(LPFT(batch_size=2, val_fraction=0.5, min_val_size=0, patience=1), n_per_class=12)
    assert lpft.fit_info_["validation_size"] == 12 and lpft.fit_info_["epochs"] == 17
    assert FullFineTune().epochs is None and GradualUnfreeze().epochs is None and DeepDA().epochs == 10


@pytest.mark.parametrize(("strategy", "batches", "epochs"), [
    (FullFineTune(), 3, 34), (FullFineTune(grad_accum=2), 4, 50), (FullFineTune(grad_accum=3), 4, 50),
    (FullFineTune(), 10, 10), (FullFineTune(epochs=3, grad_accum=2), 4, 3), (DeepDA(epochs=None), 4, 25),
])
def test_the_loop_gets_the_epochs_of_the_optimiser_steps(strategy: FullFineTune, batches: int, epochs: int) -> None:
    ctx = SimpleNamespace(device="cpu", verbose=0, info={})  # what train_config reads of a FitContext
    assert strategy.train_config(ctx, "", batches).epochs == epochs  # type: ignore[arg-type]
    assert ctx.info["epochs"] == epochs


def test_validation_split_keeps_no_validation_below_its_floor() -> None:
    y = np.repeat([0, 1], 50)
    train, val = validation_split(y, 0.1, 0, min_size=10)
    assert val is not None and len(val) == 10 and len(train) == 90 and set(y[val]) == {0, 1}
    train, val = validation_split(y, 0.1, 0, min_size=11)
    assert val is None and np.array_equal(train, np.arange(100))
    assert validation_split(y, 0.1, 0)[1] is not None  # no floor: the split as before


def test_min_val_size_decides_whether_the_fit_holds_rows_out_to_stop_on() -> None:
    strategy = FullFineTune(epochs=2, batch_size=4, val_fraction=0.25)
    held = _fit(clone(strategy).set_params(min_val_size=3))  # 3 of 12 rows: enough
    assert held.fit_info_["validation_size"] == 3 and "val_loss" in held.model_.history.epochs[0]
    every = _fit(clone(strategy).set_params(min_val_size=4))  # 3 < 4: every row trains, nothing to stop on
    assert every.fit_info_["validation_size"] == 0 and "val_loss" not in every.model_.history.epochs[0]
    assert not every.model_.history.stopped_early and len(every.model_.history.epochs) == 2


def test_the_default_floor_leaves_small_data_without_validation() -> None:
    floor = FullFineTune().min_val_size
    assert floor >= 20
    X, y = blobs(floor // 2 * 10, n_features=4)  # 10% of the rows: exactly the floor
    clf = TransferClassifier(backbone="tiny-mlp", cache=False, random_state=0,
                             strategy=FullFineTune(epochs=1, batch_size=64)).fit(X, y)
    assert clf.fit_info_["validation_size"] == floor
    clf = TransferClassifier(backbone="tiny-mlp", cache=False, random_state=0,
                             strategy=FullFineTune(epochs=1, batch_size=64)).fit(X[5:-5], y[5:-5])
    assert clf.fit_info_["validation_size"] == 0


@pytest.mark.parametrize(("params", "message"), [
    ({"min_val_size": -1}, r"^min_val_size must be an integer >= 0, got -1$"),
    ({"min_val_size": 2.5}, r"^min_val_size must be an integer >= 0, got 2.5$"),
    ({"min_val_size": "10"}, r"^min_val_size must be an integer >= 0, got '10'$"),
    ({"epochs": 0}, r"^epochs must be an integer >= 1 or None, got 0$"),
    ({"monitor": "accuracy"}, r"^monitor must be 'val_loss', 'val_accuracy' or 'val_f1', got 'accuracy'$"),
])
def test_bad_fit_length_settings_are_refused_by_name_before_any_work(params: dict, message: str) -> None:
    with pytest.raises(StrategyError, match=message):
        _fit(FullFineTune(**params))
    with pytest.raises(StrategyError, match=message):
        DeepDA(**params)._check()


def test_cli_sets_the_validation_options_and_refuses_bad_ones(tmp_path: Path) -> None:
    from transferkit import load_model
    from transferkit.workflows import make_strategy

    X, y = stripe_images(6, size=16)
    folder = tmp_path / "data"
    for label in ("top", "left"):
        (folder / label).mkdir(parents=True)
        save_pngs(X[y == label], folder / label)
    out = tmp_path / "model"
    code, text = run_cli("fit", folder, "-b", "tiny-cnn", "-s", "finetune", "--epochs", "1", "--val-fraction", "0.5",
                         "--patience", "2", "--min-val-size", "6", "--holdout", "0", "--no-cache", "--no-progress",
                         "-o", out)
    assert code == 0, text
    params = load_model(out).strategy.get_params()
    assert (params["val_fraction"], params["patience"], params["min_val_size"]) == (0.5, 2, 6)
    told = "early stopping on 6 held-out rows: ran all 1 epochs, the weights of epoch 1 kept"
    assert f"fine-tuning: {told}\n" in text and f"Fine-tuning: {told}." in (out / "report.html").read_text()
    code, text = run_cli("fit", folder, "-b", "tiny-cnn", "-s", "finetune", "--epochs", "2", "--holdout", "0",
                         "--no-cache", "--no-progress", "-o", tmp_path / "all-rows")
    assert code == 0 and "fine-tuning: trained 2 epochs on every training row (no rows held out" in text, text
    code, text = run_cli("fit", folder, "-b", "tiny-cnn", "-s", "linear", "--holdout", "0", "--no-cache",
                         "-o", tmp_path / "probe")
    assert code == 0 and "fine-tuning:" not in text and "Fine-tuning:" not in (tmp_path / "probe/report.html").read_text()
    for option, value in (("--min-val-size", "-1"), ("--val-fraction", "1"), ("--patience", "0")):
        code, text = run_cli("fit", folder, "-b", "tiny-cnn", "-s", "finetune", option, value, "-o", tmp_path / "never")
        assert code == 2 and option in text, text
        assert not (tmp_path / "never").exists()
    code, text = run_cli("fit", folder, "-b", "tiny-cnn", "-s", "linear", "--min-val-size", "5", "-o", tmp_path / "never")
    assert code == 2 and "--min-val-size does not apply to strategy 'linear'" in text, text
    assert make_strategy("finetune", min_val_size=0, val_fraction=None).min_val_size == 0
    code, text = run_cli("fit", folder, "-b", "tiny-cnn", "-s", "finetune", "--epochs", "1", "--val-fraction", "0.5",
                         "--min-val-size", "6", "--monitor", "val_accuracy", "--holdout", "0", "--no-cache",
                         "--no-progress", "-o", tmp_path / "on-accuracy")
    assert code == 0, text
    assert load_model(tmp_path / "on-accuracy").strategy.monitor == "val_accuracy"
    assert "fine-tuning: early stopping on 6 held-out rows (watching validation accuracy): ran all 1 epochs" in text
    code, text = run_cli("fit", folder, "-b", "tiny-cnn", "-s", "finetune", "--monitor", "accuracy", "-o", tmp_path / "never")
    assert code == 2 and "--monitor" in text and "'accuracy' is not one of" in text, text
    code, text = run_cli("fit", folder, "-b", "tiny-cnn", "-s", "linear", "--monitor", "val_f1", "-o", tmp_path / "never")
    assert code == 2 and "--monitor does not apply to strategy 'linear'" in text, text
    assert not (tmp_path / "never").exists()


def test_describe_training_says_how_a_fit_trained() -> None:
    assert describe_training({"epochs": 10}, None) is None  # no training loop (a probe)
    assert describe_training({}, History(epochs=[{}])) is None  # no fine-tune plan recorded
    assert describe_training({"epochs": 25, "validation_size": 0}, History(epochs=[{}] * 25)) == (
        "trained 25 epochs on every training row (no rows held out for early stopping)")
    stopped = History(epochs=[{}] * 6, best_epoch=2, stopped_early=True)
    assert describe_training({"epochs": 10, "validation_size": 300}, stopped) == (
        "early stopping on 300 held-out rows: stopped after 6 of 10 epochs, the weights of epoch 3 kept")
    full = History(epochs=[{}] * 10, best_epoch=9)
    assert describe_training({"epochs": 10, "validation_size": 100}, full) == (
        "early stopping on 100 held-out rows: ran all 10 epochs, the weights of epoch 10 kept")
    assert describe_training({"epochs": 10, "validation_size": 100, "monitor": "val_f1"}, full) == (
        "early stopping on 100 held-out rows (watching validation macro-F1): ran all 10 epochs, the weights of "
        "epoch 10 kept")


def test_monitor_decides_which_epoch_is_kept_and_a_default_monitor_keeps_older_run_keys() -> None:
    X, y = blobs(20, n_features=3)
    fits = {}
    for monitor in ("val_loss", "val_accuracy"):
        strategy = FullFineTune(epochs=6, batch_size=8, min_val_size=0, patience=10, monitor=monitor, lr=0.3,
                                head_lr=0.3)
        fits[monitor] = TransferClassifier(backbone="tiny-mlp", cache=False, strategy=strategy, random_state=0).fit(X, y)
    for monitor, clf in fits.items():
        scores = [(-e["val_accuracy"], e["val_loss"]) if monitor == "val_accuracy" else (e["val_loss"],)
                  for e in clf.model_.history.epochs]
        assert clf.model_.history.best_epoch == scores.index(min(scores)), scores
        assert clf.fit_info_["monitor"] == monitor
    assert "(watching validation accuracy)" in describe_fit(fits["val_accuracy"])
    assert "watching" not in describe_fit(fits["val_loss"])
    ctx = SimpleNamespace(backbone="b", pretrained=True, image_size=None, max_length=None, random_state=0,
                          weights=None, in_features=None, task_sizes=None)
    keys = {m: FullFineTune(monitor=m).run_key(ctx, np.zeros((2, 2)), "tabular", np.array([0, 1]), None)  # type: ignore[arg-type]
            for m in ("val_loss", "val_accuracy")}
    assert keys["val_loss"] != keys["val_accuracy"]
    # unhashable parameter values (a list of LoRA target modules, an Augment) still make a key
    from transferkit.strategies import Augment, LoRA

    for strategy in (LoRA(target_modules=["stem.0"]), FullFineTune(augment=Augment(rotation=10))):
        assert len(strategy.run_key(ctx, np.zeros((2, 2)), "tabular", np.array([0, 1]), None)) == 64  # type: ignore[arg-type]


def test_describe_fit_reads_a_fitted_estimator() -> None:
    X, y = blobs(6, n_features=3)
    fine = TransferClassifier(backbone="tiny-mlp", cache=False, strategy=FullFineTune(batch_size=4)).fit(X, y)
    assert describe_fit(fine) == "trained 34 epochs on every training row (no rows held out for early stopping)"
    assert describe_fit(TransferClassifier(backbone="tiny-mlp", cache=False, strategy="linear").fit(X, y)) is None
    assert describe_fit(TransferClassifier(backbone="tiny-mlp")) is None  # not fitted


def test_refit_trains_every_row_for_the_best_epoch_count_of_the_early_stopping_run() -> None:
    X, y = blobs(20, n_features=3)
    X = X + np.random.default_rng(0).normal(scale=3.0, size=X.shape)  # overlapping: the validation loss turns up
    common = {"batch_size": 8, "min_val_size": 0, "patience": 2, "lr": 0.3, "head_lr": 0.3}
    first = TransferClassifier(backbone="tiny-mlp", cache=False, random_state=0,
                               strategy=FullFineTune(epochs=12, **common)).fit(X, y)
    best = first.model_.history.best_epoch
    assert first.model_.history.stopped_early and best is not None and best < 11
    refit = TransferClassifier(backbone="tiny-mlp", cache=False, random_state=0,
                               strategy=FullFineTune(epochs=12, refit=True, **common)).fit(X, y)
    stopping = refit.fit_info_["early_stopping"]
    assert stopping == {"validation_size": 4, "monitor": "val_loss", "epochs": 12,
                        "epochs_run": len(first.model_.history.epochs), "best_epoch": best, "stopped_early": True}
    assert refit.fit_info_["validation_size"] == 0 and len(refit.model_.history.epochs) == best + 1
    assert "monitor" not in refit.fit_info_  # the kept run held nothing out
    # the network kept is the one a plain fit on every row for that many epochs trains
    plain = TransferClassifier(backbone="tiny-mlp", cache=False, random_state=0,
                               strategy=FullFineTune(epochs=best + 1, val_fraction=0.0, **common)).fit(X, y)
    np.testing.assert_allclose(refit.predict_proba(X), plain.predict_proba(X), atol=1e-6)
    assert describe_fit(refit) == (f"early stopping on 4 held-out rows: stopped after {stopping['epochs_run']} of 12 "
                                   f"epochs, best epoch {best + 1}; then refitted on every training row for {best + 1} "
                                   "epochs")
    with pytest.raises(StrategyError, match=r"^refit must be True or False, got 'yes'$"):
        _fit(FullFineTune(refit="yes"))  # type: ignore[arg-type]
    # no validation split (below the floor): nothing to refit
    small = TransferClassifier(backbone="tiny-mlp", cache=False, random_state=0,
                               strategy=FullFineTune(epochs=3, refit=True, batch_size=8)).fit(X, y)
    assert "early_stopping" not in small.fit_info_ and len(small.model_.history.epochs) == 3


def test_cli_refit_flag(tmp_path: Path) -> None:
    import pandas as pd

    X, y = blobs(20, n_features=3)
    pd.DataFrame(X, columns=list("abc")).assign(label=y).to_csv(tmp_path / "t.csv", index=False)
    common = ["-b", "tiny-mlp", "--no-cache", "--no-progress", "--holdout", "0"]
    code, text = run_cli("fit", tmp_path / "t.csv", *common, "-s", "finetune", "--epochs", "2", "--min-val-size", "0",
                         "--refit", "-o", tmp_path / "m")
    assert code == 0, text
    assert "then refitted on every training row for" in text
    from transferkit import load_model

    assert load_model(tmp_path / "m").strategy.refit is True
    code, text = run_cli("fit", tmp_path / "t.csv", *common, "-s", "linear", "--refit", "-o", tmp_path / "never")
    assert code == 2 and "--refit does not apply to strategy 'linear'" in text and not (tmp_path / "never").exists()
