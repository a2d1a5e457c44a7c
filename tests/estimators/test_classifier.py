from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from tests.helpers import blobs, polarity_texts, stripe_images

from transferkit import FullFineTune, LinearProbe, TransferClassifier, load_model
from transferkit.errors import DataError, ModelFolderError, StrategyError

CASES = {
    "table-probe": ("tiny-mlp", LinearProbe(), blobs),
    "image-probe": ("tiny-cnn", LinearProbe(), stripe_images),
    "text-probe": ("tiny-text", LinearProbe(), polarity_texts),
    "image-finetune": ("tiny-cnn", FullFineTune(epochs=3, batch_size=8), stripe_images),
    "text-finetune": ("tiny-text", FullFineTune(epochs=3, batch_size=8), polarity_texts),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_saved_model_predicts_exactly_the_same_in_a_fresh_process(case: str, tmp_path: Path) -> None:
    backbone, strategy, make = CASES[case]
    X, y = make()
    clf = TransferClassifier(backbone=backbone, strategy=strategy, random_state=3).fit(X, y)
    folder = clf.save(tmp_path / "model")
    assert {"transferkit.json", "labels.json"} <= {p.name for p in folder.iterdir()}
    assert not list(folder.glob("*.pkl")) and not list(folder.glob("*.pickle"))
    np.save(tmp_path / "X.npy", np.asarray(X, dtype=object) if X.dtype == object else X, allow_pickle=X.dtype == object)
    script = (
        "import numpy as np, sys, transferkit;"
        f"X = np.load(r'{tmp_path / 'X.npy'}', allow_pickle=True);"
        f"m = transferkit.load_model(r'{folder}');"
        f"np.save(r'{tmp_path / 'p.npy'}', m.predict_proba(X))"
    )
    subprocess.run([sys.executable, "-c", script], check=True, capture_output=True)
    np.testing.assert_array_equal(np.load(tmp_path / "p.npy"), clf.predict_proba(X))


def test_fine_tuning_learns_a_learnable_task() -> None:
    X, y = stripe_images(16)
    clf = TransferClassifier(backbone="tiny-cnn", strategy=FullFineTune(epochs=8, lr=3e-3, head_lr=3e-3, batch_size=8,
                                                                            min_val_size=0))
    clf.fit(X, y)
    assert clf.score(X, y) >= 0.9
    hist = clf.model_.history
    assert hist.epochs and "val_loss" in hist.epochs[0]


def test_fine_tuning_is_reproducible() -> None:
    # bit-identical only on the CPU: on CUDA the embedding's backward (atomic adds) is nondeterministic
    X, y = polarity_texts(8)
    a = TransferClassifier(backbone="tiny-text", strategy=FullFineTune(epochs=2), random_state=5, device="cpu").fit(X, y)
    b = TransferClassifier(backbone="tiny-text", strategy=FullFineTune(epochs=2), random_state=5, device="cpu").fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


def test_fine_tuning_leaves_the_shared_backbone_untouched() -> None:
    from transferkit.features import shared_backbone

    X, y = stripe_images(6)
    before = shared_backbone("tiny-cnn", True, None, None, None, 0).fingerprint()
    TransferClassifier(backbone="tiny-cnn", strategy=FullFineTune(epochs=1, lr=0.1)).fit(X, y)
    after = shared_backbone("tiny-cnn", True, None, None, None, 0)
    after.reset_fingerprint()
    assert after.fingerprint() == before


def test_sample_weight_changes_the_fit() -> None:
    X, y = blobs(10)
    X[0] = X[-1]  # an ambiguous point, weighted heavily towards class c0
    w = np.ones(len(y))
    w[0] = 1000.0
    a = TransferClassifier(backbone="tiny-mlp").fit(X, y).predict_proba(X[-1:])
    b = TransferClassifier(backbone="tiny-mlp").fit(X, y, sample_weight=w).predict_proba(X[-1:])
    assert b[0, 0] > a[0, 0]


def test_bad_inputs_fail_before_any_work() -> None:
    X, y = polarity_texts(4)
    clf = TransferClassifier(backbone="tiny-text")
    with pytest.raises(DataError, match="only one class \\('pos'\\)"):
        clf.fit(X[:4], y[:4])
    with pytest.raises(DataError, match="8 samples but 7 labels"):
        clf.fit(X, y[:-1])
    with pytest.raises(DataError, match="text item 2 is empty"):
        clf.fit(np.array(["a", "b", ""], dtype=object), ["x", "y", "x"])
    with pytest.raises(DataError, match="label 1 is missing"):
        clf.fit(X[:3], np.array(["a", None, "b"], dtype=object))
    with pytest.raises(DataError, match="sample_weight has shape"):
        clf.fit(X, y, sample_weight=np.ones(3))
    with pytest.raises(StrategyError, match="no trainable parameters"):
        TransferClassifier(backbone="identity", strategy=FullFineTune()).fit(*blobs(5))
    with pytest.raises(StrategyError, match="val_fraction"):
        TransferClassifier(backbone="tiny-text", strategy=FullFineTune(val_fraction=1.5)).fit(X, y)


def test_save_is_atomic_and_refuses_to_clobber(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    X, y = blobs(8)
    clf = TransferClassifier(backbone="tiny-mlp").fit(X, y)
    target = tmp_path / "m"
    clf.save(target)
    with pytest.raises(ModelFolderError, match="already exists"):
        clf.save(target)
    original = (target / "transferkit.json").read_text()

    def boom(*a, **k):  # type: ignore[no-untyped-def]
        raise OSError("disk full")

    monkeypatch.setattr(type(clf.model_), "save", boom)
    with pytest.raises(OSError, match="disk full"):
        clf.save(target, overwrite=True)
    assert (target / "transferkit.json").read_text() == original, "the old model survives a failed overwrite"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"], "no temporary folder left behind"
    with pytest.raises(OSError):
        clf.save(tmp_path / "new")
    assert not (tmp_path / "new").exists()


def test_corrupt_or_incomplete_model_folders_are_reported(tmp_path: Path) -> None:
    X, y = stripe_images(4)
    clf = TransferClassifier(backbone="tiny-cnn", strategy=FullFineTune(epochs=1)).fit(X, y)
    folder = clf.save(tmp_path / "m")
    weights = folder / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-10] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(ModelFolderError, match="checksum"):
        load_model(folder)
    weights.unlink()
    with pytest.raises(ModelFolderError, match="missing"):
        load_model(folder)
    with pytest.raises(ModelFolderError, match="does not exist"):
        load_model(tmp_path / "nothing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelFolderError, match="not a transferkit model folder"):
        load_model(tmp_path / "empty")
    cfg = json.loads((folder / "transferkit.json").read_text())
    cfg["format_version"] = 99
    (folder / "transferkit.json").write_text(json.dumps(cfg))
    with pytest.raises(ModelFolderError, match="version 99, this transferkit reads 'transferkit-model' version 1"):
        load_model(folder)


def test_hand_edited_model_descriptions_are_reported(tmp_path: Path) -> None:
    """An edited transferkit.json (not an object, no file list, an entry removed, a wrong type) is one
    ModelFolderError naming the folder, never a KeyError or AttributeError from deep inside."""
    X, y = blobs()
    folder = TransferClassifier(backbone="tiny-mlp", cache=False).fit(X, y).save(tmp_path / "m")
    path = folder / "transferkit.json"
    good = json.loads(path.read_text())
    edits = [([], "holds a JSON list"), ({**good, "files": {}}, "lists no model files"),
             ({k: v for k, v in good.items() if k != "classes"}, "no 'classes' entry"),
             ({**good, "classes_dtype": "no-such-dtype"}, "cannot be loaded"),
             ({**good, "strategy": 3}, "cannot be loaded")]
    for edited, match in edits:
        path.write_text(json.dumps(edited))
        with pytest.raises(ModelFolderError, match=match):
            load_model(folder)
    path.write_text(json.dumps(good))
    assert load_model(folder).predict(X).tolist() == TransferClassifier(backbone="tiny-mlp", cache=False).fit(
        X, y).predict(X).tolist()


def test_probe_refuses_a_backbone_with_other_weights(tmp_path: Path) -> None:
    X, y = polarity_texts(4)
    folder = TransferClassifier(backbone="tiny-text", random_state=1).fit(X, y).save(tmp_path / "m")
    cfg = json.loads((folder / "transferkit.json").read_text())
    cfg["params"]["random_state"] = 2  # now the rebuilt backbone has different weights
    (folder / "transferkit.json").write_text(json.dumps(cfg))
    with pytest.raises(ModelFolderError, match="different weights"):
        load_model(folder)


@pytest.mark.integration
def test_pretrained_probe_beats_raw_pixels_and_a_random_weight_control_on_fashion_mnist() -> None:
    """The regime DATA.md documents (1k labels, 112 px): pretrained 0.85 > pixels 0.79 >> random weights."""
    from transferkit import evaluate
    from transferkit.datasets import load_fashion_mnist

    train = load_fashion_mnist("train", n_per_class=100)
    test = load_fashion_mnist("test", n_per_class=50)
    common = dict(backbone="efficientnet-lite0", image_size=112)
    res = evaluate({"pretrained": TransferClassifier(**common), "random": TransferClassifier(pretrained=False, **common)},
                   train.X, train.y, test=(test.X, test.y))
    pretrained, random, pixels = (res.models[k].pooled["accuracy"] for k in ("pretrained", "random", res.baseline.name))
    assert pretrained > 0.8
    assert res.gains["pretrained"]["accuracy"].verdict == "positive", (pretrained, pixels)
    assert random < pixels - 0.1 and res.gains["random"]["accuracy"].verdict == "negative"


def test_refit_on_another_modality_forgets_the_table_width(tmp_path: Path) -> None:
    """A classifier and an extractor refitted from a table to texts (and back) keep no stale
    ``n_features_in_``: the saved text model loads and predicts, and the extractor refits both ways."""
    from transferkit import FeatureExtractor

    X, y = blobs()
    texts, yt = polarity_texts()
    clf = TransferClassifier(backbone="tiny-mlp", cache=False).fit(X, y)
    clf.set_params(backbone="tiny-text").fit(texts, yt)
    assert not hasattr(clf, "n_features_in_")
    again = load_model(clf.save(tmp_path / "text"))
    np.testing.assert_array_equal(again.predict(texts), clf.predict(texts))
    fe = FeatureExtractor(backbone="tiny-mlp", cache=False).fit(X)
    assert fe.set_params(backbone="tiny-text").fit(texts).transform(texts).shape[0] == len(texts)
    assert not hasattr(fe, "n_features_in_")
    assert fe.set_params(backbone="tiny-mlp").fit(X).transform(X).shape[0] == len(X) and fe.n_features_in_ == 6


def test_overwrite_replaces_model_folders_only(tmp_path: Path) -> None:
    """--overwrite deleted whatever folder it was pointed at (a user's thesis folder included)."""
    X, y = blobs(8)
    clf = TransferClassifier(backbone="tiny-mlp", cache=False).fit(X, y)
    mine = tmp_path / "userdata"
    (mine / "sub").mkdir(parents=True)
    (mine / "thesis.txt").write_text("years of work")
    with pytest.raises(ModelFolderError, match="not a transferkit model folder"):
        clf.save(mine, overwrite=True)
    assert (mine / "thesis.txt").read_text() == "years of work" and (mine / "sub").is_dir()
    (tmp_path / "empty").mkdir()
    clf.save(tmp_path / "empty", overwrite=True)  # an empty folder holds nothing to lose
    clf.save(tmp_path / "empty", overwrite=True)  # and a model folder is replaced
    assert load_model(tmp_path / "empty").classes_.tolist() == clf.classes_.tolist()


def test_a_model_folder_cannot_run_code_on_load(tmp_path: Path) -> None:
    """skops rebuilds objects by calling the types a file names; trusting every 'builtins.' name let a
    crafted head.skops call exec() inside load_model (its checksum sits in the same folder)."""
    import hashlib
    import zipfile

    X, y = blobs(8)
    folder = TransferClassifier(backbone="tiny-mlp", cache=False).fit(X, y).save(tmp_path / "m")
    marker = tmp_path / "PWNED"
    for module, name, arg in (("builtins", "exec", f"open({str(marker)!r}, 'w').write('x')"),
                              ("numpy", "load", str(tmp_path / "evil.npy")),
                              ("sklearn.utils", "_safe_indexing", "x")):  # a scikit-learn function, not a class
        schema = {"__class__": name, "__module__": module, "__loader__": "ConstructorFromReduceNode",
                  "content": {"__class__": "tuple", "__module__": "builtins", "__loader__": "TupleNode",
                              "content": [{"__class__": "str", "__module__": "builtins", "__loader__": "JsonNode",
                                           "content": json.dumps(arg), "is_json": True, "__id__": 2}],
                              "__id__": 3},
                  "__id__": 1, "protocol": 2, "_skops_version": "0.16.0"}
        with zipfile.ZipFile(folder / "head.skops", "w") as z:
            z.writestr("schema.json", json.dumps(schema))
        cfg = json.loads((folder / "transferkit.json").read_text())
        cfg["files"]["head.skops"] = hashlib.sha256((folder / "head.skops").read_bytes()).hexdigest()
        (folder / "transferkit.json").write_text(json.dumps(cfg))
        with pytest.raises(ModelFolderError, match=f"will not load: {module}.{name}"):
            load_model(folder)
        assert not marker.exists()


def test_a_model_folder_is_checksummed_whole_and_readable_like_other_files(tmp_path: Path) -> None:
    import os

    X, y = stripe_images(4)
    clf = TransferClassifier(backbone="tiny-cnn", cache=False, strategy=FullFineTune(epochs=1)).fit(X, y)
    folder = clf.save(tmp_path / "m")
    cfg = json.loads((folder / "transferkit.json").read_text())
    assert "labels.json" in cfg["files"], "labels.json was written after the checksums"
    mask = os.umask(0)
    os.umask(mask)
    assert (folder / "model.safetensors").stat().st_mode & 0o777 == 0o666 & ~mask  # safetensors wrote 0600
    cfg["classes"] = cfg["classes"][:1]  # a description that no longer fits the weights
    (folder / "transferkit.json").write_text(json.dumps(cfg))
    with pytest.raises(ModelFolderError, match=r"cannot be loaded: its transferkit.json lists the classes \('left'\) but "
                                               r"its labels.json, which the checksums vouch for, lists \('left', 'top'\)"):
        load_model(folder)
