"""Atomic files, and the SHA-256 of a file: write a temporary sibling, then rename, so a reader never sees half a file."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from .errors import DataError


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` (UTF-8) through a temporary file in the same folder and a rename.

    The file gets mode 0644 like any file written with ``open`` under the usual umask (``mkstemp`` alone
    would leave 0600, unreadable to anyone else on the machine). On any error the temporary file is
    removed and an existing ``path`` is untouched.
    """
    if not isinstance(text, str):
        raise TypeError(f"write_text_atomic writes a str, not {type(text).__name__}")
    return write_bytes_atomic(path, text.encode("utf-8"))


def write_bytes_atomic(path: str | Path, content: bytes) -> Path:
    """Write ``content`` to ``path`` as :func:`write_text_atomic` writes text. A ``path`` that is a folder
    is a :class:`~transferkit.errors.DataError` naming it (a rename cannot replace a folder by a file)."""
    path = Path(path)
    if path.is_dir():
        raise _is_a_folder(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except IsADirectoryError:  # the folder appeared since the check above
        Path(tmp).unlink(missing_ok=True)
        raise _is_a_folder(path) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _is_a_folder(path: Path) -> DataError:
    return DataError(f"cannot write {str(path)!r}: it is a folder, not a file; name a file in it instead")


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
