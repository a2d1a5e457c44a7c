"""Tests of load_data, Dataset, read_table and the label/text/modality checks."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from transferkit.data import (
    TABLE_EXTENSIONS,
    Dataset,
    check_labels,
    check_texts,
    infer_modality,
    load_data,
    read_table,
)
from transferkit.errors import DataError, ImageLoadError


def _png(path: Path, value: int = 0, size: tuple[int, int] = (4, 4)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (value, value, value)).save(path)
    return path


@pytest.fixture
def image_folder(tmp_path: Path) -> Path:
    root = tmp_path / "photos"
    _png(root / "dog" / "b.png")
    _png(root / "dog" / "a.jpg")
    _png(root / "cat" / "nested" / "deeper" / "c.PNG")
    (root / "cat" / "notes.txt").write_text("not an image")
    (root / "cat" / ".hidden.png").write_bytes(b"")  # macOS-style hidden file, ignored
    (root / ".ipynb_checkpoints").mkdir()
    return root


# --- image folders ---------------------------------------------------------------------------------


def test_image_folder_labels_are_sub_folder_names(image_folder: Path) -> None:
    data = load_data(image_folder)
    assert data.modality == "image"
    assert data.y.tolist() == ["cat", "dog", "dog"]
    assert [Path(p).name for p in data.X] == ["c.PNG", "a.jpg", "b.png"]  # recursive, sorted
    assert data.X.dtype == object and all(Path(p).is_file() for p in data.X)
    assert data.classes.tolist() == ["cat", "dog"]
    assert str(image_folder) in data.source


def test_empty_class_folder_is_named(image_folder: Path) -> None:
    (image_folder / "bird").mkdir()
    (image_folder / "bird" / "readme.md").write_text("x")
    with pytest.raises(DataError, match="contains no images") as info:
        load_data(image_folder)
    assert str(image_folder / "bird") in str(info.value)


def test_folder_without_class_sub_folders(tmp_path: Path) -> None:
    _png(tmp_path / "one.png")
    with pytest.raises(DataError, match="no class sub-folders") as info:
        load_data(tmp_path)
    assert str(tmp_path) in str(info.value) and "1 images directly" in str(info.value)


def test_loose_images_next_to_class_folders_are_ignored_with_a_warning(image_folder: Path) -> None:
    _png(image_folder / "stray.png")
    with pytest.warns(UserWarning, match="stray.png"):
        data = load_data(image_folder)
    assert len(data) == 3


def test_image_folder_rejects_labels(image_folder: Path) -> None:
    with pytest.raises(DataError, match="sub-folder names"):
        load_data(image_folder, labels=["a", "b", "c"])


# --- table files -----------------------------------------------------------------------------------

_TEXTS = pd.DataFrame({"text": ["great hotel", "awful room", "fine"], "label": ["pos", "neg", "pos"]})


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl", ".ndjson", ".json", ".parquet", ".csv.gz"])
def test_every_table_format_loads_texts(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"reviews{suffix}"
    if suffix in (".csv", ".csv.gz"):
        _TEXTS.to_csv(path, index=False)
    elif suffix == ".tsv":
        _TEXTS.to_csv(path, index=False, sep="\t")
    elif suffix in (".jsonl", ".ndjson"):
        _TEXTS.to_json(path, orient="records", lines=True, force_ascii=False)
    elif suffix == ".json":
        _TEXTS.to_json(path, orient="records")
    else:
        _TEXTS.to_parquet(path)
    data = load_data(path)
    assert data.modality == "text"
    assert data.X.tolist() == _TEXTS["text"].tolist()
    assert data.y.tolist() == ["pos", "neg", "pos"]
    assert data.summary()["class_counts"] == {"neg": 1, "pos": 2}


def test_integer_labels_stay_integers(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("text,label\nyes,1\nno,0\n")
    y = load_data(path).y
    assert y.dtype.kind == "i" and y.tolist() == [1, 0]


def test_missing_text_column_lists_columns_and_option(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("review,label\nnice,pos\nbad,neg\nmeh,\n")
    with pytest.raises(DataError, match="--text-column") as info:  # column errors before row errors
        load_data(path)
    message = str(info.value)
    assert "'text' not found" in message and "'review', 'label'" in message and str(path) in message
    with pytest.raises(DataError, match="has no label in row 3"):
        load_data(path, text_column="review")
    assert load_data(path, text_column="review", label_column=None).X.tolist() == ["nice", "bad", "meh"]


def test_missing_label_column_lists_columns_and_option(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("text,sentiment\nnice,pos\nbad,neg\n")
    with pytest.raises(DataError, match="--label-column") as info:
        load_data(path)
    assert "'label' not found" in str(info.value) and "'text', 'sentiment'" in str(info.value)
    unlabeled = load_data(path, label_column=None)
    assert unlabeled.y is None and unlabeled.summary()["class_counts"] is None


def test_missing_labels_are_listed_by_one_based_row(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("text,label\na,pos\nb,\nc,neg\nd,\n")
    with pytest.raises(DataError, match=r"rows 2, 4\b") as info:
        load_data(path)
    assert "'label'" in str(info.value) and str(path) in str(info.value)


def test_empty_and_blank_texts_are_listed_by_row(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    rows = [{"text": "ok", "label": 1}, {"text": "   ", "label": 0}, {"text": None, "label": 1}]
    path.write_text("\n".join(json.dumps(r) for r in rows))
    with pytest.raises(DataError, match=r"rows 2, 3\b") as info:
        load_data(path)
    assert "'text'" in str(info.value)


def test_numeric_table_becomes_float_features(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("a,b,label\n1,2.5,x\n3,4,y\n")
    data = load_data(path)
    assert data.modality == "table" and data.X.dtype == np.float64
    np.testing.assert_array_equal(data.X, [[1, 2.5], [3, 4]])
    assert data.feature_names == ["a", "b"]
    assert data.summary()["n_features"] == 2


def test_forced_table_with_text_columns_names_them(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("a,text,label\n1,x,p\n2,y,q\n")
    with pytest.raises(DataError, match="'text'.*not numeric"):
        load_data(path, modality="table")


def test_non_numeric_table_without_text_column_asks_for_text_column(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("a,comment,label\n1,x,p\n2,y,q\n")
    with pytest.raises(DataError, match="Column 'text' not found.*'a', 'comment', 'label'") as info:
        load_data(path)
    assert "cannot be read as a feature table either: column 'comment' is not numeric" in str(info.value)


def test_a_numeric_table_with_string_columns_names_them(tmp_path: Path) -> None:
    """An id column (or a non-numeric label left as a feature by --label-column) is named as the reason the
    table is no feature table, beside the hint for text tables."""
    path = tmp_path / "withid.csv"
    path.write_text("id,f1,f2,label\nr1,1,2,a\nr2,3,4,b\n")
    with pytest.raises(DataError, match="column 'id' is not numeric") as info:
        load_data(path)
    assert "--text-column" in str(info.value) and str(path) in str(info.value)
    with pytest.raises(DataError, match="columns 'id', 'label' are not numeric"):
        load_data(path, label_column="f1")


def test_image_column_resolves_paths_against_the_table_folder(tmp_path: Path) -> None:
    _png(tmp_path / "imgs" / "1.png")
    _png(tmp_path / "imgs" / "2.png")
    path = tmp_path / "index.csv"
    path.write_text("file,label\nimgs/1.png,cat\nimgs/2.png,dog\n")
    data = load_data(path, image_column="file")
    assert data.modality == "image"
    assert data.X.tolist() == [str(tmp_path / "imgs" / "1.png"), str(tmp_path / "imgs" / "2.png")]


def test_image_column_with_missing_file_names_path_and_row(tmp_path: Path) -> None:
    _png(tmp_path / "1.png")
    path = tmp_path / "index.csv"
    path.write_text("file,label\n1.png,cat\ngone.png,dog\n")
    with pytest.raises(ImageLoadError, match=r"gone\.png' \(row 2 of") as info:
        load_data(path, image_column="file")
    assert str(tmp_path / "gone.png") in str(info.value)


def test_image_modality_without_image_column_asks_for_it(tmp_path: Path) -> None:
    path = tmp_path / "index.csv"
    path.write_text("file,label\n1.png,cat\n")
    with pytest.raises(DataError, match="--image-column"):
        load_data(path, modality="image")


# --- read_table errors -------------------------------------------------------------------------------


def test_unknown_extension_lists_supported(tmp_path: Path) -> None:
    path = tmp_path / "data.xlsx"
    path.write_bytes(b"x")
    with pytest.raises(DataError, match="unsupported extension '.xlsx'") as info:
        read_table(path)
    assert all(ext in str(info.value) for ext in TABLE_EXTENSIONS) and str(path) in str(info.value)


def test_missing_table_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist") as info:
        read_table(tmp_path / "gone.csv")
    assert "gone.csv" in str(info.value)


@pytest.mark.parametrize(
    ("name", "content", "pattern"),
    [
        ("bad.parquet", b"this is not parquet", "as Parquet"),
        ("bad.json", b'{"text": "a"}\n{"text": "b"}\n', r"as JSON.*\.jsonl"),
        ("bad.jsonl", b"{not json}\n", "as JSON Lines"),
        ("bad.csv", b'a,b\n"unclosed,1\n', "as CSV"),
        ("empty.csv", b"", "is empty"),
    ],
)
def test_unparsable_table_names_the_file(tmp_path: Path, name: str, content: bytes, pattern: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DataError, match=pattern) as info:
        read_table(path)
    assert str(path) in str(info.value)


def test_load_data_of_missing_path_and_single_image(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        load_data(tmp_path / "nothing")
    with pytest.raises(DataError, match="single image"):
        load_data(_png(tmp_path / "x.png"))


# --- DataFrames, arrays and lists ------------------------------------------------------------------


def test_dataframe_source_and_index_labels_in_messages() -> None:
    frame = pd.DataFrame({"text": ["a", "b", "c"], "label": ["x", None, "y"]}, index=[10, 11, 12])
    with pytest.raises(DataError, match=r"index 11\b"):
        load_data(frame)
    data = load_data(frame.dropna())
    assert data.modality == "text" and data.y.tolist() == ["x", "y"]


def test_dataframe_with_separate_labels() -> None:
    frame = pd.DataFrame({"f1": [0.0, 1.0], "f2": [1, 2]})
    data = load_data(frame, labels=["a", "b"])
    assert data.modality == "table" and data.y.tolist() == ["a", "b"]
    with pytest.raises(DataError, match="labels= was also given"):
        load_data(frame.assign(label=[0, 1]), labels=["a", "b"])


def test_numpy_table_and_images() -> None:
    rng = np.random.default_rng(0)
    table = load_data(rng.normal(size=(5, 3)), labels=np.arange(5) % 2)
    assert table.modality == "table" and table.X.dtype == np.float64 and table.y.tolist() == [0, 1, 0, 1, 0]
    images = load_data(rng.integers(0, 256, size=(4, 8, 8), dtype=np.uint8), labels=[1, 2, 1, 2])
    assert images.modality == "image" and images.summary()["image_shape"] == [8, 8]
    with pytest.raises(DataError, match="4 samples but 3 labels"):
        load_data(np.zeros((4, 8, 8)), labels=[1, 2, 1])


def test_list_of_image_paths(image_folder: Path) -> None:
    paths = [str(image_folder / "dog" / "a.jpg"), str(image_folder / "cat" / "nested" / "deeper" / "c.PNG")]
    data = load_data(paths, labels=["a", "b"])
    assert data.modality == "image" and data.X.tolist() == paths
    with pytest.raises(ImageLoadError, match=r"missing\.png' \(item 2\)"):
        load_data([*paths, str(image_folder / "missing.png")])


def test_list_of_pil_images_is_stacked() -> None:
    images = [Image.new("L", (3, 2), 10), Image.new("RGB", (3, 2), (1, 2, 3))]
    data = load_data(images, labels=["a", "b"])
    assert data.X.shape == (2, 2, 3, 3) and data.X.dtype == np.uint8
    with pytest.raises(DataError, match="item 1"):
        load_data([Image.new("L", (3, 2)), Image.new("L", (4, 4))])


def test_list_of_texts_and_forced_text_modality() -> None:
    data = load_data(["nice", "bad"], labels=["pos", "neg"])
    assert data.modality == "text" and data.summary()["max_chars"] == 4
    as_text = load_data(["a.png", "b.png"], modality="text")
    assert as_text.modality == "text" and as_text.y is None
    with pytest.raises(DataError, match="index 1"):
        load_data(["fine", ""], labels=["a", "b"])


def test_dataset_passes_through_and_bad_inputs_are_described() -> None:
    data = Dataset(X=np.array(["a"], dtype=object), y=None, modality="text")
    assert load_data(data) is data
    with pytest.raises(DataError, match="Cannot load data from a int"):
        load_data(3)
    with pytest.raises(DataError, match="Unknown modality 'audio'"):
        load_data(["a"], modality="audio")  # type: ignore[arg-type]


# --- Dataset ---------------------------------------------------------------------------------------


def test_dataset_summary_is_plain_python() -> None:
    data = Dataset(
        X=np.array(["ab", "abcd", "abcdef"], dtype=object), y=np.array([2, 1, 2]), modality="text", source="s"
    )
    summary = data.summary()
    assert summary == {
        "n_samples": 3,
        "modality": "text",
        "source": "s",
        "n_classes": 2,
        "class_counts": {1: 1, 2: 2},
        "mean_chars": 4.0,
        "max_chars": 6,
    }
    json.dumps(summary)
    assert data.classes.tolist() == [1, 2] and len(data) == 3


def test_dataset_validates_lengths_and_is_frozen() -> None:
    with pytest.raises(DataError, match="2 samples but 1 labels"):
        Dataset(X=np.zeros((2, 3)), y=np.array([1]), modality="table")
    data = Dataset(X=np.zeros((2, 3)), y=None, modality="table")
    with pytest.raises(AttributeError):
        data.y = np.array([1, 2])  # type: ignore[misc]
    assert data.classes.size == 0


# --- check_labels, check_texts, infer_modality ---------------------------------------------------------


def test_check_labels_single_class_message() -> None:
    with pytest.raises(
        DataError, match=r"only one class \('cat'\) in the labels; a classifier needs at least two"
    ):
        check_labels(["cat", "cat"])
    assert check_labels(["cat", "cat"], min_classes=1).tolist() == ["cat", "cat"]
    with pytest.raises(DataError, match=r"only 2 classes \(0, 1\)"):
        check_labels([0, 1, 1], min_classes=3)


@pytest.mark.parametrize(
    ("labels", "pattern"),
    [
        (["a", None, "b", ""], r"missing at indices 1, 3"),
        ([1.0, np.nan, 2.0], r"missing at index 1"),
        (np.zeros((3, 2)), r"shape \(3, 2\)"),
        (["a", 1, "b"], "mix strings"),
        ([], "empty"),
        ("ab", "single string"),
    ],
)
def test_check_labels_errors(labels: object, pattern: str) -> None:
    with pytest.raises(DataError, match=pattern):
        check_labels(labels)


def test_check_labels_returns_values_unchanged() -> None:
    assert check_labels(pd.Series([3, 1, 3])).tolist() == [3, 1, 3]
    assert check_labels(np.array([[0], [1]])).tolist() == [0, 1]


def test_check_texts() -> None:
    out = check_texts(("a", "b"))
    assert out.dtype == object and out.tolist() == ["a", "b"]
    with pytest.raises(DataError, match=r"index 2 is a float \(nan\)"):
        check_texts(["a", "b", float("nan")])
    with pytest.raises(DataError, match=r"index 1 is blank.*2 texts"):
        check_texts(["a", " \n", ""])
    with pytest.raises(DataError, match="No texts"):
        check_texts([])


@pytest.mark.parametrize(
    ("X", "expected"),
    [
        (np.zeros((4, 3)), "table"),
        (np.zeros((4, 8, 8), dtype=np.uint8), "image"),
        (np.zeros((4, 8, 8, 3)), "image"),
        (["a.png", Path("b.JPG")], "image"),
        ([Image.new("L", (2, 2)), np.zeros((2, 2))], "image"),
        (["a.png", "just words"], "text"),
        (pd.Series(["one", "two"]), "text"),
        (np.array(["one", "two"]), "text"),
        (pd.DataFrame({"a": [1, 2], "b": [0.5, 1.0]}), "table"),
    ],
)
def test_infer_modality(X: object, expected: str) -> None:
    assert infer_modality(X) == expected


@pytest.mark.parametrize(
    ("X", "pattern"),
    [
        (np.zeros(5), r"shape \(5,\)"),
        (np.zeros((2, 3, 4, 5)), r"shape \(2, 3, 4, 5\)"),
        ([1, "a"], "list of int, str"),
        ([], "list of nothing"),
        (pd.DataFrame({"a": ["x"]}), "DataFrame with columns 'a'"),
        ({"a": 1}, "a dict"),
    ],
)
def test_infer_modality_describes_what_it_got(X: object, pattern: str) -> None:
    with pytest.raises(DataError, match=pattern):
        infer_modality(X)


def test_take_keeps_everything_but_the_other_rows() -> None:
    data = load_data(["a", "b", "c"], labels=["x", "y", "x"])
    part = data.take([2, 0])
    assert part.X.tolist() == ["c", "a"] and part.y.tolist() == ["x", "x"]
    assert (part.modality, part.source) == (data.modality, data.source)
    unlabeled = load_data(["a", "b"]).take([1])
    assert unlabeled.y is None and unlabeled.X.tolist() == ["b"]


def test_json_string_labels_and_texts_keep_their_type(tmp_path: Path) -> None:
    """pandas' JSON type inference made "1" and "01" one integer class and the text "404" a number."""
    rows = [{"text": "good", "label": "1"}, {"text": "404", "label": "01"}, {"text": "fine", "label": "1"},
            {"text": "bad", "label": "01"}]
    path = tmp_path / "t.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    data = load_data(path)
    assert sorted(set(data.y.tolist())) == ["01", "1"] and list(data.X) == ["good", "404", "fine", "bad"]
    numbers = tmp_path / "n.jsonl"
    numbers.write_text('{"text": "a", "label": 1}\n{"text": "b", "label": 2}\n')
    assert load_data(numbers).y.tolist() == [1, 2], "JSON numbers stay numbers"


def test_a_column_named_twice_is_refused(tmp_path: Path) -> None:
    """pandas renamed the second 'label' to 'label.1', which then became a feature: the label leaked."""
    path = tmp_path / "dup.csv"
    path.write_text("f1,f2,label,label\n1,2,a,a\n3,4,b,b\n5,6,a,a\n")
    with pytest.raises(DataError, match=r"names the column\(s\) 'label' more than once"):
        load_data(path)
    tsv = tmp_path / "dup.tsv"
    tsv.write_text("text\ttext\tlabel\nx\ty\ta\n")
    with pytest.raises(DataError, match="'text' more than once"):
        load_data(tsv)


def test_a_malformed_json_line_is_numbered(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "a", "label": 1}\n{"text": "b", "label": 2}\n{"text": "c", "label":\n')
    with pytest.raises(DataError, match="The first malformed line is line 3"):
        load_data(path)


def test_labels_that_differ_only_by_spaces_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "pad.csv"
    path.write_text("text,label\na,pos\nb, pos\nc,neg\nd,neg \n")
    with pytest.raises(DataError, match=r"differ only by spaces around them \(' pos' and 'pos'; 'neg' and 'neg '\)"):
        load_data(path)
    path.write_text("text,label\na, pos\nb, pos\nc,neg\nd,neg\n")  # padded, but no two classes merge: kept as given
    assert sorted(set(load_data(path).y.tolist())) == [" pos", "neg"]


def test_a_text_column_of_numbers_says_so(tmp_path: Path) -> None:
    path = tmp_path / "num.csv"
    path.write_text("text,label\n1,a\n2,b\n3,a\n")
    with pytest.raises(DataError, match=r"holds numbers, not text, in rows 1, 2, 3.*rename that column \(or pass "
                                        r"modality='table' in the Python API\)") as err:
        load_data(path)
    assert "--modality" not in str(err.value)  # no command takes a --modality for its data
    assert load_data(path, modality="table").modality == "table"  # the API remedy the message names works
