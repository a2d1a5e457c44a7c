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


def test_a_sigkilled_run_resumes_to_the_uninterrupted_result(tmp_path: Path) -> None:
    full = _run(tmp_path / "ckpt-full", tmp_path / "full.npz", -1, False)
    assert full.returncode == 0, full.stderr
    killed = _run(tmp_path / "ckpt", tmp_path / "killed.npz", 1, False)
    assert killed.returncode == -signal.SIGKILL
    assert [p.name for p in complete_checkpoints(tmp_path / "ckpt")] == ["epoch-0002"]
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
    state = tmp_path / "c" / "epoch-0002" / "state.pt"
    data = bytearray(state.read_bytes())
    data[len(data) // 2] ^= 0xFF
    state.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=r"is corrupt: state.pt does not match its sha256 checksum"):
        _fit(tmp_path / "c", resume=True)
    (tmp_path / "c" / "epoch-0002" / "checksums.json").unlink()
    with pytest.raises(CheckpointError, match="is incomplete: checksums.json is missing"):
        _fit(tmp_path / "c", resume=True)


def test_a_checkpoint_of_another_run_is_refused_and_partial_writes_are_ignored(tmp_path: Path) -> None:
    _fit(tmp_path / "c")
    (tmp_path / "c" / ".tmp-killed-mid-write").mkdir()  # what a kill during a save leaves behind
    assert [p.name for p in complete_checkpoints(tmp_path / "c")] == ["epoch-0002"]
    with pytest.raises(CheckpointError, match="was written by a different run"):
        _fit(tmp_path / "c", resume=True, lr=5e-3)
    X, y = blobs(12, n_features=4)
    for other in (X[::-1].copy(), X[:, :3]):  # other rows (same labels); another table width
        strategy = FullFineTune(epochs=2, lr=1e-2, checkpoint_dir=str(tmp_path / "c"), resume=True)
        with pytest.raises(CheckpointError, match="was written by a different run"):
            TransferClassifier(backbone="tiny-mlp", cache=False, strategy=strategy).fit(other, y)


def test_a_checksum_file_that_holds_no_checksums_is_corrupt(tmp_path: Path) -> None:
    _fit(tmp_path / "c")
    for text in ("[]", "null"):
        (tmp_path / "c" / "epoch-0002" / "checksums.json").write_text(text)
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
