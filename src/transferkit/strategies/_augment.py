"""Image augmentation for fine-tuning, on torchvision's v2 transforms."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator

from ..errors import StrategyError
from ._base import Flag, Number, Rule, check_params

_POLICIES = (None, "randaugment", "trivialaugment")

#: What the geometric and the batch-mixing parameters of :class:`Augment` accept.
_GEOMETRY: dict[str, Rule] = {"rotation": Number(low=0), "shift": Number(low=0, high=1, high_open=True),
                              "zoom": Number(low=0, high=1, high_open=True)}
_MIXING: dict[str, Rule] = {"mixup": Number(low=0), "cutmix": Number(low=0)}


class Augment(BaseEstimator):
    """Random image transforms applied to training batches only (validation and prediction see the
    plain images). A parameter object: ``strategy__augment__rotation`` is searchable.

    The geometric transforms are those of the classic list (rotation, shift, zoom, flip), as one
    ``RandomAffine`` plus a horizontal flip; ``policy`` adds an automatic policy on top. MixUp
    (Zhang et al., ICLR 2018) and CutMix (Yun et al., ICCV 2019) mix whole batches and train on soft labels.

    Parameters
    ----------
    rotation : float, default=15.0
        Maximum rotation in degrees (either direction).
    shift : float, default=0.1
        Maximum translation as a fraction of width/height.
    zoom : float, default=0.1
        Scale drawn from ``[1 - zoom, 1 + zoom]``.
    flip : bool, default=True
        Random horizontal flips (turn off for text-like images such as digits). True or False only.
    policy : {None, "randaugment", "trivialaugment"}, default=None
        RandAugment (Cubuk et al., 2020) or TrivialAugment (Müller & Hutter, ICCV 2021).
    mixup : float, default=0.0
        MixUp's Beta(alpha, alpha) parameter; 0 turns it off.
    cutmix : float, default=0.0
        CutMix's Beta parameter; 0 turns it off. With both on, each batch uses one of them at random.

    With ``rotation=0, shift=0, zoom=0, flip=False`` and no policy, images are left as they are and only
    MixUp/CutMix (if on) act, on whole batches.
    """

    def __init__(
        self,
        *,
        rotation: float = 15.0,
        shift: float = 0.1,
        zoom: float = 0.1,
        flip: bool = True,
        policy: str | None = None,
        mixup: float = 0.0,
        cutmix: float = 0.0,
    ) -> None:
        self.rotation = rotation
        self.shift = shift
        self.zoom = zoom
        self.flip = flip
        self.policy = policy
        self.mixup = mixup
        self.cutmix = cutmix

    def _check(self) -> None:
        if not all(rule.accepts(getattr(self, name)) for name, rule in _GEOMETRY.items()):  # NaN, inf, "5" fail
            raise StrategyError(f"augment needs rotation >= 0 and shift, zoom in [0, 1); got rotation={self.rotation!r}, "
                                f"shift={self.shift!r}, zoom={self.zoom!r}")
        check_params(self, {"flip": Flag()})  # "yes" or 1 would silently mean True
        if not (self.policy is None or isinstance(self.policy, str)) or self.policy not in _POLICIES:
            raise StrategyError(f"unknown augmentation policy {self.policy!r}; choose randaugment or trivialaugment")
        if not all(rule.accepts(getattr(self, name)) for name, rule in _MIXING.items()):
            raise StrategyError(f"mixup and cutmix must be finite numbers >= 0 (got {self.mixup!r}, {self.cutmix!r})")

    def transform(self) -> Any:
        """The per-image transform, on a uint8 ``(3, H, W)`` tensor: the identity when no per-image step is on
        (``rotation=0, shift=0, zoom=0, flip=False``, no policy), e.g. to train with MixUp or CutMix alone."""
        from torchvision.transforms import v2

        self._check()
        steps: list[Any] = []
        if self.rotation or self.shift or self.zoom:
            steps.append(v2.RandomAffine(degrees=self.rotation, translate=(self.shift, self.shift) if self.shift else None,
                                         scale=(1 - self.zoom, 1 + self.zoom) if self.zoom else None))
        if self.flip:
            steps.append(v2.RandomHorizontalFlip())
        if self.policy == "randaugment":
            steps.append(v2.RandAugment())
        elif self.policy == "trivialaugment":
            steps.append(v2.TrivialAugmentWide())
        return v2.Compose(steps) if steps else v2.Identity()  # Compose refuses an empty list

    def preprocessor(self, backbone: Any) -> Any:
        """A copy of an image backbone's preprocessing with this augmentation before resizing."""
        pre = backbone.preprocessor
        if not hasattr(pre, "transform"):
            raise StrategyError(f"augmentation applies to image backbones; {backbone.spec.name!r} reads "
                                f"{backbone.spec.modality}")
        pre = copy.copy(pre)
        pre.transform = self.transform()
        return pre

    def batch_transform(self, n_classes: int) -> Any:
        """MixUp/CutMix on a preprocessed batch, or None when both are off."""
        from torchvision.transforms import v2

        self._check()
        mixers = []
        if self.mixup > 0:
            mixers.append(v2.MixUp(alpha=self.mixup, num_classes=n_classes))
        if self.cutmix > 0:
            mixers.append(v2.CutMix(alpha=self.cutmix, num_classes=n_classes))
        if not mixers:
            return None
        mix = mixers[0] if len(mixers) == 1 else v2.RandomChoice(mixers)

        def apply(inputs: dict[str, torch.Tensor], targets: torch.Tensor) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
            pixels, soft = mix(inputs["pixel_values"], targets)
            return {**inputs, "pixel_values": pixels}, soft

        return apply

    def samples(self, images: Sequence[Any], n_variants: int = 4, seed: int = 0) -> list[np.ndarray]:
        """``n_variants`` augmented versions of each image (uint8 HxWx3), for the report's grid."""
        from ..data import load_image

        transform = self.transform()
        out: list[np.ndarray] = []
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            for i, item in enumerate(images):
                img = torch.from_numpy(np.ascontiguousarray(load_image(item, index=i))).permute(2, 0, 1)
                out.append(img.permute(1, 2, 0).numpy())
                out += [transform(img).permute(1, 2, 0).numpy() for _ in range(n_variants)]
        return out


def parse_augment(spec: str) -> Augment:
    """An :class:`Augment` from a CLI string: ``default`` or ``key=value`` pairs separated by commas
    (``rotation=10,shift=0.05,flip=false,policy=trivialaugment,mixup=0.2``)."""
    spec = spec.strip()
    if not spec:  # an unset shell variable, most likely: not silently the default
        raise StrategyError("an empty augmentation names no setting; give 'default' for the default augmentation, "
                            "or key=value pairs (rotation=10,flip=false)")
    if spec in ("default", "true", "yes"):
        return Augment()
    names = Augment._get_param_names()
    params: dict[str, Any] = {}
    for part in spec.split(","):
        key, sep, value = part.partition("=")
        key, value = key.strip(), value.strip()
        if key not in names:
            raise StrategyError(f"unknown augmentation setting {key!r}; settings: {', '.join(names)}")
        if key in params:  # the last would silently win
            raise StrategyError(f"augmentation setting {key!r} is given twice; give it once")
        if not sep and key != "flip":
            raise StrategyError(f"augmentation setting {key!r} needs a value ({key}=...)")
        if sep and not value:  # flip= or policy= (an unset shell variable?): not silently the default
            example = {"flip": "flip=true or flip=false", "policy": "policy=trivialaugment or policy=none"}.get(
                key, f"{key}=0.1")
            raise StrategyError(f"augmentation setting {key!r} has an empty value; give one ({example})")
        if key == "flip":  # a bare "flip" turns flipping on
            if value.lower() not in ("", "true", "yes", "1", "false", "no", "0"):
                raise StrategyError(f"flip must be true or false, got {value!r}")
            params[key] = value.lower() in ("", "true", "yes", "1")
        elif key == "policy":
            params[key] = None if value.lower() in ("none", "") else value.lower()
        else:
            try:
                params[key] = float(value)
            except ValueError:
                raise StrategyError(f"augmentation setting {key} must be a number, got {value!r}") from None
    augment = Augment(**params)
    augment._check()
    return augment
