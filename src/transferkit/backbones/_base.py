"""The one surface every backbone offers, whatever library built it.

A backbone turns a list of raw items (images, texts or feature rows) into a batch of tensors
(:meth:`Backbone.preprocess`) and a batch into pooled features (:meth:`Backbone.forward_features`). It
lists its parameters as ordered groups from input to output (:meth:`Backbone.parameter_groups`), which
partial freezing and layer-wise learning rates are built on, and gets a new head with
:meth:`Backbone.with_head`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from ._spec import BackboneSpec

Batch = dict[str, torch.Tensor]


@dataclass
class ParameterGroup:
    """A named, ordered slice of a backbone's parameters (input side first)."""

    name: str
    params: list[nn.Parameter]

    @property
    def numel(self) -> int:
        return sum(p.numel() for p in self.params)


class Backbone(nn.Module):
    """Base class: a pretrained network plus its input preprocessing.

    Subclasses set ``spec``, implement :meth:`forward_features` and :meth:`parameter_groups`, and pass a
    ``preprocessor`` (a callable from a sequence of raw items to a :data:`Batch`).
    """

    spec: BackboneSpec
    #: The source task's classifier (frozen), for backbones that keep one.
    source_head: Any

    def __init__(self, spec: BackboneSpec, preprocessor: Callable[[Sequence[Any]], Batch]) -> None:
        super().__init__()
        self.spec = spec
        self.preprocessor = preprocessor
        self.source_head = None
        self._fingerprint: str | None = None

    # --- the surface -----------------------------------------------------------------------------
    @property
    def num_features(self) -> int:
        if self.spec.num_features is None:
            raise RuntimeError(f"backbone {self.spec.name!r} has no fixed feature size")
        return self.spec.num_features

    def preprocess(self, items: Sequence[Any]) -> Batch:
        """Turn raw items into a batch of CPU tensors, as the network expects them."""
        return self.preprocessor(items)

    def forward_features(self, batch: Batch) -> torch.Tensor:  # pragma: no cover - abstract
        """Pooled features, shape ``(batch, num_features)``."""
        raise NotImplementedError

    def forward(self, batch: Batch) -> torch.Tensor:
        return self.forward_features(batch)

    def parameter_groups(self) -> list[ParameterGroup]:  # pragma: no cover - abstract
        """Parameters as ordered groups, from the input layer to the output layer."""
        raise NotImplementedError

    def source_logits(self, batch: Batch) -> torch.Tensor:
        """Logits of the source task's classifier (for LEEP); only if ``spec.has_source_head``."""
        raise NotImplementedError(f"backbone {self.spec.name!r} has no source classifier")

    def with_head(self, num_outputs: int, *, generator: torch.Generator | None = None) -> TransferNet:
        """This backbone followed by a new linear head with ``num_outputs`` outputs."""
        head = nn.Linear(self.num_features, num_outputs)
        if generator is not None:
            bound = 1.0 / self.num_features**0.5
            with torch.no_grad():
                head.weight.uniform_(-bound, bound, generator=generator)
                head.bias.uniform_(-bound, bound, generator=generator)
        return TransferNet(self, head)

    def preprocessing_config(self) -> dict[str, Any]:
        """What determines how raw items become tensors (part of the feature-cache key)."""
        s = self.spec
        return {
            "modality": s.modality,
            "input_size": s.input_size,
            "mean": s.mean,
            "std": s.std,
            "interpolation": s.interpolation,
            "max_length": s.max_length,
            "pooling": s.pooling,
            "normalize_features": s.normalize_features,
        }

    def fingerprint(self) -> str:
        """Hash of the architecture and every weight: the backbone's identity for caches and saves.

        Computed once; call :meth:`reset_fingerprint` after changing weights.
        """
        if self._fingerprint is None:
            h = hashlib.blake2b(digest_size=16)
            h.update(type(self).__name__.encode())
            for name, tensor in self.state_dict().items():
                t = tensor.detach().cpu().contiguous()
                h.update(f"{name}:{tuple(t.shape)}:{t.dtype}".encode())
                h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
            self._fingerprint = h.hexdigest()
        return self._fingerprint

    def reset_fingerprint(self) -> None:
        self._fingerprint = None


class TransferNet(nn.Module):
    """A backbone with a task head: ``head(backbone.forward_features(batch))``."""

    def __init__(self, backbone: Backbone, head: nn.Module) -> None:
        super().__init__()
        self.backbone = backbone
        self.head = head

    def forward(self, batch: Batch, *, with_features: bool = False) -> Any:
        """Logits; with ``with_features=True`` the pair ``(logits, features)`` (for feature-level losses
        such as domain alignment, computed in the same forward pass so DDP sees every parameter once)."""
        features = self.backbone.forward_features(batch)
        logits = self.head(features)
        return (logits, features) if with_features else logits

    def parameter_groups(self) -> list[ParameterGroup]:
        """Backbone groups followed by the head, input side first."""
        return [*self.backbone.parameter_groups(), ParameterGroup("head", list(self.head.parameters()))]


def groups_from_prefixes(module: nn.Module, prefixes: Sequence[tuple[str, Sequence[str]]]) -> list[ParameterGroup]:
    """Build ordered groups from ``(group name, parameter-name prefixes)`` pairs.

    Every trainable parameter must land in exactly one group; a parameter that matches no prefix goes
    into a group of its own at the position of its first occurrence, so nothing is silently left out.
    """
    named = list(module.named_parameters())
    groups: list[ParameterGroup] = []
    taken: set[str] = set()
    for gname, pfx in prefixes:
        params = [p for n, p in named if n not in taken and any(n == x or n.startswith(x + ".") for x in pfx)]
        taken.update(n for n, _ in named if any(n == x or n.startswith(x + ".") for x in pfx))
        if params:
            groups.append(ParameterGroup(gname, params))
    rest = [(n, p) for n, p in named if n not in taken]
    if rest:
        groups.append(ParameterGroup("other", [p for _, p in rest]))
    return groups


def sequential_groups(module: nn.Module) -> list[ParameterGroup]:
    """Groups from a module's children in registration order; a child that is a container of several
    blocks (``Sequential``/``ModuleList``) contributes one group per block."""
    prefixes: list[tuple[str, list[str]]] = []
    for cname, child in module.named_children():
        if isinstance(child, nn.Sequential | nn.ModuleList) and len(child) > 1:
            prefixes.extend((f"{cname}.{i}", [f"{cname}.{i}"]) for i in range(len(child)))
        elif any(True for _ in child.parameters()):
            prefixes.append((cname, [cname]))
    return groups_from_prefixes(module, prefixes)
