"""Package-level promises: a light import, explicit exports, a working console script."""

from __future__ import annotations

import importlib
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


def test_subpackages_are_attributes_the_same_module_before_and_after_their_import() -> None:
    """``transferkit.audit`` is the subpackage in a fresh interpreter, whatever was imported first (it was the
    ``audit`` function until ``import transferkit.audit`` replaced it with the module)."""
    code = (
        "import transferkit;"
        "first = transferkit.audit;"
        "assert first.__name__ == 'transferkit.audit', first;"
        "assert callable(transferkit.audit.audit) and callable(transferkit.audit.fix);"
        "import transferkit.audit;"
        "from transferkit import audit;"
        "assert transferkit.audit is first and audit is first;"
        "print('ok')"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0 and res.stdout.strip() == "ok", res.stderr
    for name in transferkit._SUBPACKAGES:
        assert getattr(transferkit, name) is importlib.import_module(f"transferkit.{name}")


def test_subpackage_names_are_every_public_subpackage_and_no_lazy_name() -> None:
    root = Path(transferkit.__file__).parent
    found = {p.parent.name for p in root.glob("*/__init__.py")} - {"cli"}
    assert set(transferkit._SUBPACKAGES) == found
    assert not set(transferkit._SUBPACKAGES) & set(transferkit.__all__)  # a function under a subpackage's name
    assert set(transferkit._SUBPACKAGES) <= set(dir(transferkit))


def test_strategies_of_the_readme_are_top_level_names() -> None:
    from transferkit import AutoStrategy, FullFineTune, LinearProbe
    from transferkit.strategies import AutoStrategy as Auto

    assert AutoStrategy is Auto and {"AutoStrategy", "LinearProbe", "FullFineTune"} <= set(transferkit.__all__)
    assert LinearProbe is transferkit.LinearProbe and FullFineTune is transferkit.FullFineTune


def test_console_script_reports_errors_without_traceback() -> None:
    res = subprocess.run([sys.executable, "-m", "transferkit", "fit", "nowhere.csv", "--out", "x", "-b", "nope"],
                         capture_output=True, text=True)
    assert res.returncode == 2  # a usage error: the option's value is wrong on its own
    assert "Unknown backbone 'nope'" in res.stderr and "Traceback" not in res.stderr
    res = subprocess.run([sys.executable, "-m", "transferkit", "fit", "nowhere.csv", "--out", "x", "-b", "tiny-text"],
                         capture_output=True, text=True)
    assert res.returncode == 1 and res.stderr.strip() == "Error: data 'nowhere.csv' does not exist (no such file or " \
        "folder)" and not Path("x").exists()
