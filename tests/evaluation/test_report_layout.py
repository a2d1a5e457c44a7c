"""The HTML report's layout: columns of words left-aligned, figures right-aligned; a section written last
can be placed first (the demo's summary)."""

from __future__ import annotations

import re

import numpy as np

from transferkit.evaluation import Report


def _cells(html: str) -> list[tuple[str, str]]:
    return re.findall(r'<t[hd]( class="t")?>([^<]*)</t[hd]>', html)


def test_word_columns_are_left_aligned_and_figure_columns_right_aligned() -> None:
    rows = [{"model": "probe", "what it is": "frozen features + logistic regression", "accuracy": 0.8,
             "gain": "+3.5 pts [+0.6, +6.6]", "n": np.int64(3), "verdict": "positive"},
            {"model": "baseline", "what it is": "raw pixels", "accuracy": float("nan"), "gain": "—", "n": 4,
             "verdict": "—"}]
    cells = dict((text, cls) for cls, text in _cells(Report("t").table(rows).render()))
    assert cells["what it is"] == cells["frozen features + logistic regression"] == ' class="t"'
    assert cells["verdict"] == cells["positive"] == ' class="t"'  # a word column keeps its dashes with it
    assert cells["accuracy"] == cells["0.8000"] == cells["gain"] == cells["+3.5 pts [+0.6, +6.6]"] == cells["n"] == ""
    assert cells["model"] == cells["probe"] == ""  # the first column is left-aligned by the style sheet
    assert "td:first-child,th:first-child,.t{text-align:left}" in Report("t").render()


def test_splice_puts_a_later_section_first() -> None:
    report = Report("t").paragraph("intro")
    at = len(report.parts)
    report.heading("Details").paragraph("body")
    report.splice(at, Report("ignored").heading("Summary").paragraph("outcome"))
    html = report.render()
    assert html.index("intro") < html.index("Summary") < html.index("outcome") < html.index("Details")
    assert "ignored" not in html
