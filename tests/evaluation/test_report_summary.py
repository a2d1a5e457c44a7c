"""fit and evaluate reports open with the outcome: one summary table (accuracy, gain over the no-transfer
baseline with its interval, verdict), and for the auto strategy what it chose."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
from tests.helpers import blobs, run_cli


def _summary(html: str) -> str:
    first = html.index("<h2>")
    assert html[first:].startswith("<h2>Summary</h2>"), html[first:first + 80]
    return html[first:html.index("<h2>", first + 1)]


def _table(tmp_path: Path) -> Path:
    X, y = blobs()
    path = tmp_path / "table.csv"
    pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])]).assign(label=y).to_csv(path, index=False)
    return path


def test_fit_report_opens_with_the_outcome_and_what_auto_chose(tmp_path: Path) -> None:
    code, text = run_cli("fit", _table(tmp_path), "-b", "tiny-mlp", "-o", tmp_path / "m", "--no-progress")
    assert code == 0, text
    summary = _summary((tmp_path / "m" / "report.html").read_text())
    result = json.loads((tmp_path / "m" / "evaluation.json").read_text())
    (name,) = [m for m in result["models"] if m in result["gains"]]
    gain = result["gains"][name]["accuracy"]
    verdict = "transfer helps" if gain["low"] > 0 else "negative transfer" if gain["high"] < 0 else "no clear difference"
    assert re.search(f"<td>{re.escape(name)}</td><td>{result['models'][name]['pooled']['accuracy']:.4f}</td>", summary)
    assert f'<td class="t">{verdict}</td>' in summary and '<td class="t">(the baseline)</td>' in summary
    chose = re.search(r"auto strategy chose: (.+?) \(", text)
    assert chose and f"The auto strategy chose {chose.group(1)}" in summary, text


def test_evaluate_report_opens_with_the_outcome(tmp_path: Path) -> None:
    code, text = run_cli("evaluate", _table(tmp_path), "-b", "tiny-mlp", "-s", "linear", "--cv", "2",
                         "-o", tmp_path / "e", "--no-progress")
    assert code == 0, text
    summary = _summary((tmp_path / "e" / "report.html").read_text())
    assert "tiny-mlp + linear" in summary and "no-transfer baseline" in summary and "auto strategy" not in summary
