"""Package-level promises: a light import, explicit exports, a working console script."""

from __future__ import annotations

import subprocess
import sys

import transferkit


def test_import_is_light_and_changes_no_global_state() -> None:
    code = (
        "import sys, transferkit;"
        "heavy = [m for m in ('torch', 'transformers', 'timm', 'sklearn', 'matplotlib') if m in sys.modules];"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "", f"importing transferkit loaded {out}"


def test_public_names_resolve() -> None:
    for name in transferkit.__all__:
        assert getattr(transferkit, name) is not None
    assert "TransferClassifier" in dir(transferkit)


def test_console_script_reports_errors_without_traceback() -> None:
    res = subprocess.run([sys.executable, "-m", "transferkit", "fit", "nowhere.csv", "--out", "x", "-b", "nope"],
                         capture_output=True, text=True)
    assert res.returncode == 1
    assert "Unknown backbone 'nope'" in res.stderr and "Traceback" not in res.stderr
