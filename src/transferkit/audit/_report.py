"""The audit as a report section: a table of checks, then the flagged items of each check."""

from __future__ import annotations

from typing import Any

from ..evaluation import Report
from ._findings import CHECKS, DEFAULT_DROP, AuditResult

__all__ = ["add_audit", "audit_report"]


def add_audit(report: Report, result: AuditResult, *, heading: str = "Data audit", max_items: int = 20) -> Report:
    """Add the findings of ``result`` to ``report``.

    Parameters
    ----------
    report : transferkit.evaluation.Report
    result : AuditResult
    heading : str, default="Data audit"
    max_items : int, default=20
        Flagged items listed per check (the JSON result and the fix log hold all of them).

    Returns
    -------
    Report
        ``report``, for chaining.
    """
    report.heading(heading)
    what = f"{result.n_samples} items ({result.modality}) from {result.source}"
    emb = f"embeddings: {result.backbone}" if result.backbone else "no embeddings (pass a backbone for the checks that need them)"
    test = f"; test set: {result.settings['test']}" if result.settings.get("test") else ""
    report.paragraph(f"Audited {what}; {emb}{test}.")
    flagged = {name for name, f in result.findings.items() if len(f)}
    removed = len(result.removals())
    css = "negative" if flagged & DEFAULT_DROP else ("inconclusive" if flagged else "positive")
    report.paragraph(f"{len(flagged)} of {len(CHECKS)} checks flag items; a default fix (transferkit audit --fix) "
                     f"removes {removed} of {result.n_samples} items.", css)
    report.table([{"check": name, "flagged": "—" if not f.ran else len(f), "removed by --fix":
                   "yes" if name in DEFAULT_DROP else ("no" if name == "class-imbalance" else "with --drop"),
                   "finding": f.summary, "meaning": CHECKS[name]}
                  for name, f in result.findings.items()])
    imbalance = result.findings["class-imbalance"]
    if imbalance.ran and imbalance.details.get("counts"):
        from ..evaluation._plots import class_counts_png

        report.figure(class_counts_png(imbalance.details["counts"]), "Items per class (usable items)")
    for name, finding in result.findings.items():
        if not finding.flags:
            continue
        shown = finding.flags[:max_items]
        more = f" (first {max_items} of {len(finding.flags)})" if len(finding.flags) > max_items else ""
        report.paragraph(f"{name}: {finding.summary}{more}")
        report.table([_row(f) for f in shown], ["index", "item", "label", "reason"])
    return report


def _row(flag: Any) -> dict[str, Any]:
    return {"index": flag.index, "item": flag.item, "label": "—" if flag.label is None else flag.label,
            "reason": flag.reason}


def audit_report(result: AuditResult, *, title: str | None = None) -> Report:
    """A report holding only the audit (what ``transferkit audit`` writes)."""
    report = Report(title or f"transferkit audit: {result.source}")
    add_audit(report, result)
    report.heading("Settings")
    settings = {k: v for k, v in result.settings.items() if k != "timings"}
    report.table([{"setting": k, "value": "—" if v is None else v} for k, v in settings.items()])
    report.table([{"stage": k, "seconds": float(v)} for k, v in result.settings.get("timings", {}).items()])
    return report
