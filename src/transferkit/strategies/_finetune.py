"""Full fine-tuning through the one training loop, and the fitted network model it returns."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.model_selection import train_test_split
from torch import nn

from ..backbones import TransferNet
from ..errors import StrategyError
from ..features import batched_inference, resolve_device
from ..training import (
    EarlyStopping,
    FrozenBatchNormEval,
    History,
    TrainConfig,
    Trainer,
    make_loader,
    weighted_cross_entropy,
)
from ._base import FitContext, Strategy

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


def validation_split(y: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Stratified train/validation indices; no validation when a class is too small to split."""
    idx = np.arange(len(y))
    _, counts = np.unique(y, return_counts=True)
    n_val = int(round(fraction * len(y)))
    if fraction <= 0 or counts.min() < 2 or n_val < len(counts) or len(y) - n_val < len(counts):
        return idx, None
    train, val = train_test_split(idx, test_size=n_val, stratify=y, random_state=seed)
    return np.sort(train), np.sort(val)


class NetModel:
    """A fitted backbone + head network."""

    kind: ClassVar[str] = "net"

    def __init__(self, net: TransferNet, *, batch_size: int, device: str, history: History | None = None) -> None:
        self.net = net
        self.batch_size = batch_size
        self.device = device
        self.history = history

    def logits(self, X: Any) -> np.ndarray:
        return batched_inference(self.net, self.net.backbone, X, batch_size=self.batch_size, device=resolve_device(self.device))

    def predict_proba(self, X: Any) -> np.ndarray:
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
    return NetModel(net.eval(), batch_size=ctx.batch_size, device=ctx.device)


class FullFineTune(Strategy):
    """Train every backbone layer and a new head with AdamW, warm-up + cosine decay, early stopping on
    a stratified validation split and restore of the best epoch's weights.

    Parameters
    ----------
    epochs : int, default=10
    lr : float, default=1e-4
        Learning rate of the backbone.
    head_lr : float, default=1e-3
        Learning rate of the new head (randomly initialised, so it moves faster).
    weight_decay : float, default=0.01
        AdamW decay (not applied to biases, norm and embedding weights).
    batch_size : int, default=32
    warmup_ratio : float, default=0.1
    val_fraction : float, default=0.1
        Held out (stratified) for early stopping; 0 trains for all epochs without validation.
    patience : int, default=3
        Epochs without validation-loss improvement before stopping.
    max_grad_norm : float, default=1.0
    label_smoothing : float, default=0.0
    mixed_precision : {"no", "fp16", "bf16"}, default="no"
    layer_decay : float, default=1.0
        Discriminative learning rates (Howard & Ruder, ULMFiT, ACL 2018): the backbone's parameter group
        ``k`` steps below the top trains at ``lr * layer_decay**k``; 1.0 gives every layer ``lr``.
    class_weight : {"balanced"} or None, default=None
        "balanced" weights each example by ``n_samples / (n_classes * count(its class))`` in the loss
        (multiplied with any ``sample_weight``), so rare classes count as much as frequent ones.
    """

    cli_name = "finetune"

    def __init__(
        self,
        *,
        epochs: int = 10,
        lr: float = 1e-4,
        head_lr: float = 1e-3,
        weight_decay: float = 0.01,
        batch_size: int = 32,
        warmup_ratio: float = 0.1,
        val_fraction: float = 0.1,
        patience: int = 3,
        max_grad_norm: float | None = 1.0,
        label_smoothing: float = 0.0,
        mixed_precision: str = "no",
        layer_decay: float = 1.0,
        class_weight: str | None = None,
    ) -> None:
        self.epochs = epochs
        self.lr = lr
        self.head_lr = head_lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.warmup_ratio = warmup_ratio
        self.val_fraction = val_fraction
        self.patience = patience
        self.max_grad_norm = max_grad_norm
        self.label_smoothing = label_smoothing
        self.mixed_precision = mixed_precision
        self.layer_decay = layer_decay
        self.class_weight = class_weight

    def _check(self) -> None:
        if self.epochs < 1 or self.batch_size < 1:
            raise StrategyError(f"epochs and batch_size must be >= 1 (got {self.epochs}, {self.batch_size})")
        if not 0 <= self.val_fraction < 1:
            raise StrategyError(f"val_fraction must be in [0, 1), got {self.val_fraction}")
        if not 0 < self.layer_decay <= 1:
            raise StrategyError(f"layer_decay must be in (0, 1], got {self.layer_decay}")
        if self.class_weight not in (None, "balanced"):
            raise StrategyError(f"class_weight must be None or 'balanced', got {self.class_weight!r}")

    def prepare(self, net: TransferNet, backbone_name: str) -> None:
        """Set up the network before training (subclasses freeze layers here); checked before any epoch."""

    def param_groups(self, net: TransferNet) -> list[dict[str, Any]]:
        """Optimizer groups: each backbone group at ``lr * layer_decay**depth`` (depth 0 = top group), the
        head at ``head_lr``; frozen parameters are left out."""
        groups_in = net.backbone.parameter_groups()
        rated = [(g.params, self.lr * self.layer_decay ** (len(groups_in) - 1 - i)) for i, g in enumerate(groups_in)]
        rated.append((list(net.head.parameters()), self.head_lr))
        groups = []
        for params, lr in rated:
            params = [p for p in params if p.requires_grad]
            decay, no_decay = decay_split(net, params)
            groups += [{"params": decay, "lr": lr, "weight_decay": self.weight_decay},
                       {"params": no_decay, "lr": lr, "weight_decay": 0.0}]
        return [g for g in groups if g["params"]]

    def fit_transfer(self, ctx: FitContext, X: Any, y: np.ndarray, sample_weight: np.ndarray | None = None) -> NetModel:
        self._check()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(ctx.random_state)
            gen = torch.Generator().manual_seed(ctx.random_state)
            backbone = ctx.trainable_backbone()
            if not any(p.requires_grad for p in backbone.parameters()):
                raise StrategyError(f"backbone {ctx.backbone!r} has no trainable parameters; use the linear probe")
            net = backbone.with_head(ctx.n_classes, generator=gen)
            self.prepare(net, ctx.backbone)
            train_idx, val_idx = validation_split(y, self.val_fraction, ctx.random_state)
            ctx.info["validation_size"] = 0 if val_idx is None else len(val_idx)
            take = (lambda ix: X[ix]) if isinstance(X, np.ndarray) else (lambda ix: [X[i] for i in ix])
            w = sample_weight
            if self.class_weight == "balanced":
                from sklearn.utils.class_weight import compute_sample_weight

                balanced = compute_sample_weight("balanced", y)
                w = balanced if w is None else w * balanced
            train_loader = make_loader(
                take(train_idx), y[train_idx], preprocess=backbone.preprocess, batch_size=self.batch_size,
                shuffle=True, seed=ctx.random_state, weights=None if w is None else w[train_idx],
            )
            val_loader = None
            if val_idx is not None:
                val_loader = make_loader(take(val_idx), y[val_idx], preprocess=backbone.preprocess,
                                         batch_size=ctx.batch_size, shuffle=False, seed=ctx.random_state)
            callbacks: list[Any] = [FrozenBatchNormEval()]
            if val_loader is not None:
                callbacks.append(EarlyStopping("val_loss", self.patience))
            config = TrainConfig(epochs=self.epochs, warmup_ratio=self.warmup_ratio, max_grad_norm=self.max_grad_norm,
                                 mixed_precision=self.mixed_precision, device=ctx.device, progress=ctx.verbose > 0)
            trainer = Trainer(config, weighted_cross_entropy(self.label_smoothing), callbacks=callbacks)
            history = trainer.fit(net, self.param_groups(net), train_loader, val_loader)
            net = trainer.unwrapped_model.cpu().eval()  # type: ignore[assignment]
        for p in net.parameters():
            p.requires_grad_(False)
        return NetModel(net, batch_size=ctx.batch_size, device=ctx.device, history=history)

    def load_model(self, folder: Path, config: dict[str, Any], ctx: FitContext) -> NetModel:
        return load_net(folder, config, ctx)



class PartialFreeze(FullFineTune):
    """Freeze the first ``n_frozen`` parameter groups of the backbone (input side), or all but the last
    ``n_trainable``, and train the rest with a new head, through the same loop as :class:`FullFineTune`.

    Frozen normalisation layers stay in eval mode, so their running statistics are not updated.
    Parameters other than ``n_frozen``/``n_trainable`` are those of :class:`FullFineTune`.

    Parameters
    ----------
    n_frozen : int, optional
        Number of leading groups to freeze (see ``Backbone.parameter_groups``).
    n_trainable : int, optional
        Number of trailing groups to train; exactly one of the two must be given.
    """

    cli_name = "partial"

    def __init__(
        self,
        *,
        n_frozen: int | None = None,
        n_trainable: int | None = None,
        epochs: int = 10,
        lr: float = 1e-4,
        head_lr: float = 1e-3,
        weight_decay: float = 0.01,
        batch_size: int = 32,
        warmup_ratio: float = 0.1,
        val_fraction: float = 0.1,
        patience: int = 3,
        max_grad_norm: float | None = 1.0,
        label_smoothing: float = 0.0,
        mixed_precision: str = "no",
        layer_decay: float = 1.0,
        class_weight: str | None = None,
    ) -> None:
        super().__init__(
            epochs=epochs, lr=lr, head_lr=head_lr, weight_decay=weight_decay, batch_size=batch_size,
            warmup_ratio=warmup_ratio, val_fraction=val_fraction, patience=patience, max_grad_norm=max_grad_norm,
            label_smoothing=label_smoothing, mixed_precision=mixed_precision, layer_decay=layer_decay,
            class_weight=class_weight,
        )
        self.n_frozen = n_frozen
        self.n_trainable = n_trainable

    def frozen_count(self, n_groups: int, backbone_name: str) -> int:
        """How many leading groups to freeze, checked against the backbone's group count."""
        if (self.n_frozen is None) == (self.n_trainable is None):
            raise StrategyError("PartialFreeze needs exactly one of n_frozen and n_trainable")
        wanted = self.n_frozen if self.n_frozen is not None else self.n_trainable
        assert wanted is not None
        if wanted < 0 or wanted > n_groups:
            raise StrategyError(f"backbone {backbone_name!r} has {n_groups} parameter groups; cannot "
                                f"{'freeze' if self.n_frozen is not None else 'train'} {wanted}")
        return wanted if self.n_frozen is not None else n_groups - wanted

    def prepare(self, net: TransferNet, backbone_name: str) -> None:
        groups = net.backbone.parameter_groups()
        for group in groups[: self.frozen_count(len(groups), backbone_name)]:
            for p in group.params:
                p.requires_grad_(False)
