"""``transferkit adapt`` and ``distance`` with a flat, unlabelled folder of images as the target, and
``adapt --method`` checked against the registry of adaptation methods before any data is read."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from tests.helpers import run_cli as run
from tests.helpers import stripe_images

N_SOURCE, N_TARGET = 8, 6  # per class


def _save(folder: Path, images: np.ndarray, labels: list[str] | None) -> Path:
    for i, img in enumerate(images):
        sub = folder / labels[i] if labels is not None else folder
        sub.mkdir(parents=True, exist_ok=True)
        Image.fromarray(img).save(sub / f"{i:03d}.png")
    return folder


@pytest.fixture
def image_domains(tmp_path: Path) -> dict[str, Path]:
    """A labelled source folder (class sub-folders), the shifted target as a flat folder, and the same target
    split into sub-folders that are no classes (batches)."""
    Xs, ys = stripe_images(N_SOURCE, size=32, seed=0)
    Xt, _ = stripe_images(N_TARGET, size=32, seed=1)
    Xt = (255 - Xt).astype(np.uint8)  # the target domain: inverted images
    batches = [f"batch{i % 2}" for i in range(len(Xt))]
    return {"source": _save(tmp_path / "source", Xs, list(ys)),
            "flat": _save(tmp_path / "flat", Xt, None),
            "batches": _save(tmp_path / "batches", Xt, batches)}


def _fails(args: list[object], out: Path, code: int, *expected: str) -> str:
    status, text = run(*args, "--out", out)
    assert status == code, text
    assert "Traceback" not in text
    for e in expected:
        assert e in text, text
    assert not out.exists(), "nothing is written on error"
    return text


def test_adapt_to_a_flat_folder_of_images(image_domains: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, text = run("adapt", "-s", image_domains["source"], "-t", image_domains["flat"], "-b", "tiny-cnn",
                     "-m", "coral", "--no-tsne", "--out", out)
    assert code == 0, text
    assert "estimated, no target labels" in text and "target accuracy" not in text
    data = json.loads((out / "adapt.json").read_text())
    assert not data["evaluated"] and {g["method"] for g in data["guard"]} == {"source-only", "coral"}
    assert data["summary"]["target rows"] == 2 * N_TARGET and data["summary"]["source rows"] == 2 * N_SOURCE
    assert str(image_domains["flat"]) in data["summary"]["target"]


def test_distance_to_a_flat_folder_of_images(image_domains: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "dist"
    code, text = run("distance", image_domains["source"], image_domains["flat"], "-b", "tiny-cnn",
                     "--metrics", "mmd_rbf", "--out", out)
    assert code == 0, text
    data = json.loads((out / "distance.json").read_text())
    assert data["modality"] == "image" and data["first"]["samples"] == 2 * N_SOURCE
    assert data["second"]["samples"] == 2 * N_TARGET and data["distances"]["mmd_rbf"] > 0
    empty = tmp_path / "empty"
    empty.mkdir()
    text = _fails(["distance", image_domains["source"], empty, "-b", "tiny-cnn"], tmp_path / "never", 1,
                  str(empty), "contains no images")
    assert len(text.strip().splitlines()) == 1, text


def test_target_labels_asked_of_a_flat_folder_name_the_option(image_domains: dict[str, Path], tmp_path: Path) -> None:
    src = ["adapt", "-s", image_domains["source"], "-b", "tiny-cnn", "-m", "coral"]
    text = _fails([*src, "-t", image_domains["flat"], "--eval-labels"], tmp_path / "never", 1,
                  "--eval-labels", "has no labels", str(image_domains["flat"]))
    assert len(text.strip().splitlines()) == 1, text
    text = _fails([*src, "-t", image_domains["flat"], "--target-labels", image_domains["flat"], "-m", "tradaboost"],
                  tmp_path / "never", 1, "--target-labels", "no class sub-folders")
    assert len(text.strip().splitlines()) == 1, text


def test_no_eval_labels_ignores_sub_folders_that_are_no_classes(image_domains: dict[str, Path],
                                                                tmp_path: Path) -> None:
    src = ["adapt", "-s", image_domains["source"], "-t", image_domains["batches"], "-b", "tiny-cnn", "-m", "coral",
           "--no-tsne"]
    _fails(src, tmp_path / "never", 1, "no source class", "'batch0'")  # read as classes, to evaluate on
    code, text = run(*src, "--no-eval-labels", "--out", tmp_path / "out")
    assert code == 0, text
    data = json.loads((tmp_path / "out" / "adapt.json").read_text())
    assert not data["evaluated"] and data["summary"]["target rows"] == 2 * N_TARGET


def test_an_unknown_method_is_a_usage_error_before_any_data_is_read(monkeypatch: pytest.MonkeyPatch,
                                                                   tmp_path: Path) -> None:
    import transferkit.workflows
    from transferkit.adaptation import METHODS

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the data was read before the methods were checked")

    monkeypatch.setattr(transferkit.workflows, "resolve_data", never)
    args = ["adapt", "-s", "fashion-mnist", "-t", "mnist", "-b", "tiny-cnn"]
    text = _fails([*args, "-m", "coral,nope"], tmp_path / "never", 2, "'--method'", "'nope'")
    assert "choose from: " + ", ".join(METHODS) in text, "the choices come from the registry"
    assert "auto" in text and "all" in text
    _fails([*args, "-m", "nope,CORAL,zz"], tmp_path / "never", 2, "'nope', 'zz'")
    _fails([*args, "-m", " , "], tmp_path / "never", 2, "no method given")


def test_adapt_help_names_every_registered_method() -> None:
    from transferkit.adaptation import METHODS

    code, text = run("adapt", "--help")
    assert code == 0, text
    flat = " ".join(text.split())
    for name in METHODS:
        assert name in flat, f"--method help lacks {name!r}"
