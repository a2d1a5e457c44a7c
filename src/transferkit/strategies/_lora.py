"""LoRA through PEFT: low-rank adapters on a frozen backbone, saved with the head, merged for inference."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ..backbones import TransferNet
from ..errors import ModelFolderError, StrategyError
from ..training import History
from ._base import FitContext, Number, Rule, check_params
from ._finetune import FullFineTune, NetModel

#: Default targets: the attention projections of transformer encoders (Hu et al. adapt query and
#: value), else every pointwise (1x1) convolution and linear layer of a CNN/ViT.
_ATTENTION_NAMES = (("query", "value"), ("q_proj", "v_proj"), ("q_lin", "v_lin"), ("qkv",))
_ADAPTERS_FILE = "adapters.safetensors"

#: What the parameters :class:`LoRA` adds accept.
LORA_PARAMS: dict[str, Rule] = {
    "rank": Number(low=1, integer=True),
    "alpha": Number(low=0, low_open=True),
    "dropout": Number(low=0, high=1, high_open=True),
}


def _attention_projections(module: nn.Module) -> set[str]:
    """Names of the output projections inside ``nn.MultiheadAttention``: it reads their weight directly
    (``F.multi_head_attention_forward``), never calls them, so an adapter there would never act or train."""
    return {f"{n}.out_proj" if n else "out_proj" for n, m in module.named_modules() if isinstance(m, nn.MultiheadAttention)}


def _layers(module: nn.Module) -> list[tuple[str, nn.Module]]:
    """Linear and convolution layers that LoRA can adapt: not the frozen source classifier kept for LEEP,
    not the output projection of ``nn.MultiheadAttention`` (see :func:`_attention_projections`)."""
    skip = _attention_projections(module)
    return [(n, m) for n, m in module.named_modules()
            if isinstance(m, nn.Linear | nn.Conv2d) and not n.startswith("source_head") and n not in skip]


@contextmanager
def without_attention_fastpath() -> Iterator[None]:
    """Turn off PyTorch's fused inference path of ``nn.TransformerEncoderLayer`` / ``nn.MultiheadAttention``
    for the duration: in eval mode without gradients it reads the layers' weights directly and so skips
    unmerged LoRA adapters (validation during training measured the network without them)."""
    before = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        yield
    finally:
        torch.backends.mha.set_fastpath_enabled(before)


def default_lora_targets(module: nn.Module) -> list[str]:
    """Module-name suffixes LoRA adapts by default in ``module`` (see ``_ATTENTION_NAMES``)."""
    leaves = {name.rsplit(".", 1)[-1] for name, _ in _layers(module)}
    for names in _ATTENTION_NAMES:
        if all(n in leaves for n in names):
            return list(names)
    pointwise = {
        name.rsplit(".", 1)[-1] for name, m in _layers(module)
        if (isinstance(m, nn.Conv2d) and m.kernel_size == (1, 1) and m.groups == 1) or isinstance(m, nn.Linear)
    }
    if pointwise and not any(n.isdigit() for n in pointwise):
        return sorted(pointwise)
    # layers without telling names (e.g. inside Sequential): every dense layer and full convolution, by full name
    return [name for name, m in _layers(module) if isinstance(m, nn.Linear) or m.groups == 1]


def _matches(name: str, targets: list[str]) -> bool:
    return any(name == t or name.endswith("." + t) for t in targets)


def inject_lora(net: TransferNet, *, rank: int, alpha: float, dropout: float, targets: list[str], backbone_name: str,
                every_target: bool = False) -> Any:
    """Add LoRA adapters to the backbone's ``targets`` (PEFT); freeze everything else in the backbone.
    With ``every_target`` (targets the user named) each target must match a layer: a misspelt one is an
    error, not silently skipped."""
    from peft import LoraConfig
    from peft.tuners.lora import LoraModel

    inside_attention = sorted(n for n in _attention_projections(net.backbone) if _matches(n, targets))
    if every_target and inside_attention:
        raise StrategyError(f"LoRA cannot adapt {', '.join(inside_attention)} in backbone {backbone_name!r}: "
                            "nn.MultiheadAttention uses its output projection's weight directly, so the adapter "
                            "would never act; choose other layers")
    layers = [n for n, _ in _layers(net.backbone)]
    names = [n for n in layers if _matches(n, targets)]
    missing = [t for t in targets if not any(_matches(n, [t]) for n in layers)]
    if not names or (every_target and missing):
        shown = ", ".join(layers[:20]) + (f" ... ({len(layers)} in all)" if len(layers) > 20 else "")
        raise StrategyError(f"LoRA target modules {missing or targets} are not in backbone {backbone_name!r}; "
                            f"its linear/conv layers are: {shown}")
    config = LoraConfig(r=rank, lora_alpha=alpha,  # type: ignore[arg-type]  # float alphas work
                        lora_dropout=dropout, target_modules=names)  # full names: never the source head
    lora = LoraModel(net.backbone, config, "default")  # injects in place into net.backbone's modules
    for name, p in net.backbone.named_parameters():
        p.requires_grad_("lora_" in name)
    return lora


@dataclass(kw_only=True, repr=False, eq=False)
class LoRA(FullFineTune):
    """LoRA (Hu et al., "LoRA: Low-rank adaptation of large language models", ICLR 2022) through PEFT:
    the backbone stays frozen; trainable low-rank updates ``B @ A`` (scaled by ``alpha / rank``) are added
    to the target layers, and the new head trains with them. Works on transformers (attention
    projections) and timm/torchvision backbones (linear and pointwise convolution layers).

    The saved model folder holds only the adapters and the head (a fraction of the backbone's size); loading
    rebuilds the pretrained backbone, checks its fingerprint, and merges the adapters into its weights,
    so inference costs what the plain backbone costs. Other parameters are those of :class:`FullFineTune`
    (``lr`` is the adapters' learning rate).

    Parameters
    ----------
    rank : int >= 1, default=8
    alpha : float > 0, default=16
    dropout : float in [0, 1), default=0.0
        Dropout on the adapters' input.
    target_modules : list of str, optional
        Layer-name suffixes to adapt (at least one); default (None): attention query/value projections for
        transformers, else every linear and pointwise convolution layer.
    """

    cli_name = "lora"

    lr: float = 1e-3
    head_lr: float = 1e-3
    rank: int = 8
    alpha: float = 16.0
    dropout: float = 0.0
    target_modules: list[str] | None = None

    def _check(self) -> None:
        super()._check()
        try:
            check_params(self, LORA_PARAMS)
        except StrategyError as exc:
            raise StrategyError(f"LoRA needs rank >= 1, alpha > 0 and dropout in [0, 1); {exc}") from None
        targets = self.target_modules
        if targets is not None and (not isinstance(targets, list | tuple)
                                    or not all(isinstance(t, str) and t for t in targets)):
            raise StrategyError(f"target_modules must be a list of layer names or None, got {targets!r}")
        if targets is not None and len(targets) == 0:  # it would silently mean the default targets
            raise StrategyError(f"target_modules must name at least one layer, or be left out for the default targets; "
                                f"got {targets!r}")
        if self.layer_decay != 1.0:
            raise StrategyError("layer_decay does not apply to LoRA (the backbone is frozen); leave it at 1.0")

    def targets(self, net: TransferNet) -> list[str]:
        return list(self.target_modules) if self.target_modules else default_lora_targets(net.backbone)

    def prepare(self, net: TransferNet, backbone_name: str) -> None:
        inject_lora(net, rank=self.rank, alpha=self.alpha, dropout=self.dropout,
                    targets=self.targets(net), backbone_name=backbone_name, every_target=bool(self.target_modules))

    def fit_transfer(self, ctx: FitContext, X: Any, y: np.ndarray, sample_weight: np.ndarray | None = None) -> NetModel:
        with without_attention_fastpath():  # validation sees the adapters (the saved model is merged)
            return super().fit_transfer(ctx, X, y, sample_weight)

    def finish(self, net: TransferNet, ctx: FitContext, history: History) -> NetModel:
        from peft.tuners.lora import LoraLayer

        adapted = [n for n, m in net.backbone.named_modules() if isinstance(m, LoraLayer)]
        n_adapter = sum(p.numel() for n, p in net.named_parameters() if "lora_" in n)
        ctx.info["lora"] = {"adapted_layers": len(adapted), "adapter_parameters": n_adapter,
                            "backbone_parameters": sum(p.numel() for n, p in net.backbone.named_parameters()
                                                       if "lora_" not in n)}
        adapters = {n: p.detach().clone() for n, p in net.state_dict().items() if "lora_" in n or n.startswith("head.")}
        base_fingerprint = ctx.shared_backbone().fingerprint()
        merge_lora(net)
        return LoraNetModel(net, adapters=adapters, targets=adapted, base_fingerprint=base_fingerprint,
                            batch_size=ctx.batch_size, device=ctx.device, history=history, task_sizes=ctx.task_sizes)

    def load_model(self, folder: Path, config: dict[str, Any], ctx: FitContext) -> NetModel:
        from safetensors.torch import load_file

        path = folder / config.get("adapters_file", _ADAPTERS_FILE)
        if not path.exists():
            raise ModelFolderError(f"LoRA adapters {str(path)!r} are missing")
        if ctx.shared_backbone().fingerprint() != config["base_fingerprint"]:
            raise ModelFolderError(
                f"the backbone {ctx.backbone!r} available here differs from the one the LoRA adapters in "
                f"{str(folder)!r} were trained on (weight fingerprint mismatch)"
            )
        net = ctx.trainable_backbone().with_head(ctx.n_classes)
        inject_lora(net, rank=self.rank, alpha=self.alpha, dropout=self.dropout, targets=config["targets"],
                    backbone_name=ctx.backbone)
        adapters = load_file(str(path))
        missing = [k for k in adapters if k not in net.state_dict()]
        if missing:
            raise ModelFolderError(f"LoRA adapters in {str(path)!r} do not fit the backbone (e.g. {missing[0]!r})")
        net.load_state_dict(adapters, strict=False)
        merge_lora(net)
        for p in net.parameters():
            p.requires_grad_(False)
        return LoraNetModel(net.eval(), adapters=adapters, targets=config["targets"],
                            base_fingerprint=config["base_fingerprint"], batch_size=ctx.batch_size, device=ctx.device,
                            task_sizes=ctx.task_sizes)


def merge_lora(net: TransferNet) -> None:
    """Fold every LoRA update into its base layer and remove the adapter modules (PEFT's merge_and_unload)."""
    from peft.tuners.lora import LoraLayer

    with torch.no_grad():
        for name, module in list(net.backbone.named_modules()):
            if isinstance(module, LoraLayer):
                module.merge()
                parent_name, _, child = name.rpartition(".")
                parent = net.backbone.get_submodule(parent_name) if parent_name else net.backbone
                setattr(parent, child, module.get_base_layer())


class LoraNetModel(NetModel):
    """A fine-tuned network whose backbone changes are LoRA adapters (kept for saving, merged for use)."""

    kind = "lora"

    def __init__(self, net: TransferNet, *, adapters: dict[str, torch.Tensor], targets: list[str],
                 base_fingerprint: str, batch_size: int, device: str, history: History | None = None,
                 task_sizes: tuple[int, ...] | None = None) -> None:
        super().__init__(net, batch_size=batch_size, device=device, history=history, task_sizes=task_sizes)
        self.adapters, self.targets, self.base_fingerprint = adapters, targets, base_fingerprint

    def save(self, folder: Path) -> dict[str, Any]:
        from safetensors.torch import save_file

        save_file({k: v.contiguous().cpu() for k, v in self.adapters.items()}, str(folder / _ADAPTERS_FILE))
        return {"adapters_file": _ADAPTERS_FILE, "targets": self.targets, "base_fingerprint": self.base_fingerprint,
                "history": self.history.to_dict() if self.history else None}
