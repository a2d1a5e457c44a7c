"""``DeepDA``: fine-tuning with a domain-alignment loss term, through the one training loop.

The strategy is :class:`~transferkit.strategies.FullFineTune` plus three things: a loader whose batches
hold source and target rows in equal parts with their ``sample_domain``, an optional bottleneck layer
between the backbone and the head (the aligned representation, as in DAN and DANN), and one loss term
(:mod:`._deep_terms`). ``FullFineTune.fit_transfer`` builds its loader and trainer inline, so
:meth:`DeepDA.fit_domains` re-assembles the same pieces (validation split, loaders, callbacks, config)
instead of overriding a hook.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Sampler

from ..backbones import Backbone, Batch, ParameterGroup, TransferNet
from ..errors import DataError, StrategyError
from ..strategies import Augment, FitContext, FullFineTune, NetModel
from ..strategies._base import Number, Rule, check_params
from ..strategies._finetune import decay_split, validation_split
from ..training import UNLABELED, LossTerm, Trainer, make_loader, weighted_cross_entropy
from ..training._data import Collate, EpochSampler, _Indices
from ._deep_terms import CORALTerm, DANNTerm, MMDTerm

__all__ = ["DEEP_METHODS", "BottleneckBackbone", "DeepDA", "domain_loader"]

#: Deep methods by name (the loss term each one adds): the names of ``DeepDA(method=...)`` and of
#: ``DomainAdaptClassifier(method=...)`` alike, where plain "coral" is the shallow feature mapping.
DEEP_METHODS = ("dann", "mmd", "deep-coral")
#: Other spellings DeepDA accepts: "coral", its name for Deep CORAL before it took the one above (kept so
#: that code and model folders that use it still work).
DEEP_ALIASES = {"coral": "deep-coral"}
#: What the parameters DeepDA adds to FullFineTune's accept.
DEEP_PARAMS: dict[str, Rule] = {
    "weight": Number(low=0),
    "bottleneck": Number(low=1, integer=True, optional=True),
    "discriminator_hidden": Number(low=1, integer=True),
    "n_kernels": Number(low=1, integer=True),
}


class BottleneckBackbone(Backbone):
    """A backbone followed by a new ``Linear -> BatchNorm -> ReLU -> Dropout`` layer of ``width``.

    The bottleneck is where DAN and DANN align the domains; over a frozen backbone (or the
    ``identity`` backbone on precomputed features) it is the only trainable representation.
    """

    def __init__(self, inner: Backbone, width: int, dropout: float = 0.5) -> None:
        super().__init__(dataclasses.replace(inner.spec, num_features=width), inner.preprocessor)
        self.inner = inner
        self.bottleneck = nn.Sequential(nn.Linear(inner.num_features, width), nn.BatchNorm1d(width), nn.ReLU(),
                                        nn.Dropout(dropout))

    def forward_features(self, batch: Batch) -> torch.Tensor:
        return self.bottleneck(self.inner.forward_features(batch))

    def parameter_groups(self) -> list[ParameterGroup]:
        return [*self.inner.parameter_groups(), ParameterGroup("bottleneck", list(self.bottleneck.parameters()))]


class _BalancedDomainBatches(Sampler[list[int]]):
    """Batches of ``batch_size // 2`` source rows and the rest target rows.

    An epoch is one pass over the source rows in a random order; target rows are drawn in random order
    too, cycling when the target pool is the smaller one. Both orders depend only on ``(seed, epoch)``, as
    :class:`~transferkit.training._data.EpochSampler`'s do: the loop sets the epoch (``set_epoch``), so
    every epoch differs, runs repeat, and a run resumed from a checkpoint at epoch ``k`` sees exactly the
    batches an uninterrupted run sees (one generator advanced from epoch to epoch would replay epoch 0's
    order after a resume).
    """

    def __init__(self, source: np.ndarray, target: np.ndarray, batch_size: int, seed: int) -> None:
        self.source, self.target, self.seed = source, target, int(seed)
        self.n_src = max(1, batch_size // 2)
        self.n_tgt = max(1, batch_size - self.n_src)
        # the source order; it holds the epoch, and a sharded loader (Accelerate over several processes)
        # reaches set_epoch through a batch sampler's ``.sampler``
        self.sampler = EpochSampler(len(source), seed=self.seed, shuffle=True)

    def set_epoch(self, epoch: int) -> None:
        self.sampler.set_epoch(epoch)

    def __len__(self) -> int:
        return math.ceil(len(self.source) / self.n_src)

    def _target_stream(self) -> Iterator[int]:
        # a stream of its own per (seed, epoch), apart from the source order's
        entropy = np.random.SeedSequence((self.seed % 2**63, self.sampler.epoch, 1)).generate_state(1, np.uint64)[0]
        generator = torch.Generator().manual_seed(int(entropy))
        while True:
            for i in torch.randperm(len(self.target), generator=generator).tolist():
                yield int(self.target[i])

    def __iter__(self) -> Iterator[list[int]]:
        order = self.source[np.fromiter(iter(self.sampler), dtype=np.int64, count=len(self.source))]
        targets = self._target_stream()
        for start in range(0, len(order), self.n_src):
            chunk = order[start:start + self.n_src].tolist()
            yield chunk + [next(targets) for _ in range(max(self.n_tgt, 2))]


class _DomainCollate:
    """The loop's ``Collate`` plus the batch's ``sample_domain`` as a fourth element."""

    def __init__(self, collate: Collate, domain: np.ndarray) -> None:
        self.collate, self.domain = collate, domain

    def __call__(self, idx: list[int]) -> tuple[Any, ...]:
        return (*self.collate(idx), torch.as_tensor(self.domain[np.asarray(idx)], dtype=torch.long))


def domain_loader(X: Any, y: np.ndarray, sample_domain: np.ndarray, *, preprocess: Any, batch_size: int, seed: int,
                  rows: np.ndarray | None = None, weights: np.ndarray | None = None) -> DataLoader:
    """A loader of 4-tuples ``(inputs, targets, weights, sample_domain)`` mixing source and target rows.

    ``rows`` restricts the loader to these row indices (the others are held out); each batch holds
    ``batch_size // 2`` source rows and as many target rows. ``y`` is ``UNLABELED`` on rows without a label.
    """
    rows = np.arange(len(y)) if rows is None else np.asarray(rows)
    source, target = rows[sample_domain[rows] > 0], rows[sample_domain[rows] < 0]
    if len(source) == 0 or len(target) == 0:
        raise StrategyError("domain adaptation needs source and target rows in the training data")
    sampler = _BalancedDomainBatches(source, target, batch_size, seed)
    return DataLoader(_Indices(len(y)), batch_sampler=sampler,
                      collate_fn=_DomainCollate(Collate(X, y, weights, preprocess), sample_domain))


def _check_encoded(y: np.ndarray, n_classes: int) -> None:
    """Refuse ``y`` entries that are neither a class index nor ``UNLABELED``: the loss would skip a
    negative one (such as the -1 mask) as unlabelled while the validation split counted it as a class."""
    bad = np.flatnonzero((y != UNLABELED) & ((y < 0) | (y >= n_classes)))
    if bad.size:
        shown = ", ".join(f"{int(r)} ({int(y[r])})" for r in bad[:5])
        raise DataError(f"y holds entries that are no encoded label on rows {shown}"
                        f"{'' if bad.size <= 5 else f' ({bad.size} in all)'}; fit_domains takes labels "
                        f"0..{n_classes - 1} and UNLABELED ({UNLABELED}) on rows without one (not -1); "
                        "DomainAdaptClassifier(method=DeepDA(...)) encodes the labels for you")


class DeepDA(FullFineTune):
    """Deep domain adaptation: fine-tuning plus a loss that aligns source and target features.

    ``method`` picks the loss term added to the task loss in the one training loop:

    - ``"dann"``: a domain discriminator behind a gradient reversal layer (Ganin et al., JMLR 2016), with
      the schedule ``lambda_p = 2 / (1 + exp(-10 p)) - 1``;
    - ``"mmd"``: multi-kernel MMD (DAN, Long et al., ICML 2015);
    - ``"deep-coral"`` (also ``"coral"``): Deep CORAL (Sun & Saenko, ECCV 2016 workshops).

    These are also the names :class:`~transferkit.adaptation.DomainAdaptClassifier` takes for them.

    It needs ``sample_domain``, so it is fitted through
    :class:`~transferkit.adaptation.DomainAdaptClassifier` (or :meth:`fit_domains`), not
    ``TransferClassifier``. Parameters other than those below are those of
    :class:`~transferkit.strategies.FullFineTune`; ``val_fraction`` defaults to 0 here, since early
    stopping on the source validation loss would stop the adaptation (choose with the target-aware scorers
    instead). ``augment`` transforms the images of both domains; MixUp and CutMix are refused (a target row
    has no label to mix). Checkpoints (``checkpoint_dir``, ``resume``) are keyed by the labels and domains.

    Parameters
    ----------
    method : {"dann", "mmd", "deep-coral"}, default="dann"
    weight : float >= 0, default=1.0
        Weight of the alignment loss.
    bottleneck : int >= 1 or None, default=256
        Width of a new bottleneck layer between backbone and head where the domains are aligned; None
        aligns the backbone features themselves.
    discriminator_hidden : int >= 1, default=256
        DANN: width of the discriminator's two hidden layers.
    n_kernels : int >= 1, default=5
        MMD: number of Gaussian kernels.

    Examples
    --------
    >>> DeepDA(method="mmd", weight=0.5).get_params()["weight"]
    0.5
    """

    cli_name = "deep-da"

    def __init__(
        self,
        *,
        method: str = "dann",
        weight: float = 1.0,
        bottleneck: int | None = 256,
        discriminator_hidden: int = 256,
        n_kernels: int = 5,
        epochs: int | None = 10,
        lr: float = 1e-4,
        head_lr: float = 1e-3,
        weight_decay: float = 0.01,
        batch_size: int = 32,
        warmup_ratio: float = 0.1,
        val_fraction: float = 0.0,
        patience: int = 3,
        monitor: str = "val_loss",
        min_val_size: int = 100,
        max_grad_norm: float | None = 1.0,
        label_smoothing: float = 0.0,
        mixed_precision: str = "no",
        layer_decay: float = 1.0,
        class_weight: str | None = None,
        grad_accum: int = 1,
        l2_sp: float = 0.0,
        bss: float = 0.0,
        augment: Augment | None = None,
        bn_eval: bool = False,
        checkpoint_dir: str | None = None,
        resume: bool = False,
    ) -> None:
        super().__init__(
            epochs=epochs, lr=lr, head_lr=head_lr, weight_decay=weight_decay, batch_size=batch_size,
            warmup_ratio=warmup_ratio, val_fraction=val_fraction, patience=patience, monitor=monitor,
            min_val_size=min_val_size, max_grad_norm=max_grad_norm,
            label_smoothing=label_smoothing, mixed_precision=mixed_precision, layer_decay=layer_decay,
            class_weight=class_weight, grad_accum=grad_accum, l2_sp=l2_sp, bss=bss, augment=augment,
            bn_eval=bn_eval, checkpoint_dir=checkpoint_dir, resume=resume,
        )
        self.method = method
        self.weight = weight
        self.bottleneck = bottleneck
        self.discriminator_hidden = discriminator_hidden
        self.n_kernels = n_kernels

    def _check(self) -> None:
        super()._check()
        if not isinstance(self.method, str) or DEEP_ALIASES.get(self.method, self.method) not in DEEP_METHODS:
            raise StrategyError(f"unknown deep adaptation method {self.method!r}; choose from: "
                                f"{', '.join(DEEP_METHODS)}")
        check_params(self, DEEP_PARAMS)
        if self.batch_size < 4:
            raise StrategyError(f"batch_size must be at least 4 (two rows of each domain), got {self.batch_size}")
        if self.augment is not None and (self.augment.mixup or self.augment.cutmix):
            raise StrategyError("DeepDA cannot mix batches (augment mixup/cutmix): target rows have no label to "
                                "mix; keep the image transforms and set mixup=0, cutmix=0")

    def make_term(self, in_features: int) -> LossTerm:
        """The loss term of ``method`` for features of width ``in_features``."""
        method = DEEP_ALIASES.get(self.method, self.method)
        if method == "dann":
            return DANNTerm(in_features, weight=self.weight, hidden=self.discriminator_hidden)
        if method == "mmd":
            return MMDTerm(weight=self.weight, n_kernels=self.n_kernels)
        return CORALTerm(weight=self.weight)

    def param_groups(self, net: TransferNet) -> list[dict[str, Any]]:
        """FullFineTune's groups, with the new layers (bottleneck, domain discriminator) at ``head_lr``."""
        new: list[nn.Module] = [m for m in (getattr(net.backbone, "bottleneck", None),
                                            getattr(net, "domain_discriminator", None)) if m is not None]
        new_ids = {id(p) for m in new for p in m.parameters()}
        groups = []
        for g in super().param_groups(net):
            kept = [p for p in g["params"] if id(p) not in new_ids]
            if kept:
                groups.append({**g, "params": kept})
        for module in new:
            decay, no_decay = decay_split(module, [p for p in module.parameters() if p.requires_grad])
            groups += [{"params": decay, "lr": self.head_lr, "weight_decay": self.weight_decay},
                       {"params": no_decay, "lr": self.head_lr, "weight_decay": 0.0}]
        return [g for g in groups if g["params"]]

    def fit_transfer(self, ctx: FitContext, X: Any, y: np.ndarray, sample_weight: np.ndarray | None = None) -> NetModel:
        raise StrategyError("DeepDA aligns source and target data, so it needs sample_domain: fit it through "
                            "transferkit.adaptation.DomainAdaptClassifier(method=DeepDA(...))")

    def fit_domains(self, ctx: FitContext, X: Any, y: np.ndarray, sample_domain: np.ndarray,
                    sample_weight: np.ndarray | None = None) -> NetModel:
        """Train on source and target rows together. Returns the fitted network.

        ``y`` holds encoded labels ``0..n_classes-1``, and :data:`~transferkit.training.UNLABELED` on
        rows without a label (usually every target row); ``sample_domain`` is positive on source rows and
        negative on target rows.
        """
        self._check()
        self.check_precision(ctx)
        y, domain = np.asarray(y, dtype=np.int64), np.asarray(sample_domain, dtype=np.int64)
        _check_encoded(y, ctx.n_classes)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(ctx.random_state)
            gen = torch.Generator().manual_seed(ctx.random_state)
            backbone: Backbone = ctx.trainable_backbone()
            if self.bottleneck is not None:
                backbone = BottleneckBackbone(backbone, int(self.bottleneck))
            if not any(p.requires_grad for p in backbone.parameters()):
                raise StrategyError(f"backbone {ctx.backbone!r} has no trainable parameters; give DeepDA a "
                                    "bottleneck to train over its features")
            net = backbone.with_head(ctx.n_classes, generator=gen)
            term = self.make_term(backbone.num_features)
            if isinstance(term, nn.Module):  # its parameters train with the network (and move with it)
                net.add_module("domain_discriminator", term)
            self.prepare(net, ctx.backbone)
            labelled = np.flatnonzero(y != UNLABELED)
            w = self.sample_weights(y, sample_weight, labelled)
            src_lab = labelled[domain[labelled] > 0]
            _, val_local = validation_split(y[src_lab], self.val_fraction, ctx.random_state, self.min_val_size)
            val_idx = None if val_local is None else src_lab[val_local]
            train_rows = np.setdiff1d(np.arange(len(y)), val_idx if val_idx is not None else [])
            self.record_split(ctx, val_idx)
            train_loader = domain_loader(X, y, domain, preprocess=self.train_preprocess(backbone),
                                         batch_size=self.batch_size, seed=ctx.random_state, rows=train_rows, weights=w)
            val_loader = None
            if val_idx is not None:
                take = X[val_idx] if isinstance(X, np.ndarray) else [X[i] for i in val_idx]
                val_loader = make_loader(take, y[val_idx], preprocess=backbone.preprocess, batch_size=ctx.batch_size,
                                         shuffle=False, seed=ctx.random_state, positions=val_idx)
            # items, labels and domains name the run
            run_key = self.run_key(ctx, X, backbone.spec.modality, np.stack([y, domain]), sample_weight)
            trainer = Trainer(self.train_config(ctx, run_key, len(train_loader)), weighted_cross_entropy(self.label_smoothing),
                              terms=[term, *self.loss_terms(net)], callbacks=self.callbacks(val_loader is not None))
            history = trainer.fit(net, self.param_groups(net), train_loader, val_loader)
            if trainer.resumed_from is not None:  # as FullFineTune records it
                ctx.info["resumed_from"] = str(trainer.resumed_from)
            net = trainer.unwrapped_model.cpu().eval()  # type: ignore[assignment]
            if hasattr(net, "domain_discriminator"):
                ctx.info["domain_discriminator"] = net.domain_discriminator
                del net.domain_discriminator  # not part of the predictor
        for p in net.parameters():
            p.requires_grad_(False)
        return self.finish(net, ctx, history)
