"""TransferEnsemble: the modality inferred from X when no member fixes it, parameters checked before any
data work, an image member on texts named as such, and class lists of saved ensembles checked at load."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from tests.helpers import InferenceCounter, blobs, polarity_texts, run_cli, stripe_images

from transferkit import load_model
from transferkit.ensembles import EnsembleError, TransferEnsemble, compare_ensemble
from transferkit.errors import DataError, ModelFolderError


def _data(modality: str) -> tuple[object, np.ndarray]:
    if modality == "table":
        return blobs(8)
    if modality == "text":
        return polarity_texts(8)
    return stripe_images(8, size=16)


# --- 1. the modality of a baseline-only ensemble comes from X ---------------------------------------------

@pytest.mark.parametrize("modality", ["table", "text", "image"])
def test_the_default_ensemble_infers_the_modality_from_the_data(modality: str) -> None:
    X, y = _data(modality)
    ens = TransferEnsemble(method="voting", cache=False)
    fitted = ens.fit(X, y)
    assert fitted.modality_ == modality and fitted.modality is None  # fitted state; the parameter untouched
    assert fitted.score(X, y) >= 0.9
    assert clone(fitted).get_params()["modality"] is None and not hasattr(clone(fitted), "modality_")
    stacked = TransferEnsemble(cv=2, random_state=0).fit(X, y)  # the default method, stacking
    np.testing.assert_array_equal(stacked.predict(X), clone(stacked).fit(X, y).predict(X))


def test_predictions_use_the_modality_learned_at_fit(tmp_path: Path) -> None:
    texts, yt = polarity_texts(6)
    ens = TransferEnsemble(method="voting").fit(texts, yt)
    with pytest.raises(DataError, match="needs strings"):  # the text ensemble refuses a table
        ens.predict(np.zeros((3, 4)))
    X, y = blobs(6)
    table = clone(ens).fit(X, y)
    assert table.modality_ == "table" and table.n_features_in_ == X.shape[1]
    with pytest.raises(ValueError, match="X has 2 features"):
        table.predict(X[:, :2])
    table.save(tmp_path / "m")  # the learned modality is saved with the folder
    back = load_model(tmp_path / "m")
    assert back.modality_ == "table" and back.modality is None
    np.testing.assert_array_equal(back.predict_proba(X), table.predict_proba(X))
    rows = X.tolist()  # a list of rows, as scikit-learn takes a table
    np.testing.assert_array_equal(clone(ens).fit(rows, y).predict(rows), table.predict(X))


def test_predict_names_the_learned_modality_of_a_saved_ensemble(tmp_path: Path) -> None:
    """`transferkit predict` checks the data against the modality the ensemble was fitted on."""
    import pandas as pd

    texts, y = polarity_texts(6)
    TransferEnsemble(method="voting").fit(texts, y).save(tmp_path / "m")
    pd.DataFrame(blobs(3)[0][:, :3], columns=["a", "b", "c"]).to_csv(tmp_path / "t.csv", index=False)
    code, text = run_cli("predict", tmp_path / "m", tmp_path / "t.csv", "-o", tmp_path / "out.csv")
    assert code == 1 and "reads text data, but" in text and "holds table" in text, text
    assert not (tmp_path / "out.csv").exists()


def test_data_without_a_modality_is_refused_naming_modality() -> None:
    X, y = [{"a": 1.0}] * 8, np.repeat(["a", "b"], 4)
    with pytest.raises(EnsembleError, match=r"member 'baseline' .*cannot be told from a list of dict; "
                                            r"pass modality='image', 'text' or 'table'$"):
        TransferEnsemble(method="voting").fit(X, y)
    with pytest.raises(EnsembleError, match="cannot be told from a list of dict; pass modality="):
        compare_ensemble(X, y, members=["baseline"], method="voting", cv=2)
    # your own members need no modality: X goes to them as given
    Xb, yb = blobs(6)
    own = TransferEnsemble(members=[("lr", LogisticRegression())], method="voting").fit(Xb.tolist(), yb)
    assert own.modality_ is None and own.score(Xb.tolist(), yb) == 1.0


def test_compare_infers_the_modality_of_a_baseline_only_ensemble() -> None:
    X, y = blobs(6)
    result = compare_ensemble(X, y, members=["baseline"], method="voting", cv=2)
    assert result.estimator is not None and result.estimator.modality == "table"


# --- 2. cv and n_estimators, before any data work ---------------------------------------------------------

@pytest.mark.parametrize("cv", [1, 0, 2.5, True, "5"])
def test_a_bad_cv_is_named_before_any_data_is_read(cv: object) -> None:
    with pytest.raises(EnsembleError, match=f"^cv must be an integer of at least 2 folds, got {cv!r}$"):
        TransferEnsemble(cv=cv).fit(None, None)  # type: ignore[arg-type]
    with pytest.raises(EnsembleError, match="^cv must be an integer"):
        compare_ensemble(None, None, members=["baseline"], cv=cv)  # type: ignore[arg-type]


@pytest.mark.parametrize("n_estimators", [-1, 0, 1.5, True])
@pytest.mark.parametrize("method", ["bagging", "voting"])
def test_a_bad_n_estimators_is_named_before_any_data_is_read(n_estimators: object, method: str) -> None:
    with pytest.raises(EnsembleError, match=f"^n_estimators must be a positive integer, got {n_estimators!r}$"):
        TransferEnsemble(method=method, n_estimators=n_estimators).fit(None, None)  # type: ignore[arg-type]
    with pytest.raises(EnsembleError, match="unknown ensemble method 'blend'"):  # still checked first
        TransferEnsemble(method="blend", n_estimators=n_estimators).fit(None, None)  # type: ignore[arg-type]


@pytest.mark.parametrize(("option", "value"), [("--cv", "1"), ("--cv", "2.5"), ("--cv", "True"),
                                               ("--n-estimators", "0"), ("--n-estimators", "-1"),
                                               ("--n-estimators", "1.5")])
def test_the_cli_refuses_bad_counts_as_usage_errors_before_reading_data(option: str, value: str,
                                                                        tmp_path: Path) -> None:
    code, text = run_cli("ensemble", tmp_path / "missing.csv", "-m", "baseline", option, value,
                         "-o", tmp_path / "e")
    assert code == 2 and f"Invalid value for '{option}'" in text and "Traceback" not in text, text
    assert not (tmp_path / "e").exists()


# --- 3. an image member on texts ------------------------------------------------------------------------

def test_an_image_member_on_texts_is_named_before_any_work(monkeypatch: pytest.MonkeyPatch) -> None:
    X, y = polarity_texts(6)
    counter = InferenceCounter(monkeypatch)
    for members in (["tiny-cnn"], ["baseline", "tiny-cnn:linear"]):
        with pytest.raises(EnsembleError, match=f"^ensemble member {members[-1]!r} reads image data, but the data "
                                                "holds text data$"):
            TransferEnsemble(members=members, method="voting", cache=False).fit(X, y)
    with pytest.raises(EnsembleError, match="^ensemble member 'tiny-cnn' reads image data, but the data holds text data$"):
        compare_ensemble(X, y, members=["tiny-cnn", "baseline"], method="voting", cv=2, cache=False)
    with pytest.raises(EnsembleError, match="^ensemble member 'tiny-text' reads text data, but the data holds image data$"):
        TransferEnsemble(members=["tiny-text"], method="voting").fit(*stripe_images(4, size=16))
    assert counter.items == 0


def test_image_files_without_an_image_extension_still_reach_an_image_member(tmp_path: Path) -> None:
    from PIL import Image

    images, y = stripe_images(4, size=16)
    paths = []
    for i, image in enumerate(images):
        Image.fromarray(image).save(tmp_path / f"img{i}", format="PNG")
        paths.append(str(tmp_path / f"img{i}"))
    ens = TransferEnsemble(members=["tiny-cnn"], method="voting", image_size=16, cache=False).fit(paths, y)
    assert ens.modality_ == "image" and ens.predict(paths).shape == (len(paths),)


# --- 4. the class list of a saved ensemble ---------------------------------------------------------------

@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray]:
    X, y = blobs(6, n_classes=3)
    folder = tmp_path_factory.mktemp("saved") / "m"
    TransferEnsemble(members=["tiny-mlp", "baseline"], method="stacking", cv=2, cache=False).fit(X, y).save(folder)
    return folder, X


@pytest.mark.parametrize(("edit", "listed"), [
    (lambda c: c[:2], r"'c0', 'c1'"),
    (lambda c: [*c, "c9"], r"'c0', 'c1', 'c2', 'c9'"),
    (lambda c: [c[1], c[0], c[2]], r"'c1', 'c0', 'c2'"),
    (lambda c: ["a", "b", "c"], r"'a', 'b', 'c'"),
    (lambda c: [c[0], c[0], c[2]], r"'c0', 'c0', 'c2'"),
], ids=["dropped", "added", "swapped", "renamed", "repeated"])
def test_an_edited_class_list_is_refused_at_load(saved: tuple[Path, np.ndarray], edit: object, listed: str,
                                                 tmp_path: Path) -> None:
    folder = tmp_path / "m"
    shutil.copytree(saved[0], folder)
    config = json.loads((folder / "transferkit.json").read_text())
    config["classes"] = edit(config["classes"])  # type: ignore[operator]
    (folder / "transferkit.json").write_text(json.dumps(config))
    with pytest.raises(ModelFolderError, match=f"the model in .* cannot be loaded: its transferkit.json lists the "
                                               rf"classes \({listed}\) but its labels.json, which the checksums "
                                               r"vouch for, lists \('c0', 'c1', 'c2'\); its transferkit.json was "
                                               "edited or the folder is damaged$"):
        load_model(folder)


def test_folders_without_the_learned_modality_still_load(saved: tuple[Path, np.ndarray], tmp_path: Path) -> None:
    folder, X = tmp_path / "m", saved[1]
    shutil.copytree(saved[0], folder)
    config = json.loads((folder / "transferkit.json").read_text())
    assert config.pop("fitted_modality") == "table"
    (folder / "transferkit.json").write_text(json.dumps(config))
    back = load_model(folder)
    assert back.modality_ == "table"
    np.testing.assert_array_equal(back.predict(X), load_model(saved[0]).predict(X))
    config["fitted_modality"] = "audio"
    (folder / "transferkit.json").write_text(json.dumps(config))
    with pytest.raises(ModelFolderError, match="unknown modality 'audio'"):
        load_model(folder)


def test_stacking_lowers_its_inner_folds_to_what_small_classes_fill() -> None:
    """With 3 examples per class and cv=3 it fitted the members of the first fold, then failed: "stacking with
    cv=3 needs at least 3 examples per class". Now 2 inner folds; with 2 per class, refused before any fit."""
    import warnings

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(6, 4)), np.repeat(["a", "b"], 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = compare_ensemble(X, y, members=["tiny-mlp:linear", "baseline"], method="stacking", cv=3, cache=False)
    assert result.estimator.cv == 2 and len(result.evaluation.table()) == 3
    with pytest.raises(EnsembleError, match="smallest class has 2 example\\(s\\), 1 in a training fold; it needs 2"):
        compare_ensemble(X[1:5], y[1:5], members=["tiny-mlp:linear", "baseline"], method="stacking", cv=3, cache=False)
    big = compare_ensemble(rng.normal(size=(40, 4)), np.repeat(["a", "b"], 20), members=["baseline"],
                           method="stacking", cv=3, cache=False)
    assert big.estimator.cv == 3  # min(cv, 5) as before when the classes fill it
