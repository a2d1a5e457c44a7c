"""Report folders: the one rule for writing into an output folder that may already exist.

Every folder of reports (``evaluate``, ``rank``, ``distance``, ``audit``, ``tune``, ``select``, ``ensemble``,
``adapt``, ``demo``, ``lr-find``) holds a marker file, :data:`MARKER`, with the SHA-256 of each file
transferkit wrote there. A file that the next run would replace may be replaced only when the marker
records its current content: written by transferkit and unchanged since. Anything else (a user's own
``report.html``, a report edited by hand, a folder named like an output) is refused, before any work,
naming the folder and the file; so rerunning a command into its own output folder works, and no user
file is ever lost.

A folder that is replaced as a whole (a saved model, an audit's cleaned copy) follows the same idea with
:func:`check_replaceable_folder`: it may be replaced only when it is empty or holds the file that marks
it as one of ours (``transferkit.json``, ``audit_log.json``).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from ._atomic import sha256_file, write_bytes_atomic, write_text_atomic
from .errors import DataError

__all__ = ["MARKER", "check_output_folder", "check_replaceable_folder", "file_in_the_way", "write_output_folder"]

#: The marker file transferkit writes into every report folder: ``{"files": {name: [sha256, ...]}}``.
MARKER = ".transferkit-outputs.json"


def _recorded(folder: Path) -> dict[str, list[str]]:
    """The marker's record (name -> accepted digests); empty when there is no readable marker."""
    try:
        files = json.loads((folder / MARKER).read_text(encoding="utf-8")).get("files", {})
    except (OSError, ValueError, AttributeError):
        return {}
    if not isinstance(files, dict):
        return {}
    return {str(k): [str(d) for d in v] for k, v in files.items() if isinstance(v, list)}


def file_in_the_way(path: str | Path) -> Path | None:
    """The nearest existing entry above ``path`` (its parents, not ``path`` itself) when that entry is a file:
    no folder can be created at ``path`` then (``mkdir`` fails with ``FileExistsError`` or
    ``NotADirectoryError``). None when the nearest existing parent is a folder."""
    for parent in Path(path).parents:
        if parent.exists():
            return None if parent.is_dir() else parent
    return None


def check_output_folder(folder: str | Path, names: Iterable[str]) -> None:
    """Refuse to write ``names`` into ``folder`` when that would replace anything transferkit did not write.

    Raises
    ------
    DataError
        ``folder`` is a file or lies under one, or one of ``names`` exists there and is not a file that transferkit wrote
        (and that is unchanged since), per the folder's :data:`MARKER`.
    """
    folder = Path(folder)
    if not folder.exists() and not folder.is_symlink():
        if (blocker := file_in_the_way(folder)) is not None:
            raise DataError(f"cannot create the output folder {str(folder)!r}: {str(blocker)!r} is a file, not a "
                            "folder; choose another output folder")
        return
    if not folder.is_dir():
        raise DataError(f"output {str(folder)!r} is a file, not a folder; choose a folder for the reports")
    recorded = _recorded(folder)
    for name in names:
        path = folder / name
        if not path.exists() and not path.is_symlink():
            continue
        if path.is_file() and not path.is_symlink() and sha256_file(path) in recorded.get(name, []):
            continue
        why = ("which transferkit did not write" if name not in recorded
               else "which was changed since transferkit wrote it")
        raise DataError(f"the output folder {str(folder)!r} already holds {name!r}, {why}; it would be "
                        "replaced, so move it away or choose another output folder")


def check_replaceable_folder(path: str | Path, *, overwrite: bool, marker: str, what: str,
                             error: type[Exception] = DataError) -> None:
    """Refuse, before any work, a ``path`` that cannot receive a folder replaced as a whole.

    Refused: an existing ``path`` without ``overwrite``; a file, or a path under a file; a folder that holds anything but
    ``marker`` (the file that marks an earlier folder of this kind: replacing it deletes nothing of the
    user's), unless it is empty; a parent folder that cannot be written. ``what`` names the kind of folder in
    the messages (``"transferkit model folder"``, ``"cleaned copy"``); ``error`` is the exception raised.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise error(f"{str(path)!r} already exists; choose another folder or pass overwrite=True")
    if path.exists() and not path.is_dir():
        raise error(f"{str(path)!r} exists and is not a folder; choose another place for the {what}")
    if not path.exists() and (blocker := file_in_the_way(path)) is not None:
        raise error(f"cannot create {str(path)!r}: {str(blocker)!r} is a file, not a folder; choose another "
                    f"place for the {what}")
    if path.is_dir() and not (path / marker).is_file() and any(path.iterdir()):
        raise error(f"{str(path)!r} holds other files, not a {what} (it has no {marker}); overwrite=True "
                    f"only replaces a {what}, never a folder of other files: choose another folder")
    parent = path.parent if str(path.parent) else Path(".")
    if parent.exists() and not os.access(parent, os.W_OK):
        raise error(f"cannot write into {str(parent)!r} (permission denied)")


def _write_marker(folder: Path, files: dict[str, list[str]]) -> None:
    write_text_atomic(folder / MARKER, json.dumps({"format": "transferkit-outputs", "files": files}, indent=1,
                                                  sort_keys=True))


def write_output_folder(folder: str | Path, files: Mapping[str, str | bytes]) -> dict[str, Path]:
    """Write ``files`` (name -> text or bytes) into ``folder`` under the rule of :func:`check_output_folder`.

    The folder and its parents are created. Each file is written atomically (a temporary sibling, then a
    rename); the marker accepts the old and the new content of a file while it is being replaced, so an
    interrupted run leaves a folder that the next run may still replace. Returns the written paths.
    """
    folder = Path(folder)
    check_output_folder(folder, files)
    folder.mkdir(parents=True, exist_ok=True)
    data = {name: content.encode("utf-8") if isinstance(content, str) else content for name, content in files.items()}
    new = {name: hashlib.sha256(content).hexdigest() for name, content in data.items()}
    record = _recorded(folder)
    _write_marker(folder, {**record, **{n: [new[n], *record.get(n, [])] for n in new}})  # old or new: both ours
    written = {}
    for name, content in data.items():
        written[name] = write_bytes_atomic(folder / name, content)
    _write_marker(folder, {**record, **{n: [d] for n, d in new.items()}})
    return written
