"""Read Excel/CSV input into a validated :class:`Dataset`.

Input layout (the one ``zhidang template`` writes):

- **values**: a workbook with one sheet per year (``2023`` or ``2023年``); a header row whose first column
  is ``乡镇`` and whose other columns are indicator names (``主题党日活动（次）`` is accepted); one row per
  town. A title row above the header, a ``合计``/``小计`` row and footer notes (``填表人：``) are handled.
  A CSV in tidy long form (县, 乡镇, 年度, 指标代码, 数值) is accepted as well.
- **profile**: a sheet named ``乡镇概况`` (text that fills the report's XX places and the size figures).
- **targets**: a workbook whose file name contains ``目标``, laid out like the values.

Every problem is collected in one pass and reported with file, sheet, cell, the value found and what was
expected. Files are only ever read.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

import pandas as pd
from openpyxl.utils import get_column_letter

from . import practices as _practices
from .catalog import Catalog, load_catalog, normalize_header
from .errors import DataError, UnknownNameError

PROFILE_SHEET = "乡镇概况"
TARGETS_MARK = "目标"
EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"}
# Sheets a workbook may carry besides the data (the template's instructions, last year's reference).
IGNORED_SHEETS = {"填表说明", "说明", "指标说明", "上年数据", "上年数据（参考）", "审核结果", "审核汇总"}

VALUE_COLUMNS = ["county", "town", "year", "indicator", "value", "approx", "status", "source"]
NA_TOKENS = {"—", "——", "-", "--", "－", "/", "／", "不适用", "无此项"}
TOTAL_WORDS = ("合计", "小计", "总计")
EXCEL_ERRORS = {"#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!", "#GETTING_DATA", "#SPILL!", "#CALC!"}
FOOTER_PREFIXES = ("注", "备注", "说明", "填表", "填报", "审核", "制表", "联系")
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


# --------------------------------------------------------------------------------------------- problems
@dataclass(frozen=True)
class Problem:
    """One finding of validation.

    ``level`` is ``error`` (the data cannot be used), ``warning`` (used, but look at it) or ``check``
    (plausible but unusual: 请核实).
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

    @property
    def where(self) -> str:
        parts = [f"文件“{self.file}”"]
        if self.sheet:
            parts.append(f"工作表“{self.sheet}”")
        if self.cell:
            parts.append(f"单元格{self.cell}")
        return "，".join(parts)

    def __str__(self) -> str:
        label = {"error": "错误", "warning": "警告", "check": "请核实"}[self.level]
        text = f"【{label}】{self.where}：{self.message}"
        if self.value is not None and self.value != "":
            text += f"；读到“{self.value}”"
        if self.expected:
            text += f"，应为{self.expected}"
        return text + "。"


class _Collector:
    """Collects problems for one file, so every message names the file."""

    def __init__(self, file: Path, problems: list[Problem], exclude: frozenset = frozenset()):
        self.file = file.name
        self.problems = problems
        self.exclude = exclude  # towns left out on purpose: their rows are not read at all

    def add(self, level, sheet, cell, value, message, expected="", town=None, indicator=None):
        self.problems.append(
            Problem(level, self.file, sheet, cell, _show(value), message, expected, town, indicator)
        )


def _show(value: object) -> object:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
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


def expected_text(ind: pd.Series) -> str:
    """What a valid cell of this indicator looks like, in Chinese."""
    kind = "整数" if ind["integer"] else "数值"
    hi = ind["max"]
    rng = f"{_show(ind['min'])}～{_show(hi)}" if math.isfinite(hi) else f"不小于{_show(ind['min'])}"
    return f"{rng}之间的{kind}（单位：{ind['unit']}）" if math.isfinite(hi) else f"{rng}的{kind}（单位：{ind['unit']}）"


def parse_cell(raw: object, ind: pd.Series, *, allow_approx: bool = True) -> tuple[float, bool, str]:
    """Read one cell as ``(value, approx, status)``; status is ``present``, ``missing`` or ``na``.

    Accepted: numbers; text with full-width digits, spaces, thousands separators, the indicator's own
    unit as suffix; ``30余``/``30多`` (30, approximate); ``—``, ``/``, ``不适用`` (not applicable); empty
    (missing). Anything else raises :class:`CellError`.

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
    if isinstance(raw, bool) or isinstance(raw, (datetime, date, time, pd.Timestamp)):
        raise CellError("单元格不是数字（可能被Excel识别成了日期或逻辑值）", expected_text(ind))
    if isinstance(raw, (int, float)):
        value = float(raw)
    else:
        s = unicodedata.normalize("NFKC", str(raw))
        s = re.sub(r"\s+", "", s)
        if s == "":
            return math.nan, False, "missing"
        if s in NA_TOKENS:
            return math.nan, False, "na"
        if s in EXCEL_ERRORS:
            raise CellError("单元格是Excel错误值（公式出错）", expected_text(ind))
        unit = normalize_header(ind["unit"])
        if unit and s.endswith(unit) and len(s) > len(unit):
            s = s[: -len(unit)]
        if s.endswith(("余", "多")):
            if not allow_approx:
                raise CellError("此处不接受约数", expected_text(ind))
            s, approx = s[:-1], True
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


# --------------------------------------------------------------------------------------------- dataset
@dataclass
class Dataset:
    """A validated dataset.

    ``values``: tidy table, one row per (county, town, year, indicator) with ``value`` (float),
    ``approx`` (given as ``30余``), ``status`` (present / missing / na) and ``source`` (``file!sheet!cell``).
    ``profile``: one row per town (index ``town``). ``targets``: tidy (town, year, indicator, target, source).
    ``problems``: the warnings found while loading (errors raise :class:`DataError` instead).
    """

    values: pd.DataFrame
    profile: pd.DataFrame
    targets: pd.DataFrame
    catalog: Catalog
    problems: list[Problem] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    practices: pd.DataFrame = field(default_factory=_practices.empty)

    @property
    def towns(self) -> list[str]:
        return list(self.profile.index[self.profile.index.isin(self.values["town"].unique())])

    @property
    def years(self) -> list[int]:
        return sorted(int(y) for y in self.values["year"].unique())

    @property
    def county(self) -> str:
        counties = self.profile["county"].unique()
        return "、".join(counties)

    def check_town(self, town: str) -> str:
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
            "towns": len(self.towns),
            "years": self.years,
            "indicators": int(v["indicator"].nunique()),
            "present": int((v["status"] == "present").sum()),
            "missing": int((v["status"] == "missing").sum()),
            "na": int((v["status"] == "na").sum()),
            "approx": int(v["approx"].sum()),
            "targets": len(self.targets),
            "warnings": sum(p.level != "error" for p in self.problems),
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
        return (
            f"<Dataset {s['county']}: {s['towns']}个乡镇, 年度{s['years'][0] if s['years'] else ''}"
            f"—{s['years'][-1] if s['years'] else ''}, {len(self.values)}行>"
        )


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
def _expand(paths: Iterable[str | Path]) -> list[Path]:
    files: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            files += sorted(
                f for f in p.iterdir()
                if f.is_file() and f.suffix.lower() in EXCEL_SUFFIXES | {".csv"}
                and not f.name.startswith(("~$", "."))
            )
        else:
            files.append(p)
    return files


def _read_workbook(path: Path) -> dict[str, pd.DataFrame]:
    """All sheets as raw object frames aligned to A1 (row i, col j is cell_name(i, j)).

    ``.xlsx``/``.xlsm`` are read with openpyxl, which keeps Excel error cells (``#DIV/0!``) as their text so
    they are reported instead of passing for empty; other formats (``.xls``, ``.xlsb``, ``.ods``) with
    python-calamine through pandas.
    """
    if path.suffix.lower() in {".xlsx", ".xlsm"}:
        from openpyxl import load_workbook

        wb = load_workbook(path, data_only=True)
        try:
            return {ws.title: pd.DataFrame(list(ws.iter_rows(min_row=1, min_col=1, values_only=True)), dtype=object)
                    for ws in wb.worksheets}
        finally:
            wb.close()
    return pd.read_excel(path, sheet_name=None, header=None, dtype=object, engine="calamine")


def _cell(df: pd.DataFrame, i: int, j: int):
    v = df.iat[i, j]
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, str) and v.strip() == "":
        return None
    return v


def _text(v) -> str:
    return "" if v is None else re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(v)))


def _find_header_row(df: pd.DataFrame, first: str, *, anywhere: bool = False) -> int | None:
    for i in range(min(len(df), 30)):
        cols = range(df.shape[1]) if anywhere else [0]
        if any(_text(_cell(df, i, j)) == first for j in cols if j < df.shape[1]):
            return i
    return None


def _town_name(v) -> str:
    return re.sub(r"\s+", "", str(v)) if v is not None else ""


def claim_column(columns: dict[int, str], j: int, code: str, col: _Collector, sheet, h: int, head) -> bool:
    """Record that header cell (h, j) holds ``code``; a second column of the same code is an error naming the
    first. Returns True when the column was refused."""
    if code in columns.values():
        first = next(k for k, v in columns.items() if v == code)
        col.add("error", sheet, cell_name(h, j), head, f"重复的列（与{cell_name(h, first)}相同）", "每列只出现一次")
        return True
    columns[j] = code
    return False


# --------------------------------------------------------------------------------------------- profile
def _parse_profile(df, sheet, col: _Collector, cat: Catalog, profiles: dict, origin: dict):
    h = _find_header_row(df, "乡镇", anywhere=True)
    if h is None:
        col.add("error", sheet, "A1", None, "找不到表头行", "含有“乡镇”列的表头行")
        return
    fields = cat.profile_fields
    by_name = {normalize_header(n): c for c, n in fields["name"].items()}
    columns: dict[int, str] = {}
    for j in range(df.shape[1]):
        head = _cell(df, h, j)
        if head is None:
            continue
        code = by_name.get(normalize_header(head))
        if code is None:
            code, unit = cat.match_header(head)
            if code is not None and cat.frame.at[code, "origin"] != "profile":
                col.add("error", sheet, cell_name(h, j), head, "该指标按年度填报，应填在年度工作表中，不在乡镇概况表",
                        "乡镇概况表的列：" + "、".join(list(fields["name"]) + [cat.name(c) for c in cat.frame.index[cat.frame["origin"] == "profile"]]))
                continue
            if code is not None and unit and not cat.unit_matches(code, unit):
                col.add("error", sheet, cell_name(h, j), head, "表头中的单位与指标目录不符", f"单位“{cat.frame.at[code, 'unit']}”")
                continue
        if code is None:
            col.add("error", sheet, cell_name(h, j), head, "无法识别的表头",
                    "乡镇概况表的列：" + "、".join(list(fields["name"]) + [cat.name(c) for c in cat.frame.index[cat.frame["origin"] == "profile"]]))
            continue
        if claim_column(columns, j, code, col, sheet, h, head):
            continue
    for code, row in fields.iterrows():
        if row.get("required") and code not in columns.values():
            col.add("error", sheet, cell_name(h, 0), None, f"缺少“{row['name']}”列", f"表头含“{row['name']}”")
    if "town" not in columns.values():
        return
    town_col = next(j for j, c in columns.items() if c == "town")
    for i in range(h + 1, len(df)):
        town = _town_name(_cell(df, i, town_col))
        if not town:
            continue
        if town.startswith(FOOTER_PREFIXES) or any(w in town for w in TOTAL_WORDS) or town in col.exclude:
            continue  # a 合计 row of the size figures is not a town
        record = {"source": f"{col.file}!{sheet}!{cell_name(i, town_col)}"}
        for j, code in columns.items():
            raw = _cell(df, i, j)
            where = cell_name(i, j)
            if code in fields.index:
                text = "" if raw is None else str(raw).strip()
                if code == "town":
                    text = town
                choices = fields.at[code, "choices"] if "choices" in fields.columns else None
                if not text and fields.at[code, "required"]:
                    col.add("error", sheet, where, None, f"“{fields.at[code, 'name']}”不能为空", "填写内容", town)
                elif text and isinstance(choices, list) and text not in choices:
                    col.add("error", sheet, where, text, f"“{fields.at[code, 'name']}”填写不正确", "“" + "”或“".join(choices) + "”", town)
                elif text and code == "county_congress_year":
                    m = _YEAR_SHEET.match(_text(_show(raw)))
                    if not m:
                        col.add("error", sheet, where, text, f"“{fields.at[code, 'name']}”不是年份", "四位数年份，如2021", town)
                    text = m.group("year") if m else ""
                record[code] = text
            else:
                try:
                    value, approx, status = parse_cell(raw, cat[code], allow_approx=False)
                except CellError as e:
                    col.add("error", sheet, where, raw, e.message, e.expected, town, code)
                    value, status = math.nan, "error"
                if status == "missing":
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
    h = _find_header_row(df, "乡镇")
    if h is None:
        col.add("error", sheet, "A1", _cell(df, 0, 0) if len(df) else None,
                "找不到表头行", "表头行的第一列为“乡镇”，其余各列为指标名称")
        return
    columns: dict[int, str] = {}
    seen: dict[str, int] = {}
    for j in range(1, df.shape[1]):
        head = _cell(df, h, j)
        where = cell_name(h, j)
        if head is None:
            if any(_cell(df, i, j) is not None for i in range(h + 1, len(df))):
                col.add("error", sheet, where, None, "此列有数据但没有表头", "指标名称")
            continue
        code, unit = cat.match_header(head)
        if code is None:
            col.add("error", sheet, where, head, "无法识别的表头（不在指标目录中）",
                    "指标目录中的名称（可运行“zhidang indicators”查看）")
            continue
        if cat.frame.at[code, "origin"] != "values":
            col.add("error", sheet, where, head, "该项属于乡镇基本情况，应填在“乡镇概况”表中", "年度指标名称")
            continue
        if unit is not None and not cat.unit_matches(code, unit):
            col.add("error", sheet, where, head, "表头中的单位与指标目录不符", f"“{cat.name(code)}（{cat.frame.at[code, 'unit']}）”")
            continue
        if code in seen:
            col.add("error", sheet, where, head, f"重复的列（与{cell_name(h, seen[code])}是同一指标）", "每个指标只占一列")
            continue
        seen[code] = j
        columns[j] = code

    rows_by_town: dict[str, int] = {}
    total_row: int | None = None
    for i in range(h + 1, len(df)):
        raw_town = _cell(df, i, 0)
        town = _town_name(raw_town)
        has_data = any(_cell(df, i, j) is not None for j in columns)
        if not town:
            if has_data:
                col.add("error", sheet, cell_name(i, 0), None, "此行有数据但缺少乡镇名称", "乡镇名称")
            continue
        if any(w in town for w in TOTAL_WORDS):
            total_row = i
            continue
        if town.startswith(FOOTER_PREFIXES) or town in col.exclude:
            continue
        if town in rows_by_town:
            col.add("error", sheet, cell_name(i, 0), town,
                    f"乡镇重复（第{rows_by_town[town] + 1}行已有该乡镇）", "每个乡镇只占一行", town)
            continue
        if known_towns is not None and town not in known_towns:
            col.add("error", sheet, cell_name(i, 0), town, "乡镇不在乡镇概况表中",
                    "乡镇概况表中的乡镇名称" + (f"（相近的有：{'、'.join(_close(town, known_towns))}）" if _close(town, known_towns) else ""), town)
            continue
        rows_by_town[town] = i

    applicable = set(cat.applicable(year))
    present_cols = set(columns.values())
    for town, i in rows_by_town.items():
        for j, code in columns.items():
            raw = _cell(df, i, j)
            where = cell_name(i, j)
            source = f"{col.file}!{sheet}!{where}"
            try:
                value, approx, status = parse_cell(raw, cat[code])
            except CellError as e:
                col.add("error", sheet, where, raw, f"“{cat.name(code)}”{e.message}", e.expected, town, code)
                continue
            if code not in applicable:
                if status == "present":
                    row = cat[code]
                    col.add("error", sheet, where, raw, f"“{cat.name(code)}”在{year}年不适用",
                            f"空白或“—”（该指标适用于{row['first_year']}—{row['last_year'] if row['last_year'] < 9999 else ''}年）", town, code)
                    continue
                value, approx, status = math.nan, False, "na"
            out.append((town, year, code, value, approx, status, source))
        if kind == "values":
            for code in cat.value_codes:
                if code in present_cols:
                    continue
                status = "missing" if code in applicable else "na"
                out.append((town, year, code, math.nan, False, status, f"{col.file}!{sheet}"))

    if total_row is not None:
        _check_total(df, sheet, total_row, columns, rows_by_town, col, cat)


def _close(name, valid) -> list[str]:
    import difflib

    return difflib.get_close_matches(name, list(valid), n=3, cutoff=0.5)


def _check_total(df, sheet, i, columns, rows_by_town, col: _Collector, cat: Catalog):
    """A 合计 row is not a town: compare it with the sum of the towns (additive indicators), then drop it."""
    for j, code in columns.items():
        if not cat.frame.at[code, "additive"]:
            continue
        raw = _cell(df, i, j)
        try:
            total, _, status = parse_cell(raw, _unbounded(cat[code]))
        except CellError:
            col.add("warning", sheet, cell_name(i, j), raw, "合计行的数值无法识别，已忽略合计行", "数字")
            continue
        if status != "present":
            continue
        parts = []
        for r in rows_by_town.values():
            try:
                v, _, st = parse_cell(_cell(df, r, j), cat[code])
            except CellError:
                st = "error"
            if st == "present":
                parts.append(v)
        s = sum(parts)
        if abs(s - total) > 1e-6 * max(1.0, abs(total)):
            col.add("warning", sheet, cell_name(i, j), raw,
                    f"合计行与各乡镇之和不一致（各乡镇之和为{_show(round(s, 6))}），合计行已忽略", f"{_show(round(s, 6))}")


def _unbounded(ind: pd.Series) -> pd.Series:
    ind = ind.copy()
    ind["max"] = math.inf
    return ind


# --------------------------------------------------------------------------------------------- csv
def _parse_csv(path: Path, col: _Collector, cat: Catalog, known_towns, out: list):
    try:
        try:
            df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        except UnicodeDecodeError:
            df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="gb18030")
    except Exception as e:  # noqa: BLE001 - any unreadable file is reported, not raised
        col.add("error", None, None, None, f"无法读取CSV文件（{type(e).__name__}：{e}）", "UTF-8或GBK编码的CSV")
        return
    names = {}
    for key, options in CSV_COLUMNS.items():
        hit = [c for c in df.columns if _text(c) in options]
        if not hit and key != "county":
            col.add("error", None, "第1行", ",".join(map(str, df.columns)), f"缺少“{options[0]}”列",
                    "列名：县, 乡镇, 年度, 指标代码, 数值")
            return
        if hit:
            names[key] = hit[0]
    letters = {k: get_column_letter(list(df.columns).index(v) + 1) for k, v in names.items()}
    seen: dict[tuple, int] = {}
    for n, row in enumerate(df.itertuples(index=False, name=None), start=2):
        rec = dict(zip(df.columns, row))

        def get(k: str, rec: dict = rec) -> str:
            return rec[names[k]] if k in names else ""

        town = _town_name(get("town"))
        if (not town and not any(str(v).strip() for v in rec.values())) or town in col.exclude:
            continue
        if known_towns is not None and town not in known_towns:
            col.add("error", None, f"{letters['town']}{n}", town, "乡镇不在乡镇概况表中", "乡镇概况表中的乡镇名称", town)
            continue
        m = _YEAR_SHEET.match(_text(get("year")))
        if not m:
            col.add("error", None, f"{letters['year']}{n}", get("year"), "年度无法识别", "四位数年份，如2023", town)
            continue
        year = int(m.group("year"))
        code, _unit = cat.match_header(get("indicator"))
        if code is None or cat.frame.at[code, "origin"] != "values":
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

    ``exclude_towns`` (names, or one comma-separated string) are left out as if their rows were not there:
    a batch uses it to report on the other towns when one town's data have errors.
    """
    cat = catalog or load_catalog()
    exclude = frozenset(_town_list(exclude_towns))
    files = _expand(paths or ["data/sample"])
    problems: list[Problem] = []
    if not files:
        problems.append(Problem("error", ", ".join(map(str, paths)), None, None, None, "没有找到数据文件",
                                ".xlsx 或 .csv 文件"))
        return ValidationResult(problems, None)

    workbooks: dict[Path, dict[str, pd.DataFrame]] = {}
    for f in files:
        if f.suffix.lower() == ".csv":
            continue
        if not f.exists():
            problems.append(Problem("error", str(f), None, None, None, "文件不存在", "已有的数据文件或文件夹"))
            continue
        try:
            workbooks[f] = _read_workbook(f)
        except Exception as e:  # noqa: BLE001 - reported with the file name
            problems.append(Problem("error", f.name, None, None, None,
                                    f"无法读取Excel文件（{type(e).__name__}：{e}）", "可以用Excel打开的 .xlsx 文件"))

    # 1. the profile first: it says which towns exist and to which county they belong
    profiles: dict[str, dict] = {}
    origin: dict[str, str] = {}
    for f, sheets in workbooks.items():
        for sheet, df in sheets.items():
            if _text(sheet) == PROFILE_SHEET:
                _parse_profile(df, sheet, _Collector(f, problems, exclude), cat, profiles, origin)
    if not profiles and not any(p.level == "error" for p in problems):
        problems.append(Problem("error", ", ".join(str(p) for p in paths) or "data/sample", None, None, None,
                                "没有找到乡镇概况表", f"某个工作簿中有名为“{PROFILE_SHEET}”的工作表"))
    known = set(profiles) if profiles else None

    # 2. the towns' own practices (text), from any workbook's sheet 特色做法
    practice_rows: list[tuple] = []
    practice_seen: dict[tuple[str, int], str] = {}
    for f, sheets in workbooks.items():
        for sheet, df in sheets.items():
            if _text(sheet) == _practices.PRACTICES_SHEET:
                _practices.parse_sheet(df, sheet, _Collector(f, problems, exclude), cat, known, practice_rows,
                                       practice_seen)

    # 3. yearly values and targets
    rows: list[tuple] = []
    target_rows: list[tuple] = []
    where_from: dict[tuple[str, int], str] = {}
    for f in files:
        col = _Collector(f, problems, exclude)
        is_targets = TARGETS_MARK in f.stem
        if f.suffix.lower() == ".csv":
            part: list[tuple] = []
            _parse_csv(f, col, cat, known, part)
            _merge(part, rows, where_from, f, col)
            continue
        if f not in workbooks:
            continue
        years_seen: dict[int, str] = {}
        for sheet, df in workbooks[f].items():
            name = _text(sheet)
            if name in {PROFILE_SHEET, _practices.PRACTICES_SHEET} or name in {_text(s) for s in IGNORED_SHEETS}:  # names NFKC-normalised like the sheet
                continue
            m = _YEAR_SHEET.match(name)
            if not m:
                col.add("warning", sheet, None, None, "工作表名称不是年度，已跳过", "“2023”或“2023年”")
                continue
            year = int(m.group("year"))
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
                _merge(part, rows, where_from, f, col)
    if not rows and not any(p.level == "error" for p in problems):
        problems.append(Problem("error", ", ".join(str(p) for p in paths) or "data/sample", None, None, None,
                                "没有找到年度指标数据", "名为“2023”或“2023年”的年度工作表，或长表CSV文件"))

    errors = [p for p in problems if p.level == "error"]
    if errors:
        return ValidationResult(problems, None)

    profile = _profile_frame(profiles, cat)
    values = pd.DataFrame(rows, columns=VALUE_COLUMNS[1:])
    values.insert(0, "county", values["town"].map(profile["county"]))
    values = _sort_values(values, profile, cat)
    targets = pd.DataFrame(target_rows, columns=["town", "year", "indicator", "target", "approx", "status", "source"])
    targets = targets[["town", "year", "indicator", "target", "source"]].astype({"year": "int64", "target": "float64"})
    targets = targets.sort_values(["town", "year", "indicator"], kind="stable").reset_index(drop=True)

    for town in profile.index:
        have = set(values.loc[values["town"] == town, "year"])
        for y in sorted(set(values["year"]) - have):
            problems.append(Problem("warning", origin[town].split("”")[0].removeprefix("文件“"), PROFILE_SHEET, None, town,
                                    f"乡镇“{town}”在{y}年没有数据", "", town))
    _consistency(values, profile, problems, cat, files)
    practices = _practices.frame(practice_rows)
    stray = practices[~practices["year"].isin(values["year"].unique())]
    for r in stray.drop_duplicates(["town", "year"]).itertuples():
        file, sheet, cell = r.source.split("!")
        problems.append(Problem("warning", file, sheet, cell, r.town, f"特色做法中的{r.year}年没有指标数据，该行不会写入报告",
                                "", r.town))
    ds = Dataset(values=values, profile=profile, targets=targets, catalog=cat,
                 problems=[p for p in problems if p.level != "error"], files=files, practices=practices)
    # cross-field rules (and nothing else) can still add errors here: then there is no dataset either
    return ValidationResult(problems, None if any(p.level == "error" for p in problems) else ds)


def _merge(part, rows, where_from, f: Path, col: _Collector):
    """Append one file's rows; the same town and year from two files is an error naming both."""
    keys = sorted({(t, y) for t, y, *_ in part})
    clash = [k for k in keys if k in where_from and where_from[k] != f.name]
    for t, y in clash:
        col.add("error", None, None, t, f"乡镇“{t}”的{y}年数据重复：文件“{where_from[(t, y)]}”中已有",
                "同一乡镇同一年度只在一个文件中填报", t)
    bad = set(clash)
    rows += [r for r in part if (r[0], r[1]) not in bad]
    for k in keys:
        where_from.setdefault(k, f.name)


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
    one town after another reads them once.

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
    result = validate(*paths, catalog=catalog, exclude_towns=exclude)
    if not result.ok:
        raise DataError(result.problems)
    if key is not None:
        _DATASETS.clear()  # one dataset is enough: a kernel serves one county at a time
        _DATASETS[key] = result.dataset.copy()
    return result.dataset


_DATASETS: dict[tuple, Dataset] = {}


def _town_list(towns) -> list[str]:
    """Town names from a list or from one string separated by commas (，、 too)."""
    if isinstance(towns, str):
        towns = re.split(r"[,，、]", towns)
    return [t.strip() for t in towns or () if t and t.strip()]


def _cache_key(paths) -> tuple | None:
    """Identity of the input files: resolved path, size and modification time of each (None if unreadable)."""
    try:
        files = _expand(paths)
        return tuple((str(f.resolve()), f.stat().st_size, f.stat().st_mtime_ns) for f in files)
    except OSError:
        return None
