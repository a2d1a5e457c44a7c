"""A fitted TransferEnsemble saved to a model folder and loaded back: same predictions, checked files,
refusals that name the member and leave nothing behind."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from tests.helpers import blobs, polarity_texts

from transferkit import load_model
from transferkit.ensembles import EnsembleError, TransferEnsemble
from transferkit.errors import ModelFolderError


@pytest.mark.parametrize("method", ["voting", "stacking", "bagging", "boosting"])
def test_every_method_round_trips_with_identical_predictions(method: str, tmp_path: Path) -> None:
    X, y = polarity_texts(10)
    ens = TransferEnsemble(members=["tiny-text:linear", "baseline"], method=method, cv=3, n_estimators=3).fit(X, y)
    ens.save(tmp_path / "m")
    back = load_model(tmp_path / "m")
    assert isinstance(back, TransferEnsemble) and back.method == method
    assert back.members == ["tiny-text:linear", "baseline"]
    np.testing.assert_array_equal(back.predict_proba(X), ens.predict_proba(X))
    np.testing.assert_array_equal(back.predict(X), ens.predict(X))
    np.testing.assert_array_equal(back.classes_, ens.classes_)
    config = json.loads((tmp_path / "m" / "transferkit.json").read_text())
    assert config["estimator"] == "TransferEnsemble" and [m["name"] for m in config["members"]] == ["tiny-text:linear", "baseline"]
    assert "members/0/head.skops" in config["files"] and "members/1/member.skops" in config["files"]
    refit = clone(back).fit(X, y)  # the loaded ensemble's parameters rebuild the same model
    np.testing.assert_allclose(refit.predict_proba(X), ens.predict_proba(X), atol=1e-6)


def test_a_fine_tuned_member_and_string_labels_round_trip(tmp_path: Path) -> None:
    X, y = polarity_texts(8)
    ens = TransferEnsemble(members=["tiny-text:finetune", "tiny-text:linear"], method="voting").fit(X, y)
    ens.save(tmp_path / "m")
    back = load_model(tmp_path / "m")
    assert (tmp_path / "m" / "members" / "0" / "model.safetensors").exists()
    np.testing.assert_allclose(back.predict_proba(X), ens.predict_proba(X), atol=1e-6)
    assert set(back.predict(X)) <= {"pos", "neg"}


def test_user_pairs_are_saved_and_come_back_as_fitted_pairs(tmp_path: Path) -> None:
    X, y = blobs(15, n_classes=3)
    ens = TransferEnsemble(members=[("knn", KNeighborsClassifier(3)), ("lr", LogisticRegression())],
                           final_estimator=LogisticRegression(C=0.5), cv=3).fit(X, y)
    ens.save(tmp_path / "m")
    back = load_model(tmp_path / "m")
    np.testing.assert_array_equal(back.predict_proba(X), ens.predict_proba(X))
    assert [name for name, _ in back.members] == ["knn", "lr"]
    assert isinstance(back.final_estimator, LogisticRegression) and back.final_estimator.C == 0.5
    assert clone(back).fit(X, y).score(X, y) == ens.score(X, y)


class _Foreign(LogisticRegression):
    """A scikit-learn subclass from outside scikit-learn: loading it would import arbitrary code."""


def test_a_member_that_cannot_be_saved_is_named_and_nothing_is_written(tmp_path: Path) -> None:
    X, y = blobs(10)
    ens = TransferEnsemble(members=[("lr", LogisticRegression()), ("odd", _Foreign())], method="voting").fit(X, y)
    with pytest.raises(EnsembleError, match="ensemble member 'odd' cannot be saved.*_Foreign"):
        ens.save(tmp_path / "m")
    assert list(tmp_path.iterdir()) == []


def test_unfitted_existing_and_corrupt_folders_are_refused(tmp_path: Path) -> None:
    X, y = polarity_texts(8)
    with pytest.raises(NotFittedError):
        TransferEnsemble(members=["baseline"], modality="text").save(tmp_path / "m")
    ens = TransferEnsemble(members=["tiny-text:linear", "baseline"], method="voting").fit(X, y)
    ens.save(tmp_path / "m")
    before = (tmp_path / "m" / "transferkit.json").read_text()
    with pytest.raises(ModelFolderError, match="already exists"):
        ens.save(tmp_path / "m")
    assert (tmp_path / "m" / "transferkit.json").read_text() == before  # untouched
    ens.save(tmp_path / "m", overwrite=True)
    head = tmp_path / "m" / "members" / "0" / "head.skops"
    head.write_bytes(head.read_bytes()[:-10])
    with pytest.raises(ModelFolderError, match=r"members/0/head.skops.*checksum"):
        load_model(tmp_path / "m")
