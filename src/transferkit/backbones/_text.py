"""Text backbones: any Hugging Face encoder (also what sentence-transformers wraps), pooled to one
vector per text, and a tiny random encoder with a byte tokenizer for tests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from ._base import Backbone, Batch, ParameterGroup, groups_from_prefixes
from ._preprocess import TextPreprocessor
from ._spec import BackboneSpec


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Average of token states over non-padding positions (sentence-transformers' mean pooling)."""
    m = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)


class TextBackbone(Backbone):
    """A transformer encoder plus pooling; groups are embeddings, each layer, then the rest."""

    model: Any

    def __init__(self, spec: BackboneSpec, model: Any, tokenizer: Any) -> None:
        assert spec.max_length
        super().__init__(spec, TextPreprocessor(tokenizer, spec.max_length))
        self.model = model

    def forward_features(self, batch: Batch) -> torch.Tensor:
        out = self.model(**batch)
        hidden = out.last_hidden_state if hasattr(out, "last_hidden_state") else out[0]
        pooled = hidden[:, 0] if self.spec.pooling == "cls" else mean_pool(hidden, batch["attention_mask"])
        if self.spec.normalize_features:
            pooled = nn.functional.normalize(pooled, p=2, dim=1)
        return pooled

    def parameter_groups(self) -> list[ParameterGroup]:
        return layered_groups(self.model)


def position_limit(model: Any) -> int | None:
    """How many tokens ``model`` reads at most when it has a table of absolute position embeddings (BERT,
    RoBERTa, MiniLM: longer inputs fail inside the model); None for models without one (relative
    positions, the tiny test encoder). RoBERTa-style tables start after their padding index."""
    table = getattr(getattr(model, "embeddings", None), "position_embeddings", None)
    if not isinstance(table, nn.Embedding):
        return None
    offset = 0 if table.padding_idx is None else int(table.padding_idx) + 1
    return int(table.num_embeddings) - offset


def check_token_limit(model: Any, max_length: int | None, name: str) -> None:
    """Refuse a ``max_length`` the text backbone ``name`` cannot read (a DataError naming both), instead
    of a tensor-size error at the first long text."""
    limit = position_limit(model)
    if max_length is not None and limit is not None and max_length > limit:
        from ..errors import DataError

        raise DataError(f"max_length={max_length} is more than backbone {name!r} reads ({limit} tokens); "
                        f"use at most {limit}")


def layered_groups(model: nn.Module) -> list[ParameterGroup]:
    """Embeddings first, then one group per layer of the largest layer list, then what follows."""
    layers_name, n_layers = "", 0
    for name, module in model.named_modules():
        if isinstance(module, nn.ModuleList) and len(module) > n_layers:
            layers_name, n_layers = name, len(module)
    if not n_layers:
        return groups_from_prefixes(model, [])
    named = [n for n, _ in model.named_parameters()]
    first_layer = next(i for i, n in enumerate(named) if n.startswith(f"{layers_name}.0."))
    before = [("embeddings", named[:first_layer])]
    layers = [(f"layer{i}", [f"{layers_name}.{i}"]) for i in range(n_layers)]
    return groups_from_prefixes(model, [*before, *layers])


class ByteTokenizer:
    """UTF-8 bytes as token ids (0 pad, 1 start, 2 end): a file-free tokenizer for tiny test models."""

    vocab_size = 259

    def __call__(self, texts: Sequence[str], *, max_length: int, **_: Any) -> dict[str, torch.Tensor]:
        room = max(int(max_length) - 2, 0)  # start and end tokens count; a slice [:-k] would cut from the end
        ids = [[1, *(b + 3 for b in t.encode("utf-8")[:room]), 2] for t in texts]
        width = max(len(i) for i in ids)
        input_ids = torch.zeros(len(ids), width, dtype=torch.long)
        mask = torch.zeros(len(ids), width, dtype=torch.long)
        for row, seq in enumerate(ids):
            input_ids[row, : len(seq)] = torch.tensor(seq)
            mask[row, : len(seq)] = 1
        return {"input_ids": input_ids, "attention_mask": mask}


class _TinyEncoderOutput:
    def __init__(self, hidden: torch.Tensor) -> None:
        self.last_hidden_state = hidden


class _TinyEncoder(nn.Module):
    def __init__(self, width: int, n_layers: int = 2) -> None:
        super().__init__()
        self.embeddings = nn.Embedding(ByteTokenizer.vocab_size, width, padding_idx=0)
        self.layers = nn.ModuleList(
            nn.TransformerEncoderLayer(width, nhead=2, dim_feedforward=2 * width, batch_first=True, dropout=0.0)
            for _ in range(n_layers)
        )

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, **_: Any) -> _TinyEncoderOutput:
        h = self.embeddings(input_ids)
        for layer in self.layers:
            h = layer(h, src_key_padding_mask=attention_mask == 0)
        return _TinyEncoderOutput(h)


class TinyText(TextBackbone):
    """A two-layer random transformer over bytes: the fast text stand-in for unit tests."""

    def __init__(self, spec: BackboneSpec) -> None:
        super().__init__(spec, _TinyEncoder(spec.num_features or 16), ByteTokenizer())
