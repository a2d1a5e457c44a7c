"""Option types and option checks shared by the commands."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import click

from ..errors import TransferkitError

#: A click option callback: ``callback(ctx, param, value) -> value``.
Callback = Callable[[click.Context, click.Parameter, Any], Any]


def api_check(check: Callable[[Any], object]) -> Callback:
    """A click callback that runs the API's own ``check`` on the option's value while the options are parsed,
    so a bad value fails as a usage error (exit status 2) naming the option, before any data is read. The
    value passes on unchanged; ``None`` (an option left out) is not checked."""

    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        if value is None:
            return value
        try:
            check(value)
        except TransferkitError as exc:
            raise click.BadParameter(str(exc), ctx=ctx, param=param) from exc
        return value

    return callback


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
