"""docs/audit.md shows the real signatures of audit() and fix(), parameter for parameter."""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from transferkit.audit import audit, fix

DOC = Path(__file__).resolve().parents[2] / "docs" / "audit.md"


def _plain(fn: Callable[..., Any]) -> str:
    """``name(a, b=None, *, c="text")``: the signature without annotations, strings in double quotes."""
    parts: list[str] = []
    for p in inspect.signature(fn).parameters.values():
        if p.kind is p.KEYWORD_ONLY and "*" not in parts:
            parts.append("*")
        default = json.dumps(p.default) if isinstance(p.default, str) else repr(p.default)
        parts.append(p.name if p.default is p.empty else f"{p.name}={default}")
    return f"{fn.__name__}({', '.join(parts)})"


@pytest.mark.skipif(not DOC.exists(), reason="docs are not installed with the package")
@pytest.mark.parametrize("fn", [audit, fix])
def test_the_documented_signature_is_the_real_one(fn: Callable[..., Any]) -> None:
    text = " ".join(DOC.read_text(encoding="utf-8").split())
    assert f"`{_plain(fn)} -> " in text, _plain(fn)
