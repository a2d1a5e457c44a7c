"""Per-epoch checkpoints: a SIGKILLed run resumes to the same result; corrupt checkpoints are refused."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from tests.helpers import blobs

from transferkit import TransferClassifier
from transferkit.strategies import FullFineTune
from transferkit.training import CheckpointError, complete_checkpoints

ROOT = Path(__file__).resolve().parents[2]


def _run(ckpt: Path, out: Path, kill_after: int, resume: bool) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, str(ROOT / "tests/training/resume_script.py"), str(ckpt), str(out),
                           str(kill_after), "1" if resume else "0"], env=env, capture_output=True, text=True, timeout=600)


def _run_folder(ckpt: Path) -> Path:
    """The one run's folder of checkpoints in ``ckpt``."""
    (folder,) = ckpt.iterdir()
    assert folder.name.startswith("run-") and len(folder.name) == len("run-") + 16
    return folder


def test_a_sigkilled_run_resumes_to_the_uninterrupted_result(tmp_path: Path) -> None:
    full = _run(tmp_path / "ckpt-full", tmp_path / "full.npz", -1, False)
    assert full.returncode == 0, full.stderr
    killed = _run(tmp_path / "ckpt", tmp_path / "killed.npz", 1, False)
    assert killed.returncode == -signal.SIGKILL
    assert [p.name for p in complete_checkpoints(_run_folder(tmp_path / "ckpt"))] == ["epoch-0002"]
    assert _run_folder(tmp_path / "ckpt").name == _run_folder(tmp_path / "ckpt-full").name  # the same run
    resumed = _run(tmp_path / "ckpt", tmp_path / "resumed.npz", -1, True)
    assert resumed.returncode == 0, resumed.stderr
    a, b = np.load(tmp_path / "full.npz"), np.load(tmp_path / "resumed.npz")
    assert str(b["resumed"]).endswith("epoch-0002")
    # same augmentation draws, data order, unfreezing schedule, optimiser and early-stopping state
    np.testing.assert_array_equal(a["val_loss"], b["val_loss"])
    np.testing.assert_array_equal(a["proba"], b["proba"])


def _fit(ckpt: Path, *, resume: bool = False, lr: float = 1e-2, epochs: int = 2) -> TransferClassifier:
    X, y = blobs(12, n_features=4)
    strategy = FullFineTune(epochs=epochs, lr=lr, checkpoint_dir=str(ckpt), resume=resume)
    return TransferClassifier(backbone="tiny-mlp", cache=False, strategy=strategy).fit(X, y)


def test_existing_checkpoints_are_never_overwritten_without_resume(tmp_path: Path) -> None:
    _fit(tmp_path / "c")
    with pytest.raises(CheckpointError, match="already holds epoch-0002; resume from it"):
        _fit(tmp_path / "c")
    assert _fit(tmp_path / "c", resume=True).fit_info_["resumed_from"].endswith("epoch-0002")


def test_a_corrupt_checkpoint_is_reported_not_loaded(tmp_path: Path) -> None:
    _fit(tmp_path / "c")
    state = _run_folder(tmp_path / "c") / "epoch-0002" / "state.pt"
    data = bytearray(state.read_bytes())
    data[len(data) // 2] ^= 0xFF
    state.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=r"is corrupt: state.pt does not match its sha256 checksum"):
        _fit(tmp_path / "c", resume=True)
    (_run_folder(tmp_path / "c") / "epoch-0002" / "checksums.json").unlink()
    with pytest.raises(CheckpointError, match="is incomplete: checksums.json is missing"):
        _fit(tmp_path / "c", resume=True)


def test_a_resume_on_other_data_or_settings_never_picks_up_another_runs_checkpoint(tmp_path: Path) -> None:
    _fit(tmp_path / "c")
    first = _run_folder(tmp_path / "c")
    (first / ".tmp-killed-mid-write").mkdir()  # what a kill during a save leaves behind
    assert [p.name for p in complete_checkpoints(first)] == ["epoch-0002"]
    other_settings = _fit(tmp_path / "c", resume=True, lr=5e-3)
    assert "resumed_from" not in other_settings.fit_info_  # trained from scratch, in its own folder
    X, y = blobs(12, n_features=4)
    for other in (X[::-1].copy(), X[:, :3]):  # other rows (same labels); another table width
        strategy = FullFineTune(epochs=2, lr=1e-2, checkpoint_dir=str(tmp_path / "c"), resume=True)
        clf = TransferClassifier(backbone="tiny-mlp", cache=False, strategy=strategy).fit(other, y)
        assert "resumed_from" not in clf.fit_info_
        fresh = TransferClassifier(backbone="tiny-mlp", cache=False, strategy=FullFineTune(epochs=2, lr=1e-2)).fit(other, y)
        np.testing.assert_array_equal(clf.predict_proba(other), fresh.predict_proba(other))
    assert len(list((tmp_path / "c").iterdir())) == 4  # one folder per run; the first run's is untouched
    assert [p.name for p in complete_checkpoints(first)] == ["epoch-0002"]
    assert _fit(tmp_path / "c", resume=True).fit_info_["resumed_from"] == str(first / "epoch-0002")


def test_a_run_folder_whose_checkpoint_records_another_run_key_is_refused(tmp_path: Path) -> None:
    """Folders are named by 16 hex digits of the key; the whole key is still checked before loading."""
    import json

    from transferkit._atomic import sha256_file
    from transferkit.training._checkpoint import _FILES

    _fit(tmp_path / "c")
    ckpt = _run_folder(tmp_path / "c") / "epoch-0002"
    meta = json.loads((ckpt / "trainer.json").read_text())
    meta["run_key"] = meta["run_key"][:16] + "0" * 48  # a run whose key starts the same way
    (ckpt / "trainer.json").write_text(json.dumps(meta))
    (ckpt / "checksums.json").write_text(json.dumps({n: sha256_file(ckpt / n) for n in _FILES}))
    with pytest.raises(CheckpointError, match="was written by a different run"):
        _fit(tmp_path / "c", resume=True)


def test_a_checksum_file_that_holds_no_checksums_is_corrupt(tmp_path: Path) -> None:
    _fit(tmp_path / "c")
    for text in ("[]", "null"):
        (_run_folder(tmp_path / "c") / "epoch-0002" / "checksums.json").write_text(text)
        with pytest.raises(CheckpointError, match="checksums.json holds no checksums"):
            _fit(tmp_path / "c", resume=True)


def test_remove_checkpoints_removes_only_checkpoints(tmp_path: Path) -> None:
    from transferkit.training._checkpoint import remove_checkpoints

    for name in ("epoch-0001", "epoch-0002", ".tmp-abc"):
        (tmp_path / "ck" / name).mkdir(parents=True)
        (tmp_path / "ck" / name / "state.pt").write_bytes(b"x")
    (tmp_path / "ck" / "notes.txt").write_text("mine")
    remove_checkpoints(tmp_path / "ck")
    assert [p.name for p in (tmp_path / "ck").iterdir()] == ["notes.txt"]
    (tmp_path / "ck" / "notes.txt").unlink()
    (tmp_path / "ck" / "epoch-0003").mkdir()
    remove_checkpoints(tmp_path / "ck")
    assert not (tmp_path / "ck").exists()


def test_run_folders_are_checkpoints_to_check_and_remove(tmp_path: Path) -> None:
    """The CLI checks and removes its default checkpoint folder, which holds one folder per run."""
    from transferkit.training._checkpoint import check_checkpoint_folder, remove_checkpoints

    for run in ("run-0123456789abcdef", "run-fedcba9876543210"):
        for name in ("epoch-0002", ".tmp-abc"):
            (tmp_path / "ck" / run / name).mkdir(parents=True)
            (tmp_path / "ck" / run / name / "state.pt").write_bytes(b"x")
    check_checkpoint_folder(tmp_path / "ck")
    (tmp_path / "ck" / "run-0123456789abcdef" / "notes.txt").write_text("mine")
    with pytest.raises(CheckpointError, match=r"holds other files \('run-0123456789abcdef/notes.txt'\)"):
        check_checkpoint_folder(tmp_path / "ck")
    remove_checkpoints(tmp_path / "ck")
    assert [str(p.relative_to(tmp_path)) for p in (tmp_path / "ck").rglob("*")] == [
        "ck/run-0123456789abcdef", "ck/run-0123456789abcdef/notes.txt"]
    (tmp_path / "ck" / "run-0123456789abcdef" / "notes.txt").unlink()
    remove_checkpoints(tmp_path / "ck")
    assert not (tmp_path / "ck").exists()


@pytest.mark.parametrize("resume", [False, True])
def test_cross_validation_and_refits_with_a_checkpoint_folder(tmp_path: Path, resume: bool) -> None:
    """Every fit after the first failed (NaN scores): each fold's run found the first fold's checkpoint."""
    from sklearn.base import clone
    from sklearn.model_selection import cross_val_score

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(60, 5)), np.repeat(["a", "b", "c"], 20)

    def estimator(checkpoint_dir: Path | None) -> TransferClassifier:
        strategy = FullFineTune(epochs=2, checkpoint_dir=None if checkpoint_dir is None else str(checkpoint_dir),
                                resume=resume and checkpoint_dir is not None)
        return TransferClassifier(backbone="tiny-mlp", cache=False, strategy=strategy)

    est = estimator(tmp_path / "ck")
    scores = cross_val_score(est, X, y, cv=3, error_score="raise")
    np.testing.assert_array_equal(scores, cross_val_score(estimator(None), X, y, cv=3))
    assert len(list((tmp_path / "ck").iterdir())) == 3  # one run per fold
    fitted = clone(est).fit(X, y)  # the refit on all the data is one more run
    assert "resumed_from" not in fitted.fit_info_ and len(list((tmp_path / "ck").iterdir())) == 4
    if resume:  # the same run again: it resumes from its finished checkpoint and trains no further
        again = clone(est).fit(X, y)
        assert again.fit_info_["resumed_from"].endswith("epoch-0002")
        np.testing.assert_array_equal(again.predict_proba(X), fitted.predict_proba(X))
    else:  # the same run again is still refused, never overwritten
        with pytest.raises(CheckpointError, match="already holds epoch-0002; resume from it"):
            clone(est).fit(X, y)
