"""CLI of the fine-tuning features: strategies and their options, checkpoints and --resume, lr-find."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.helpers import run_cli

from transferkit.training import complete_checkpoints


def test_cli_fit_checkpoints_and_resume(tmp_path: Path, reviews: Path) -> None:
    args = ["fit", str(reviews), "-b", "tiny-text", "-s", "finetune", "--epochs", "2", "--text-column", "review",
            "--label-column", "sentiment", "--no-progress", "--checkpoint-dir", str(tmp_path / "ck")]
    code, text = run_cli(*args, "-o", str(tmp_path / "m1"))
    assert code == 0, text
    (run,) = (tmp_path / "ck").iterdir()  # the run's own folder (run-<key>)
    assert complete_checkpoints(run)  # an explicit checkpoint folder is kept
    code, text = run_cli(*args, "-o", str(tmp_path / "m2"))
    assert code == 1 and "already holds epoch-0002" in text and not (tmp_path / "m2").exists()
    code, text = run_cli(*args, "-o", str(tmp_path / "m2"), "--resume")
    assert code == 0 and "resumed from checkpoint" in text, text
    code, text = run_cli("fit", str(reviews), "-b", "tiny-text", "--resume", "-o", str(tmp_path / "m3"))
    assert code != 0 and "apply to fine-tuning strategies" in text


def test_cli_new_strategies_and_options(tmp_path: Path, image_folder: Path) -> None:
    for strategy, extra in [("gradual", ["--unfreeze-every", "1"]), ("lpft", []), ("lora", ["--rank", "2"]),
                            ("finetune", ["--l2-sp", "0.01", "--bss", "0.001", "--augment", "rotation=10,flip=false"])]:
        out = tmp_path / strategy
        code, text = run_cli("fit", image_folder, "-b", "tiny-cnn", "-s", strategy, "--epochs", "2", *extra,
                             "--no-progress", "-o", out)
        assert code == 0, text
        assert (out / "report.html").exists() and not Path(f"{out}.checkpoints").exists()
        # the default checkpoint folder was this run's only: the saved model does not name it, so a refit of
        # the loaded model writes no such folder (it did, and a second refit was refused as a clash)
        saved = json.loads((out / "transferkit.json").read_text())["strategy"]["params"]
        assert saved["checkpoint_dir"] is None, saved
    assert "Augmented training samples" in (tmp_path / "finetune" / "report.html").read_text()
    code, text = run_cli("fit", image_folder, "-b", "tiny-cnn", "-s", "lora", "--target-modules", "nope",
                         "--no-progress", "-o", tmp_path / "bad")
    assert code == 1 and "LoRA target modules ['nope'] are not in backbone 'tiny-cnn'" in text
    assert not (tmp_path / "bad").exists()
    code, text = run_cli("fit", image_folder, "-b", "tiny-cnn", "-s", "finetune", "--augment", "spin=2",
                         "-o", tmp_path / "bad")
    assert code == 2 and "Invalid value for '--augment': unknown augmentation setting 'spin'" in text
    assert not (tmp_path / "bad").exists()
    code, text = run_cli("fit", image_folder, "-b", "tiny-cnn", "-s", "lpft", "--rank", "2", "-o", tmp_path / "bad")
    assert code == 2 and "--rank does not apply to strategy 'lpft' (it applies to: lora)" in text, text


def test_cli_lr_find(tmp_path: Path, image_folder: Path) -> None:
    code, text = run_cli("lr-find", image_folder, "-b", "tiny-cnn", "--steps", "12", "--no-progress",
                         "-o", tmp_path / "lr")
    assert code == 0, text
    assert "suggested learning rate" in text
    result = json.loads((tmp_path / "lr" / "lr_find.json").read_text())
    assert len(result["lrs"]) <= 12 and result["lrs"][0] < result["lrs"][-1]
    assert min(result["lrs"]) <= result["suggested_lr"] <= max(result["lrs"])
    assert (tmp_path / "lr" / "lr_find.png").stat().st_size > 1000


def test_cli_lr_find_over_a_huge_range_neither_overflows_nor_suggests_a_diverged_rate(tmp_path: Path,
                                                                                      image_folder: Path) -> None:
    """1e-300 to 1e300 overflowed to an infinite rate (suggested as `--lr inf`, written as Infinity); a
    sweep whose loss only rises suggested the rate where it exploded."""
    code, text = run_cli("lr-find", image_folder, "-b", "tiny-cnn", "--steps", "6", "--start-lr", "1e-300",
                         "--end-lr", "1e300", "--no-progress", "-o", tmp_path / "lr")
    assert code == 0, text
    raw = (tmp_path / "lr" / "lr_find.json").read_text()
    assert "Infinity" not in raw and "NaN" not in raw  # strict JSON
    result = json.loads(raw)
    assert result["lrs"][0] == pytest.approx(1e-300) and all(v is None or v < 1e301 for v in result["lrs"])
    code, text = run_cli("lr-find", image_folder, "-b", "tiny-cnn", "--steps", "6", "--start-lr", "1e3",
                         "--end-lr", "1e8", "--no-progress", "-o", tmp_path / "high")
    assert code == 0, text
    assert "no suggested learning rate: the loss did not fall" in text and "--lr" not in text.split("swept")[1]
    assert json.loads((tmp_path / "high" / "lr_find.json").read_text())["suggested_lr"] is None


def test_cli_fit_defaults_to_the_explained_auto_strategy(tmp_path: Path, image_folder: Path) -> None:
    code, text = run_cli("fit", image_folder, "-b", "tiny-cnn", "--budget", "30s", "--no-progress", "-o", tmp_path / "m")
    assert code == 0, text
    line = next(x for x in text.splitlines() if x.startswith("auto strategy chose:"))
    choice = line.removeprefix("auto strategy chose: ").split(" (")[0]
    assert f"(chose {choice}" not in line, line  # it said "chose X (chose X: ...)"
    assert "((" not in line and "))" not in line, line  # it said "(best estimated accuracy (0.694))"
    report = (tmp_path / "m" / "report.html").read_text()
    assert "Auto strategy: what was chosen and why" in report and "Data audit" in report
    code, text = run_cli("fit", image_folder, "-b", "tiny-cnn", "--budget", "soon", "-o", tmp_path / "bad")
    assert code == 2 and "Invalid value for '--budget': cannot read the time budget 'soon'" in text, text


def test_cli_default_checkpoint_folder_never_costs_a_users_files(tmp_path: Path, reviews: Path) -> None:
    args = ["fit", str(reviews), "-b", "tiny-text", "-s", "finetune", "--epochs", "1", "--text-column", "review",
            "--label-column", "sentiment", "--no-progress"]
    mine = tmp_path / "m.checkpoints"  # the default checkpoint folder of -o m, holding a user's notes
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    code, text = run_cli(*args, "-o", str(tmp_path / "m"))
    assert code == 1 and "holds other files ('notes.txt')" in text, text
    assert (mine / "notes.txt").read_text() == "mine" and not (tmp_path / "m").exists()  # refused before work
    (tmp_path / "f.checkpoints").write_text("a file")
    code, text = run_cli(*args, "-o", str(tmp_path / "f"))
    assert code == 1 and "is a file, not a folder for checkpoints" in text and not (tmp_path / "f").exists()
    (tmp_path / "k.checkpoints" / ".tmp-killed").mkdir(parents=True)  # a write killed in an earlier run
    code, text = run_cli(*args, "-o", str(tmp_path / "k"))
    assert code == 0, text
    assert not (tmp_path / "k.checkpoints").exists()  # only checkpoints were in it: removed with them
