"""Package-level promises: a light import, explicit exports, a working console script."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import transferkit


def test_import_is_light_and_changes_no_global_state() -> None:
    code = (
        "import logging, os, sys, warnings;"
        "state = lambda: (dict(os.environ), list(warnings.filters), logging.root.level, list(logging.root.handlers),"
        " list(sys.path));"
        "before = state();"
        "import transferkit;"
        "heavy = [m for m in ('torch', 'transformers', 'timm', 'sklearn', 'matplotlib') if m in sys.modules];"
        "changed = [name for name, a, b in zip(('environ', 'warnings', 'log level', 'log handlers', 'path'),"
        " before, state()) if a != b];"
        "print(','.join(heavy) + '|' + ','.join(changed))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    heavy, changed = out.split("|")
    assert heavy == "", f"importing transferkit loaded {heavy}"
    assert changed == "", f"importing transferkit changed {changed}"


def test_public_names_resolve() -> None:
    for name in transferkit.__all__:
        assert getattr(transferkit, name) is not None
    assert "TransferClassifier" in dir(transferkit)


def test_console_script_reports_errors_without_traceback() -> None:
    res = subprocess.run([sys.executable, "-m", "transferkit", "fit", "nowhere.csv", "--out", "x", "-b", "nope"],
                         capture_output=True, text=True)
    assert res.returncode == 2  # a usage error: the option's value is wrong on its own
    assert "Unknown backbone 'nope'" in res.stderr and "Traceback" not in res.stderr
    res = subprocess.run([sys.executable, "-m", "transferkit", "fit", "nowhere.csv", "--out", "x", "-b", "tiny-text"],
                         capture_output=True, text=True)
    assert res.returncode == 1 and res.stderr.strip() == "Error: data 'nowhere.csv' does not exist (no such file or " \
        "folder)" and not Path("x").exists()
