"""The titles of the reports: a town's report, a county overview, the comparison of counties."""

from __future__ import annotations

from ..analysis.numerals import chinese_year


def report_title(year: int, town: str | None = None, *, county: str = "", region: bool = False) -> str:
    """The HTML ``<title>`` of a town report, of the county overview when ``town`` is None (``county`` names
    the county when the data hold several), or of the comparison of counties (``region``)."""
    if region:
        return f"{chinese_year(year)}年度各县乡镇党委履行全面从严治党主体责任情况比较"
    if town is None:
        return f"{county}{chinese_year(year)}年度乡镇党委履行全面从严治党主体责任情况综合分析"
    return f"{town}{chinese_year(year)}年度履行全面从严治党主体责任情况报告"
