"""Option types shared by the commands."""

from __future__ import annotations

import math
from typing import Any

import click


class FiniteFloatRange(click.FloatRange):
    """A ``click.FloatRange`` that also refuses ``nan`` and ``inf``: ``float()`` reads them, and NaN passes
    every range check (each comparison with it is false), so it would reach the API unchecked."""

    name = "float"  # click says "'x' is not a valid float."

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = click.FLOAT.convert(value, param, ctx)  # a float, or "'x' is not a valid float."
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return super().convert(number, param, ctx)


class FiniteFloatList(click.ParamType):
    """Comma-separated numbers, each checked by ``item`` (a :class:`FiniteFloatRange`); a list of floats."""

    name = "numbers"

    def __init__(self, item: FiniteFloatRange) -> None:
        self.item = item

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, list | tuple):
            return [self.item.convert(v, param, ctx) for v in value]
        parts = [p.strip() for p in str(value).split(",") if p.strip()]
        if not parts:
            self.fail(f"{value!r} holds no number.", param, ctx)
        return [self.item.convert(p, param, ctx) for p in parts]
