"""Parsing the tables of yearly values: a year sheet (one row per town, one column per indicator, totals
checked), a year sheet's name, and the tidy long CSV."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd
from openpyxl.utils import get_column_letter

from ..model.catalog import Catalog
from . import practices as _practices
from . import workbooks
from .cells import UNCOMPUTED_EXPECTED, CellError, FailedCell, cell_name, parse_cell, parse_column, shown_value
from .profile import PROFILE_SHEET
from .sheets import (
    YEAR_SHEET, Collector, MergedCells, cell_text, cell_value, earlier_headers, find_header_row, header_text,
    is_footer_label, is_number, is_total_label, sheet_grid, town_header, town_name
)
from .workbooks import (
    MEGABYTE, Uncomputed
)

CSV_COLUMNS = {
    "county": ("县", "county"),
    "town": ("乡镇", "town"),
    "year": ("年度", "年份", "year"),
    "indicator": ("指标代码", "指标", "indicator"),
    "value": ("数值", "值", "value"),
}
# A year sheet's name: 2025, 2025年, 2025年度 (Chinese numerals and spaces normalised first).
_YEAR_NAME = re.compile(r"^(?P<year>(19|20)\d{2})(年|年度)?$")
_SHORT_YEAR_NAME = re.compile(r"^\d{2}(年|年度)$")
_ANY_YEAR = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")
_CN_DIGITS = str.maketrans("〇○零一二三四五六七八九", "000123456789")


def parse_year_sheet(df, sheet, year, col: Collector, cat: Catalog, known_towns, out: list, *, kind="values"):
    """Parse one year sheet into ``out`` (list of tidy row tuples). ``kind`` is values or targets."""
    h, t = town_header(df)
    if h is None:
        col.add("error", sheet, "A1", cell_value(df, 0, 0) if len(df) else None,
                "找不到表头行", "表头行的第一列为“乡镇”（或“县”“乡镇”两列），其余各列为指标名称")
        return
    k = 0 if t == 1 else None  # the 县 column, when the sheet has one
    merged = MergedCells(df, sheet, h, col)
    g = sheet_grid(df)
    columns: dict[int, str] = {}
    seen: dict[str, int] = {}
    earlier: list[tuple[str, object, str]] = []  # headers of an earlier template: (cell, header, code)
    for j in range(t + 1, df.shape[1]):
        head = cell_value(df, h, j)
        where = cell_name(h, j)
        if head is None:
            if not merged.covers(h, j) and any(g[i][j] is not None for i in range(h + 1, len(df))):
                col.add("error", sheet, where, None, "此列有数据但没有表头", "指标名称")
            continue
        found = cat.read_header(header_text(head))
        code = found.code
        if code is None:
            col.add("error", sheet, where, head, "无法识别的表头（不在指标目录中）",
                    "指标目录中的名称（可运行“zhidang indicators”查看）")
            continue
        if cat.record(code)["origin"] != "values":
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
    earlier_headers(earlier, sheet, col, cat)

    rows_by_town: dict[str, int] = {}
    total_row: int | None = None
    unread_rows = False  # a row between header and total that is not read as a town: the total cannot add up
    for i in range(h + 1, len(df)):
        if merged.covers(i, 0):
            unread_rows = True
            continue  # the merged range is the error
        row = g[i]
        raw_town = row[t]
        town = town_name(raw_town)
        if not town:
            if any(row[j] is not None for j in columns):
                col.add("error", sheet, cell_name(i, t), None, "此行有数据但缺少乡镇名称", "乡镇名称")
                unread_rows = True
            continue
        if is_total_label(town):
            total_row = i
            continue
        if is_footer_label(town):
            if not any(is_number(row[j]) for j in columns):
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
            close = close_names(town, known_towns)
            col.add("error", sheet, cell_name(i, t), town, "乡镇不在乡镇概况表中",
                    "乡镇概况表中的乡镇名称" + (f"（相近的有：{'、'.join(close)}）" if close else ""), town)
            unread_rows = True
            continue
        rows_by_town[town] = i

    applicable = set(cat.applicable(year))
    present_cols = set(columns.values())
    value_codes = cat.value_codes
    inds = {code: cat.record(code) for code in present_cols}
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
            if isinstance(cell, FailedCell):
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
        check_total(g, sheet, total_row, {j: c for j, c in columns.items() if j not in failed}, parsed,
                     col, cat)


def close_names(name, valid) -> list[str]:
    import difflib

    return difflib.get_close_matches(name, list(valid), n=3, cutoff=0.5)


def check_total(g, sheet, i, columns, parsed, col: Collector, cat: Catalog):
    """A 合计 row is not a town: compare it with the sum of the towns (additive indicators), then drop it.

    ``columns`` are the columns whose town cells were all read (a column with a cell already reported as an
    error is not compared: its mismatch would only repeat that error); ``parsed`` the town cells of each
    column as :func:`parse_column` read them."""
    uncomputed = []
    for j, code in columns.items():
        if not cat.record(code)["additive"]:
            continue
        raw = g[i][j]
        if isinstance(raw, Uncomputed):
            uncomputed.append(j)
            continue
        try:
            total, _, status = parse_cell(raw, unbounded(cat[code]))
        except CellError:
            col.add("warning", sheet, cell_name(i, j), raw, "合计行的数值无法识别，已忽略合计行", "数字")
            continue
        if status != "present":
            continue
        parts = [v for v, _, st in parsed[j] if st == "present"]
        s = sum(parts)
        if abs(s - total) > 1e-6 * max(1.0, abs(total)):
            col.add("warning", sheet, cell_name(i, j), raw,
                    f"合计行与各乡镇之和不一致（各乡镇之和为{shown_value(round(s, 6))}），合计行已忽略", f"{shown_value(round(s, 6))}")
    if uncomputed:
        first = uncomputed[0]
        col.add("warning", sheet, cell_name(i, first), g[i][first],
                f"合计行的{len(uncomputed)}个单元格是没有保存计算结果的公式，未能与各乡镇之和核对，合计行已忽略",
                UNCOMPUTED_EXPECTED)


def unbounded(ind: pd.Series) -> pd.Series:
    ind = ind.copy()
    ind["max"] = math.inf
    return ind


# --------------------------------------------------------------------------------------------- csv
def parse_csv(path: Path, col: Collector, cat: Catalog, known_towns, out: list):
    limit = workbooks.MAX_UNCOMPRESSED_BYTES  # one knob for workbooks and CSV, read when used
    if path.exists() and path.stat().st_size > limit:
        col.add("error", None, None, None, f"文件太大（{path.stat().st_size / MEGABYTE:.0f} MB），超过上限"
                f"{limit / MEGABYTE:.0f} MB，未读取", f"不超过{limit / MEGABYTE:.0f} MB的CSV文件")
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
    indicators = [str(c) for c in df.columns if cat.match_header(header_text(c))[0] is not None]
    if indicators and any(cell_text(c) == "乡镇" for c in df.columns):
        col.add("error", None, "第1行", heads, f"CSV文件是宽表（每个指标一列，如“{indicators[0]}”），未读取",
                "长表CSV（列名：县, 乡镇, 年度, 指标代码, 数值，每行一个数值）；宽表请放在Excel工作簿中以年度命名的工作表里")
        return
    names = {}
    for key, options in CSV_COLUMNS.items():
        hit = [c for c in df.columns if cell_text(c) in options]
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

        town = town_name(get("town"))
        if (not town and not any(str(v).strip() for v in rec.values())) or town in col.exclude:
            continue
        if not col.owns(town, get("county") or None, None, f"{letters.get('county', letters['town'])}{n}"):
            continue
        if known_towns is not None and town not in known_towns:
            col.add("error", None, f"{letters['town']}{n}", town, "乡镇不在乡镇概况表中", "乡镇概况表中的乡镇名称", town)
            continue
        m = YEAR_SHEET.match(cell_text(get("year")))
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
    earlier_headers(earlier, None, col, cat, what="指标名称")
    # indicators a CSV leaves out are missing (or not applicable) for each town-year it mentions
    present = {(t, y, c) for t, y, c, *_ in out}
    for town, year in sorted({(t, y) for t, y, *_ in out}):
        for code in cat.value_codes:
            if (town, year, code) not in present:
                status = "missing" if cat.applies(code, year) else "na"
                out.append((town, year, code, math.nan, False, status, col.file))


def sheet_year(name: str) -> tuple[str, int | None]:
    """How a sheet's name gives its year: ``("exact", 2025)`` for 2025, 2025年, 2025年度, 2025 年, 二〇二五年;
    ``("loose", 2025)`` for one year among other text (2025年 (2), 2025年数据); ``("short", None)`` for 25年;
    ``("many", None)`` for several years (2024-2025) and ``("none", None)`` for no year.

    >>> sheet_year("二〇二五年"), sheet_year("2025年 (2)"), sheet_year("25年")
    (('exact', 2025), ('loose', 2025), ('short', None))
    """
    text = re.sub(r"[〇○零一二三四五六七八九]{4}", lambda m: m.group().translate(_CN_DIGITS), cell_text(name))
    m = _YEAR_NAME.match(text)
    if m:
        return "exact", int(m.group("year"))
    if _SHORT_YEAR_NAME.match(text):
        return "short", None
    years = set(_ANY_YEAR.findall(text))
    if len(years) == 1:
        return "loose", int(years.pop())
    return ("many" if years else "none"), None


def check_sheet_name(df, sheet, kind: str, year: int | None, named: dict, col: Collector) -> None:
    """A sheet whose name is not exactly a year: skipped with a warning unless it is laid out as data (its
    header row starts with 乡镇); then an error saying why its year is not certain, never skipped quietly. A
    copy of the profile or practices sheet (乡镇概况 (2)) is an error too."""
    base = next((b for b in (PROFILE_SHEET, _practices.PRACTICES_SHEET) if b in cell_text(sheet)), None)
    if base is not None and find_header_row(df, "乡镇", anywhere=True) is not None:
        col.add("error", sheet, None, sheet, f"工作表名称含“{base}”但不完全相同，未读取（可能是“{base}”表的副本或更正稿）",
                f"只保留一个名为“{base}”的工作表")
        return
    if find_header_row(df, "乡镇") is None:
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
