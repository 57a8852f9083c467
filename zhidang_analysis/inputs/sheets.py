"""Reading a sheet's grid: cells as values, the header row, town names, total and footer rows, merged
cells, the columns a header claims, and the :class:`Collector` that names the file in every problem."""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..model.catalog import Catalog
from ..model.dataset import Problem
from .cells import cell_name, county_text, shown_value

# A total row: 合计/小计/总计/共计, alone or after 全县/全镇/全乡/全区/全市 (not a town whose name contains 合计).
YEAR_SHEET = re.compile(r"^(?P<year>(19|20)\d{2})年?$")
_TOTAL_ROW = re.compile(r"^(全县|全镇|全乡|全区|全市|全州|总)?(合计|小计|总计|共计)[:：]?$")
# A footer note: a label and a colon (填表人：张三, 注：…, 注1.…), in the first column of a row without numbers.
_FOOTER_ROW = re.compile(
    r"^(注\d*[:：.．、]|(备注|说明|附注|填表人|填报人|填表|填报|填报单位|填表单位|填报日期|填表日期|审核人|审核|"
    r"审批人|制表人|制表|统计人|联系人|联系电话|电话|负责人|单位负责人|分管领导|主要领导|数据来源|资料来源)[:：])"
)


class Collector:
    """Collects problems for one file, so every message names the file.

    ``name`` is how messages name the file (``甲县/数据.xlsx`` in a folder of county folders); ``view`` is the
    county being read when one input holds several counties (see :class:`CountyView`), None otherwise.
    """

    def __init__(self, file: Path, problems: list[Problem], exclude: frozenset = frozenset(), *,
                 name: str | None = None, view: CountyView | None = None):
        self.file = name or file.name
        self.problems = problems
        self.exclude = exclude  # towns left out on purpose: their rows are not read at all
        self.view = view

    def owns(self, town: str, county: object = None, sheet=None, cell=None) -> bool:
        """Whether a row of ``town`` (with the text of its 县 cell, if the table has that column) belongs to
        the county being read. Always True when the input holds one county."""
        return True if self.view is None else self.view.owns(self, town, county, sheet, cell)

    def add(self, level, sheet, cell, value, message, expected="", town=None, indicator=None):
        self.problems.append(Problem(level, self.file, sheet, cell, shown_value(value), message, expected, town, indicator,
                                     self.view.county if self.view is not None and town else None))


@dataclass
class CountyView:
    """One county of an input that holds several (a 乡镇概况 listing towns of several 县, and year sheets with a
    县 column or town names that tell the county): each county is read on its own, as if its rows were alone
    in the tables, so that two counties' 城关镇 are two towns. A row belongs to the county its 县 cell names,
    else to the only county whose 乡镇概况 lists its town; a row that belongs to no county is read (and its
    error reported) in the first county only."""

    county: str
    counties: tuple[str, ...]
    town_counties: dict[str, list[str]]
    first: bool

    def owns(self, col: Collector, town: str, county: object, sheet, cell) -> bool:
        text = county_text(county)
        if text:
            if text not in self.counties:
                if self.first:
                    col.add("error", sheet, cell, text, "县不在乡镇概况表中",
                            "乡镇概况表中的县：" + "、".join(self.counties), town)
                return False
            return text == self.county
        counties = self.town_counties.get(town, [])
        if len(counties) > 1:
            if self.first:
                col.add("error", sheet, cell, town, f"乡镇“{town}”在{'、'.join(counties)}都有，无法确定此行属于哪个县",
                        "在“乡镇”列前加一列“县”，填写所属县", town)
            return False
        return counties[0] == self.county if counties else self.first


# --------------------------------------------------------------------------------------------- files
# reading workbooks lives in workbooks.py
def cell_value(df: pd.DataFrame, i: int, j: int):
    v = df.iat[i, j]
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, str) and v.strip() == "":
        return None
    return v


def is_blank_cell(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str) and v.strip() == "")


BLANK = np.frompyfunc(is_blank_cell, 1, 1)


def sheet_grid(df: pd.DataFrame) -> list[list]:
    """The sheet's cells as rows of Python objects, a blank cell (None, NaN, only spaces) as None: what
    :func:`cell_value` gives for every cell, read once instead of cell by cell through pandas."""
    a = df.to_numpy(dtype=object, copy=True)
    if a.size:
        a[BLANK(a).astype(bool)] = None
    return a.tolist()


def cell_text(v) -> str:
    return "" if v is None else re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(v)))


def find_header_row(df: pd.DataFrame, first: str, *, anywhere: bool = False) -> int | None:
    for i in range(min(len(df), 30)):
        cols = range(df.shape[1]) if anywhere else [0]
        if any(cell_text(cell_value(df, i, j)) == first for j in cols if j < df.shape[1]):
            return i
    return None


def town_header(df: pd.DataFrame) -> tuple[int | None, int]:
    """The header row of a year sheet and its 乡镇 column: ``乡镇`` in column A, or ``县`` in A and ``乡镇`` in B
    (a table of several counties)."""
    for i in range(min(len(df), 30)):
        first = cell_text(cell_value(df, i, 0))
        if first == "乡镇":
            return i, 0
        if first == "县" and df.shape[1] > 1 and cell_text(cell_value(df, i, 1)) == "乡镇":
            return i, 1
    return None, 0


def town_name(v) -> str:
    return re.sub(r"\s+", "", str(v)) if v is not None else ""


def header_text(head) -> str:
    """A header cell as compared with the catalog: NFKC, without spaces or line breaks (a header typed with
    Alt+Enter before its unit, ``主题党日活动⏎（次）``, is ``主题党日活动（次）``)."""
    return cell_text(head)


def is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and not (isinstance(v, float) and math.isnan(v))


def is_total_label(text) -> bool:
    """A total row's first cell: 合计, 小计, 总计 or 共计, alone or after 全县/全镇/全乡 (``全县合计``); a town
    whose name merely contains 合计 is a town.

    >>> is_total_label("合 计"), is_total_label("全县合计"), is_total_label("新合计乡")
    (True, True, False)
    """
    return bool(_TOTAL_ROW.match(cell_text(text)))


def is_footer_label(text) -> bool:
    """A footer note's first cell: a label and a colon (``填表人：张三``, ``注：…``, ``注1.…``); a town whose
    name starts with 注 (注滋口镇) is a town.

    >>> is_footer_label("填表人：张三"), is_footer_label("注：数据截至12月31日"), is_footer_label("注滋口镇")
    (True, True, False)
    """
    return bool(_FOOTER_ROW.match(cell_text(text)))


class MergedCells:
    """The merged ranges of a sheet that reach its table (the header row or below), each reported once as an
    error naming the range; ``covers(i, j)`` is true for a cell hidden under one (not its top-left cell), whose
    own problems are then not reported again."""

    def __init__(self, df: pd.DataFrame, sheet, h: int, col: Collector):
        self.ranges = []
        for r0, c0, r1, c1 in df.attrs.get("merged", []):
            if r1 < h:
                continue  # a title merged above the header
            top = cell_value(df, r0, c0) if r0 < df.shape[0] and c0 < df.shape[1] else None
            if r0 > h and top is not None and is_footer_label(top):
                continue  # a footer note merged across the row
            rng = f"{cell_name(r0, c0)}:{cell_name(r1, c1)}"
            col.add("error", sheet, cell_name(r0, c0), top,
                    f"表格中有合并单元格{rng}：合并后只保留左上角单元格的值，其余单元格的数据会丢失",
                    "取消合并单元格，在每个单元格中分别填写")
            self.ranges.append((r0, c0, r1, c1))

    def covers(self, i: int, j: int) -> bool:
        if not self.ranges:
            return False
        return any(r0 <= i <= r1 and c0 <= j <= c1 and (i, j) != (r0, c0) for r0, c0, r1, c1 in self.ranges)


def claim_column(columns: dict[int, str], j: int, code: str, col: Collector, sheet, h: int, head) -> bool:
    """Record that header cell (h, j) holds ``code``; a second column of the same code is an error naming the
    first. Returns True when the column was refused."""
    if code in columns.values():
        first = next(k for k, v in columns.items() if v == code)
        col.add("error", sheet, cell_name(h, j), head, f"重复的列（与{cell_name(h, first)}相同）", "每列只出现一次")
        return True
    columns[j] = code
    return False


def earlier_headers(earlier: list[tuple[str, object, str]], sheet, col: Collector, cat: Catalog,
                     what: str = "表头") -> None:
    """One notice for a sheet whose headers come from an earlier template: each header's cell, what it says and
    what it is called now. The values under them are read as usual. (``what``: 指标名称 for a long CSV.)"""
    if not earlier:
        return
    def quoted(text: object) -> str:  # quotation marks inside quotation marks are single ones
        return "“" + " ".join(str(text).split()).replace("“", "‘").replace("”", "’") + "”"

    renamed = "；".join(f"{cell}{quoted(head)}现为{quoted(cat.label(code))}" for cell, head, code in earlier)
    col.add("notice", sheet, earlier[0][0], None, f"{what}来自旧版填报模板，已按现在的指标读取（{renamed}）",
            f"现在的{what}（可运行“zhidang template”生成新模板）")


# --------------------------------------------------------------------------------------------- 本县指标
