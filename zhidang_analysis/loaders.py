"""Read Excel/CSV input into a validated :class:`Dataset`.

Input layout (the one ``zhidang template`` writes):

- **values**: a workbook with one sheet per year (``2023``, ``2023年``, ``2023年度``, ``二〇二三年``); a header
  row whose first column is ``乡镇`` and whose other columns are indicator names (``主题党日活动（次）`` is
  accepted, also with a line break before the unit); one row per town. A title row above the header, a total
  row (``合计``, ``小计``, ``总计``, ``全县合计`` …) and footer notes (``填表人：``, ``注：``) are recognised by their
  shape, never by a prefix of a town's name. A CSV in tidy long form (县, 乡镇, 年度, 指标代码, 数值) is
  accepted as well.
- **profile**: a sheet named ``乡镇概况`` (text that fills the report's XX places and the size figures).
- **targets**: a workbook whose file name contains ``目标``, laid out like the values.

Every problem is collected in one pass and reported with file, sheet, cell, the value found and what was
expected. Files are only ever read. Nothing that looks like data is skipped without a word: a sheet whose
header row starts with ``乡镇`` is read (or is an error when its year is not certain), a file in a format that
is not read is named, a merged cell in a table, a formula without a saved result, an Excel error value and a
percent-formatted number are errors, and a town row left blank or an indicator without a column is a warning
(those numbers show as 【待补】 in the reports). Workbooks that would inflate beyond
:data:`MAX_UNCOMPRESSED_BYTES` or hold more than :data:`MAX_ROWS` rows in a sheet are refused before parsing.
"""

from __future__ import annotations

import math
import re
import unicodedata
import zlib
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl.utils import get_column_letter

from . import practices as _practices
from . import workbooks
from .catalog import LOCAL_SENTENCE, Catalog, load_catalog, normalize_header
from .errors import AmbiguousTownError, DataError, UnknownNameError
from .workbooks import (  # noqa: F401 - EXCEL_SUFFIXES, MAX_* and the cell types are part of this module's API
    EXCEL_ERRORS,
    EXCEL_SUFFIXES,
    MAX_ROWS,
    MAX_UNCOMPRESSED_BYTES,
    NA_TOKENS,
    UNREAD_SUFFIXES,
    _MB,
    Percent,
    ReadRefused,
    Uncomputed,
    expand,
    read_workbook,
)

PROFILE_SHEET = "乡镇概况"
#: The sheet where a county declares its own indicators (its industries: apple acreage, photovoltaic capacity …).
LOCAL_SHEET = "本县指标"
LOCAL_COLUMNS = {"名称": "name", "单位": "unit", "整数": "integer", "最小值": "min", "最大值": "max",
                 "报告写法": "phrase", "说明": "help"}
TARGETS_MARK = "目标"
# Sheets a workbook may carry besides the data (the template's instructions, last year's reference).
IGNORED_SHEETS = {"填表说明", "说明", "指标说明", "上年数据", "上年数据（参考）", "审核结果", "审核汇总"}

VALUE_COLUMNS = ["county", "town", "year", "indicator", "value", "approx", "status", "source"]
CSV_COLUMNS = {
    "county": ("县", "county"),
    "town": ("乡镇", "town"),
    "year": ("年度", "年份", "year"),
    "indicator": ("指标代码", "指标", "indicator"),
    "value": ("数值", "值", "value"),
}

_YEAR_SHEET = re.compile(r"^(?P<year>(19|20)\d{2})年?$")
_PLAIN_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_SPACE_GROUPS = re.compile(r"^[+-]?\d{1,3}( \d{3})+(\.\d+)?$")
# A year sheet's name: 2025, 2025年, 2025年度 (Chinese numerals and spaces normalised first).
_YEAR_NAME = re.compile(r"^(?P<year>(19|20)\d{2})(年|年度)?$")
_SHORT_YEAR_NAME = re.compile(r"^\d{2}(年|年度)$")
_ANY_YEAR = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")
_CN_DIGITS = str.maketrans("〇○零一二三四五六七八九", "000123456789")
# A total row: 合计/小计/总计/共计, alone or after 全县/全镇/全乡/全区/全市 (not a town whose name contains 合计).
_TOTAL_ROW = re.compile(r"^(全县|全镇|全乡|全区|全市|全州|总)?(合计|小计|总计|共计)[:：]?$")
# A footer note: a label and a colon (填表人：张三, 注：…, 注1.…), in the first column of a row without numbers.
_FOOTER_ROW = re.compile(
    r"^(注\d*[:：.．、]|(备注|说明|附注|填表人|填报人|填表|填报|填报单位|填表单位|填报日期|填表日期|审核人|审核|"
    r"审批人|制表人|制表|统计人|联系人|联系电话|电话|负责人|单位负责人|分管领导|主要领导|数据来源|资料来源)[:：])"
)


# --------------------------------------------------------------------------------------------- problems
# the levels of a validation finding, most serious first, and how messages name them
LEVELS = {"error": "错误", "warning": "警告", "check": "请核实", "notice": "提示"}


@dataclass(frozen=True)
class Problem:
    """One finding of validation.

    ``level`` is ``error`` (the data cannot be used), ``warning`` (used, but look at it), ``check``
    (plausible but unusual: 请核实) or ``notice`` (read as meant, but written another way: a header of an
    earlier template; nothing to correct for this report).
    """

    level: str
    file: str
    sheet: str | None
    cell: str | None
    value: object
    message: str
    expected: str = ""
    town: str | None = None
    indicator: str | None = None
    county: str | None = None  # set when the input holds several counties

    @property
    def where(self) -> str:
        parts = [f"文件“{self.file}”"]
        if self.sheet:
            parts.append(f"工作表“{self.sheet}”")
        if self.cell:
            parts.append(f"单元格{self.cell}")
        return "，".join(parts)

    def __str__(self) -> str:
        label = LEVELS[self.level]
        text = f"【{label}】{self.where}：{self.message}"
        if self.value is not None and self.value != "":
            text += f"；读到“{self.value}”"
        if self.expected:
            text += f"，应为{self.expected}"
        return text + "。"


class _Collector:
    """Collects problems for one file, so every message names the file.

    ``name`` is how messages name the file (``甲县/数据.xlsx`` in a folder of county folders); ``view`` is the
    county being read when one input holds several counties (see :class:`_View`), None otherwise.
    """

    def __init__(self, file: Path, problems: list[Problem], exclude: frozenset = frozenset(), *,
                 name: str | None = None, view: _View | None = None):
        self.file = name or file.name
        self.problems = problems
        self.exclude = exclude  # towns left out on purpose: their rows are not read at all
        self.view = view

    def owns(self, town: str, county: object = None, sheet=None, cell=None) -> bool:
        """Whether a row of ``town`` (with the text of its 县 cell, if the table has that column) belongs to
        the county being read. Always True when the input holds one county."""
        return True if self.view is None else self.view.owns(self, town, county, sheet, cell)

    def add(self, level, sheet, cell, value, message, expected="", town=None, indicator=None):
        self.problems.append(Problem(level, self.file, sheet, cell, _show(value), message, expected, town, indicator,
                                     self.view.county if self.view is not None and town else None))


@dataclass
class _View:
    """One county of an input that holds several (a 乡镇概况 listing towns of several 县, and year sheets with a
    县 column or town names that tell the county): each county is read on its own, as if its rows were alone
    in the tables, so that two counties' 城关镇 are two towns. A row belongs to the county its 县 cell names,
    else to the only county whose 乡镇概况 lists its town; a row that belongs to no county is read (and its
    error reported) in the first county only."""

    county: str
    counties: tuple[str, ...]
    town_counties: dict[str, list[str]]
    first: bool

    def owns(self, col: _Collector, town: str, county: object, sheet, cell) -> bool:
        text = _county_text(county)
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


def _county_text(v) -> str:
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else re.sub(r"\s+", "", str(v))


def _show(value: object) -> object:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, (Percent, Uncomputed)):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def cell_name(row: int, col: int) -> str:
    """Excel name of a 0-based (row, col): ``cell_name(6, 3) == 'D7'``."""
    return f"{get_column_letter(col + 1)}{row + 1}"


# --------------------------------------------------------------------------------------------- cells
class CellError(ValueError):
    """A cell that cannot be read as the indicator's value: ``message`` and ``expected`` in Chinese."""

    def __init__(self, message: str, expected: str):
        super().__init__(message)
        self.message = message
        self.expected = expected


UNCOMPUTED_MESSAGE = "是公式，但文件中没有保存公式的计算结果（文件由程序生成，或没有在Excel/WPS中计算后保存）"
UNCOMPUTED_EXPECTED = "计算好的数值：请用Excel或WPS打开该文件，保存后再校验"


def expected_text(ind: pd.Series) -> str:
    """What a valid cell of this indicator looks like, in Chinese."""
    kind = "整数" if ind["integer"] else "数值"
    hi = ind["max"]
    rng = f"{_show(ind['min'])}～{_show(hi)}" if math.isfinite(hi) else f"不小于{_show(ind['min'])}"
    return f"{rng}之间的{kind}（单位：{ind['unit']}）" if math.isfinite(hi) else f"{rng}的{kind}（单位：{ind['unit']}）"


def parse_cell(raw: object, ind: pd.Series, *, allow_approx: bool = True) -> tuple[float, bool, str]:
    """Read one cell as ``(value, approx, status)``; status is ``present``, ``missing`` or ``na``.

    Accepted: numbers (float noise such as ``202.99999999999997`` is the number Excel shows, ``203``); text
    with full-width digits, surrounding spaces, thousands grouping (``1,181`` or ``1 181``), the indicator's
    own unit as suffix; ``30余``/``30多`` (30, approximate); ``—``, ``/``, ``不适用`` (not applicable); empty
    (missing). Anything else raises :class:`CellError`: among others ``2 6`` (a space that is not thousands
    grouping), a percent-formatted number in a column whose unit is not ``%``, an Excel error value and a
    formula saved without its result.

    >>> ind = load_catalog()["theme_party_days"]
    >>> parse_cell("１２", ind)
    (12.0, False, 'present')
    >>> parse_cell("30余次", ind)
    (30.0, True, 'present')
    >>> parse_cell("不适用", ind)
    (nan, False, 'na')
    """
    approx = False
    if raw is None or (isinstance(raw, float) and math.isnan(raw)):
        return math.nan, False, "missing"
    if isinstance(raw, bool) or isinstance(raw, (datetime, date, time, timedelta, pd.Timestamp)):
        raise CellError("单元格不是数字（可能被Excel识别成了日期或逻辑值）", expected_text(ind))
    if isinstance(raw, Uncomputed):
        raise CellError(UNCOMPUTED_MESSAGE, UNCOMPUTED_EXPECTED)
    if isinstance(raw, Percent):
        if normalize_header(ind["unit"]) not in {"%", "百分比"}:
            raise CellError(f"单元格设置成了百分比格式（显示为{raw}，实际是{_show(float(raw))}），而该指标的单位是“{ind['unit']}”",
                            expected_text(ind) + "：请把单元格格式改为“常规”或“数值”后重新填写")
        raw = float(raw) * 100
    if isinstance(raw, (int, float)):
        value = float(f"{float(raw):.15g}")  # what Excel shows: 202.99999999999997 is 203
    else:
        s = unicodedata.normalize("NFKC", str(raw)).strip()
        compact = re.sub(r"\s+", "", s)
        if compact == "":
            return math.nan, False, "missing"
        if compact in NA_TOKENS:
            return math.nan, False, "na"
        if compact in EXCEL_ERRORS:
            raise CellError("单元格是Excel错误值（公式出错）", expected_text(ind))
        unit = normalize_header(ind["unit"])
        if unit and s.endswith(unit) and len(s) > len(unit):
            s = s[: -len(unit)].rstrip()
        if s.endswith(("余", "多")):
            if not allow_approx:
                raise CellError("此处不接受约数", expected_text(ind))
            s, approx = s[:-1].rstrip(), True
        if re.search(r"\s", s):
            if not _SPACE_GROUPS.match(re.sub(r"\s", " ", s)):
                raise CellError("数字中间有空格，无法确定是一个数还是几个数", expected_text(ind)
                                + "，去掉空格（只有千分位分组可以用空格或逗号，如“1 181”“1,181”）")
            s = re.sub(r"\s", "", s)
        if _THOUSANDS.match(s):
            s = s.replace(",", "")
        if not _PLAIN_NUMBER.match(s):
            raise CellError("无法识别为数字", expected_text(ind) + "，约数写作“30余”，不适用写作“—”")
        value = float(s)
    if not math.isfinite(value):
        raise CellError("无法识别为数字", expected_text(ind))
    if value < 0:
        raise CellError("不能为负数", expected_text(ind))
    if ind["integer"] and not float(value).is_integer():
        raise CellError("该指标是计数，不能有小数", expected_text(ind))
    if not (ind["min"] <= value <= ind["max"]):
        raise CellError("超出有效范围", expected_text(ind))
    return value, approx, "present"


def text_problem(raw: object) -> CellError | None:
    """Why a text cell (a profile field, a practice) cannot be read, or None: a formula without its saved
    result or an Excel error value."""
    if isinstance(raw, Uncomputed):
        return CellError(UNCOMPUTED_MESSAGE, UNCOMPUTED_EXPECTED)
    if isinstance(raw, str) and re.sub(r"\s+", "", raw) in EXCEL_ERRORS:
        return CellError("单元格是Excel错误值（公式出错）", "填写内容")
    return None


# --------------------------------------------------------------------------------------------- dataset
@dataclass
class Dataset:
    """A validated dataset of one county or several.

    ``values``: tidy table, one row per (county, town, year, indicator) with ``value`` (float),
    ``approx`` (given as ``30余``), ``status`` (present / missing / na) and ``source`` (``file!sheet!cell``).
    ``profile``: one row per town, indexed by ``town`` for one county and by (``county``, ``town``) for several.
    ``targets``: tidy (town, year, indicator, target, source), with ``county`` first for several counties;
    ``practices`` likewise. ``problems``: the warnings found while loading (errors raise :class:`DataError`).

    A town is (county, town): two counties may both have a 城关镇. The reports, charts and narrative work on
    one county (:meth:`for_county`); comparisons (ranks, medians, scores, flags) run within a county.
    """

    values: pd.DataFrame
    profile: pd.DataFrame
    targets: pd.DataFrame
    catalog: Catalog
    problems: list[Problem] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    practices: pd.DataFrame = field(default_factory=_practices.empty)

    @property
    def multi(self) -> bool:
        """Several counties (the profile is indexed by county and town)."""
        return isinstance(self.profile.index, pd.MultiIndex)

    @property
    def counties(self) -> list[str]:
        """The counties, in the order of the input."""
        if self.multi:
            return list(dict.fromkeys(self.profile.index.get_level_values("county")))
        return list(dict.fromkeys(self.profile["county"]))

    @property
    def town_keys(self) -> list[tuple[str, str]]:
        """(county, town) of every town with data."""
        have = set(zip(self.values["county"], self.values["town"]))
        if self.multi:
            keys = list(self.profile.index)
        else:
            keys = list(zip(self.profile["county"], self.profile.index))
        return [k for k in keys if k in have]

    @property
    def towns(self) -> list[str]:
        """The towns' names; ``县/乡镇`` labels when the data hold several counties."""
        if self.multi:
            return [town_label(c, t) for c, t in self.town_keys]
        return list(self.profile.index[self.profile.index.isin(self.values["town"].unique())])

    @property
    def years(self) -> list[int]:
        return sorted(int(y) for y in self.values["year"].unique())

    @property
    def county(self) -> str:
        return "、".join(self.counties)

    def for_county(self, county: str | None) -> Dataset:
        """The dataset of one county, its profile indexed by town (this dataset itself when it holds one county
        and ``county`` is that one or empty). Raises :class:`UnknownNameError` for a county not in the data."""
        if not county:
            if self.multi:
                raise UnknownNameError("县", "", self.counties)
            return self
        if county not in self.counties:
            raise UnknownNameError("县", county, self.counties)
        if not self.multi:
            return self
        profile = self.profile.xs(county, level="county").copy()
        profile.insert(0, "county", county)
        sel = self.values["county"] == county

        def own(frame: pd.DataFrame) -> pd.DataFrame:
            return frame[frame["county"] == county].drop(columns=["county"]).reset_index(drop=True)

        return Dataset(values=self.values[sel].reset_index(drop=True), profile=profile, targets=own(self.targets),
                       catalog=self.catalog,
                       problems=[p for p in self.problems if p.county == county or (p.county is None and p.town is None)],
                       files=list(self.files), practices=own(self.practices))

    def resolve(self, town: str, county: str | None = None) -> tuple[str, str]:
        """(county, town) of a town given as its name, as ``县/乡镇``, or with ``county``. A name that is in
        several counties must say which: :class:`AmbiguousTownError` lists the choices."""
        name = str(town).strip()
        keys = self.town_keys
        if "/" in name and not county and name not in {t for _, t in keys}:  # a town may be named a/b
            county, _, name = name.rpartition("/")
        if county:
            if county not in self.counties:
                raise UnknownNameError("县", county, self.counties)
            if (county, name) in keys:
                return county, name
            raise UnknownNameError("乡镇", name, [t for c, t in keys if c == county])
        hits = [k for k in keys if k[1] == name]
        if len(hits) == 1:
            return hits[0]
        if not hits:
            raise UnknownNameError("乡镇", name, self.towns)
        raise AmbiguousTownError(name, [town_label(c, t) for c, t in hits])

    def check_town(self, town: str) -> str:
        if self.multi:
            return town_label(*self.resolve(town))
        if town not in set(self.values["town"]):
            raise UnknownNameError("乡镇", town, self.towns)
        return town

    def check_year(self, year: int) -> int:
        try:
            y = int(year)
        except (TypeError, ValueError):
            raise UnknownNameError("年度", year, self.years) from None
        if y not in self.years:
            raise UnknownNameError("年度", year, self.years)
        return y

    def summary(self) -> dict:
        v = self.values
        return {
            "county": self.county,
            "counties": len(self.counties),
            "towns": len(self.town_keys),
            "years": self.years,
            "indicators": int(v["indicator"].nunique()),
            "present": int((v["status"] == "present").sum()),
            "missing": int((v["status"] == "missing").sum()),
            "na": int((v["status"] == "na").sum()),
            "approx": int(v["approx"].sum()),
            "targets": len(self.targets),
            "warnings": sum(p.level not in ("error", "notice") for p in self.problems),
        }

    def copy(self) -> Dataset:
        """A copy whose tables can be changed without touching this one."""
        return Dataset(values=self.values.copy(), profile=self.profile.copy(), targets=self.targets.copy(),
                       catalog=self.catalog, problems=list(self.problems), files=list(self.files),
                       practices=self.practices.copy())

    def practice(self, town: str, year: int) -> dict[str, tuple[str, str]]:
        """The town's own practices of ``year`` from the sheet 特色做法: field code → (text, source)."""
        p = self.practices
        rows = p[(p["town"] == town) & (p["year"] == int(year))]
        return {r.field: (r.text, r.source) for r in rows.itertuples()}

    def __repr__(self) -> str:
        s = self.summary()
        where = s["county"] if s["counties"] == 1 else f"{s['counties']}个县"
        return (
            f"<Dataset {where}: {s['towns']}个乡镇, 年度{s['years'][0] if s['years'] else ''}"
            f"—{s['years'][-1] if s['years'] else ''}, {len(self.values)}行>"
        )


def town_label(county: str, town: str) -> str:
    """How a town is named where its name alone may be in several counties: ``甲县/城关镇``."""
    return f"{county}/{town}"


@dataclass
class ValidationResult:
    """What :func:`validate` found: every problem, and the dataset when there was no error."""

    problems: list[Problem]
    dataset: Dataset | None

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "error"]

    @property
    def ok(self) -> bool:
        return not self.errors


# --------------------------------------------------------------------------------------------- files
# reading workbooks lives in workbooks.py
def _cell(df: pd.DataFrame, i: int, j: int):
    v = df.iat[i, j]
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, str) and v.strip() == "":
        return None
    return v


def _is_blank(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str) and v.strip() == "")


_BLANK = np.frompyfunc(_is_blank, 1, 1)


def _grid(df: pd.DataFrame) -> list[list]:
    """The sheet's cells as rows of Python objects, a blank cell (None, NaN, only spaces) as None: what
    :func:`_cell` gives for every cell, read once instead of cell by cell through pandas."""
    a = df.to_numpy(dtype=object, copy=True)
    if a.size:
        a[_BLANK(a).astype(bool)] = None
    return a.tolist()


def _text(v) -> str:
    return "" if v is None else re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(v)))


def _find_header_row(df: pd.DataFrame, first: str, *, anywhere: bool = False) -> int | None:
    for i in range(min(len(df), 30)):
        cols = range(df.shape[1]) if anywhere else [0]
        if any(_text(_cell(df, i, j)) == first for j in cols if j < df.shape[1]):
            return i
    return None


def _town_header(df: pd.DataFrame) -> tuple[int | None, int]:
    """The header row of a year sheet and its 乡镇 column: ``乡镇`` in column A, or ``县`` in A and ``乡镇`` in B
    (a table of several counties)."""
    for i in range(min(len(df), 30)):
        first = _text(_cell(df, i, 0))
        if first == "乡镇":
            return i, 0
        if first == "县" and df.shape[1] > 1 and _text(_cell(df, i, 1)) == "乡镇":
            return i, 1
    return None, 0


def _town_name(v) -> str:
    return re.sub(r"\s+", "", str(v)) if v is not None else ""


def _header_text(head) -> str:
    """A header cell as compared with the catalog: NFKC, without spaces or line breaks (a header typed with
    Alt+Enter before its unit, ``主题党日活动⏎（次）``, is ``主题党日活动（次）``)."""
    return _text(head)


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and not (isinstance(v, float) and math.isnan(v))


def is_total_label(text) -> bool:
    """A total row's first cell: 合计, 小计, 总计 or 共计, alone or after 全县/全镇/全乡 (``全县合计``); a town
    whose name merely contains 合计 is a town.

    >>> is_total_label("合 计"), is_total_label("全县合计"), is_total_label("新合计乡")
    (True, True, False)
    """
    return bool(_TOTAL_ROW.match(_text(text)))


def is_footer_label(text) -> bool:
    """A footer note's first cell: a label and a colon (``填表人：张三``, ``注：…``, ``注1.…``); a town whose
    name starts with 注 (注滋口镇) is a town.

    >>> is_footer_label("填表人：张三"), is_footer_label("注：数据截至12月31日"), is_footer_label("注滋口镇")
    (True, True, False)
    """
    return bool(_FOOTER_ROW.match(_text(text)))


class _Merged:
    """The merged ranges of a sheet that reach its table (the header row or below), each reported once as an
    error naming the range; ``covers(i, j)`` is true for a cell hidden under one (not its top-left cell), whose
    own problems are then not reported again."""

    def __init__(self, df: pd.DataFrame, sheet, h: int, col: _Collector):
        self.ranges = []
        for r0, c0, r1, c1 in df.attrs.get("merged", []):
            if r1 < h:
                continue  # a title merged above the header
            top = _cell(df, r0, c0) if r0 < df.shape[0] and c0 < df.shape[1] else None
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


def claim_column(columns: dict[int, str], j: int, code: str, col: _Collector, sheet, h: int, head) -> bool:
    """Record that header cell (h, j) holds ``code``; a second column of the same code is an error naming the
    first. Returns True when the column was refused."""
    if code in columns.values():
        first = next(k for k, v in columns.items() if v == code)
        col.add("error", sheet, cell_name(h, j), head, f"重复的列（与{cell_name(h, first)}相同）", "每列只出现一次")
        return True
    columns[j] = code
    return False


def _earlier_headers(earlier: list[tuple[str, object, str]], sheet, col: _Collector, cat: Catalog,
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
def _parse_local_indicators(df, sheet, col: _Collector, cat: Catalog, out: list[dict]) -> None:
    """The county's own indicators declared in the sheet 本县指标, one row each:

        名称 | 单位 | 整数（是/否，默认否） | 最小值 | 最大值 | 报告写法 | 说明

    appended to ``out`` as catalog entries (section （六）, more is better). 报告写法 is the clause the report writes,
    with ``x`` where the number goes (``种植苹果x``); without it the report writes ``苹果种植面积3200亩``. Every
    problem is an error naming its cell."""
    h = _find_header_row(df, "名称", anywhere=True)
    if h is None:
        col.add("error", sheet, "A1", None, "找不到表头行", "含有“" + "”“".join(LOCAL_COLUMNS) + "”各列的表头行")
        return
    columns = {}
    for j in range(df.shape[1]):
        head = _text(_cell(df, h, j))
        if head in LOCAL_COLUMNS:
            columns[LOCAL_COLUMNS[head]] = j
        elif head:
            col.add("error", sheet, cell_name(h, j), head, "无法识别的表头", "“" + "”“".join(LOCAL_COLUMNS) + "”")
    for need in ("name", "unit"):
        if need not in columns:
            label = next(k for k, v in LOCAL_COLUMNS.items() if v == need)
            col.add("error", sheet, cell_name(h, 0), None, f"缺少“{label}”列", f"表头含“{label}”")
            return
    seen: dict[str, str] = {}
    for i in range(h + 1, len(df)):
        def get(key, i=i):
            return _cell(df, i, columns[key]) if key in columns else None

        name = _text(get("name"))
        if not name:
            continue
        where = cell_name(i, columns["name"])
        unit = _text(get("unit"))
        known = cat.match_header(name)[0]
        if known is not None:
            col.add("error", sheet, where, name, f"与指标目录中的“{cat.label(known)}”同名", "指标目录中没有的名称（目录中已有的指标直接填在年度工作表中）")
            continue
        if name in seen:
            col.add("error", sheet, where, name, f"与{seen[name]}重复", "每个指标只写一行")
            continue
        seen[name] = where
        if not unit:
            col.add("error", sheet, cell_name(i, columns["unit"]), None, f"“{name}”缺少单位", "单位，如“亩”“万元”“千瓦”")
            continue
        integer = _text(get("integer")) or "否"
        if integer not in {"是", "否"}:
            col.add("error", sheet, cell_name(i, columns["integer"]), integer, "“整数”填写不正确", "“是”或“否”")
            continue
        bounds = {}
        for key, default in (("min", 0.0), ("max", float("inf"))):
            raw = get(key)
            if raw is None or _text(raw) == "":
                bounds[key] = default
            elif _is_number(raw):
                bounds[key] = float(raw)
            else:
                col.add("error", sheet, cell_name(i, columns[key]), raw, f"“{name}”的{'最小值' if key == 'min' else '最大值'}不是数字", "数字或留空")
                bounds = {}
                break
        if not bounds:
            continue
        phrase = _text(get("phrase")).replace("ｘ", "x")
        if phrase and phrase.count("x") != 1:
            col.add("error", sheet, cell_name(i, columns["phrase"]), phrase, "“报告写法”中要有一个x表示数字的位置",
                    "如“种植苹果x”（报告写作“种植苹果3200亩”）")
            continue
        out.append({"code": f"local_{zlib.crc32(name.encode('utf-8')):08x}", "name": name, "unit": unit,
                    "section": "s6", "integer": integer == "是", "polarity": 1, **bounds,
                    "phrase": (phrase.replace("x", "{}") if phrase else f"{name}{{}}") + "{chg}",
                    "sentence": LOCAL_SENTENCE, "help": _text(get("help")) or f"本县自定的指标（{sheet}表）"})


# --------------------------------------------------------------------------------------------- profile
def _parse_profile(df, sheet, col: _Collector, cat: Catalog, profiles: dict, origin: dict):
    h = _find_header_row(df, "乡镇", anywhere=True)
    if h is None:
        col.add("error", sheet, "A1", None, "找不到表头行", "含有“乡镇”列的表头行")
        return
    fields = cat.profile_fields
    by_name = {normalize_header(n): c for c, n in fields["name"].items()}
    columns: dict[int, str] = {}
    earlier: list[tuple[str, object, str]] = []
    for j in range(df.shape[1]):
        head = _cell(df, h, j)
        if head is None:
            if any(_cell(df, i, j) is not None for i in range(h + 1, len(df))):
                col.add("error", sheet, cell_name(h, j), None, "此列有数据但没有表头", "乡镇概况表的列名")
            continue
        code = by_name.get(normalize_header(head))
        if code is None:
            found = cat.read_header(_header_text(head))
            code = found.code
            if code is not None and cat.frame.at[code, "origin"] != "profile":
                col.add("error", sheet, cell_name(h, j), head, "该指标按年度填报，应填在年度工作表中，不在乡镇概况表",
                        "乡镇概况表的列：" + "、".join(list(fields["name"]) + [cat.name(c) for c in cat.frame.index[cat.frame["origin"] == "profile"]]))
                continue
            if found.wrong_unit:
                col.add("error", sheet, cell_name(h, j), head, "表头中的单位与指标目录不符", f"单位“{cat.frame.at[code, 'unit']}”")
                continue
            if found.earlier:
                earlier.append((cell_name(h, j), head, code))
        if code is None:
            col.add("error", sheet, cell_name(h, j), head, "无法识别的表头",
                    "乡镇概况表的列：" + "、".join(list(fields["name"]) + [cat.name(c) for c in cat.frame.index[cat.frame["origin"] == "profile"]]))
            continue
        if claim_column(columns, j, code, col, sheet, h, head):
            continue
    _earlier_headers(earlier, sheet, col, cat)
    for code, row in fields.iterrows():
        if row.get("required") and code not in columns.values():
            col.add("error", sheet, cell_name(h, 0), None, f"缺少“{row['name']}”列", f"表头含“{row['name']}”")
    if "town" not in columns.values():
        return
    town_col = next(j for j, c in columns.items() if c == "town")
    county_col = next((j for j, c in columns.items() if c == "county"), None)
    merged = _Merged(df, sheet, h, col)
    repeated = {j for j, c in columns.items() if c in {"county", "province"}}  # the same text on every row
    inds = {code: cat[code].to_dict() for code in columns.values() if code not in fields.index}
    label = fields["name"].to_dict()
    required = fields["required"].to_dict()
    choice = fields["choices"].to_dict() if "choices" in fields.columns else {}
    for i in range(h + 1, len(df)):
        if merged.covers(i, town_col):
            continue  # the merged range is the error
        raw_town = _cell(df, i, town_col)
        town = _town_name(raw_town)
        numbers = any(_is_number(_cell(df, i, j)) for j in columns)
        if not town:
            filled = [j for j in range(df.shape[1]) if _cell(df, i, j) is not None and not merged.covers(i, j)]
            if not filled or set(filled) <= repeated:
                continue
            if is_footer_label(_cell(df, i, filled[0])) and not numbers:
                continue  # 填表人：… in the first column
            col.add("error", sheet, cell_name(i, town_col), None, "此行有内容但缺少乡镇名称", "乡镇名称")
            continue
        if is_total_label(town):
            continue  # a 合计 row of the size figures is not a town
        if is_footer_label(town):
            if not numbers:
                continue
            col.add("error", sheet, cell_name(i, town_col), raw_town, "此行像落款或注释，但填有数字，无法确定是否为乡镇数据",
                    "落款行不填数字；乡镇行填写乡镇名称")
            continue
        if town in col.exclude:
            continue
        if col.view is not None:  # several counties: this county's rows only (a row without 县: the first's)
            county = _county_text(_cell(df, i, county_col)) if county_col is not None else ""
            if (county != col.view.county) if county else not col.view.first:
                continue
        record = {"source": f"{col.file}!{sheet}!{cell_name(i, town_col)}"}
        for j, code in columns.items():
            raw = _cell(df, i, j)
            where = cell_name(i, j)
            if code in fields.index:
                bad = text_problem(raw)
                if bad is not None:
                    col.add("error", sheet, where, raw, f"“{label[code]}”{bad.message}", bad.expected, town)
                    record[code] = ""
                    continue
                text = "" if raw is None else str(raw).strip()
                if code == "town":
                    text = town
                elif code == "county":
                    text = _county_text(raw)
                choices = choice.get(code)
                if not text and merged.covers(i, j):
                    pass  # the merged range is the error
                elif not text and required[code]:
                    col.add("error", sheet, where, None, f"“{label[code]}”不能为空", "填写内容", town)
                elif text and isinstance(choices, list) and text not in choices:
                    col.add("error", sheet, where, text, f"“{label[code]}”填写不正确", "“" + "”或“".join(choices) + "”", town)
                elif text and code == "county_congress_year":
                    m = _YEAR_SHEET.match(_text(_show(raw)))
                    if not m:
                        col.add("error", sheet, where, text, f"“{label[code]}”不是年份", "四位数年份，如2021", town)
                    text = m.group("year") if m else ""
                record[code] = text
            else:
                try:
                    value, approx, status = parse_cell(raw, inds[code], allow_approx=False)
                except CellError as e:
                    col.add("error", sheet, where, raw, e.message, e.expected, town, code)
                    value, status = math.nan, "error"
                if status == "missing" and merged.covers(i, j):
                    pass  # the merged range is the error
                elif status == "missing":
                    col.add("warning", sheet, where, None, f"“{cat.name(code)}”未填写，相关的人均指标将无法计算", "", town, code)
                elif status == "na":
                    col.add("error", sheet, where, raw, f"“{cat.name(code)}”不能填“不适用”", expected_text(cat[code]), town, code)
                record[code] = value
        if town in profiles:
            col.add("error", sheet, cell_name(i, town_col), town,
                    f"乡镇重复：已在{origin[town]}出现", "每个乡镇只出现一次", town)
            continue
        profiles[town] = record
        origin[town] = f"文件“{col.file}”工作表“{sheet}”{cell_name(i, town_col)}"
        # size figures must be consistent with each other
        br, vil = record.get("party_branches"), record.get("villages")
        if br is not None and vil is not None and br == br and vil == vil and br < vil:
            col.add("warning", sheet, cell_name(i, town_col), f"党支部{_show(br)}个、行政村{_show(vil)}个",
                    "党支部数少于行政村数，请核实", "党支部数不少于行政村数", town)


# --------------------------------------------------------------------------------------------- year sheets
def _parse_year_sheet(df, sheet, year, col: _Collector, cat: Catalog, known_towns, out: list, *, kind="values"):
    """Parse one year sheet into ``out`` (list of tidy row tuples). ``kind`` is values or targets."""
    h, t = _town_header(df)
    if h is None:
        col.add("error", sheet, "A1", _cell(df, 0, 0) if len(df) else None,
                "找不到表头行", "表头行的第一列为“乡镇”（或“县”“乡镇”两列），其余各列为指标名称")
        return
    k = 0 if t == 1 else None  # the 县 column, when the sheet has one
    merged = _Merged(df, sheet, h, col)
    g = _grid(df)
    columns: dict[int, str] = {}
    seen: dict[str, int] = {}
    earlier: list[tuple[str, object, str]] = []  # headers of an earlier template: (cell, header, code)
    for j in range(t + 1, df.shape[1]):
        head = _cell(df, h, j)
        where = cell_name(h, j)
        if head is None:
            if not merged.covers(h, j) and any(g[i][j] is not None for i in range(h + 1, len(df))):
                col.add("error", sheet, where, None, "此列有数据但没有表头", "指标名称")
            continue
        found = cat.read_header(_header_text(head))
        code = found.code
        if code is None:
            col.add("error", sheet, where, head, "无法识别的表头（不在指标目录中）",
                    "指标目录中的名称（可运行“zhidang indicators”查看）")
            continue
        if cat.frame.at[code, "origin"] != "values":
            col.add("error", sheet, where, head, "该项属于乡镇基本情况，应填在“乡镇概况”表中", "年度指标名称")
            continue
        if found.wrong_unit:
            col.add("error", sheet, where, head, "表头中的单位与指标目录不符", f"“{cat.label(code)}”")
            continue
        if found.earlier:
            earlier.append((where, head, code))
        if code in seen:
            col.add("error", sheet, where, head, f"重复的列（与{cell_name(h, seen[code])}是同一指标）", "每个指标只占一列")
            continue
        seen[code] = j
        columns[j] = code
    _earlier_headers(earlier, sheet, col, cat)

    rows_by_town: dict[str, int] = {}
    total_row: int | None = None
    unread_rows = False  # a row between header and total that is not read as a town: the total cannot add up
    for i in range(h + 1, len(df)):
        if merged.covers(i, 0):
            unread_rows = True
            continue  # the merged range is the error
        row = g[i]
        raw_town = row[t]
        town = _town_name(raw_town)
        if not town:
            if any(row[j] is not None for j in columns):
                col.add("error", sheet, cell_name(i, t), None, "此行有数据但缺少乡镇名称", "乡镇名称")
                unread_rows = True
            continue
        if is_total_label(town):
            total_row = i
            continue
        if is_footer_label(town):
            if not any(_is_number(row[j]) for j in columns):
                continue
            col.add("error", sheet, cell_name(i, t), raw_town, "此行像落款或注释，但填有数字，无法确定是否为乡镇数据",
                    "落款行不填数字；乡镇行第一列填写乡镇名称")
            unread_rows = True
            continue
        if not col.owns(town, row[k] if k is not None else None, sheet, cell_name(i, t if k is None else k)):
            unread_rows = True  # another county's row: a total row below adds up all counties
            continue
        if town in col.exclude:
            unread_rows = True
            continue
        if town in rows_by_town:
            col.add("error", sheet, cell_name(i, t), town,
                    f"乡镇重复（第{rows_by_town[town] + 1}行已有该乡镇）", "每个乡镇只占一行", town)
            unread_rows = True
            continue
        if known_towns is not None and town not in known_towns:
            close = _close(town, known_towns)
            col.add("error", sheet, cell_name(i, t), town, "乡镇不在乡镇概况表中",
                    "乡镇概况表中的乡镇名称" + (f"（相近的有：{'、'.join(close)}）" if close else ""), town)
            unread_rows = True
            continue
        rows_by_town[town] = i

    applicable = set(cat.applicable(year))
    present_cols = set(columns.values())
    value_codes = cat.value_codes
    inds = {code: cat[code].to_dict() for code in present_cols}
    town_rows = list(rows_by_town.values())
    # column by column: (value, approx, status) of every town cell, or the CellError of a cell that fails
    parsed = {j: parse_column([g[i][j] for i in town_rows], inds[code]) for j, code in columns.items()}
    failed: set[int] = set()  # columns with a cell already reported as an error
    prefix = f"{col.file}!{sheet}!"
    names = {code: cat.name(code) for code in present_cols}
    letters = {j: get_column_letter(j + 1) for j in columns}
    missing_codes = [code for code in value_codes if code not in present_cols] if kind == "values" else []
    for k, (town, i) in enumerate(rows_by_town.items()):
        for j, code in columns.items():
            value, approx, status = cell = parsed[j][k]
            if isinstance(cell, _Failed):
                e = cell.error
                col.add("error", sheet, cell_name(i, j), g[i][j], f"“{names[code]}”{e.message}", e.expected, town, code)
                failed.add(j)
                continue
            if merged.ranges and merged.covers(i, j):
                failed.add(j)
                continue  # the merged range is the error
            where = f"{letters[j]}{i + 1}"
            if code not in applicable:
                if status == "present":
                    row = cat[code]
                    col.add("error", sheet, where, g[i][j], f"“{names[code]}”在{year}年不适用",
                            f"空白或“—”（该指标适用于{row['first_year']}—{row['last_year'] if row['last_year'] < 9999 else ''}年）", town, code)
                    failed.add(j)
                    continue
                value, approx, status = math.nan, False, "na"
            out.append((town, year, code, value, approx, status, prefix + where))
        for code in missing_codes:
            status = "missing" if code in applicable else "na"
            out.append((town, year, code, math.nan, False, status, f"{col.file}!{sheet}"))

    if total_row is not None and not unread_rows:
        _check_total(g, sheet, total_row, {j: c for j, c in columns.items() if j not in failed}, parsed,
                     col, cat)


def _close(name, valid) -> list[str]:
    import difflib

    return difflib.get_close_matches(name, list(valid), n=3, cutoff=0.5)


class _Failed(tuple):
    """A cell of :func:`parse_column` that cannot be read: ``(nan, False, "error")`` carrying its
    :class:`CellError`."""

    error: CellError

    def __new__(cls, error: CellError):
        t = super().__new__(cls, (math.nan, False, "error"))
        t.error = error
        return t


def parse_column(raws: list, ind, *, allow_approx: bool = True) -> list[tuple]:
    """:func:`parse_cell` of every cell of a column at once: ``(value, approx, status)`` per cell, or a
    :class:`_Failed` carrying the :class:`CellError`. Plain numbers are checked as one array (float noise,
    sign, integer, range); only text and the numbers that fail go through :func:`parse_cell` one by one,
    so every message is the one :func:`parse_cell` gives."""
    n = len(raws)
    out: list = [None] * n
    kinds = [type(v) for v in raws]
    num_idx = [k for k, t in enumerate(kinds) if t is float or t is int]
    if num_idx:
        v = np.array([raws[k] for k in num_idx], dtype="float64")
        nan = np.isnan(v)
        whole = np.isfinite(v) & (v == np.floor(v)) & (np.abs(v) < 1e15)
        noisy = ~whole & ~nan & np.isfinite(v)
        if noisy.any():  # what Excel shows: 202.99999999999997 is 203
            v[noisy] = [float(f"{x:.15g}") for x in v[noisy]]
        ok = np.isfinite(v) & (v >= 0) & (v >= ind["min"]) & (v <= ind["max"])
        if ind["integer"]:
            ok &= v == np.floor(v)
        present = (False, "present")
        for k, good, isnan, x in zip(num_idx, ok.tolist(), nan.tolist(), v.tolist()):
            if isnan:
                out[k] = (math.nan, False, "missing")
            elif good:
                out[k] = (x,) + present
    for k in range(n):
        if out[k] is None:
            raw = raws[k]
            if raw is None:
                out[k] = (math.nan, False, "missing")
                continue
            try:
                out[k] = parse_cell(raw, ind, allow_approx=allow_approx)
            except CellError as e:
                out[k] = _Failed(e)
    return out


def _check_total(g, sheet, i, columns, parsed, col: _Collector, cat: Catalog):
    """A 合计 row is not a town: compare it with the sum of the towns (additive indicators), then drop it.

    ``columns`` are the columns whose town cells were all read (a column with a cell already reported as an
    error is not compared: its mismatch would only repeat that error); ``parsed`` the town cells of each
    column as :func:`parse_column` read them."""
    uncomputed = []
    for j, code in columns.items():
        if not cat.frame.at[code, "additive"]:
            continue
        raw = g[i][j]
        if isinstance(raw, Uncomputed):
            uncomputed.append(j)
            continue
        try:
            total, _, status = parse_cell(raw, _unbounded(cat[code]))
        except CellError:
            col.add("warning", sheet, cell_name(i, j), raw, "合计行的数值无法识别，已忽略合计行", "数字")
            continue
        if status != "present":
            continue
        parts = [v for v, _, st in parsed[j] if st == "present"]
        s = sum(parts)
        if abs(s - total) > 1e-6 * max(1.0, abs(total)):
            col.add("warning", sheet, cell_name(i, j), raw,
                    f"合计行与各乡镇之和不一致（各乡镇之和为{_show(round(s, 6))}），合计行已忽略", f"{_show(round(s, 6))}")
    if uncomputed:
        first = uncomputed[0]
        col.add("warning", sheet, cell_name(i, first), g[i][first],
                f"合计行的{len(uncomputed)}个单元格是没有保存计算结果的公式，未能与各乡镇之和核对，合计行已忽略",
                UNCOMPUTED_EXPECTED)


def _unbounded(ind: pd.Series) -> pd.Series:
    ind = ind.copy()
    ind["max"] = math.inf
    return ind


# --------------------------------------------------------------------------------------------- csv
def _parse_csv(path: Path, col: _Collector, cat: Catalog, known_towns, out: list):
    limit = workbooks.MAX_UNCOMPRESSED_BYTES  # one knob for workbooks and CSV, read when used
    if path.exists() and path.stat().st_size > limit:
        col.add("error", None, None, None, f"文件太大（{path.stat().st_size / _MB:.0f} MB），超过上限"
                f"{limit / _MB:.0f} MB，未读取", f"不超过{limit / _MB:.0f} MB的CSV文件")
        return
    try:
        try:
            df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        except UnicodeDecodeError:
            df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="gb18030")
    except Exception as e:  # noqa: BLE001 - any unreadable file is reported, not raised
        col.add("error", None, None, None, f"无法读取CSV文件（{type(e).__name__}：{e}）", "UTF-8或GBK编码的CSV")
        return
    heads = ",".join(map(str, df.columns))
    indicators = [str(c) for c in df.columns if cat.match_header(_header_text(c))[0] is not None]
    if indicators and any(_text(c) == "乡镇" for c in df.columns):
        col.add("error", None, "第1行", heads, f"CSV文件是宽表（每个指标一列，如“{indicators[0]}”），未读取",
                "长表CSV（列名：县, 乡镇, 年度, 指标代码, 数值，每行一个数值）；宽表请放在Excel工作簿中以年度命名的工作表里")
        return
    names = {}
    for key, options in CSV_COLUMNS.items():
        hit = [c for c in df.columns if _text(c) in options]
        if not hit and key != "county":
            col.add("error", None, "第1行", heads, f"缺少“{options[0]}”列", "列名：县, 乡镇, 年度, 指标代码, 数值")
            return
        if hit:
            names[key] = hit[0]
    if not any(any(str(v).strip() for v in row) for row in df.itertuples(index=False, name=None)):
        col.add("warning", None, "第2行", None, "CSV文件只有表头，没有数据行", "每行一个乡镇、年度、指标的数值")
        return
    letters = {k: get_column_letter(list(df.columns).index(v) + 1) for k, v in names.items()}
    seen: dict[tuple, int] = {}
    earlier: list[tuple[str, object, str]] = []
    for n, row in enumerate(df.itertuples(index=False, name=None), start=2):
        rec = dict(zip(df.columns, row))

        def get(k: str, rec: dict = rec) -> str:
            return rec[names[k]] if k in names else ""

        town = _town_name(get("town"))
        if (not town and not any(str(v).strip() for v in rec.values())) or town in col.exclude:
            continue
        if not col.owns(town, get("county") or None, None, f"{letters.get('county', letters['town'])}{n}"):
            continue
        if known_towns is not None and town not in known_towns:
            col.add("error", None, f"{letters['town']}{n}", town, "乡镇不在乡镇概况表中", "乡镇概况表中的乡镇名称", town)
            continue
        m = _YEAR_SHEET.match(_text(get("year")))
        if not m:
            col.add("error", None, f"{letters['year']}{n}", get("year"), "年度无法识别", "四位数年份，如2023", town)
            continue
        year = int(m.group("year"))
        found = cat.read_header(get("indicator"))
        code = found.code
        if found.earlier and code not in {c for _, _, c in earlier}:
            earlier.append((f"{letters['indicator']}{n}", get("indicator"), code))
        if code is None or cat.frame.at[code, "origin"] != "values" or found.wrong_unit:
            col.add("error", None, f"{letters['indicator']}{n}", get("indicator"), "无法识别的指标", "指标目录中的代码或名称", town)
            continue
        key = (town, year, code)
        if key in seen:
            col.add("error", None, f"{letters['indicator']}{n}", get("indicator"),
                    f"与第{seen[key]}行重复（同一乡镇、年度、指标）", "每个乡镇、年度、指标只出现一次", town, code)
            continue
        seen[key] = n
        where = f"{letters['value']}{n}"
        try:
            value, approx, status = parse_cell(get("value") or None, cat[code])
        except CellError as e:
            col.add("error", None, where, get("value"), f"“{cat.name(code)}”{e.message}", e.expected, town, code)
            continue
        if not cat.applies(code, year):
            if status == "present":
                col.add("error", None, where, get("value"), f"“{cat.name(code)}”在{year}年不适用", "空白或“—”", town, code)
                continue
            value, status = math.nan, "na"
        out.append((town, year, code, value, approx, status, f"{col.file}!{where}"))
    _earlier_headers(earlier, None, col, cat, what="指标名称")
    # indicators a CSV leaves out are missing (or not applicable) for each town-year it mentions
    present = {(t, y, c) for t, y, c, *_ in out}
    for town, year in sorted({(t, y) for t, y, *_ in out}):
        for code in cat.value_codes:
            if (town, year, code) not in present:
                status = "missing" if cat.applies(code, year) else "na"
                out.append((town, year, code, math.nan, False, status, col.file))


# --------------------------------------------------------------------------------------------- public
def validate(*paths: str | Path, catalog: Catalog | None = None, exclude_towns=()) -> ValidationResult:
    """Read and check every file under ``paths``; return all problems and, if none is an error, the dataset.

    The input holds one county or several. Several counties come as a folder of county folders (each laid
    out as one county's folder), or as tables whose 乡镇概况 lists towns of several 县 (year sheets then carry
    a 县 column before 乡镇 wherever a town name is in more than one county). Each county is read on its own:
    its towns are (county, town), so two counties' 城关镇 are two towns.

    ``exclude_towns`` (names, ``县/乡镇`` where a name is in several counties, or one comma-separated string)
    are left out as if their rows were not there: a batch uses it to report on the other towns when one
    town's data have errors.
    """
    cat = catalog or load_catalog()
    excluded = _town_list(exclude_towns)
    problems: list[Problem] = []
    groups = _groups(paths or ["data/sample"], problems)
    files = [f for _, group in groups for f in group]
    if not files:
        problems.append(Problem("error", ", ".join(map(str, paths)), None, None, None, "没有找到数据文件",
                                ".xlsx 或 .csv 文件（或每个县一个子文件夹）"))
        return ValidationResult(problems, None)
    names = {f: (f"{label}/{f.name}" if label else f.name) for label, group in groups for f in group}

    workbooks: dict[Path, dict[str, pd.DataFrame]] = {}
    for f in files:
        if f.suffix.lower() == ".csv":
            continue
        if not f.exists():
            problems.append(Problem("error", str(f), None, None, None, "文件不存在", "已有的数据文件或文件夹"))
            continue
        if f.suffix.lower() in UNREAD_SUFFIXES:
            problems.append(Problem("error", names[f], None, None, None,
                                    f"不读取此格式的文件（{UNREAD_SUFFIXES[f.suffix.lower()]}“{f.suffix}”），其中的数据不会被使用",
                                    "另存为Excel工作簿（.xlsx）后放回文件夹，或把不是数据的文件移出数据文件夹"))
            continue
        try:
            workbooks[f] = read_workbook(f)
        except ReadRefused as e:
            problems.append(Problem("error", names[f], e.sheet, None, None, e.message, e.expected))
        except Exception as e:  # noqa: BLE001 - reported with the file name
            problems.append(Problem("error", names[f], None, None, None,
                                    f"无法读取Excel文件（{type(e).__name__}：{e}）", "可以用Excel打开的 .xlsx 文件"))

    parts: list[Dataset] = []
    where_county: dict[str, str] = {}
    n_views = 0
    for label, group in groups:
        views = _views(group, workbooks, problems, names)
        n_views += len(views)
        for view in views:
            county = view.county if view is not None else None
            # a name as given (a town may be named a/b), and this county's towns given as 县/乡镇
            exclude = frozenset(excluded) | {t[len(county) + 1:] for t in excluded
                                             if county and t.startswith(county + "/")}
            found: list[Problem] = []
            part = _validate_county(group, workbooks, found, cat, exclude, names, view, label or paths,
                                    any(p.level == "error" for p in problems))
            problems += [replace(p, county=county) if p.town and p.county is None and county else p for p in found]
            if part is None:
                continue
            for c in part.counties:
                if c in where_county and where_county[c] != (label or ""):
                    problems.append(Problem("error", label or names[group[0]], PROFILE_SHEET, None, c,
                                            f"县“{c}”在两处都有数据：文件夹“{where_county[c] or '（顶层）'}”和"
                                            f"“{label or '（顶层）'}”", "每个县的数据只放在一个文件夹中"))
                where_county.setdefault(c, label or "")
            parts.append(part)
    problems = list(dict.fromkeys(problems))  # a sheet-wide problem is found once per county of the sheet
    if any(p.level == "error" for p in problems) or not parts:
        return ValidationResult(problems, None)
    # several counties in the input make a dataset of several counties, even when one is left (the others'
    # towns all left out): the layout of a batch's outputs must not change with the errors
    ds = parts[0] if len(parts) == 1 and n_views == 1 else _combine(parts, files)
    ds.problems = [p for p in problems if p.level != "error"]
    return ValidationResult(problems, ds)


def input_files(paths) -> list[Path]:
    """Every file :func:`validate` reads under ``paths``: a folder's own files, or those of its county folders."""
    return [f for _, group in _groups(paths, []) for f in group]


def _groups(paths, problems: list[Problem]) -> list[tuple[str | None, list[Path]]]:
    """The inputs as (label, files) groups: a folder's own files are one group; a folder without data files of
    its own whose subfolders have them is a folder of county folders, one group per subfolder (labelled by
    the subfolder's name, which messages put before the file name). Subfolders of a folder that has files of
    its own are not read, and are named in a warning."""
    groups: list[tuple[str | None, list[Path]]] = []
    loose: list[Path] = []
    for p in paths:
        p = Path(p)
        if not p.is_dir():
            loose.append(p)
            continue
        subs = [d for d in sorted(p.iterdir()) if d.is_dir() and not d.name.startswith((".", "_", "~"))
                and expand([d])]
        own = [f for f in expand([p]) if not subs or not _holds_no_data(f)]
        if own:
            loose += own
            for d in subs:
                problems.append(Problem("warning", d.name, None, None, None,
                                        "子文件夹中的数据文件未读取（所在文件夹本身有数据文件，按一个县的数据读取）",
                                        "每个县一个子文件夹时，上层文件夹中不放数据文件"))
        else:
            groups += [(d.name, expand([d])) for d in subs]
    if loose:
        groups.insert(0, (None, loose))
    return groups


def _holds_no_data(f: Path) -> bool:
    """A workbook whose sheets are all ones the loader ignores (a check report saved beside the data)."""
    if f.suffix.lower() not in EXCEL_SUFFIXES:
        return False
    try:
        from python_calamine import CalamineWorkbook

        names = CalamineWorkbook.from_path(str(f)).sheet_names
    except Exception:  # noqa: BLE001 - unreadable: it is read (and reported) as data
        return False
    ignored = {_text(s) for s in IGNORED_SHEETS}
    return bool(names) and all(_text(n) in ignored for n in names)


def _views(files: list[Path], workbooks: dict, problems: list[Problem] | None = None,
           names: dict[Path, str] | None = None) -> list[_View | None]:
    """One :class:`_View` per county the group's 乡镇概况 lists ([None] when it names none: then the missing
    县 is reported where the profile is read). A county of a single town whose name is one character off another
    county's (甲具 beside 甲县) is most likely a typing slip: it gets a warning in ``problems`` naming its cell."""
    pairs: list[tuple[str, str]] = []
    cells: dict[str, tuple[Path, str, str]] = {}  # county → where its first row names it
    for f in files:
        for sheet, df in workbooks.get(f, {}).items():
            if _text(sheet) != PROFILE_SHEET:
                continue
            h = _find_header_row(df, "乡镇", anywhere=True)
            if h is None:
                continue
            heads = {normalize_header(_cell(df, h, j)): j for j in range(df.shape[1]) if _cell(df, h, j) is not None}
            if normalize_header("县") not in heads or normalize_header("乡镇") not in heads:
                continue
            tj, cj = heads[normalize_header("乡镇")], heads[normalize_header("县")]
            for i in range(h + 1, len(df)):
                town, county = _town_name(_cell(df, i, tj)), _county_text(_cell(df, i, cj))
                if town and county and not is_total_label(town) and not is_footer_label(town):
                    pairs.append((county, town))
                    cells.setdefault(county, (f, sheet, cell_name(i, cj)))
    counties = tuple(dict.fromkeys(c for c, _ in pairs))
    if not counties:
        return [None]
    town_counties: dict[str, list[str]] = {}
    for c, t in dict.fromkeys(pairs):
        town_counties.setdefault(t, []).append(c)
    if problems is not None:
        sizes = {c: sum(c in cs for cs in town_counties.values()) for c in counties}
        for c in counties:
            near = [o for o in counties if o != c and sizes[o] > 1 and _one_edit_apart(c, o)]
            if sizes[c] == 1 and near:
                f, sheet, cell = cells[c]
                town = next(t for t, cs in town_counties.items() if c in cs)
                problems.append(Problem("warning", (names or {}).get(f, f.name), sheet, cell, c,
                                        f"县“{c}”只有乡镇“{town}”一个，与县“{near[0]}”只差一个字，可能是笔误；"
                                        "如不更正，该乡镇将单独成为一个县，不与其他乡镇比较",
                                        f"“{near[0]}”（如确是另一个县，可忽略此警告）", town, None, c))
    return [_View(c, counties, town_counties, first=n == 0) for n, c in enumerate(counties)]


def _one_edit_apart(a: str, b: str) -> bool:
    """Whether ``b`` is ``a`` with one character changed, added or left out (甲具/甲县, 甲/甲县)."""
    if abs(len(a) - len(b)) > 1 or a == b:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b)) == 1
    short, long = sorted((a, b), key=len)
    return any(long[:i] + long[i + 1:] == short for i in range(len(long)))


def _validate_county(files: list[Path], workbooks: dict, problems: list[Problem], cat: Catalog, exclude: frozenset,
                     names: dict[Path, str], view: _View | None, paths, had_errors: bool) -> Dataset | None:
    """Read one county's tables (``view``: which rows are its own, None when the files hold one county);
    ``had_errors``: reading the files already failed somewhere (then nothing is said to be missing)."""

    def collector(f: Path) -> _Collector:
        return _Collector(f, problems, exclude, name=names[f], view=view)

    # 0. the county's own indicators (sheet 本县指标), if it declares any: the catalog of its tables
    local: list[dict] = []
    for f in files:
        for sheet, df in workbooks.get(f, {}).items():
            if _text(sheet) == LOCAL_SHEET:
                _parse_local_indicators(df, sheet, collector(f), cat, local)
    cat = cat.extend(local)

    # 1. the profile first: it says which towns exist and to which county they belong
    profiles: dict[str, dict] = {}
    origin: dict[str, str] = {}
    for f in files:
        for sheet, df in workbooks.get(f, {}).items():
            if _text(sheet) == PROFILE_SHEET:
                _parse_profile(df, sheet, collector(f), cat, profiles, origin)
    where = paths if isinstance(paths, str) else ", ".join(str(p) for p in paths) or "data/sample"
    if view is not None and len(view.counties) > 1:
        where = f"{where}（{view.county}）"
    if not profiles and exclude and not had_errors:
        return None  # every town of this county is left out (a batch reports on the other counties)
    if not profiles and not had_errors and not any(p.level == "error" for p in problems):
        problems.append(Problem("error", where, None, None, None,
                                "没有找到乡镇概况表", f"某个工作簿中有名为“{PROFILE_SHEET}”的工作表"))
    known = set(profiles) if profiles else None

    # 2. the towns' own practices (text), from any workbook's sheet 特色做法
    practice_rows: list[tuple] = []
    practice_seen: dict[tuple[str, int], str] = {}
    for f in files:
        for sheet, df in workbooks.get(f, {}).items():
            if _text(sheet) == _practices.PRACTICES_SHEET:
                _practices.parse_sheet(df, sheet, collector(f), cat, known, practice_rows, practice_seen)

    # 3. yearly values and targets
    rows: list[tuple] = []
    target_rows: list[tuple] = []
    where_from: dict[tuple[str, int], str] = {}
    for f in files:
        col = collector(f)
        is_targets = TARGETS_MARK in f.stem
        if f.suffix.lower() == ".csv":
            part: list[tuple] = []
            _parse_csv(f, col, cat, known, part)
            _merge(part, rows, where_from, col)
            continue
        if f not in workbooks:
            continue
        years_seen: dict[int, str] = {}
        ignored = {PROFILE_SHEET, _practices.PRACTICES_SHEET, LOCAL_SHEET} | {_text(s) for s in IGNORED_SHEETS}  # NFKC
        named = {sheet: sheet_year(sheet) for sheet in workbooks[f] if _text(sheet) not in ignored}
        for sheet, df in workbooks[f].items():
            if sheet not in named:
                continue
            kind, year = named[sheet]
            if kind != "exact":
                _not_a_year_name(df, sheet, kind, year, named, col)
                continue
            if year in years_seen:
                col.add("error", sheet, None, sheet, f"与工作表“{years_seen[year]}”是同一年度", "每个年度一个工作表")
                continue
            years_seen[year] = sheet
            if df.empty or df.isna().all().all():
                col.add("error", sheet, "A1", None, "工作表是空的", "表头行与各乡镇数据")
                continue
            part = []
            _parse_year_sheet(df, sheet, year, col, cat, known, part, kind="targets" if is_targets else "values")
            if is_targets:
                target_rows += [r for r in part if r[5] == "present"]
            else:
                _merge(part, rows, where_from, col)
    if not rows and exclude and not had_errors and not any(p.level == "error" for p in problems):
        return None  # every town with data is left out
    if not rows and not had_errors and not any(p.level == "error" for p in problems):
        problems.append(Problem("error", where, None, None, None,
                                "没有找到年度指标数据", "名为“2023”或“2023年”的年度工作表，或长表CSV文件"))

    if had_errors or any(p.level == "error" for p in problems):
        return None

    profile = _profile_frame(profiles, cat)
    values = pd.DataFrame(rows, columns=VALUE_COLUMNS[1:])
    values.insert(0, "county", values["town"].map(profile["county"]))
    values = _sort_values(values, profile, cat)
    targets = pd.DataFrame(target_rows, columns=["town", "year", "indicator", "target", "approx", "status", "source"])
    targets = targets[["town", "year", "indicator", "target", "source"]].astype({"year": "int64", "target": "float64"})
    targets = targets.sort_values(["town", "year", "indicator"], kind="stable").reset_index(drop=True)

    all_years = set(values["year"])
    have_years = values.groupby("town", sort=False)["year"].agg(set).to_dict()  # one pass, not one scan per town
    for town in profile.index:
        have = have_years.get(town, set())
        for y in sorted(all_years - have):
            problems.append(Problem("warning", origin[town].split("”")[0].removeprefix("文件“"), PROFILE_SHEET, None, town,
                                    f"乡镇“{town}”在{y}年没有数据", "", town))
    _gaps(values, cat, problems)
    _consistency(values, profile, problems, cat, files)
    practices = _practices.frame(practice_rows)
    stray = practices[~practices["year"].isin(values["year"].unique())]
    for r in stray.drop_duplicates(["town", "year"]).itertuples():
        file, sheet, cell = r.source.split("!")
        problems.append(Problem("warning", file, sheet, cell, r.town, f"特色做法中的{r.year}年没有指标数据，该行不会写入报告",
                                "", r.town))
    # cross-field rules (and nothing else) can still add errors here: then there is no dataset either
    if any(p.level == "error" for p in problems):
        return None
    return Dataset(values=values, profile=profile, targets=targets, catalog=cat,
                   problems=[p for p in problems if p.level != "error"], files=list(files), practices=practices)


def _combine(parts: list[Dataset], files: list[Path]) -> Dataset:
    """One dataset of several counties: tables with a ``county`` column, the profile indexed by (county, town)."""
    profiles, targets, practices = [], [], []
    for d in parts:
        county = d.profile["county"]
        p = d.profile.drop(columns=["county"])
        p.index = pd.MultiIndex.from_arrays([county.to_numpy(), p.index], names=["county", "town"])
        profiles.append(p)
        targets.append(d.targets.assign(county=d.targets["town"].map(county))[["county", *d.targets.columns]])
        practices.append(d.practices.assign(county=d.practices["town"].map(county))[["county", *d.practices.columns]])
    return Dataset(values=pd.concat([d.values for d in parts], ignore_index=True),
                   profile=pd.concat(profiles), targets=pd.concat(targets, ignore_index=True),
                   catalog=parts[0].catalog.extend([e for d in parts[1:] for e in d.catalog.local_entries()]),
                   files=list(files),
                   practices=pd.concat(practices, ignore_index=True))


def sheet_year(name: str) -> tuple[str, int | None]:
    """How a sheet's name gives its year: ``("exact", 2025)`` for 2025, 2025年, 2025年度, 2025 年, 二〇二五年;
    ``("loose", 2025)`` for one year among other text (2025年 (2), 2025年数据); ``("short", None)`` for 25年;
    ``("many", None)`` for several years (2024-2025) and ``("none", None)`` for no year.

    >>> sheet_year("二〇二五年"), sheet_year("2025年 (2)"), sheet_year("25年")
    (('exact', 2025), ('loose', 2025), ('short', None))
    """
    text = re.sub(r"[〇○零一二三四五六七八九]{4}", lambda m: m.group().translate(_CN_DIGITS), _text(name))
    m = _YEAR_NAME.match(text)
    if m:
        return "exact", int(m.group("year"))
    if _SHORT_YEAR_NAME.match(text):
        return "short", None
    years = set(_ANY_YEAR.findall(text))
    if len(years) == 1:
        return "loose", int(years.pop())
    return ("many" if years else "none"), None


def _not_a_year_name(df, sheet, kind: str, year: int | None, named: dict, col: _Collector) -> None:
    """A sheet whose name is not exactly a year: skipped with a warning unless it is laid out as data (its
    header row starts with 乡镇); then an error saying why its year is not certain, never skipped quietly. A
    copy of the profile or practices sheet (乡镇概况 (2)) is an error too."""
    base = next((b for b in (PROFILE_SHEET, _practices.PRACTICES_SHEET) if b in _text(sheet)), None)
    if base is not None and _find_header_row(df, "乡镇", anywhere=True) is not None:
        col.add("error", sheet, None, sheet, f"工作表名称含“{base}”但不完全相同，未读取（可能是“{base}”表的副本或更正稿）",
                f"只保留一个名为“{base}”的工作表")
        return
    if _find_header_row(df, "乡镇") is None:
        col.add("warning", sheet, None, None, "工作表名称不是年度，已跳过", "“2023”或“2023年”")
        return
    data = "工作表有数据（表头行第一列为“乡镇”），但"
    first = next((s for s, (k, y) in named.items() if k == "exact" and y == year), None)
    if kind == "loose" and first is not None:
        col.add("error", sheet, None, sheet, f"与工作表“{first}”是同一年度（{year}年）的数据，无法确定用哪一个",
                f"每个年度一个工作表：保留正确的一个并命名为“{year}年”，删除另一个")
    elif kind == "loose":
        col.add("error", sheet, None, sheet, f"{data}名称除年份外还有其他文字，无法确定是否就是{year}年的数据",
                f"工作表名称只写年度，如“{year}年”")
    elif kind == "short":
        col.add("error", sheet, None, sheet, f"{data}名称中的年份不完整", "四位数年份，如“2025年”")
    elif kind == "many":
        col.add("error", sheet, None, sheet, f"{data}名称中有多个年份", "每个年度一个工作表，名称只写年度，如“2025年”")
    else:
        col.add("error", sheet, None, sheet, f"{data}名称中没有年度", "以年度命名，如“2025年”")


def _gaps(values: pd.DataFrame, cat: Catalog, problems: list) -> None:
    """Warnings for what the reports will show as 【待补】 because it was never filled in.

    - A town row left blank in a year sheet (it has cells, and every one is empty).
    - An indicator without a column in a year sheet (or, in a CSV, without a row for a town and year) when
      the data give it elsewhere (another year sheet, another town of the CSV), or when the sheet carries at
      least half of the indicators that apply in its year (a full table with a column lost). A county that
      collects a few indicators only, in every sheet alike, is not warned about each one it leaves out;
      a single blank cell is not warned about either.
    """
    if values.empty:
        return
    v = values
    first = v["indicator"].map(cat.frame["first_year"])
    last = v["indicator"].map(cat.frame["last_year"])
    v = v[(v["year"] >= first) & (v["year"] <= last)]  # indicators that apply in the year
    part_file, part_sheet, n = _source_parts(v["source"])
    csv = part_file.str.lower().str.endswith(".csv")
    has_cell = (csv & (n == 2)) | (~csv & (n == 3))
    order = {c: i for i, c in enumerate(cat.codes)}

    # a town row left blank: it has cells in the sheet, and every one of them is empty
    cells = v[has_cell & ~csv]
    by_town_year = [cells["town"], cells["year"]]
    blank = cells["status"].eq("missing").groupby(by_town_year, sort=False).all()
    first_source = cells["source"].groupby(by_town_year, sort=False).first()
    for (town, year), is_blank in blank.items():
        if not is_blank:
            continue
        source = first_source[(town, year)]
        f, sheet, where = source.split("!")
        problems.append(Problem("warning", f, sheet, "A" + re.sub(r"^[A-Z]+", "", where), town,
                                f"乡镇“{town}”{year}年的数据整行空白，报告中该乡镇当年的各项数字将显示为【待补】",
                                "", town))

    # indicators without a column (a year sheet) or without a row (a CSV): per sheet, or per CSV and town
    sheet = part_sheet.where(~csv, "")
    town = v["town"].where(csv, "")
    keys = pd.DataFrame({"file": part_file, "sheet": sheet, "town": town, "year": v["year"],
                         "indicator": v["indicator"]})
    have = keys[has_cell].groupby(["file", "sheet", "town", "year"])["indicator"].nunique().to_dict()
    given = set(keys.loc[has_cell, "indicator"])
    missing = keys[~has_cell & (v["status"] == "missing")]
    groups: dict[tuple, list[str]] = {}
    for (f, sh, t, year), codes in missing.groupby(["file", "sheet", "town", "year"], sort=False)["indicator"]:
        full = have.get((f, sh, t, year), 0) * 2 >= len(cat.applicable(int(year)))
        codes = sorted({c for c in codes if full or c in given}, key=order.get)
        if codes:
            groups.setdefault((f, sh, int(year), tuple(codes)), []).append(t)
    for (f, sh, year, codes), towns in groups.items():
        listed = "、".join(cat.name(c) for c in codes)
        if sh:
            message = f"工作表中没有以下{len(codes)}项指标的列，各乡镇{year}年的这些数字在报告中将显示为【待补】：{listed}"
            problems.append(Problem("warning", f, sh, None, None, message))
        else:
            message = (f"CSV文件中没有{'、'.join(towns)}{year}年以下{len(codes)}项指标的数值，报告中将显示为【待补】："
                       f"{listed}")
            problems.append(Problem("warning", f, None, None, None, message, "", towns[0] if len(towns) == 1 else None))


def _source_parts(source: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """File, sheet (None if none) and number of parts of each ``file!sheet!cell`` source. The sources are all
    different but their ``file!sheet`` heads are few: each head is split once, not each row."""
    src = source.to_numpy(dtype=object)
    head = [x.rpartition("!")[0] for x in src]
    codes, heads = pd.factorize(pd.Series(head, dtype=object))
    n = source.str.count("!").to_numpy() + 1
    split = [h.split("!") for h in heads]
    hfile = np.array([p[0] for p in split] or [""], dtype=object)[codes]
    hsheet = np.array([p[1] if len(p) > 1 else None for p in split] or [None], dtype=object)[codes]
    file = np.where(n == 1, src, hfile)  # a source without "!" is the file itself
    sheet = np.where(n == 3, hsheet, None)
    two = np.flatnonzero((n != 1) & (n != 3))  # file!sheet or file.csv!cell (a "!" in a name: split like before)
    if len(two):
        sheet[two] = [src[k].split("!")[1] for k in two]
    return (pd.Series(file, index=source.index, dtype=object), pd.Series(sheet, index=source.index, dtype=object),
            pd.Series(n, index=source.index))


def _merge(part, rows, where_from, col: _Collector):
    """Append one file's rows; the same town and year from two files is an error naming both."""
    keys = sorted({(t, y) for t, y, *_ in part})
    clash = [k for k in keys if k in where_from and where_from[k] != col.file]
    for t, y in clash:
        col.add("error", None, None, t, f"乡镇“{t}”的{y}年数据重复：文件“{where_from[(t, y)]}”中已有",
                "同一乡镇同一年度只在一个文件中填报", t)
    bad = set(clash)
    rows += [r for r in part if (r[0], r[1]) not in bad]
    for k in keys:
        where_from.setdefault(k, col.file)


def _profile_frame(profiles: dict, cat: Catalog) -> pd.DataFrame:
    cols = [c for c in cat.profile_fields.index if c != "town"] + list(cat.frame.index[cat.frame["origin"] == "profile"])
    df = pd.DataFrame.from_dict(profiles, orient="index")
    df.index.name = "town"
    for c in cols:
        if c not in df.columns:
            df[c] = math.nan if c in cat.frame.index else ""
    num = [c for c in cols if c in cat.frame.index]
    df[num] = df[num].astype("float64")
    return df[cols + ["source"]]


def _sort_values(values: pd.DataFrame, profile: pd.DataFrame, cat: Catalog) -> pd.DataFrame:
    town_order = {t: i for i, t in enumerate(profile.index)}
    code_order = {c: i for i, c in enumerate(cat.codes)}
    values = values.astype({"year": "int64", "value": "float64", "approx": "bool"})
    order = pd.DataFrame({
        "t": values["town"].map(town_order), "y": values["year"], "c": values["indicator"].map(code_order),
    })
    idx = order.sort_values(["t", "y", "c"], kind="stable").index
    return values.loc[idx].reset_index(drop=True)


def _consistency(values: pd.DataFrame, profile: pd.DataFrame, problems: list, cat: Catalog, files=()):
    """Cross-field rules of ``data/rules.yaml`` (see :mod:`.crosscheck`): each broken rule is an error
    naming every cell involved; ``files`` let it name a size figure's cell in the 乡镇概况 sheet."""
    from .crosscheck import check

    problems += check(values, profile, cat, files)


def load_dataset(*paths: str | Path, catalog: Catalog | None = None, cache: bool = True,
                 exclude_towns=()) -> Dataset:
    """Load and validate data; raise :class:`DataError` listing every error if there is any.

    ``paths`` are files or folders (default: the bundled sample ``data/sample``); ``exclude_towns`` as in
    :func:`validate`. With ``cache`` (the
    default) a second call on files unchanged since (same paths, sizes and modification times) returns a
    fresh copy of the dataset loaded before instead of reading the workbooks again: a kernel that renders
    one town after another reads them once. A restarted process finds it in a small on-disk cache
    (:func:`disk_cache_dir`, keyed by the files' hashes and the package's code; ``ZHIDANG_CACHE_DIR=""``
    turns it off).

    >>> import zhidang_analysis as zd
    >>> ds = zd.load_dataset(zd.SAMPLE_DATA)
    >>> ds.values.columns.tolist()
    ['county', 'town', 'year', 'indicator', 'value', 'approx', 'status', 'source']
    """
    from . import SAMPLE_DATA

    paths = paths or (SAMPLE_DATA,)
    exclude = tuple(sorted(_town_list(exclude_towns)))
    files_key = _cache_key(paths) if cache and catalog is None else None
    key = (files_key, exclude) if files_key is not None else None
    if key is not None and key in _DATASETS:
        return _DATASETS[key].copy()
    disk = _disk_key(key) if key is not None else None
    ds = _disk_load(disk) if disk is not None else None
    if ds is None:
        result = validate(*paths, catalog=catalog, exclude_towns=exclude)
        if not result.ok:
            raise DataError(result.problems)
        ds = result.dataset
        if disk is not None:
            _disk_store(disk, ds)
    if key is not None:
        _DATASETS.clear()  # one dataset is enough: a kernel serves one county at a time
        _DATASETS[key] = ds.copy()
    return ds


_DATASETS: dict[tuple, Dataset] = {}


def _town_list(towns) -> list[str]:
    """Town names from a list, from a JSON list of strings (``'["甲,镇", "乙镇"]'``), or from one string
    separated by commas (，、 too). A name that holds a comma or 、 must come as a list or a JSON list: that
    is how the batch passes the notebook parameter ``exclude_towns``.
    """
    if isinstance(towns, str):
        text = towns.strip()
        if text.startswith("["):
            import json

            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = None
            if isinstance(parsed, list) and all(isinstance(t, str) for t in parsed):
                return [t.strip() for t in parsed if t.strip()]
        towns = re.split(r"[,，、]", towns)
    return [str(t).strip() for t in towns or () if t and str(t).strip()]


def _cache_key(paths) -> tuple | None:
    """Identity of the input files: resolved path, size and modification time of each (None if unreadable)."""
    try:
        files = input_files(paths)  # county folders' files too
        return tuple((str(f.resolve()), f.stat().st_size, f.stat().st_mtime_ns) for f in files)
    except OSError:
        return None


# ------------------------------------------------------------------------------------- on-disk cache
# A restarted worker or kernel finds the dataset it loaded before in a small cache in the user's cache
# folder (never next to the input files): one pickle per key, the newest few kept. The key is the hash of the
# files' paths, sizes, modification times and contents, the excluded towns and the package's code and
# catalog (batch.code_hash), so a changed file, an upgrade or an edited catalog is loaded afresh.
DISK_CACHE_ENTRIES = 4


def disk_cache_dir() -> Path | None:
    """``$ZHIDANG_CACHE_DIR``, else ``$XDG_CACHE_HOME/zhidang_analysis/datasets`` (``~/.cache/…``); ``None``
    when ``ZHIDANG_CACHE_DIR`` is set to an empty string (no disk cache)."""
    import os

    env = os.environ.get("ZHIDANG_CACHE_DIR")
    if env is not None:
        return Path(env) if env.strip() else None
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "zhidang_analysis" / "datasets"


def _disk_key(key: tuple) -> Path | None:
    import hashlib

    from .batch import code_hash

    folder = disk_cache_dir()
    if folder is None:
        return None
    files, exclude = key
    h = hashlib.sha256(repr((code_hash(), files, exclude)).encode())
    try:
        for name, *_ in files:
            h.update(hashlib.sha256(Path(name).read_bytes()).digest())
    except OSError:
        return None
    return folder / f"{h.hexdigest()}.pickle"


def _disk_load(path: Path) -> Dataset | None:
    import pickle

    try:
        with path.open("rb") as fh:
            ds, local = pickle.load(fh)
    except Exception:  # noqa: BLE001 - a missing, partial or stale entry is a miss
        return None
    if not isinstance(ds, Dataset):
        return None
    ds.catalog = load_catalog().extend(local)  # with the county's own indicators (sheet 本县指标)
    return ds


def _disk_store(path: Path, ds: Dataset) -> None:
    import os
    import pickle
    import tempfile

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        plain = Dataset(values=ds.values, profile=ds.profile, targets=ds.targets, catalog=None,
                        problems=ds.problems, files=ds.files, practices=ds.practices)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            pickle.dump((plain, ds.catalog.local_entries()), fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)  # whole or not at all: a reader never sees half an entry
        entries = sorted(path.parent.glob("*.pickle"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in entries[DISK_CACHE_ENTRIES:]:
            old.unlink(missing_ok=True)
    except Exception:  # noqa: BLE001 - the cache is an optimisation: a read-only home does not fail a load
        try:
            os.unlink(tmp)
        except (OSError, UnboundLocalError):
            pass
