"""The titles of the reports: a town's report, a county overview, the comparison of counties."""

from __future__ import annotations

import itertools
import re

from ..analysis.numerals import chinese_year


def report_title(year: int, town: str | None = None, *, county: str = "", region: bool = False) -> str:
    """The HTML ``<title>`` of a town report, of the county overview when ``town`` is None (``county`` names
    the county when the data hold several), or of the comparison of counties (``region``)."""
    if region:
        return f"{chinese_year(year)}年度各县乡镇党委履行全面从严治党主体责任情况比较"
    if town is None:
        return f"{county}{chinese_year(year)}年度乡镇党委履行全面从严治党主体责任情况综合分析"
    return f"{town}{chinese_year(year)}年度履行全面从严治党主体责任情况报告"


#: Characters a title line of 二号 type holds on the 156 mm text block (22 pt characters: 442 pt / 22 pt).
TITLE_LINE_CHARS = 20
# Where a title may break (GB/T 9704 7.3.3: 回行时要做到词意完整): after the issuing organ (…委员会), after
# 关于 and after 暨, before 履行 and before 情况… — never inside a word such as 全面从严治党 or 情况的报告.
_TITLE_BREAKS = re.compile(r"(?<=委员会)|(?<=关于)|(?<=年度)|(?<=暨)|(?=履行)|(?=情况)")


def _shaped(lengths: tuple[int, ...]) -> bool:
    """Lines in a trapezoid (lengths only growing or only shrinking) or a diamond (longest in the middle)."""
    peak = lengths.index(max(lengths))
    up, down = lengths[:peak + 1], lengths[peak:]
    return all(a <= b for a, b in zip(up, up[1:])) and all(a >= b for a, b in zip(down, down[1:]))


def title_lines(title: str, width: int = TITLE_LINE_CHARS) -> list[str]:
    """The lines of a 公文 title of 二号 type: broken only at word boundaries, as few lines as fit ``width``
    characters, in a trapezoid or diamond shape where one exists. The one rule of the HTML, Word and PDF.

    >>> title_lines("中共河湾镇委员会关于二〇二五年度履行全面从严治党主体责任暨书记第一责任人责任情况的报告")
    ['中共河湾镇委员会关于', '二〇二五年度履行全面从严治党主体责任暨', '书记第一责任人责任情况的报告']
    >>> title_lines("二〇二五年度各县乡镇党委履行全面从严治党主体责任情况比较")
    ['二〇二五年度各县乡镇党委', '履行全面从严治党主体责任情况比较']
    """
    if len(title) <= width:
        return [title]
    parts = [p for p in _TITLE_BREAKS.split(title) if p]
    best: tuple | None = None
    for mask in itertools.product((False, True), repeat=len(parts) - 1):  # a title has a handful of breaks
        lines, current = [], parts[0]
        for part, cut in zip(parts[1:], mask):
            if cut:
                lines.append(current)
                current = part
            else:
                current += part
        lines.append(current)
        lengths = tuple(len(line) for line in lines)
        key = (max(lengths) > width, len(lines), not _shaped(lengths), max(lengths) - min(lengths))
        if best is None or key < best[0]:
            best = (key, lines)
    return best[1]
