"""The ``transferkit`` command: a thin layer that parses options and calls the Python API."""

from ._commands import cli


def main() -> None:
    """Entry point of the ``transferkit`` console script."""
    cli(prog_name="transferkit")


__all__ = ["cli", "main"]

from . import _selection  # noqa: E402,F401  (registers the rank and distance commands on cli)
from . import _training  # noqa: E402,F401  (registers the lr-find command on cli)
