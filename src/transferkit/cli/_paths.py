"""Output locations, checked before any work: writable, and never the input data or inside it."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from ..errors import DataError


def unwritable(path: Path) -> str | None:
    """Why nothing can be written at ``path`` (a folder or file to create or replace), or None.

    The nearest existing folder on the path must be a folder in which an entry can be created: probed by
    creating and removing an empty hidden folder there (``os.access`` says yes to root even on /proc)."""
    folder = path if path.is_dir() else path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        return f"{str(folder)!r} is a file, not a folder, so {str(path)!r} cannot be created"
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".transferkit-probe-", dir=folder))
    except OSError as exc:
        return f"cannot write in {str(folder)!r} ({exc.strerror or exc})"
    return None


class OutputPath(click.Path):
    """A ``click.Path`` the command writes to, refused when the options are parsed (before any work) if
    nothing can be written there (see :func:`unwritable`)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not os.fsdecode(value).strip():  # Path("") is the current folder: never what an empty value meant
            self.fail("an empty path names no file or folder", param, ctx)
        value = super().convert(value, param, ctx)
        problem = unwritable(Path(os.fsdecode(value)))
        if problem:
            self.fail(problem, param, ctx)
        return value


class ReportFolder(OutputPath):
    """An output folder of reports (``FILES``): besides :class:`OutputPath`'s checks, refused when the options
    are parsed if writing there would replace a file transferkit did not write (the one rule of
    :func:`transferkit._outputs.check_output_folder`; the command writes with :func:`write_output_folder`)."""

    def __init__(self, *files: str) -> None:
        super().__init__(file_okay=False)
        self.files = files

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from .._outputs import check_output_folder

        value = super().convert(value, param, ctx)
        try:
            check_output_folder(os.fsdecode(value), self.files)
        except DataError as exc:
            self.fail(str(exc), param, ctx)
        return value


def check_outside_inputs(out: str | Path | None, *inputs: str | Path | None, replaces: bool = False) -> None:
    """Refuse an output that is an input path, or lies inside an input folder: writing there would replace
    the data, or add files (a report, a model folder) that a later run reads as data. With ``replaces``
    (a folder that ``--overwrite`` replaces as a whole) an input inside the output is refused too. Inputs
    that are not paths (packaged dataset names) are skipped."""
    if out is None:
        return
    target = Path(out).resolve()
    for given in inputs:
        if given is None or not str(given).strip() or not Path(given).exists():  # "" is refused when read
            continue
        source = Path(given).resolve()
        if target == source:
            raise DataError(f"output {str(out)!r} is the input {str(given)!r}; write somewhere else")
        if source.is_dir() and target.is_relative_to(source):
            raise DataError(f"output {str(out)!r} lies inside the input folder {str(given)!r}, where it would "
                            "become part of the data; write somewhere else")
        if replaces and source.is_relative_to(target):  # replacing the output would delete the input
            raise DataError(f"the input {str(given)!r} lies inside the output folder {str(out)!r}; write "
                            "somewhere else")


@contextmanager
def naming_option(option: str) -> Iterator[None]:
    """Errors reading the data an option names say so: ``--test: data 'x.csv' does not exist``."""
    try:
        yield
    except DataError as exc:
        raise DataError(f"{option}: {exc}") from exc
