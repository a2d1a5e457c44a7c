"""The ``transferkit`` command: a thin layer that parses options and calls the Python API."""

from ._commands import cli


def main() -> None:
    """Entry point of the ``transferkit`` console script."""
    cli(prog_name="transferkit")


__all__ = ["cli", "main"]

# Each command module registers its commands on ``cli`` when imported.
from . import (  # noqa: E402
    _adapt,  # noqa: F401  adapt
    _audit,  # noqa: F401  audit
    _ensemble,  # noqa: F401  ensemble
    _multitask,  # noqa: F401  multitask
    _select,  # noqa: F401  select
    _selection,  # noqa: F401  rank, distance
    _training,  # noqa: F401  lr-find
    _tune,  # noqa: F401  tune
)
