"""Pretrained-model metadata, one frozen dataclass per backbone (after timm's ``PretrainedCfg``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Modality = Literal["image", "text", "table"]

#: TF-style scaling of the EfficientNet-Lite checkpoints, ``(uint8 - 127) / 128``, written as mean/std on
#: the [0, 1] scale so that every image backbone normalises the same way.
TF_LITE_MEAN = (127.0 / 255.0,) * 3
TF_LITE_STD = (128.0 / 255.0,) * 3
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class BackboneSpec:
    """What a user needs to know about a backbone before using it.

    Parameters
    ----------
    name : str
        Name in the registry or as given (``"timm:resnet18"``, a folder path).
    modality : {"image", "text", "table"}
        The kind of input the backbone reads.
    provider : str
        Which loader builds it: ``packaged``, ``timm``, ``torchvision``, ``transformers``,
        ``sentence-transformers``, ``local`` or ``builtin``.
    num_features : int or None
        Size of the pooled feature vector; None when it depends on the input (``tiny-mlp``).
    weight_source : str
        Where the pretrained weights come from (package, hub id, path, or "random initialisation").
    license : str
        License of the weights, as published by their source.
    pretrained : bool
        False for random-weight backbones (tests, negative controls).
    input_size : (int, int) or None
        Image height and width fed to the network.
    mean, std : tuple of float or None
        Per-channel normalisation on the [0, 1] pixel scale.
    interpolation : str
        Resize interpolation for images.
    max_length : int or None
        Token limit for text backbones.
    pooling : str or None
        How token states become one vector (``mean`` or ``cls``).
    normalize_features : bool
        Whether features are L2-normalised (sentence-transformers models trained that way).
    has_source_head : bool
        Whether the source task's classifier is available (needed by LEEP).
    description : str
        One line on what the weights were trained on.
    """

    name: str
    modality: Modality
    provider: str
    num_features: int | None
    weight_source: str
    license: str = "unknown"
    pretrained: bool = True
    input_size: tuple[int, int] | None = None
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None
    interpolation: str = "bilinear"
    max_length: int | None = None
    pooling: str | None = None
    normalize_features: bool = False
    has_source_head: bool = False
    description: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view (tuples become lists)."""
        return asdict(self)
