"""``drop=``/``keep=`` of fix() mean what ``--drop``/``--keep`` of ``transferkit audit --fix`` mean: the checks
removed in addition to :data:`DEFAULT_DROP`, and the default checks whose items stay."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.helpers import run_cli

from transferkit.audit import DEFAULT_DROP, audit, fix
from transferkit.errors import DataError


@pytest.fixture
def leaky(tmp_path: Path) -> tuple[Path, Path]:
    """A table CSV with a copy, an outlier and a flipped label, and a test CSV that two of its rows leak into."""
    r = np.random.default_rng(0)
    X = np.concatenate([r.normal(-2, 1, (30, 4)), r.normal(2, 1, (30, 4))])
    y = np.repeat(["a", "b"], 30).astype(object)
    X[7] = X[3]  # exact copy of row 3
    X[20] = [8.0, -8.0, 8.0, -8.0]  # far from both clusters
    y[40] = "a"  # a flipped label
    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(4)]).assign(label=y)
    train = tmp_path / "data" / "train.csv"
    train.parent.mkdir()
    frame.to_csv(train, index=False)
    test = tmp_path / "data" / "test.csv"
    frame.iloc[[33, 50]].to_csv(test, index=False)
    return train, test


def _removed(folder: Path) -> list[int]:
    return pd.read_csv(folder / "audit_log.csv")["index"].tolist()


def _cli_fix(train: Path, test: Path, out: Path, *options: str) -> list[int]:
    code, text = run_cli("audit", train, "--test", test, "--backbone", "none", "--out", out.parent / f"{out.name}-rep",
                         "--fix", out, *options)
    assert code == 0, text
    return _removed(out)


def test_the_planted_problems_are_found(leaky: tuple[Path, Path]) -> None:
    result = audit(*leaky[:1], test=leaky[1])
    assert result["leakage"].indices == [33, 50]
    assert result["exact-duplicates"].indices == [7]
    assert result["outliers"].indices == [20] and result["label-errors"].indices == [40]


@pytest.mark.parametrize(("drop", "keep"), [
    ("outliers,label-errors", None),
    (["outliers", "label-errors"], None),
    ("outliers", "exact-duplicates"),
    (None, "leakage,exact-duplicates"),
])
def test_python_and_cli_with_the_same_words_remove_the_same_rows(leaky: tuple[Path, Path], tmp_path: Path,
                                                                  drop: str | list[str] | None,
                                                                  keep: str | None) -> None:
    train, test = leaky
    result = audit(train, test=test)
    outcome = fix(result, tmp_path / "py", drop=drop, keep=keep)
    options = [*(["--drop", drop if isinstance(drop, str) else ",".join(drop)] if drop else []),
               *(["--keep", keep] if keep else [])]
    cli_removed = _cli_fix(train, test, tmp_path / "cli", *options)
    assert _removed(outcome.folder) == cli_removed
    assert cli_removed == sorted(result.removals(drop, keep)) and outcome.n_removed == len(cli_removed)
    expected = pd.read_csv(train).iloc[result.kept(drop, keep)].reset_index(drop=True)
    pd.testing.assert_frame_equal(pd.read_csv(outcome.data), expected)
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "cli" / "train.csv"), expected)


def test_drop_adds_to_the_defaults_so_leaks_never_stay(leaky: tuple[Path, Path], tmp_path: Path) -> None:
    train, test = leaky
    result = audit(train, test=test)
    outcome = fix(result, tmp_path / "clean", drop="outliers,label-errors")
    assert {33, 50, 7} <= set(_removed(outcome.folder))  # leakage and the copy: the default drops
    assert _removed(outcome.folder) == [7, 20, 33, 40, 50]  # and the ones asked for
    assert set(outcome.removed_by_check) >= {"leakage", "exact-duplicates", "outliers", "label-errors"}
    # the whole set, as before, gives the same copy
    assert result.kept(DEFAULT_DROP | {"outliers", "label-errors"}) == result.kept("outliers,label-errors")


def test_keep_removes_fewer_than_the_defaults(leaky: tuple[Path, Path], tmp_path: Path) -> None:
    train, test = leaky
    result = audit(train, test=test)
    assert sorted(result.removals(keep="exact-duplicates")) == [33, 50]
    assert list(result.removals(drop="outliers", keep=DEFAULT_DROP)) == [20]  # only what is named
    assert fix(result, tmp_path / "all", keep=DEFAULT_DROP).n_removed == 0  # keeps everything


def test_a_check_in_both_drop_and_keep_is_refused_naming_it(leaky: tuple[Path, Path], tmp_path: Path) -> None:
    result = audit(leaky[0])
    with pytest.raises(DataError, match="'outliers' is in both drop and keep"):
        fix(result, tmp_path / "clean", drop="outliers,label-errors", keep=["outliers"])
    with pytest.raises(DataError, match="cannot keep 'outlers'"):
        result.kept(keep="outlers")
    assert not (tmp_path / "clean").exists()
