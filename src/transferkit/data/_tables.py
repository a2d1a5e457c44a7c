"""Read a table file (CSV, TSV, JSON Lines, JSON, Parquet) into a pandas DataFrame."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from transferkit.errors import DataError, error_cause

__all__ = ["TABLE_EXTENSIONS", "column_order", "read_table", "read_table_verbatim"]

# Suffix -> (format name for messages, reader). Compressed files (".csv.gz", ...) are read by the
# reader of the inner suffix; pandas picks the decompression from the outer one.
_READERS: dict[str, tuple[str, Callable[[Path], pd.DataFrame]]] = {
    ".csv": ("CSV", lambda path: pd.read_csv(path)),
    ".tsv": ("TSV", lambda path: pd.read_csv(path, sep="\t")),
    # dtype=False: JSON has its own types; pandas' inference turned the string labels "1" and "01" into
    # one integer class, and the text "404" into a number
    ".jsonl": ("JSON Lines", lambda path: pd.read_json(path, lines=True, dtype=False)),
    ".ndjson": ("JSON Lines", lambda path: pd.read_json(path, lines=True, dtype=False)),
    ".json": ("JSON", lambda path: pd.read_json(path, dtype=False)),
    ".parquet": ("Parquet", lambda path: pd.read_parquet(path)),
}
_COMPRESSION_SUFFIXES = frozenset({".gz", ".bz2", ".xz", ".zst", ".zip"})

#: Table file extensions that :func:`read_table` understands.
TABLE_EXTENSIONS: frozenset[str] = frozenset(_READERS)


def _table_suffix(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if len(suffixes) >= 2 and suffixes[-1] in _COMPRESSION_SUFFIXES and suffixes[-2] != ".parquet":
        return suffixes[-2]
    return suffixes[-1] if suffixes else ""


def read_table(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a table file into a DataFrame, choosing the reader from the file extension.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.csv``, ``.tsv``, ``.jsonl``/``.ndjson`` (one JSON object per line), ``.json`` (records or
        columns) or ``.parquet`` file. Text formats may be compressed (``data.csv.gz``).

    Returns
    -------
    pandas.DataFrame
        The table as pandas reads it (column types inferred).

    Raises
    ------
    DataError
        The extension is not supported, the file does not exist, or it cannot be parsed.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "reviews.csv").write_text("text,label\\ngreat,pos\\nawful,neg\\n")
    >>> read_table(folder / "reviews.csv").shape
    (2, 2)
    """
    path = Path(path)
    suffix = _table_suffix(path)
    if suffix not in _READERS:
        supported = ", ".join(sorted(_READERS))
        raise DataError(
            f"Table file '{path}' has an unsupported extension {suffix or '(none)'!r}; "
            f"use one of {supported}."
        )
    if not path.exists():
        raise DataError(f"Table file '{path}' does not exist; check the path.")
    if path.is_dir():
        raise DataError(f"Table file '{path}' is a folder, not a file.")
    kind, reader = _READERS[suffix]
    try:
        frame = reader(path)
        if suffix in (".csv", ".tsv"):
            _check_header(path, "\t" if suffix == ".tsv" else ",")
    except pd.errors.EmptyDataError:
        raise DataError(f"Table file '{path}' is empty; it needs a header row and data rows.") from None
    except DataError:
        raise  # already one sentence naming the file (a column named twice)
    except (ValueError, OSError, UnicodeError) as exc:  # ParserError and ArrowInvalid are ValueErrors
        detail = error_cause(exc)
        hint = " If it holds one JSON object per line, name it .jsonl." if suffix == ".json" else ""
        if kind == "JSON Lines":
            hint = _bad_json_line(path) or hint
        raise DataError(f"Cannot read table file '{path}' as {kind}: {detail}.{hint}") from None
    return frame


def read_table_verbatim(path: str | os.PathLike[str]) -> pd.DataFrame:
    """A table file's cells as written, for columns that are copied, not read (an id carried into the
    predictions, the rows an audit keeps): CSV and TSV cells as strings (``007`` stays ``007``, ``1.50``
    stays ``1.50``, ``NA`` stays ``NA``, an empty cell stays empty), JSON values with their own types (an
    integer column with a missing value stays integers, the missing one empty; nested objects as JSON),
    Parquet as stored. Call it on a file :func:`read_table` has read: same rows, same order."""
    path = Path(path)
    suffix = _table_suffix(path)
    if suffix in (".csv", ".tsv"):
        return pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",", dtype=str, keep_default_na=False)
    frame = _READERS[suffix][1](path)
    if suffix == ".parquet":
        return frame
    frame = frame.convert_dtypes()
    for column in frame.select_dtypes(include="object").columns:  # nested objects and lists: as JSON, not repr
        frame[column] = frame[column].map(lambda v: json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else v)
    return frame


def _check_header(path: Path, sep: str) -> None:
    """Refuse a header that names a column twice: pandas renames the second copy (``label.1``), and a
    duplicated label column would then be read as a feature (the label leaking into training)."""
    header = pd.read_csv(path, sep=sep, header=None, nrows=1, dtype=str, keep_default_na=False).iloc[0].tolist()
    seen: set[str] = set()
    twice = [name for name in header if name in seen or seen.add(name)]  # type: ignore[func-returns-value]
    if twice:
        shown = ", ".join(repr(n) for n in dict.fromkeys(twice))
        raise DataError(f"Table file '{path}' names the column(s) {shown} more than once; rename or drop the copies.")


def _bad_json_line(path: Path) -> str:
    """`` The first malformed line is line N.`` for a JSON Lines file, or "" when none is found."""
    import gzip
    import json

    opener = gzip.open if path.suffix.lower() == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8") as fh:
            for number, line in enumerate(fh, start=1):
                if line.strip():
                    try:
                        value = json.loads(line)
                    except ValueError:
                        return f" The first malformed line is line {number}."
                    if not isinstance(value, dict):
                        return f" Line {number} is not a JSON object."
    except (OSError, UnicodeError):
        return ""
    return ""


def _shown(names: list[str], limit: int = 5) -> str:
    return ", ".join(repr(n) for n in names[:limit]) + (f" and {len(names) - limit} more" if len(names) > limit else "")


def column_order(names: Sequence[Any], other_names: Sequence[Any], what: str, source: str, other_source: str) -> list[int]:
    """Positions in ``other_names`` (the columns of ``what``, read from ``other_source``) of each name of
    ``names`` (the columns of ``source``), in that order. A missing or extra column is a
    :class:`~transferkit.errors.DataError` naming them."""
    given = {str(n): i for i, n in enumerate(other_names)}
    known = set(map(str, names))
    missing = [str(n) for n in names if str(n) not in given]
    extra = [str(n) for n in other_names if str(n) not in known]
    if missing or extra:
        problems = ([f"lacks the feature column(s) {_shown(missing)}"] if missing else []) + \
            ([f"has the column(s) {_shown(extra)} that are not in it"] if extra else [])
        raise DataError(f"{what} ({other_source}) must have the feature columns of {source}, but it "
                        f"{' and '.join(problems)}")
    return [given[str(n)] for n in names]
