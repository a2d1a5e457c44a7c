"""add_audit(): the findings render as a report section."""

from __future__ import annotations

import numpy as np

from transferkit.audit import add_audit, audit, audit_report
from transferkit.evaluation import Report


def test_add_audit_renders_every_check_and_the_flagged_items() -> None:
    dup = 'so <b>good</b> & "fine"'  # the flagged copy carries markup that must reach the page escaped
    texts = [dup, dup, "awful", "fine", ""]
    result = audit(texts, ["pos", "pos", "neg", "pos", "neg"])
    report = add_audit(Report("fit report"), result)
    html = report.render()
    assert "<h2>Data audit</h2>" in html
    for check in result.findings:
        assert f"<td>{check}</td>" in html
    listed = html.split("<p>exact-duplicates:")[1]
    assert ('<tr><td>1</td><td class="t">so &lt;b&gt;good&lt;/b&gt; &amp; &quot;fine&quot;</td><td class="t">pos</td>'
            '<td class="t">same content as item 0</td></tr>') in listed  # words, left-aligned
    assert dup not in html and "<b>" not in html
    assert "removes 2 of 5 items" in html  # the duplicate and the empty text
    assert 'class="negative"' in html


def test_clean_data_reads_as_clean_and_long_lists_are_cut() -> None:
    r = np.random.default_rng(0)
    X = np.concatenate([r.normal(-2, 1, (30, 5)), r.normal(2, 1, (30, 5))])
    y = np.repeat(["a", "b"], 30)
    html = audit_report(audit(X, y, backbone=None)).render()
    assert "0 of 10 checks flag items" in html and 'class="positive"' in html
    many = audit(np.zeros((60, 2)), y)
    html = add_audit(Report("r"), many, max_items=5).render()
    assert "(first 5 of 59)" in html


def test_findings_put_their_nouns_in_the_right_number() -> None:
    result = audit(["good film", "good film", "bad film", "fine film", "dull film"], ["pos", "pos", "neg", None, "neg"])
    assert result.findings["missing-labels"].summary == "1 item without a label"  # was "1 items"
    assert result.findings["exact-duplicates"].summary.startswith("1 copy of 1 distinct item (")
    assert result.findings["missing-values"].summary.startswith("0 items missing")
