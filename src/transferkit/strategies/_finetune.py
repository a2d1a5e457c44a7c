"""Full fine-tuning through the one training loop, and the fitted network model it returns."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.model_selection import train_test_split
from torch import nn

from ..backbones import TransferNet
from ..data._images import item_positions
from ..errors import StrategyError
from ..features import batched_inference, resolve_device
from ..training import (
    EarlyStopping,
    FrozenBatchNormEval,
    History,
    LossFn,
    LossTerm,
    Metrics,
    TrainConfig,
    Trainer,
    make_loader,
    multitask_cross_entropy,
    multitask_metrics,
    multitask_probabilities,
    weighted_cross_entropy,
)
from ..training._checkpoint import checkpoint_folder_problem, run_checkpoint_folder
from ..training._regularizers import BSSTerm, L2SPTerm
from ._augment import Augment
from ._base import Choice, FitContext, Flag, Number, Rule, Strategy, check_params

_NO_DECAY = (nn.LayerNorm, nn.BatchNorm1d, nn.BatchNorm2d, nn.GroupNorm, nn.Embedding)


def decay_split(module: nn.Module, params: list[nn.Parameter]) -> tuple[list[nn.Parameter], list[nn.Parameter]]:
    """Split ``params`` into (decayed, not decayed): biases, norm and embedding weights take no weight
    decay, as in BERT and timm fine-tuning recipes."""
    no_decay: set[int] = set()
    for m in module.modules():
        for name, p in m.named_parameters(recurse=False):
            if name.endswith("bias") or isinstance(m, _NO_DECAY):
                no_decay.add(id(p))
    return [p for p in params if id(p) not in no_decay], [p for p in params if id(p) in no_decay]


#: ``epochs=None``: this many epochs, or more on small data (see :func:`default_epochs`).
DEFAULT_EPOCHS = 10
#: ``epochs=None``: the fewest optimiser steps of a fit (see :func:`default_epochs`).
DEFAULT_MIN_STEPS = 100


def default_epochs(steps_per_epoch: int, epochs: int = DEFAULT_EPOCHS, min_steps: int = DEFAULT_MIN_STEPS) -> int:
    """``epochs``, or as many more as ``min_steps`` optimiser steps take at ``steps_per_epoch`` (small data:
    ten epochs of 100 rows are 40 steps of 32, too few for the new head and the warm-up + cosine schedule).

    >>> default_epochs(4), default_epochs(32), default_epochs(1)
    (25, 10, 100)
    """
    return max(epochs, -(-min_steps // max(1, steps_per_epoch)))


def validation_split(y: np.ndarray, fraction: float, seed: int,
                     min_size: int = 0) -> tuple[np.ndarray, np.ndarray | None]:
    """Stratified train/validation indices; no validation when a class is too small to split or when the
    split would hold fewer than ``min_size`` rows (every row then trains). Labels with one column per task
    (multi-task) are stratified on the first task's (its unlabelled rows as one more group)."""
    if y.ndim == 2:
        y = y[:, 0]
    idx = np.arange(len(y))
    _, counts = np.unique(y, return_counts=True)
    n_val = int(round(fraction * len(y)))
    if fraction <= 0 or n_val < min_size or counts.min() < 2 or n_val < len(counts) or len(y) - n_val < len(counts):
        return idx, None
    train, val = train_test_split(idx, test_size=n_val, stratify=y, random_state=seed)
    return np.sort(train), np.sort(val)


class NetModel:
    """A fitted backbone + head network."""

    kind: ClassVar[str] = "net"

    def __init__(self, net: TransferNet, *, batch_size: int, device: str, history: History | None = None,
                 task_sizes: tuple[int, ...] | None = None) -> None:
        self.net = net
        self.batch_size = batch_size
        self.device = device
        self.history = history
        #: Multi-task networks: the classes of each task; ``predict_proba`` is then each task's softmax over
        #: its own logits, side by side.
        self.task_sizes = task_sizes

    def logits(self, X: Any) -> np.ndarray:
        """The network's outputs for ``X``; outputs that are not finite numbers (weights blown up by a training
        that diverged while its loss still read as a number) are an error, not NaN probabilities."""
        out = batched_inference(self.net, self.net.backbone, X, batch_size=self.batch_size,
                                device=resolve_device(self.device))
        if not np.isfinite(out).all():
            bad = int(np.flatnonzero(~np.isfinite(out).all(axis=1))[0])
            raise StrategyError(f"the fine-tuned network's outputs are not finite numbers (item {bad} first): its "
                                "training diverged; refit with lower learning rates")
        return out

    def predict_proba(self, X: Any) -> np.ndarray:
        if self.task_sizes is not None:
            return multitask_probabilities(self.logits(X), self.task_sizes)
        return torch.softmax(torch.from_numpy(self.logits(X)).double(), dim=1).numpy()

    def save(self, folder: Path) -> dict[str, Any]:
        from safetensors.torch import save_model

        save_model(self.net.cpu(), str(folder / "model.safetensors"))
        return {"weights_file": "model.safetensors", "history": self.history.to_dict() if self.history else None}

    def summary(self) -> dict[str, Any]:
        return {"history": self.history.to_dict() if self.history else None}


def load_net(folder: Path, config: dict[str, Any], ctx: FitContext) -> NetModel:
    from safetensors.torch import load_model

    from ..errors import ModelFolderError

    net = ctx.trainable_backbone().with_head(ctx.n_classes)
    path = folder / config["weights_file"]
    if not path.exists():
        raise ModelFolderError(f"model weights {str(path)!r} are missing")
    load_model(net, str(path))
    for p in net.parameters():
        p.requires_grad_(False)
    return NetModel(net.eval(), batch_size=ctx.batch_size, device=ctx.device, task_sizes=ctx.task_sizes)


def describe_training(info: dict[str, Any], history: History | None) -> str | None:
    """One line on how a fine-tune trained, from its ``fit_info_`` and history: the epochs, and whether rows
    were held out for early stopping (and what it did); None for a model without a training loop.

    >>> describe_training({"epochs": 25, "validation_size": 0}, History(epochs=[{}] * 25))
    'trained 25 epochs on every training row (no rows held out for early stopping)'
    >>> describe_training({"epochs": 10, "validation_size": 100},
    ...                   History(epochs=[{}] * 6, best_epoch=2, stopped_early=True))
    'early stopping on 100 held-out rows: stopped after 6 of 10 epochs, the weights of epoch 3 kept'
    >>> describe_training({"epochs": 10, "validation_size": 100, "monitor": "val_accuracy"},
    ...                   History(epochs=[{}] * 10, best_epoch=8))
    'early stopping on 100 held-out rows (watching validation accuracy): ran all 10 epochs, the weights of epoch 9 kept'
    >>> describe_training({"epochs": 3, "validation_size": 0, "early_stopping": {"validation_size": 300, "epochs": 10,
    ...                    "epochs_run": 6, "best_epoch": 2, "stopped_early": True}}, History(epochs=[{}] * 3))
    'early stopping on 300 held-out rows: stopped after 6 of 10 epochs, best epoch 3; then refitted on every training row for 3 epochs'
    """
    if history is None or "epochs" not in info:
        return None
    ran = len(history.epochs)
    if "early_stopping" in info:  # refit: the first run chose the length
        first = info["early_stopping"]
        return (f"{_stopping(first, first['epochs_run'], first['stopped_early'])}, best epoch "
                f"{first['best_epoch'] + 1}; then refitted on every training row for {ran} epochs")
    if not info.get("validation_size"):
        return f"trained {ran} epochs on every training row (no rows held out for early stopping)"
    best = "" if history.best_epoch is None else f", the weights of epoch {history.best_epoch + 1} kept"
    return f"{_stopping(info, ran, history.stopped_early)}{best}"


def _stopping(info: dict[str, Any], ran: int, stopped_early: bool) -> str:
    """What early stopping on ``info``'s validation rows did (watching ``info``'s monitor) in ``ran`` epochs."""
    planned = int(info["epochs"])
    stop = f"stopped after {ran} of {planned} epochs" if stopped_early else f"ran all {planned} epochs"
    watch = _MONITORED.get(info.get("monitor", "val_loss"), "")
    return f"early stopping on {info['validation_size']} held-out rows{watch}: {stop}"


#: How :func:`describe_training` names what early stopping watched (nothing for the default, the loss).
_MONITORED = {"val_loss": "", "val_accuracy": " (watching validation accuracy)", "val_f1": " (watching validation macro-F1)"}


def describe_fit(estimator: Any) -> str | None:
    """:func:`describe_training` of a fitted estimator (its ``fit_info_`` and ``model_.history``)."""
    return describe_training(getattr(estimator, "fit_info_", {}) or {},
                             getattr(getattr(estimator, "model_", None), "history", None))


#: Parameters added after checkpoints were written, left out of a run's key while at their default so that
#: those checkpoints still resume.
_KEYLESS_DEFAULTS: dict[str, Any] = {"monitor": "val_loss", "refit": False}

#: What each parameter of :class:`FullFineTune` accepts (checked in ``fit``, before any work).
FINETUNE_PARAMS: dict[str, Rule] = {
    "epochs": Number(low=1, integer=True, optional=True),
    "lr": Number(low=0, low_open=True, text="a positive number"),
    "head_lr": Number(low=0, low_open=True, text="a positive number"),
    "weight_decay": Number(low=0),
    "batch_size": Number(low=1, integer=True),
    "warmup_ratio": Number(low=0, high=1),
    "val_fraction": Number(low=0, high=1, high_open=True),
    "patience": Number(low=1, integer=True),
    "monitor": Choice(("val_loss", "val_accuracy", "val_f1")),
    "min_val_size": Number(low=0, integer=True),
    "max_grad_norm": Number(low=0, low_open=True, optional=True),
    "label_smoothing": Number(low=0, high=1, high_open=True),
    "mixed_precision": Choice(("no", "fp16", "bf16")),
    "layer_decay": Number(low=0, high=1, low_open=True),
    "class_weight": Choice((None, "balanced")),
    "grad_accum": Number(low=1, integer=True),
    "l2_sp": Number(low=0),
    "bss": Number(low=0),
    "bn_eval": Flag(),
    "resume": Flag(),
    "refit": Flag(),
}


@dataclass
class TrainingRun:
    """A network, its trainer and data, built by :meth:`FullFineTune.build`."""

    net: TransferNet
    trainer: Trainer
    param_groups: list[dict[str, Any]]
    train_loader: Any
    val_loader: Any


@dataclass(kw_only=True, repr=False, eq=False)
class FullFineTune(Strategy):
    """Train every backbone layer and a new head with AdamW, warm-up + cosine decay, early stopping on
    a stratified validation split and restore of the best epoch's weights.

    A dataclass, so its ``__init__`` only stores the keyword arguments below (the scikit-learn contract:
    ``clone``, ``get_params`` and ``strategy__lr`` in a grid search work); subclasses add fields.
    Every parameter is checked in ``fit`` before any work (the ranges below; see ``FINETUNE_PARAMS``).

    Parameters
    ----------
    epochs : int >= 1 or None, default=None
        None: 10 epochs, or more on small data so that the fit takes at least 100 optimiser steps
        (:func:`default_epochs`; 100 rows at batch 32: 25 epochs). An int is used as it is.
    lr : float > 0, default=1e-4
        Learning rate of the backbone.
    head_lr : float > 0, default=1e-3
        Learning rate of the new head (randomly initialised, so it moves faster).
    weight_decay : float >= 0, default=0.01
        AdamW decay (not applied to biases, norm and embedding weights).
    batch_size : int >= 1, default=32
    warmup_ratio : float in [0, 1], default=0.1
        Share of the optimisation steps over which the learning rate rises linearly from 0.
    val_fraction : float in [0, 1), default=0.1
        Held out (stratified) for early stopping; 0 trains for all epochs without validation.
    patience : int >= 1, default=3
        Epochs without improvement of ``monitor`` before stopping.
    refit : bool, default=False
        After early stopping, train again from the pretrained weights on every row (the held-out ones too)
        for as many epochs as the best epoch found (its schedule spanning them), and keep that network: the
        split then only chooses the length (as AutoGluon's refit on all data). The second run is at most as
        long as the first; without a validation split there is nothing to refit. On Fashion-MNIST (1,000 and
        3,000 rows) it was no more accurate than early stopping and less than training every row for all
        epochs (docs/finetuning.md, "How long a fit trains").
    monitor : {"val_loss", "val_accuracy", "val_f1"}, default="val_loss"
        What early stopping watches on the validation split, and which epoch's weights are restored: the
        cross-entropy, the accuracy or the macro-F1 (with several tasks, their means over tasks). Ties of
        accuracy or F1 go to the epoch with the lower loss.
    min_val_size : int >= 0, default=100
        Fewest validation rows worth stopping on: when ``val_fraction`` of the rows would be fewer (below
        1,000 rows at the default fraction), none are held out, every row trains for all epochs and the
        last epoch's weights are kept. On Fashion-MNIST, 10 to 50 held-out rows cost 1.4 to 4.4 points of
        accuracy and never stopped a 10-epoch run (docs/finetuning.md, "How long a fit trains").
    max_grad_norm : float > 0 or None, default=1.0
        Gradients are clipped to this norm; None does not clip.
    label_smoothing : float in [0, 1), default=0.0
    mixed_precision : {"no", "fp16", "bf16"}, default="no"
        "bf16" also works on CPUs that support it.
    layer_decay : float in (0, 1], default=1.0
        Discriminative learning rates (Howard & Ruder, ULMFiT, ACL 2018): the backbone's parameter group
        ``k`` steps below the top trains at ``lr * layer_decay**k``; 1.0 gives every layer ``lr``.
    class_weight : {"balanced"} or None, default=None
        "balanced" weights each example by ``n_samples / (n_classes * count(its class))`` in the loss
        (multiplied with any ``sample_weight``), so rare classes count as much as frequent ones.
    grad_accum : int >= 1, default=1
        Mini-batches per optimiser step (effective batch ``batch_size * grad_accum``).
    l2_sp : float >= 0, default=0.0
        L2-SP strength (Li et al., ICML 2018): ``l2_sp/2 * ||w - w_pretrained||^2`` over the trained
        backbone weights, which then take no AdamW decay (decaying to zero would fight the pull).
    bss : float >= 0, default=0.0
        Batch spectral shrinkage strength (Chen et al., NeurIPS 2019): penalises the smallest singular
        value of each batch's feature matrix, against negative transfer of untransferable directions.
    augment : Augment, optional
        Image augmentation of training batches (see :class:`~transferkit.strategies.Augment`).
    bn_eval : bool, default=False
        Keep every BatchNorm layer's running statistics fixed (eval mode) while its scale and shift still
        train: the usual choice with small batches, or images unlike the pretraining ones, whose batch
        statistics would replace the pretrained ones.
    checkpoint_dir : str, optional
        Folder for a checkpoint after every epoch (see ``resume``); a file there is refused. Each run writes
        into its own sub-folder ``run-<first 16 hex digits of its key>``, the key being a sha256 of the
        settings, backbone, training data, labels and weights (:meth:`run_key`), so the folds of a
        cross-validation, the candidates of a grid search and refits on other data never meet each other's
        checkpoints. Checkpoints are kept after the fit (the newest of each run).
    resume : bool, default=False
        Continue from the newest checkpoint of this run (same key) in ``checkpoint_dir`` (verified by
        sha256; needs ``checkpoint_dir``); a run with no checkpoint yet starts from scratch. Without it, a
        checkpoint of the same run is an error, never overwritten. A resumed run needs the same seed
        (``random_state`` of the estimator): with ``random_state=None`` every fit is a new run.
    """

    cli_name = "finetune"
    fits_several_tasks = True

    epochs: int | None = None
    lr: float = 1e-4
    head_lr: float = 1e-3
    weight_decay: float = 0.01
    batch_size: int = 32
    warmup_ratio: float = 0.1
    val_fraction: float = 0.1
    patience: int = 3
    monitor: str = "val_loss"
    refit: bool = False
    min_val_size: int = 100
    max_grad_norm: float | None = 1.0
    label_smoothing: float = 0.0
    mixed_precision: str = "no"
    layer_decay: float = 1.0
    class_weight: str | None = None
    grad_accum: int = 1
    l2_sp: float = 0.0
    bss: float = 0.0
    augment: Augment | None = None
    bn_eval: bool = False
    checkpoint_dir: str | None = None
    resume: bool = False

    def _check(self) -> None:
        check_params(self, FINETUNE_PARAMS)
        if self.augment is not None:
            if not isinstance(self.augment, Augment):
                raise StrategyError(f"augment must be an Augment or None, got {self.augment!r}")
            self.augment._check()
        if self.checkpoint_dir is not None:
            if not isinstance(self.checkpoint_dir, str | os.PathLike) or not str(self.checkpoint_dir):
                raise StrategyError(f"checkpoint_dir must be a folder path or None, got {self.checkpoint_dir!r}")
            problem = checkpoint_folder_problem(Path(self.checkpoint_dir))
            if problem:
                raise StrategyError(f"checkpoint_dir {str(self.checkpoint_dir)!r} {problem}")
        if self.resume and self.checkpoint_dir is None:
            raise StrategyError("resume=True needs checkpoint_dir, the folder of the checkpoints to resume from")

    def check_multitask(self, ctx: FitContext) -> None:
        """Several tasks train one shared backbone, each with its own head (see
        :class:`~transferkit.MultiTaskClassifier`); per-row class weights and mixed labels have no meaning
        across tasks, so ``class_weight="balanced"`` and MixUp/CutMix are refused."""
        self._check()
        if self.class_weight is not None:
            raise StrategyError("class_weight='balanced' weighs each row by its class, but with several tasks a row "
                                "has a class in each; use class_weight=None (sample_weight still applies to every "
                                "task)")
        if self.augment is not None and (self.augment.mixup > 0 or self.augment.cutmix > 0):
            raise StrategyError("MixUp/CutMix mix the labels of one task; with several tasks set mixup=0 and "
                                "cutmix=0 (other augmentation is fine)")

    # --- hooks for subclasses ---------------------------------------------------------------------
    def prepare(self, net: TransferNet, backbone_name: str) -> None:
        """Set up the network before training (subclasses freeze layers here); checked before any epoch."""

    def warm_start(self, net: TransferNet, ctx: FitContext, X: Any, y: np.ndarray,
                   sample_weight: np.ndarray | None = None) -> None:
        """Initialise the network from the training split ``X``, ``y`` before fine-tuning (LP-FT fits the
        head here). ``sample_weight`` are the split's weights in the loss (:meth:`sample_weights`: the
        given weights times the balanced class weights), None when unweighted."""

    def param_groups(self, net: TransferNet) -> list[dict[str, Any]]:
        """Optimizer groups: each backbone group at ``lr * layer_decay**depth`` (depth 0 = top group), the
        head at ``head_lr``; frozen parameters are left out. Each group carries ``depth`` (head: -1) for
        schedules such as gradual unfreezing."""
        groups_in = net.backbone.parameter_groups()
        rated = [(g.params, self.lr * self.layer_decay ** (len(groups_in) - 1 - i), len(groups_in) - 1 - i)
                 for i, g in enumerate(groups_in)]
        rated.append((list(net.head.parameters()), self.head_lr, -1))
        groups = []
        for params, lr, depth in rated:
            params = [p for p in params if p.requires_grad]
            decay, no_decay = decay_split(net, params)
            wd = 0.0 if (self.l2_sp > 0 and depth >= 0) else self.weight_decay
            groups += [{"params": decay, "lr": lr, "weight_decay": wd, "depth": depth},
                       {"params": no_decay, "lr": lr, "weight_decay": 0.0, "depth": depth}]
        return [g for g in groups if g["params"]]

    def task_loss(self, ctx: FitContext) -> LossFn:
        """The loss on the training batches' targets (distillation mixes in a teacher's here; several tasks
        combine their cross-entropies, see :func:`~transferkit.training.multitask_cross_entropy`)."""
        if ctx.task_sizes is not None:
            return multitask_cross_entropy(ctx.task_sizes, self.label_smoothing, ctx.task_weights)
        return weighted_cross_entropy(self.label_smoothing)

    def metrics(self, ctx: FitContext) -> Metrics | None:
        """The validation metrics: the loop's default for one task, each task's and their means for several."""
        if ctx.task_sizes is None:
            return None
        names = ctx.task_names or tuple(f"task_{t}" for t in range(len(ctx.task_sizes)))
        return multitask_metrics(ctx.task_sizes, names, ctx.task_weights)

    def train_targets(self, ctx: FitContext, X: Any, y: np.ndarray, sample_weight: np.ndarray | None) -> np.ndarray:
        """The targets of the training split ``X`` (class indices ``y``, weights ``sample_weight``): the
        labels themselves; distillation adds a teacher's probabilities (see :func:`distillation_targets
        <transferkit.training.distillation_targets>`)."""
        return y

    def loss_terms(self, net: TransferNet) -> list[LossTerm]:
        """Regularisers added to the task loss (L2-SP, BSS)."""
        terms: list[LossTerm] = []
        if self.l2_sp > 0:
            terms.append(L2SPTerm(net.backbone, self.l2_sp))
        if self.bss > 0:
            terms.append(BSSTerm(self.bss))
        return terms

    def callbacks(self, has_validation: bool) -> list[Any]:
        callbacks: list[Any] = [FrozenBatchNormEval(all_layers=self.bn_eval)]
        if has_validation:
            callbacks.append(EarlyStopping(self.monitor, self.patience))
        return callbacks

    def run_key(self, ctx: FitContext, X: Any, modality: str, y: np.ndarray, sample_weight: np.ndarray | None) -> str:
        """Identity of a run for its checkpoints: settings, backbone (and weight file), seed, the training
        items (by content, as the feature cache keys them), labels and weights. It names the run's folder in
        ``checkpoint_dir`` (see :meth:`train_config`) and is checked again before a checkpoint is loaded."""
        from ..features._hashing import item_keys

        h = hashlib.sha256(json.dumps({k: repr(v) for k, v in sorted(self.get_params(deep=False).items())
                                       if k not in ("checkpoint_dir", "resume")
                                       and not (k in _KEYLESS_DEFAULTS and v == _KEYLESS_DEFAULTS[k])}).encode())
        h.update(f"{ctx.backbone}|{ctx.pretrained}|{ctx.image_size}|{ctx.max_length}|{ctx.random_state}|"
                 f"{ctx.weights}|{ctx.in_features}".encode())
        if ctx.task_sizes is not None:  # (one task: the key of earlier versions, so their checkpoints resume)
            h.update(f"|tasks|{ctx.task_sizes}|{ctx.task_names}|{ctx.task_weights}".encode())
        h.update("".join(item_keys(X, modality)).encode())
        h.update(np.ascontiguousarray(y).tobytes())
        if sample_weight is not None:
            h.update(np.ascontiguousarray(sample_weight, dtype=np.float64).tobytes())
        return h.hexdigest()

    # --- fitting ------------------------------------------------------------------------------------
    def fit_transfer(self, ctx: FitContext, X: Any, y: np.ndarray, sample_weight: np.ndarray | None = None) -> NetModel:
        with torch.random.fork_rng(devices=[]):
            run = self.build(ctx, X, y, sample_weight)
            history = run.trainer.fit(run.net, run.param_groups, run.train_loader, run.val_loader)
            if run.trainer.resumed_from is not None:
                ctx.info["resumed_from"] = str(run.trainer.resumed_from)
            net = run.trainer.unwrapped_model.cpu().eval()
        if self.refit and run.val_loader is not None:
            return self.refit_on_every_row(ctx, X, y, sample_weight, history)
        for p in net.parameters():
            p.requires_grad_(False)
        return self.finish(net, ctx, history)  # type: ignore[arg-type]

    def refit_on_every_row(self, ctx: FitContext, X: Any, y: np.ndarray, sample_weight: np.ndarray | None,
                           history: History) -> NetModel:
        """``refit``: the same strategy again, without a validation split, for the best epoch count of the run
        whose ``history`` early stopping ended; that run is recorded in ``fit_info_["early_stopping"]``."""
        from sklearn.base import clone

        best = history.best_epoch if history.best_epoch is not None else len(history.epochs) - 1
        ctx.info["early_stopping"] = {
            "validation_size": ctx.info["validation_size"], "monitor": self.monitor, "epochs": ctx.info["epochs"],
            "epochs_run": len(history.epochs), "best_epoch": best, "stopped_early": history.stopped_early}
        ctx.info.pop("monitor", None)  # the refit watches nothing
        again = clone(self).set_params(val_fraction=0.0, epochs=best + 1, refit=False)
        return again.fit_transfer(ctx, X, y, sample_weight)

    def check_precision(self, ctx: FitContext) -> None:
        """fp16 autocast needs a GPU: on a CPU it would silently train in float32."""
        if self.mixed_precision == "fp16" and resolve_device(ctx.device).type == "cpu":
            raise StrategyError("mixed_precision='fp16' needs a GPU (it would silently train in float32 here); "
                                "use 'bf16' on CPU")

    def build(self, ctx: FitContext, X: Any, y: np.ndarray, sample_weight: np.ndarray | None = None) -> TrainingRun:
        """Everything a run needs, ready for ``trainer.fit`` (seeds the global RNG: call it inside
        ``torch.random.fork_rng``). The learning-rate finder reuses it with another schedule."""
        self._check()
        self.check_precision(ctx)
        torch.manual_seed(ctx.random_state)
        gen = torch.Generator().manual_seed(ctx.random_state)
        backbone = ctx.trainable_backbone()
        if not any(p.requires_grad for p in backbone.parameters()):
            raise StrategyError(f"backbone {ctx.backbone!r} has no trainable parameters; use the linear probe")
        net = backbone.with_head(ctx.n_classes, generator=gen)
        self.prepare(net, ctx.backbone)
        train_idx, val_idx = validation_split(y, self.val_fraction, ctx.random_state, self.min_val_size)
        self.record_split(ctx, val_idx)
        take = (lambda ix: X[ix]) if isinstance(X, np.ndarray) else (lambda ix: [X[i] for i in ix])
        w = self.sample_weights(y, sample_weight)
        X_train, w_train = take(train_idx), None if w is None else w[train_idx]
        with item_positions(train_idx.tolist()):  # LP-FT's probe features: errors name rows of X, not of the split
            self.warm_start(net, ctx, X_train, y[train_idx], w_train)
        train_loader = make_loader(
            X_train, self.train_targets(ctx, X_train, y[train_idx], w_train), preprocess=self.train_preprocess(backbone),
            batch_size=self.batch_size, shuffle=True, seed=ctx.random_state, weights=w_train,
            batch_transform=self.augment.batch_transform(ctx.n_classes) if self.augment is not None else None,
            positions=train_idx,  # errors name an item's place in X, not in the training split
        )
        val_loader = None
        if val_idx is not None:
            val_loader = make_loader(take(val_idx), y[val_idx], preprocess=backbone.preprocess,
                                     batch_size=ctx.batch_size, shuffle=False, seed=ctx.random_state, positions=val_idx)
        trainer = Trainer(self.train_config(ctx, self.run_key(ctx, X, backbone.spec.modality, y, sample_weight),
                                            len(train_loader)),
                          self.task_loss(ctx), terms=self.loss_terms(net),
                          callbacks=self.callbacks(val_loader is not None), metrics=self.metrics(ctx))
        return TrainingRun(net, trainer, self.param_groups(net), train_loader, val_loader)

    def record_split(self, ctx: FitContext, val_idx: np.ndarray | None) -> None:
        """``fit_info_``'s record of the validation split: its size, and what early stopping watches on it."""
        ctx.info["validation_size"] = 0 if val_idx is None else len(val_idx)
        if val_idx is not None:
            ctx.info["monitor"] = self.monitor

    def sample_weights(self, y: np.ndarray, sample_weight: np.ndarray | None,
                       labelled: np.ndarray | None = None) -> np.ndarray | None:
        """``sample_weight`` times balanced class weights when ``class_weight="balanced"`` (computed over the
        ``labelled`` rows only, when given; other rows keep weight 1)."""
        if self.class_weight != "balanced":
            return sample_weight
        from sklearn.utils.class_weight import compute_sample_weight

        rows = np.arange(len(y)) if labelled is None else labelled
        balanced = np.ones(len(y))
        balanced[rows] = compute_sample_weight("balanced", y[rows])
        return balanced if sample_weight is None else sample_weight * balanced

    def train_config(self, ctx: FitContext, run_key: str, batches_per_epoch: int) -> TrainConfig:
        """The loop's settings for this strategy on ``ctx``. ``run_key`` (:meth:`run_key`) names the run's
        checkpoints: they go into its own folder in ``checkpoint_dir`` (see :func:`run_checkpoint_folder
        <transferkit.training._checkpoint.run_checkpoint_folder>`), so that runs on other data or settings,
        such as cross-validation folds, never meet them. ``batches_per_epoch`` (the training loader's length)
        sets the epochs when ``epochs`` is None (:func:`default_epochs`); they are recorded in ``ctx.info``."""
        folder = None if self.checkpoint_dir is None else run_checkpoint_folder(self.checkpoint_dir, run_key)
        epochs = self.epochs if self.epochs is not None else default_epochs(-(-batches_per_epoch // self.grad_accum))
        ctx.info["epochs"] = epochs
        return TrainConfig(
            epochs=epochs, warmup_ratio=self.warmup_ratio, max_grad_norm=self.max_grad_norm,
            grad_accum=self.grad_accum, mixed_precision=self.mixed_precision, device=ctx.device,
            progress=ctx.verbose > 0, checkpoint_dir=folder, resume=self.resume, run_key=run_key,
        )

    def train_preprocess(self, backbone: Any) -> Any:
        """The training batches' preprocessing: the backbone's, with augmentation when configured."""
        if self.augment is None:
            return backbone.preprocess
        return self.augment.preprocessor(backbone)

    def finish(self, net: TransferNet, ctx: FitContext, history: History) -> NetModel:
        """The fitted model (LoRA merges its adapters here)."""
        return NetModel(net, batch_size=ctx.batch_size, device=ctx.device, history=history, task_sizes=ctx.task_sizes)

    def load_model(self, folder: Path, config: dict[str, Any], ctx: FitContext) -> NetModel:
        return load_net(folder, config, ctx)
