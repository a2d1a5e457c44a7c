"""Every parameter of FullFineTune and its subclasses is checked in ``fit``, before any work, with a
StrategyError naming it (QA sweep 3, section 10: some failed deep in torch, some were accepted silently)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tests.helpers import blobs

from transferkit import TransferClassifier
from transferkit.errors import StrategyError
from transferkit.strategies import LPFT, FitContext, FullFineTune, GradualUnfreeze, LoRA, PartialFreeze
from transferkit.strategies._base import check_params
from transferkit.strategies._finetune import FINETUNE_PARAMS
from transferkit.strategies._lora import LORA_PARAMS
from transferkit.strategies._lpft import LPFT_PARAMS
from transferkit.strategies._partial import GRADUAL_PARAMS, PARTIAL_PARAMS
from transferkit.training import TrainConfig, Trainer
from transferkit.training._checkpoint import CheckpointError


@pytest.fixture
def no_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any backbone built for training means the checks came too late."""

    def refuse(self: FitContext) -> Any:
        raise AssertionError("training work started before the parameters were checked")

    monkeypatch.setattr(FitContext, "trainable_backbone", refuse)


def _fit(strategy: Any) -> None:
    X, y = blobs(10, n_features=4)
    TransferClassifier(backbone="tiny-mlp", cache=False, strategy=strategy).fit(X, y)


BAD: list[tuple[type, dict[str, Any], str]] = [
    # the five cases of the QA report
    (FullFineTune, {"label_smoothing": 2.0}, r"^label_smoothing must be a number in \[0, 1\), got 2.0$"),
    (FullFineTune, {"epochs": 1.5}, r"^epochs must be an integer >= 1 or None, got 1.5$"),
    (FullFineTune, {"warmup_ratio": 5.0}, r"^warmup_ratio must be a number in \[0, 1\], got 5.0$"),
    (FullFineTune, {"max_grad_norm": -1.0}, r"^max_grad_norm must be a finite number > 0 or None, got -1.0$"),
    (FullFineTune, {"max_grad_norm": 0.0}, r"^max_grad_norm must be"),
    # the rest of the table: bools are no integers, NaN passes no range
    (FullFineTune, {"epochs": True}, r"^epochs must be an integer >= 1 or None, got True$"),
    (FullFineTune, {"epochs": 0}, r"^epochs must be an integer >= 1 or None, got 0$"),
    (FullFineTune, {"batch_size": 2.0}, r"^batch_size must be an integer >= 1, got 2.0$"),
    (FullFineTune, {"batch_size": np.int64(0)}, r"^batch_size must be an integer >= 1, got 0$"),
    (FullFineTune, {"grad_accum": False}, r"^grad_accum must be an integer >= 1, got False$"),
    (FullFineTune, {"patience": 0}, r"^patience must be an integer >= 1, got 0$"),
    (FullFineTune, {"patience": 2.5}, r"^patience must be an integer >= 1"),
    (FullFineTune, {"label_smoothing": 1.0}, r"^label_smoothing must be"),
    (FullFineTune, {"label_smoothing": -0.1}, r"^label_smoothing must be"),
    (FullFineTune, {"warmup_ratio": float("nan")}, r"^warmup_ratio must be"),
    (FullFineTune, {"val_fraction": "0.1"}, r"^val_fraction must be a number in \[0, 1\), got '0.1'$"),
    (FullFineTune, {"lr": True}, r"^lr must be a positive number, got True$"),
    (FullFineTune, {"layer_decay": float("nan")}, r"^layer_decay must be a number in \(0, 1\]"),
    (FullFineTune, {"bn_eval": "yes"}, r"^bn_eval must be True or False, got 'yes'$"),
    (FullFineTune, {"resume": 1}, r"^resume must be True or False, got 1$"),
    (FullFineTune, {"resume": True}, r"^resume=True needs checkpoint_dir"),
    (FullFineTune, {"augment": "flip"}, r"^augment must be an Augment or None, got 'flip'$"),
    (FullFineTune, {"checkpoint_dir": ""}, r"^checkpoint_dir must be a folder path or None, got ''$"),
    (FullFineTune, {"mixed_precision": "fp8"}, r"^mixed_precision must be 'no', 'fp16' or 'bf16', got 'fp8'$"),
    (FullFineTune, {"class_weight": ["balanced"]}, r"^class_weight must be None or 'balanced'"),
    (LoRA, {"rank": 1.5}, r"rank must be an integer >= 1, got 1.5$"),
    (LoRA, {"rank": True}, r"rank must be an integer >= 1, got True$"),
    (LoRA, {"dropout": 1.0}, r"dropout must be a number in \[0, 1\), got 1.0$"),
    (LoRA, {"target_modules": "query"}, r"^target_modules must be a list of layer names or None, got 'query'$"),
    (LoRA, {"epochs": 2.5}, r"^epochs must be an integer"),  # the inherited table applies to subclasses
    (PartialFreeze, {"n_frozen": 1.0}, r"^n_frozen must be an integer >= 0 or None, got 1.0$"),
    (PartialFreeze, {"n_trainable": -1}, r"^n_trainable must be an integer >= 0 or None, got -1$"),
    (PartialFreeze, {"n_frozen": 1, "warmup_ratio": 2.0}, r"^warmup_ratio must be"),
    (GradualUnfreeze, {"unfreeze_every": 1.5}, r"^unfreeze_every must be an integer >= 1, got 1.5$"),
    (LPFT, {"probe_C": "1"}, r"^probe_C must be a finite number > 0, got '1'$"),
    (LPFT, {"label_smoothing": 2.0}, r"^label_smoothing must be"),
]


@pytest.mark.parametrize(("cls", "params", "match"), BAD, ids=[f"{c.__name__}-{p}" for c, p, _ in BAD])
@pytest.mark.usefixtures("no_work")
def test_a_bad_parameter_is_refused_before_any_work(cls: type, params: dict[str, Any], match: str) -> None:
    with pytest.raises(StrategyError, match=match):
        _fit(cls(**{"epochs": 1, **({"n_frozen": 1} if cls is PartialFreeze else {}), **params}))


@pytest.mark.usefixtures("no_work")
def test_a_checkpoint_dir_that_is_a_file_is_refused_by_name(tmp_path: Path) -> None:
    file = tmp_path / "notes.txt"
    file.write_text("mine")
    with pytest.raises(StrategyError, match=rf"^checkpoint_dir '{file}' is a file, not a folder for checkpoints"):
        _fit(FullFineTune(epochs=1, checkpoint_dir=str(file)))
    inside = file / "ckpt"  # no folder can ever be made there either
    with pytest.raises(StrategyError, match=rf"^checkpoint_dir '{inside}' lies inside '{file}', which is a file"):
        _fit(FullFineTune(epochs=1, checkpoint_dir=inside))  # a Path works as well as a str
    assert file.read_text() == "mine"


def test_the_loop_refuses_a_file_as_checkpoint_folder_before_training(tmp_path: Path) -> None:
    """The Trainer itself, used without a strategy: it failed with FileExistsError after the first epoch."""
    import torch
    from torch.utils.data import DataLoader

    file = tmp_path / "f"
    file.write_text("x")
    trainer = Trainer(TrainConfig(epochs=1, device="cpu", checkpoint_dir=file),
                      lambda logits, targets, weights: logits.sum())
    model = torch.nn.Linear(2, 2)
    loader = DataLoader([({"x": torch.zeros(2)}, torch.tensor(0), torch.tensor(1.0))])

    def no_step(*args: Any) -> float:
        raise AssertionError("trained before refusing the checkpoint folder")

    trainer.train_epoch = no_step  # type: ignore[method-assign]
    with pytest.raises(CheckpointError, match=rf"checkpoint folder '{file}' is a file, not a folder"):
        trainer.fit(model, [{"params": list(model.parameters())}], loader, None)


@pytest.mark.parametrize("strategy", [
    FullFineTune(epochs=np.int64(2), batch_size=np.int32(8), max_grad_norm=None, warmup_ratio=1.0, val_fraction=0.0,
                 label_smoothing=0.0, patience=1, layer_decay=1.0, lr=np.float32(1e-3), bn_eval=np.bool_(True)),
    FullFineTune(warmup_ratio=0, l2_sp=0, bss=0.5, weight_decay=0, max_grad_norm=5),
    LoRA(rank=np.int64(2), alpha=1, dropout=0.0, target_modules=("fc",)),
    PartialFreeze(n_frozen=0), PartialFreeze(n_trainable=np.int64(1)),
    GradualUnfreeze(unfreeze_every=2), LPFT(probe_C=10),
])
def test_values_at_the_edges_of_each_range_are_accepted(strategy: FullFineTune) -> None:
    strategy._check()


@pytest.mark.parametrize(("cls", "tables"), [
    (FullFineTune, [FINETUNE_PARAMS]),
    (LoRA, [FINETUNE_PARAMS, LORA_PARAMS]),
    (PartialFreeze, [FINETUNE_PARAMS, PARTIAL_PARAMS]),
    (GradualUnfreeze, [FINETUNE_PARAMS, GRADUAL_PARAMS]),
    (LPFT, [FINETUNE_PARAMS, LPFT_PARAMS]),
])
def test_every_parameter_has_a_rule(cls: type, tables: list[dict[str, Any]]) -> None:
    """A new parameter without a rule fails here, not in a user's training run. ``augment``,
    ``checkpoint_dir`` and ``target_modules`` are objects, checked by hand in ``_check``."""
    ruled = set().union(*tables) | {"augment", "checkpoint_dir", "target_modules"}
    assert {f.name for f in dataclasses.fields(cls)} <= ruled
    for table in tables:  # and the defaults pass their own rules
        check_params(cls(), table)
