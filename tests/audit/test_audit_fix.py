"""fix(): a cleaned copy in the input's own shape, a log of every removal, and the input untouched."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from tests.helpers import polarity_texts, stripe_images

from transferkit.audit import DEFAULT_DROP, audit, fix
from transferkit.data import load_data
from transferkit.errors import DataError


def _digest(path: Path) -> dict[str, str]:
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


@pytest.fixture
def dirty_csv(tmp_path: Path) -> Path:
    X, y = polarity_texts(8)
    frame = pd.DataFrame({"review": X, "sentiment": y, "id": range(16)})
    frame.loc[3, "review"] = frame.loc[0, "review"]  # duplicate of row 1
    frame.loc[5, "sentiment"] = None
    frame.loc[6, "review"] = "   "
    frame.loc[12, "review"] = frame.loc[1, "review"]  # a negative line with a positive text: conflict
    path = tmp_path / "in" / "reviews.csv"
    path.parent.mkdir()
    frame.to_csv(path, index=False)
    return path


def test_fix_writes_kept_rows_in_the_same_format_and_a_log(dirty_csv: Path, tmp_path: Path) -> None:
    before = _digest(dirty_csv.parent)
    result = audit(dirty_csv, text_column="review", label_column="sentiment")
    outcome = fix(result, tmp_path / "clean")
    assert _digest(dirty_csv.parent) == before
    assert outcome.data == tmp_path / "clean" / "reviews.csv"
    kept = pd.read_csv(outcome.data)
    assert kept["id"].tolist() == [0, 2, 4, 7, 8, 9, 10, 11, 13, 14, 15]  # 1 and 12 conflict, 3 copies 0
    assert list(kept.columns) == ["review", "sentiment", "id"]
    assert (outcome.n_kept, outcome.n_removed) == (11, 5)
    log = json.loads((tmp_path / "clean" / "audit_log.json").read_text())
    removed = {e["index"]: e["checks"] for e in log["removed"]}
    assert removed == {1: ["label-conflicts"], 3: ["exact-duplicates"], 5: ["missing-labels"],
                       6: ["missing-values"], 12: ["exact-duplicates", "label-conflicts"]}
    assert log["removed_by_check"]["label-conflicts"] == 2 and log["drop"] == sorted(DEFAULT_DROP)
    rows = pd.read_csv(tmp_path / "clean" / "audit_log.csv")
    assert rows["index"].tolist() == [1, 3, 5, 6, 12] and rows["item"].str.startswith("row ").all()
    again = audit(outcome.data, text_column="review", label_column="sentiment")
    assert sum(len(f) for f in again.findings.values()) == 0


def test_fix_refuses_an_existing_folder_and_replaces_it_with_overwrite(dirty_csv: Path, tmp_path: Path) -> None:
    result = audit(dirty_csv, text_column="review", label_column="sentiment")
    out = tmp_path / "clean"
    out.mkdir()
    (out / "mine.txt").write_text("keep me")
    with pytest.raises(DataError, match="already exists"):
        fix(result, out)
    with pytest.raises(DataError, match="holds other files, not a cleaned copy"):  # it would delete mine.txt
        fix(result, out, overwrite=True)
    assert (out / "mine.txt").read_text() == "keep me"
    out = tmp_path / "cleaned"
    fix(result, out)
    (out / "reviews.csv").write_text("stale")
    fix(result, out, overwrite=True)  # an earlier cleaned copy is replaced as a whole
    assert sorted(p.name for p in out.iterdir()) == ["audit_log.csv", "audit_log.json", "reviews.csv"]
    assert (out / "reviews.csv").read_text() != "stale"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".clean")]  # no temporary left behind


def test_fix_never_writes_into_or_over_the_input(dirty_csv: Path, tmp_path: Path) -> None:
    result = audit(dirty_csv, text_column="review", label_column="sentiment")
    with pytest.raises(DataError, match="overlap the input"):
        fix(result, dirty_csv.parent, overwrite=True)
    assert dirty_csv.exists()


def test_fix_with_more_drops_and_unknown_names(tmp_path: Path) -> None:
    r = np.random.default_rng(0)
    X = np.concatenate([r.normal(-2, 1, (30, 5)), r.normal(2, 1, (30, 5))])
    y = np.repeat(["a", "b"], 30).astype(object)
    y[5] = "b"
    result = audit(X, y)
    outcome = fix(result, tmp_path / "out", drop=DEFAULT_DROP | {"label-errors"})
    data = load_data(outcome.data)
    assert data.modality == "table" and len(data) == 59 and outcome.removed_by_check == {"label-errors": 1}
    np.testing.assert_allclose(data.X, np.delete(X, 5, axis=0))
    with pytest.raises(DataError, match="cannot drop 'class-imbalance'"):
        fix(result, tmp_path / "other", drop={"class-imbalance"})
    with pytest.raises(DataError, match="cannot drop 'outlier'"):
        result.removals({"outlier"})


def test_fix_copies_an_image_folder_without_the_bad_files(tmp_path: Path) -> None:
    X, y = stripe_images(4, size=16)
    src = tmp_path / "imgs"
    for i, (img, label) in enumerate(zip(X, y, strict=True)):
        (src / label / "sub").mkdir(parents=True, exist_ok=True)
        Image.fromarray(img).save(src / label / "sub" / f"{i}.png")
    (src / "left" / "broken.png").write_bytes(b"garbage")
    Image.fromarray(X[1]).save(src / "top" / "zz_copy.png")  # after sub/ in load order: the copy
    before = _digest(src)
    result = audit(src)
    outcome = fix(result, tmp_path / "clean")
    assert _digest(src) == before
    copied = sorted(str(p.relative_to(outcome.folder)) for p in outcome.folder.rglob("*.png"))
    assert copied == sorted(f"{label}/sub/{i}.png" for i, label in enumerate(y))
    assert (outcome.folder / "top" / "sub" / "1.png").read_bytes() == (src / "top" / "sub" / "1.png").read_bytes()
    cleaned = load_data(outcome.folder)
    assert len(cleaned) == 8 and set(cleaned.classes) == {"top", "left"}
    log = json.loads((outcome.folder / "audit_log.json").read_text())
    assert {Path(e["item"]).name: e["checks"] for e in log["removed"]} == {
        "broken.png": ["corrupt-files"], "zz_copy.png": ["exact-duplicates"]}


def test_fix_writes_arrays_and_lists(tmp_path: Path) -> None:
    X, y = stripe_images(3, size=8)
    X = X.copy()
    X[2] = X[0]
    outcome = fix(audit(X, y), tmp_path / "imgs")
    assert sorted(p.name for p in (outcome.folder / "top").iterdir()) == ["000000.png", "000001.png"]
    texts = ["good", "good", "bad", None]
    out = fix(audit(texts, ["p", "p", "n", "n"]), tmp_path / "texts")
    assert pd.read_csv(out.data).to_dict("list") == {"text": ["good", "bad"], "label": ["p", "n"]}


def test_overwrite_never_replaces_a_folder_of_other_files(tmp_path: Path) -> None:
    from transferkit.audit._fix import check_fix_folder

    folder = tmp_path / "mine"
    folder.mkdir()
    check_fix_folder(folder, overwrite=True)  # empty: nothing to lose
    (folder / "notes.txt").write_text("keep me")
    with pytest.raises(DataError, match="holds other files, not a cleaned copy"):
        check_fix_folder(folder, overwrite=True)
    (folder / "audit_log.json").write_text("{}")
    check_fix_folder(folder, overwrite=True)  # an earlier cleaned copy


def test_fix_of_a_per_class_subsample_is_refused(tmp_path: Path) -> None:
    r = np.random.default_rng(0)
    X, y = r.normal(size=(60, 3)), np.repeat(["a", "b"], 30).astype(object)
    result = audit(pd.DataFrame(X).assign(label=y), per_class=5)
    with pytest.raises(DataError, match="would lose every item not audited; audit without per_class"):
        fix(result, tmp_path / "clean")
    assert not tmp_path.joinpath("clean").exists() and not list(tmp_path.iterdir())


def test_drop_as_a_string_is_one_name_or_comma_separated_names(tmp_path: Path) -> None:
    from transferkit.audit._findings import check_drop

    assert check_drop("outliers") == {"outliers"}
    assert check_drop(" outliers , label-errors ") == {"outliers", "label-errors"}
    r = np.random.default_rng(0)
    X = np.concatenate([r.normal(-2, 1, (30, 5)), r.normal(2, 1, (30, 5))])
    y = np.repeat(["a", "b"], 30).astype(object)
    y[5] = "b"
    result = audit(X, y)
    outcome = fix(result, tmp_path / "out", drop="label-errors")
    assert outcome.removed_by_check == {"label-errors": 1} and outcome.n_kept == 59
    assert result.kept("outliers,label-errors") == result.kept(["outliers", "label-errors"])
    with pytest.raises(DataError, match="cannot drop 'outlers'"):
        fix(result, tmp_path / "other", drop="outlers")


def test_fix_that_would_write_no_item_is_refused_before_writing(tmp_path: Path) -> None:
    X = np.ones((24, 2))
    result = audit(X, np.repeat(["a", "b"], 12).astype(object))  # one row, labelled both ways
    with pytest.raises(DataError, match=r"would hold no item: .* all 24 items \(label-conflicts 24, "
                                        r"exact-duplicates 23\); remove fewer checks with --keep \(keep= in Python\)"):
        fix(result, tmp_path / "clean")
    assert not list(tmp_path.iterdir())  # no folder, no temporary
    kept = fix(result, tmp_path / "clean", keep={"label-conflicts"})  # conflicts kept: one copy stays
    assert kept.n_kept == 1


def test_fix_that_loses_a_class_warns_and_writes(tmp_path: Path) -> None:
    X = np.vstack([np.ones((24, 2)), [[3.0, 0.0], [4.0, 1.0], [5.0, 4.0]]])
    y = np.asarray(["a"] * 12 + ["b"] * 12 + ["a"] * 3, dtype=object)
    outcome = fix(audit(X, y), tmp_path / "clean")
    assert outcome.warnings == ("class 'b' has no item left in the cleaned copy (all 12 removed)",)
    assert pd.read_csv(outcome.data)["label"].tolist() == ["a"] * 3
    log = json.loads((tmp_path / "clean" / "audit_log.json").read_text())
    assert log["warnings"] == list(outcome.warnings)
    assert fix(audit(X[24:], y[24:]), tmp_path / "fine").warnings == ()


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl", ".json"])
def test_fix_copies_every_kept_cell_as_written(suffix: str, tmp_path: Path) -> None:
    """Leading zeros, trailing zeros, the text NA, an integer column with a missing value, nested objects
    and CRLF line endings survive the copy (pandas' re-written table turned 00001 into 1, 1.50 into 1.5,
    and a JSON id 1 into 1.0)."""
    texts = ["great lovely film", "awful bad film", "great lovely film", "lovely great acting", "bad awful plot"]
    labels = ["pos", "neg", "pos", "pos", "neg"]  # row 2 copies row 0: removed
    zips, scores = ["00001", "00002", "00003", "00004", "NA"], ["1.50", "2.00", "3.10", "0.50", "7"]
    if suffix in (".csv", ".tsv"):
        sep = "," if suffix == ".csv" else "\t"
        lines = [sep.join(["text", "label", "zip", "score"])]
        lines += [sep.join(row) for row in zip(texts, labels, zips, scores, strict=True)]
        (tmp_path / f"in{suffix}").write_bytes(("\r\n".join(lines) + "\r\n").encode())
        expected = [lines[i + 1] for i in (0, 1, 3, 4)]
    else:
        records = [{"text": t, "label": lab, "id": i, "meta": {"zip": z}} for i, (t, lab, z)
                   in enumerate(zip(texts, labels, zips, strict=True))]
        del records[3]["id"]  # an integer column with a missing value
        dumped = [json.dumps(r) for r in records]
        source = "\n\n".join(dumped) + "\n" if suffix == ".jsonl" else "[" + ",\n".join(dumped) + "]"
        (tmp_path / f"in{suffix}").write_text(source)
        expected = [records[i] for i in (0, 1, 3, 4)]
    outcome = fix(audit(tmp_path / f"in{suffix}"), tmp_path / "clean")
    assert outcome.n_removed == 1
    written = outcome.data.read_bytes()
    if suffix in (".csv", ".tsv"):
        assert written.decode().split("\r\n")[1:-1] == expected and written.endswith(b"\r\n")
    elif suffix == ".jsonl":
        assert [json.loads(line) for line in written.decode().splitlines()] == expected
    else:
        assert json.loads(written) == expected
