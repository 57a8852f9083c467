"""The Excel data-entry template that town offices fill in (``zhidang template``).

The workbook is laid out exactly as :mod:`zhidang_analysis.inputs` reads it:

- a sheet named after the year (``2026``): a title in row 1, the catalog's sections as a grouped header in
  row 2 (column A left empty), the header in row 3 (``乡镇`` then ``名称（单位）`` for every indicator that
  applies that year), one pre-filled row per town from row 4, and a ``填表人：`` footer the loader skips;
- ``特色做法`` (when the catalog has ``practice_fields``): the towns' own practices as text, read by
  :mod:`zhidang_analysis.practices`: the same title row, the report sections in row 2, the header
  ``乡镇 | 年度 | <every practice field name>`` in row 3, one row per town from row 4 with the town and the
  template's year pre-filled (locked) and the text cells empty — a practice is never pre-filled, not even
  from last year: the town writes it for the year;
- ``填表说明``: how to write numbers, approximate values (``30余``), not applicable (``—``) and missing
  (blank), and what each indicator means; then what each 特色做法 column is for, with its example;
- optionally ``上年数据（参考）``: last year's values, same columns, protected (read-only), and below them
  last year's 特色做法 text, for reference only.

Both extra sheets are named from :data:`~zhidang_analysis.inputs.load.IGNORED_SHEETS`, so a filled template loads as it is.

Every input cell carries Excel data validation: whole numbers within the catalog's range for counts,
decimals within the range for amounts; the input message shows unit and range. The error style is
``warning`` rather than ``stop``: Excel then warns about text but lets the user keep it, which is needed
for the two text forms the loader accepts (``30余`` and ``—``). The loader checks every cell again.
The 特色做法 text cells carry a ``textLength`` rule (at most the field's ``max`` characters), also with the
``warning`` style; the loader reports a longer text as an error naming the cell.
"""

from __future__ import annotations

import math
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from ..errors import DataError, UnknownNameError, ZhidangError
from ..inputs.load import input_files, workbook_views
from ..inputs.practices import PRACTICES_SHEET
from ..inputs.profile import LOCAL_COLUMNS, LOCAL_SHEET, PROFILE_SHEET, parse_local_indicators, parse_profile
from ..inputs.sheets import Collector, cell_text
from ..inputs.workbooks import EXCEL_SUFFIXES, read_workbook
from ..model.catalog import Catalog, load_catalog
from ..model.dataset import Dataset, Problem
from .names import output_stems, safe_filename  # noqa: F401 - safe_filename is part of this module's API
from .textwidth import display_width  # noqa: F401 - part of this module's API

INSTRUCTIONS_SHEET = "填表说明"
PREVIOUS_SHEET = "上年数据（参考）"
TITLE_ROW, SECTION_ROW, HEADER_ROW = 1, 2, 3
FIRST_TOWN_ROW = HEADER_ROW + 1
APPROX_EXAMPLE = "30余"
NA_MARK = "—"

# Excel's limits for data-validation texts (longer texts make Excel "repair" the file).
_TITLE_MAX, _PROMPT_MAX, _ERROR_MAX = 32, 255, 225
_MIN_WIDTH, _MAX_WIDTH = 10, 22
_LINE_HEIGHT = 15
# 特色做法 sheet: column widths by kind (short fields narrower), and the height of a town's row in lines
_PRACTICE_WIDTH = {"phrase": 30, "list": 30, "paragraph": 50}
_PRACTICE_WIDE = 100  # a list field allowing more characters than this gets the paragraph width
_PRACTICE_ROW_LINES = 8
# list fields whose items are separated by 、 rather than one per line (as the report reads them)
_DUNHAO_FIELDS = {"leading_industries"}

_THIN = Side(style="thin", color="A6A6A6")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_FILL_SECTION = PatternFill("solid", fgColor="DDEBF7")
_FILL_HEADER = PatternFill("solid", fgColor="F2F2F2")
_FILL_TOWN = PatternFill("solid", fgColor="F2F2F2")
_FILL_INPUT = PatternFill("solid", fgColor="FFFBE6")
_WRAP_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
_UNLOCKED = Protection(locked=False)
_NUMERALS = "一二三四五六七八九十"


# --------------------------------------------------------------------------------------------- helpers
def _number_text(x: float) -> str:
    """A bound as Excel formula text and for display: ``2000`` not ``2000.0``."""
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def _range_text(ind: pd.Series) -> str:
    lo, hi = ind["min"], ind["max"]
    if math.isfinite(hi):
        return f"{_number_text(lo)}～{_number_text(hi)}"
    return f"不小于{_number_text(lo)}"


def _kind_text(ind: pd.Series) -> str:
    return "整数" if ind["integer"] else "数值（可有小数）"


def section_title(catalog: Catalog, section: str) -> str:
    """The grouped-header text of a section: ``（二）强化组织建设，…`` for s2, the plain title otherwise."""
    title = catalog.sections[section]
    m = re.fullmatch(r"s(\d+)", section)
    if m and 1 <= int(m.group(1)) <= len(_NUMERALS):
        return f"（{_NUMERALS[int(m.group(1)) - 1]}）{title}"
    return title


def text_cell(ws, row: int, col: int, value: object):
    """Write text that is data (a town name, a user's value) so Excel never evaluates it as a formula."""
    text = ILLEGAL_CHARACTERS_RE.sub("", str(value))
    cell = ws.cell(row=row, column=col, value=text)
    cell.data_type = "s"
    return cell


def save_atomic(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it to ``path``.

    A failure leaves the previous file in place and no half-written one; the temporary name starts with a
    dot so the loader never picks it up.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".~{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def _check_towns(towns: Iterable[str]) -> list[str]:
    cleaned = [re.sub(r"\s+", "", str(t)) for t in towns]
    cleaned = [t for t in cleaned if t]
    if not cleaned:
        raise ZhidangError("没有乡镇：请用 --towns 列出乡镇，或用 --profile 指定乡镇概况表")
    dup = sorted({t for t in cleaned if cleaned.count(t) > 1})
    if dup:
        raise ZhidangError("乡镇重复：" + "、".join(dup))
    return cleaned


def _books(paths) -> dict[Path, dict[str, pd.DataFrame]]:
    """The Excel workbooks under ``paths``, read; a file that cannot be read is a :class:`DataError` naming it."""
    books: dict = {}
    for f in input_files(paths):
        if f.suffix.lower() not in EXCEL_SUFFIXES:
            continue
        try:
            books[f] = read_workbook(f)
        except Exception as e:  # noqa: BLE001 - reported with the file name
            raise DataError([Problem("error", f.name, None, None, None,
                                     f"无法读取Excel文件（{type(e).__name__}：{e}）", "可以用Excel打开的 .xlsx 文件")]) from e
    return books


def county_catalog(*paths: str | Path, catalog: Catalog | None = None) -> Catalog:
    """The catalog with the county's own indicators declared in a sheet 本县指标 under ``paths`` (the catalog as
    it is when none is declared), so a template has their columns. Raises :class:`DataError` listing the
    declaration's errors, each naming its cell."""
    cat = catalog or load_catalog()
    problems: list = []
    local: list[dict] = []
    for f, sheets in _books(paths).items():
        for sheet, df in sheets.items():
            if cell_text(sheet) == LOCAL_SHEET:
                parse_local_indicators(df, sheet, Collector(f, problems), cat, local)
    if any(p.level == "error" for p in problems):
        raise DataError(problems)
    return cat.extend(local)


def _local_sheet(wb: Workbook, cat: Catalog) -> None:
    """The sheet 本县指标 declaring the county's own indicators of ``cat``, as the county wrote it, so the filled
    template declares its own columns (read again, the same indicators: the same codes)."""
    entries = cat.local_entries()
    if not entries:
        return
    ws = wb.create_sheet(LOCAL_SHEET)
    ws.append(list(LOCAL_COLUMNS))
    for e in entries:
        phrase = str(e["phrase"] or "").replace("{chg}", "")
        phrase = "" if phrase == f"{e['name']}{{}}" else phrase.replace("{}", "x")
        high = e["max"] if math.isfinite(e["max"]) else None
        ws.append([e["name"], e["unit"], "是" if e["integer"] else "否", e["min"], high, phrase or None, e["help"]])
    for col, width in zip("ABCDEFG", (20, 10, 8, 10, 10, 24, 40)):
        ws.column_dimensions[col].width = width
    for cell in ws[1]:
        cell.font = Font(bold=True)


def profile_towns(*paths: str | Path, catalog: Catalog | None = None) -> tuple[list[str], str]:
    """Towns (in profile order) and the county, from the ``乡镇概况`` sheets of the workbooks under ``paths``.

    Only the profile is read (with the loader's own parser and checks), so a profile workbook alone will
    do. Raises :class:`DataError` listing the profile's errors, if any.
    """
    cat = catalog or load_catalog()
    problems: list = []
    profiles: dict[str, dict] = {}
    origin: dict[str, str] = {}
    books = _books(paths)
    views = workbook_views(list(books), books)
    if len(views) > 1:  # a template is one county's: its towns, its title
        counties = [v.county for v in views]
        raise DataError([Problem("error", "、".join(str(p) for p in paths), PROFILE_SHEET, None, None,
                                         f"乡镇概况中有{len(counties)}个县（{'、'.join(counties)}），填报模板按县生成",
                                         "用 --profile 指向一个县的文件夹或文件")])
    for f, sheets in books.items():
        for sheet, df in sheets.items():
            if cell_text(sheet) == PROFILE_SHEET:
                parse_profile(df, sheet, Collector(f, problems), cat, profiles, origin)
    if not profiles:
        problems.append(Problem("error", "、".join(str(p) for p in paths), None, None, None,
                                        "没有找到乡镇概况表", f"某个工作簿中有名为“{PROFILE_SHEET}”的工作表"))
    if any(p.level == "error" for p in problems):
        raise DataError(problems)
    counties = list(dict.fromkeys(rec["county"] for rec in profiles.values()))
    return list(profiles), "、".join(counties)


# --------------------------------------------------------------------------------------------- sheets
def _columns(cat: Catalog, year: int) -> list[str]:
    return cat.applicable(year)


def _widths(cat: Catalog, codes: Sequence[str]) -> dict[str, int]:
    return {c: max(_MIN_WIDTH, min(_MAX_WIDTH, display_width(cat.label(c)) + 2)) for c in codes}


def _lines(text: str, width: int) -> int:
    return max(1, math.ceil(display_width(text) / max(1, width - 2)))


def _title(ws, text: str, ncols: int):
    cell = text_cell(ws, TITLE_ROW, 1, text)
    cell.font = Font(bold=True, size=14)
    cell.alignment = Alignment(horizontal="center", vertical="center")
    if ncols > 1:
        ws.merge_cells(start_row=TITLE_ROW, start_column=1, end_row=TITLE_ROW, end_column=ncols)
    ws.row_dimensions[TITLE_ROW].height = 28


def _section_row(ws, columns: Sequence[tuple[int, str, int]]) -> None:
    """The grouped section header in SECTION_ROW from (column, label, width) in column order.

    One merged block per run of consecutive columns with the same label; the row is as tall as the longest
    label needs in its block's width.
    """
    section_lines = 1
    runs: list[tuple[str, int, int, int]] = []  # label, first column, last column, width of the block
    for j, label, width in columns:
        if runs and runs[-1][0] == label and runs[-1][2] == j - 1:
            runs[-1] = (label, runs[-1][1], j, runs[-1][3] + width)
        else:
            runs.append((label, j, j, width))
    for text, first, last, span in runs:
        cell = ws.cell(row=SECTION_ROW, column=first, value=text)
        for j in range(first, last + 1):
            c = ws.cell(row=SECTION_ROW, column=j)
            c.fill, c.border, c.alignment = _FILL_SECTION, _BORDER, _WRAP_CENTER
        cell.font = Font(bold=True)
        if last > first:
            ws.merge_cells(start_row=SECTION_ROW, start_column=first, end_row=SECTION_ROW, end_column=last)
        section_lines = max(section_lines, _lines(text, span))
    ws.row_dimensions[SECTION_ROW].height = _LINE_HEIGHT * section_lines + 6


def _grid(ws, cat: Catalog, codes: Sequence[str], towns: Sequence[str], town_width: int) -> dict[str, int]:
    """Section row, header row, town column; return code → column number."""
    widths = _widths(cat, codes)
    col_of = {code: j for j, code in enumerate(codes, start=2)}
    ws.column_dimensions["A"].width = town_width

    # grouped section header: one merged block per run of consecutive columns of the same section
    _section_row(ws, [(col_of[c], section_title(cat, cat.frame.at[c, "section"]), widths[c]) for c in codes])

    # header: 乡镇, then 名称（单位）
    _header_row(ws, ["乡镇"], [(col_of[c], cat.label(c), widths[c]) for c in codes])
    ws.cell(row=HEADER_ROW, column=1).alignment = Alignment(horizontal="center", vertical="center")

    for i, town in enumerate(towns, start=FIRST_TOWN_ROW):
        c = text_cell(ws, i, 1, town)
        c.font, c.fill, c.border = Font(bold=True), _FILL_TOWN, _BORDER
    ws.freeze_panes = ws.cell(row=FIRST_TOWN_ROW, column=2)
    ws.print_title_rows = f"{SECTION_ROW}:{HEADER_ROW}"
    ws.page_setup.orientation = "landscape"
    return col_of


def _header_row(ws, fixed: Sequence[str], columns: Sequence[tuple[int, str, int]]) -> None:
    """The header row: ``fixed`` labels from column A, then (column, label, width) for each data column;
    header style on every cell, and the row as tall as its most wrapped label."""
    for j, label in enumerate(fixed, start=1):
        ws.cell(row=HEADER_ROW, column=j, value=label)
    lines = 1
    for j, label, width in columns:
        ws.cell(row=HEADER_ROW, column=j, value=label)
        ws.column_dimensions[get_column_letter(j)].width = width
        lines = max(lines, _lines(label, width))
    for j in range(1, len(fixed) + len(columns) + 1):
        c = ws.cell(row=HEADER_ROW, column=j)
        c.font, c.fill, c.border, c.alignment = Font(bold=True), _FILL_HEADER, _BORDER, _WRAP_CENTER
    ws.row_dimensions[HEADER_ROW].height = _LINE_HEIGHT * lines + 6


def _validation(ind: pd.Series, code: str, cat: Catalog) -> DataValidation:
    """Excel data validation for one indicator column (see the module docstring for the error style)."""
    lo, hi = ind["min"], ind["max"]
    bounds = {"operator": "between", "formula1": _number_text(lo), "formula2": _number_text(hi)}
    if not math.isfinite(hi):
        bounds = {"operator": "greaterThanOrEqual", "formula1": _number_text(lo)}
    rng, kind, unit = _range_text(ind), _kind_text(ind), ind["unit"]
    prompt = (f"单位：{unit}；范围：{rng}；填{kind}。"
              f"约数写“{APPROX_EXAMPLE}”，不适用写“{NA_MARK}”，暂缺留空。")
    help_text = str(ind["help"] or "")
    if help_text and len(prompt) + len(help_text) + 1 <= _PROMPT_MAX:
        prompt = f"{prompt}\n{help_text}"
    error = (f"“{ind['name']}”应为{rng}之间的{kind}（单位：{unit}）。"
             f"如确为约数（如“{APPROX_EXAMPLE}”）或不适用（“{NA_MARK}”），请点“是”保留；否则请点“否”重新填写。")
    return DataValidation(
        type="whole" if ind["integer"] else "decimal", allow_blank=True,
        showInputMessage=True, showErrorMessage=True, errorStyle="warning",
        promptTitle=cat.label(code)[:_TITLE_MAX], prompt=prompt[:_PROMPT_MAX],
        errorTitle="请核对填写内容", error=error[:_ERROR_MAX], **bounds,
    )


def _data_sheet(wb: Workbook, cat: Catalog, year: int, towns: Sequence[str], title: str, protect: bool):
    codes = _columns(cat, year)
    ws = wb.create_sheet(str(year))
    town_width = max(_MIN_WIDTH, max(display_width(t) for t in towns) + 4)
    _title(ws, title, len(codes) + 1)
    col_of = _grid(ws, cat, codes, towns, town_width)
    last_row = FIRST_TOWN_ROW + len(towns) - 1
    for code in codes:
        j = col_of[code]
        for i in range(FIRST_TOWN_ROW, last_row + 1):
            c = ws.cell(row=i, column=j)
            c.fill, c.border, c.protection = _FILL_INPUT, _BORDER, _UNLOCKED
        dv = _validation(cat[code], code, cat)
        letter = get_column_letter(j)
        dv.add(f"{letter}{FIRST_TOWN_ROW}:{letter}{last_row}")
        ws.add_data_validation(dv)
    footer = last_row + 2
    c = ws.cell(row=footer, column=1, value="填表人：            联系电话：            审核人：")
    c.protection = _UNLOCKED
    ws.merge_cells(start_row=footer, start_column=1, end_row=footer, end_column=min(len(codes) + 1, 8))
    if protect:
        # no password: the structure is protected against slips, not against the user
        ws.protection.sheet = True
        ws.protection.formatColumns = False
        ws.protection.formatRows = False
    return ws


def _instructions_sheet(wb: Workbook, cat: Catalog, year: int, protect: bool, with_previous: bool):
    ws = wb.create_sheet(INSTRUCTIONS_SHEET)
    codes = _columns(cat, year)
    fields = practice_fields(cat)
    rules = [
        f"请在“{year}”工作表中填写，每个乡镇一行，每项指标一列。乡镇名称和表头已预先填好，请勿修改、"
        "插入或删除行列，请勿合并单元格。",
        "数字直接填写，不带单位（如“12”）。计数类指标填整数；面积、金额等可有小数。",
        f"约数写作数字加“余”（或“多”），如“{APPROX_EXAMPLE}”：系统按30读取，并在报告中标注为约数。",
        f"本年度不适用的指标写“{NA_MARK}”（或“不适用”），如没有景区的乡镇的旅游指标。",
        "暂时没有数据的留空，系统按“缺失”处理，报告中不引用该项；请勿用0代替空缺，0表示确实为零。",
        "每个填写单元格都设置了数据验证：选中单元格时显示单位、有效范围和指标含义；填写超出范围的数字或"
        f"文字时，Excel会弹出警告。填写约数（如“{APPROX_EXAMPLE}”）或“{NA_MARK}”时出现的警告请点“是”保留；"
        "其他情况请点“否”后改正。",
    ]
    if not fields.empty:
        dunhao = "、".join(_field_text(fields, c, "name") for c in fields.index if c in _DUNHAO_FIELDS)
        rules.append(
            f"“{PRACTICES_SHEET}”工作表用文字填写本乡镇自己的特色做法。报告只写乡镇在这里写明的做法，"
            "不会借用其他乡镇或范本的说法。每个乡镇每个年度一行，乡镇和年度已预先填好；每列对应报告中的一处，"
            "含义、写法和示例见下方“特色做法说明”（示例是范本报告中那个乡镇的原话，只说明写法，"
            f"请写本乡镇{year}年自己的做法）。多条内容每条一行（在单元格内按Alt+Enter换行）或用“；”分隔"
            + (f"，{dunhao}用顿号“、”分隔" if dunhao else "") + "。某一格留空，报告中相应的句子照常写，"
            "只是不写这一做法（段落类则该部分不加这一段）。每列有字数上限，超出时Excel会警告，审核时会报错。")
    if protect:
        sheets = f"“{year}”" + (f"和“{PRACTICES_SHEET}”" if not fields.empty else "")
        rules.append(f"{sheets}工作表中除填写区域外已锁定（工作表保护，无密码），以免误改乡镇名称"
                     + ("、年度" if not fields.empty else "") + "和表头；可以调整行高列宽。")
    if with_previous:
        rules.append(f"“{PREVIOUS_SHEET}”工作表为上年已报送数据，仅供参考，已锁定，不会被读取。")
    rules.append("填好后请保存为 .xlsx 文件报送。县里审核后会发回“审核结果”，请按其中列出的单元格逐条更正后重新报送；"
                 "标为“请核实”的不是错误，如数据无误请说明原因。")
    rules = [f"{year}年度乡镇履行全面从严治党主体责任指标填表说明", ""] + [
        f"{_NUMERALS[k]}、{text}" for k, text in enumerate(rules)
    ]
    for i, text in enumerate(rules, start=1):
        cell = ws.cell(row=i, column=1, value=text or None)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.merge_cells(start_row=i, start_column=1, end_row=i, end_column=6)
        if i == 1:
            cell.font = Font(bold=True, size=14)
        elif text:
            ws.row_dimensions[i].height = _LINE_HEIGHT * _lines(text, 110) + 4

    start = len(rules) + 2
    ws.cell(row=start, column=1, value="指标说明").font = Font(bold=True, size=12)
    heads = ["所属部分", "指标名称", "单位", "填写类型", "有效范围", "含义"]
    widths = [30, 28, 12, 16, 16, 60]
    for j, (h, w) in enumerate(zip(heads, widths), start=1):
        c = ws.cell(row=start + 1, column=j, value=h)
        c.font, c.fill, c.border, c.alignment = Font(bold=True), _FILL_HEADER, _BORDER, _WRAP_CENTER
        ws.column_dimensions[get_column_letter(j)].width = w
    for i, code in enumerate(codes, start=start + 2):
        ind = cat[code]
        row = [section_title(cat, ind["section"]), ind["name"], ind["unit"], _kind_text(ind),
               _range_text(ind), ind["help"]]
        for j, v in enumerate(row, start=1):
            c = ws.cell(row=i, column=j, value=v)
            c.border = _BORDER
            c.alignment = Alignment(wrap_text=True, vertical="top")

    if not fields.empty:
        start = start + 2 + len(codes) + 1
        ws.cell(row=start, column=1, value="特色做法说明").font = Font(bold=True, size=12)
        heads = ["所属部分", "列名", "填写方式", "字数上限", "留空时", "含义与示例"]
        for j, h in enumerate(heads, start=1):
            c = ws.cell(row=start + 1, column=j, value=h)
            c.font, c.fill, c.border, c.alignment = Font(bold=True), _FILL_HEADER, _BORDER, _WRAP_CENTER
        for i, code in enumerate(fields.index, start=start + 2):
            kind, example = _field_text(fields, code, "kind"), _field_text(fields, code, "example")
            meaning = _field_text(fields, code, "help") + (f"\n示例（范本原话）：{example}" if example else "")
            row = [practice_section(cat, _field_text(fields, code, "section")), _field_text(fields, code, "name"),
                   _practice_kind(code, kind), f"{int(fields.at[code, 'max'])}字", _practice_blank(kind, _field_text(fields, code, "blank")), meaning]
            for j, v in enumerate(row, start=1):
                c = ws.cell(row=i, column=j, value=v)
                c.border = _BORDER
                c.alignment = Alignment(wrap_text=True, vertical="top")
    return ws


def _previous_cell(value: float, approx: bool, status: str):
    if status == "na":
        return NA_MARK
    if status != "present" or value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    number = int(value) if float(value).is_integer() else float(value)
    return f"{number}余" if approx else number


def _previous_sheet(wb: Workbook, cat: Catalog, year: int, towns: Sequence[str], previous: Dataset, title: str):
    prev_year = year - 1
    if prev_year not in previous.years:
        raise UnknownNameError("上年（参考）数据的年度", prev_year, previous.years)
    codes = _columns(cat, year)
    ws = wb.create_sheet(PREVIOUS_SHEET)
    town_width = max(_MIN_WIDTH, max(display_width(t) for t in towns) + 4)
    _title(ws, title, len(codes) + 1)
    col_of = _grid(ws, cat, codes, towns, town_width)
    v = previous.values
    v = v[(v["year"] == prev_year) & v["town"].isin(towns)].set_index(["town", "indicator"])
    for i, town in enumerate(towns, start=FIRST_TOWN_ROW):
        for code in codes:
            c = ws.cell(row=i, column=col_of[code])
            c.border = _BORDER
            if (town, code) in v.index:
                rec = v.loc[(town, code)]
                value = _previous_cell(rec["value"], bool(rec["approx"]), rec["status"])
                if isinstance(value, str):
                    text_cell(ws, i, col_of[code], value)
                else:
                    c.value = value
    note = FIRST_TOWN_ROW + len(towns) + 1
    ws.cell(row=note, column=1, value=f"注：本表为{prev_year}年已报送数据，仅供参考，已锁定，不会被读取。")
    _previous_practices(ws, cat, towns, previous, prev_year, note + 2, len(codes) + 1)
    ws.protection.sheet = True
    return ws


# --------------------------------------------------------------------------------------------- 特色做法
def practice_fields(cat: Catalog) -> pd.DataFrame:
    """The catalog's 特色做法 columns (code → name, section, kind, max, example, help); empty when it has none."""
    f = cat.practice_fields
    if f is None or f.empty or "name" not in f.columns:
        return pd.DataFrame(columns=["name", "section", "kind", "max", "example", "help"])
    return f


def _field_text(fields: pd.DataFrame, code: str, column: str) -> str:
    """A text attribute of a practice field ('' when absent or NaN)."""
    v = fields.at[code, column] if column in fields.columns else None
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v).strip()


def practice_section(cat: Catalog, section: str) -> str:
    """Where in the report a practice goes: ``（一）提高政治站位，…``, ``二、存在的问题``, ``三、下一步工作打算``."""
    if section == "problems":
        return "二、存在的问题"
    if section == "next":
        return "三、" + cat.sections.get("next", "下一步工作打算")
    if section in cat.sections:
        return section_title(cat, section)
    return str(section)


def _practice_where(cat: Catalog, section: str) -> str:
    m = re.fullmatch(r"s(\d+)", str(section))
    if m and 1 <= int(m.group(1)) <= len(_NUMERALS):
        return f"报告第（{_NUMERALS[int(m.group(1)) - 1]}）部分"
    return f"报告“{practice_section(cat, section)}”"


def _practice_kind(code: str, kind: str) -> str:
    """How a field is written, in a few words (instructions table)."""
    if kind == "list":
        return "多项，用顿号“、”分隔" if code in _DUNHAO_FIELDS else "多条，每条一行"
    return {"phrase": "短语", "paragraph": "一段话"}.get(kind, str(kind))


def _practice_how(code: str, kind: str) -> str:
    """How a field is written, in a sentence (input message)."""
    if kind == "list":
        if code in _DUNHAO_FIELDS:
            return "多项，用顿号“、”分隔"
        return "多条，每条一行（单元格内按Alt+Enter换行）或用“；”分隔"
    return {"phrase": "短语，报告把它写进固定的句子", "paragraph": "一段完整的话，原样写在该部分末尾"}.get(kind, "文字")


def _practice_blank(kind: str, said: str = "") -> str:
    """What the report does when the cell is left blank (the sentence is written without that claim), unless the
    catalog says it (practice_fields ``blank``)."""
    return said or {"paragraph": "该部分不加这一段", "list": "该处照常写，但不列这些内容"}.get(
        kind, "该句照常写，但不写这一做法")


def _practice_width(fields: pd.DataFrame, code: str) -> int:
    kind = _field_text(fields, code, "kind")
    width = _PRACTICE_WIDTH.get(kind, _PRACTICE_WIDTH["phrase"])
    if kind == "list" and int(fields.at[code, "max"]) > _PRACTICE_WIDE:
        width = _PRACTICE_WIDTH["paragraph"]
    return max(width, display_width(_field_text(fields, code, "name")) + 4)


def _practice_prompt(cat: Catalog, code: str) -> str:
    """Input message of a practice column: where it goes, how to write it, the limit, its help, the example."""
    fields = practice_fields(cat)
    kind, limit = _field_text(fields, code, "kind"), int(fields.at[code, "max"])
    how = _practice_how(code, kind)
    prompt = f"写入{_practice_where(cat, _field_text(fields, code, 'section'))}；{how}；不超过{limit}字。"
    help_text = _field_text(fields, code, "help")
    # “同上” only reads right in the instructions table; a help that repeats ``how`` adds nothing
    if help_text and not help_text.startswith("同上") and how not in help_text:
        help_text = help_text.rstrip("。") + "。"
        if len(prompt) + len(help_text) <= _PROMPT_MAX:
            prompt += help_text
    example = _field_text(fields, code, "example")
    if example:
        lead = "\n示例（范本原话）："
        room = _PROMPT_MAX - len(prompt) - len(lead)
        if room >= 8:
            prompt += lead + (example if len(example) <= room else example[:room - 2] + "……")
    return prompt[:_PROMPT_MAX]


def _practice_validation(cat: Catalog, code: str) -> DataValidation:
    """Excel data validation of a practice column: at most ``max`` characters; error style warning."""
    fields = practice_fields(cat)
    name, limit = _field_text(fields, code, "name"), int(fields.at[code, "max"])
    error = f"“{name}”最多{limit}字。请点“否”后精简；超过字数的内容审核时会报错，不会写入报告。"
    return DataValidation(
        type="textLength", operator="lessThanOrEqual", formula1=str(limit), allow_blank=True,
        showInputMessage=True, showErrorMessage=True, errorStyle="warning",
        promptTitle=name[:_TITLE_MAX], prompt=_practice_prompt(cat, code),
        errorTitle="字数超出", error=error[:_ERROR_MAX],
    )


def _practices_sheet(wb: Workbook, cat: Catalog, year: int, towns: Sequence[str], title: str, protect: bool):
    """The sheet 特色做法: title, sections, ``乡镇 | 年度 | <fields>``, one row per town with its year."""
    fields = practice_fields(cat)
    codes = list(fields.index)
    ws = wb.create_sheet(PRACTICES_SHEET)
    col_of = {code: j for j, code in enumerate(codes, start=3)}
    widths = {code: _practice_width(fields, code) for code in codes}
    ws.column_dimensions["A"].width = max(_MIN_WIDTH, max(display_width(t) for t in towns) + 4)
    ws.column_dimensions["B"].width = _MIN_WIDTH
    _title(ws, title, len(codes) + 2)
    _section_row(ws, [(col_of[c], practice_section(cat, _field_text(fields, c, "section")), widths[c])
                      for c in codes])

    _header_row(ws, ["乡镇", "年度"], [(col_of[c], _field_text(fields, c, "name"), widths[c]) for c in codes])

    text_alignment = Alignment(horizontal="left", vertical="top", wrap_text=True)
    for i, town in enumerate(towns, start=FIRST_TOWN_ROW):
        c = text_cell(ws, i, 1, town)
        c.font, c.fill, c.border, c.alignment = Font(bold=True), _FILL_TOWN, _BORDER, Alignment(vertical="top")
        c = ws.cell(row=i, column=2, value=int(year))
        c.fill, c.border, c.alignment = _FILL_TOWN, _BORDER, Alignment(horizontal="center", vertical="top")
        for code in codes:
            c = ws.cell(row=i, column=col_of[code])
            c.fill, c.border, c.protection, c.alignment = _FILL_INPUT, _BORDER, _UNLOCKED, text_alignment
            c.number_format = "@"  # text: a typed 2026 or 1/2 stays as typed
        ws.row_dimensions[i].height = _LINE_HEIGHT * _PRACTICE_ROW_LINES + 6
    last_row = FIRST_TOWN_ROW + len(towns) - 1
    for code in codes:
        dv = _practice_validation(cat, code)
        letter = get_column_letter(col_of[code])
        dv.add(f"{letter}{FIRST_TOWN_ROW}:{letter}{last_row}")
        ws.add_data_validation(dv)
    ws.freeze_panes = ws.cell(row=FIRST_TOWN_ROW, column=3)
    ws.print_title_rows = f"{SECTION_ROW}:{HEADER_ROW}"
    ws.page_setup.orientation = "landscape"
    if protect:
        ws.protection.sheet = True
        ws.protection.formatColumns = False
        ws.protection.formatRows = False
    return ws


def _text_lines(text: str, width: int) -> int:
    return sum(_lines(line, width) for line in str(text).split("\n"))


def _previous_practices(ws, cat: Catalog, towns: Sequence[str], previous: Dataset, prev_year: int,
                        start: int, ncols: int) -> None:
    """Last year's 特色做法 text below the reference values: one row per town and field, for reading only."""
    fields = practice_fields(cat)
    p = getattr(previous, "practices", None)
    if fields.empty or p is None or p.empty:
        return
    p = p[(p["year"] == prev_year) & p["town"].isin(towns) & p["field"].isin(fields.index)]
    if p.empty:
        return
    texts = {(r.town, r.field): r.text for r in p.itertuples()}
    last = min(max(ncols, 3), 8)  # the text spans C.. up to H
    span = sum(ws.column_dimensions[get_column_letter(j)].width or _MIN_WIDTH for j in range(3, last + 1))
    ws.cell(row=start, column=1,
            value=f"{prev_year}年特色做法（仅供参考：{prev_year + 1}年的做法请在“{PRACTICES_SHEET}”工作表中按当年实际填写）"
            ).font = Font(bold=True)
    row = start + 1
    for j, label in ((1, "乡镇"), (2, "项目"), (3, "上年填写内容")):
        c = ws.cell(row=row, column=j, value=label)
        c.font, c.fill, c.border, c.alignment = Font(bold=True), _FILL_HEADER, _BORDER, _WRAP_CENTER
    if last > 3:
        ws.merge_cells(start_row=row, start_column=3, end_row=row, end_column=last)
    for town in towns:
        for code in fields.index:
            if (town, code) not in texts:
                continue
            row += 1
            text_cell(ws, row, 1, town).border = _BORDER
            c = ws.cell(row=row, column=2, value=_field_text(fields, code, "name"))
            c.border, c.alignment = _BORDER, Alignment(vertical="top", wrap_text=True)
            c = text_cell(ws, row, 3, texts[(town, code)])
            c.border, c.alignment = _BORDER, Alignment(vertical="top", wrap_text=True)
            if last > 3:
                ws.merge_cells(start_row=row, start_column=3, end_row=row, end_column=last)
            ws.row_dimensions[row].height = _LINE_HEIGHT * _text_lines(texts[(town, code)], int(span)) + 6


# --------------------------------------------------------------------------------------------- public
def build_template(year: int, towns: Iterable[str], *, catalog: Catalog | None = None,
                   previous: Dataset | None = None, county: str | None = None, title: str | None = None,
                   practices_title: str | None = None, protect: bool = True) -> Workbook:
    """The template as an openpyxl :class:`Workbook` (not saved); see :func:`write_template`.

    ``title`` / ``practices_title``: row 1 of the year sheet and of the sheet 特色做法 (which is left out when
    the catalog has no ``practice_fields``).
    """
    cat = catalog or load_catalog()
    year = int(year)
    towns = _check_towns(towns)
    title = title or f"{county or ''}{year}年度乡镇履行全面从严治党主体责任指标填报表"
    practices_title = practices_title or f"{county or ''}{year}年度乡镇特色做法填报表"
    wb = Workbook()
    wb.remove(wb.active)
    _data_sheet(wb, cat, year, towns, title, protect)
    if not practice_fields(cat).empty:
        _practices_sheet(wb, cat, year, towns, practices_title, protect)
    _local_sheet(wb, cat)
    _instructions_sheet(wb, cat, year, protect, previous is not None)
    if previous is not None:
        _previous_sheet(wb, cat, year, towns, previous, f"{year - 1}年已报送数据（仅供参考）")
    wb.active = 0
    return wb


def write_template(path: str | Path, year: int, towns: Iterable[str], *, catalog: Catalog | None = None,
                   previous: Dataset | None = None, county: str | None = None, protect: bool = True) -> Path:
    """Write the data-entry workbook for ``year`` and ``towns`` to ``path`` (atomically); return the path.

    ``previous``: a dataset holding ``year - 1``; its values (and its 特色做法 text, below them) go to a
    protected reference sheet — never into the input cells: a practice is written by the town for the year.
    ``county``: prefixed to the title. ``protect``: lock everything but the input cells (no password).

    >>> import tempfile, zhidang_analysis as zd
    >>> from zhidang_analysis.template import write_template
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = write_template(f"{d}/t.xlsx", 2026, ["城关镇", "青石镇"])
    ...     ds = zd.load_dataset(p, zd.SAMPLE_DATA / "乡镇概况.xlsx")
    >>> sorted(ds.values.loc[ds.values["year"] == 2026, "status"].unique())  # blank, or not applicable in 2026
    ['missing', 'na']
    """
    wb = build_template(year, towns, catalog=catalog, previous=previous, county=county, protect=protect)
    return save_atomic(path, wb.save)


def town_template_name(town: str, year: int) -> str:
    """File name of one town's workbook: ``2026年城关镇指标填报表.xlsx`` (the town name made safe, cut to at
    most :data:`export.STEM_MAX_BYTES` bytes). For several towns use :func:`town_template_names`, which keeps
    the names distinct."""
    return town_template_names([town], year)[re.sub(r"\s+", "", str(town))]


def town_template_names(towns: Iterable[str], year: int) -> dict[str, str]:
    """town → file name of its workbook, ``2026年<stem>指标填报表.xlsx``, distinct for every town even
    ignoring case: the stems are :func:`export.output_stems` (a name that is not a safe file name as it is
    gets ``-`` and a short hash when another town's name gives the same file name, and so does one longer
    than the byte limit). Towns are cleaned as in the workbook (white space removed); raises
    :class:`ZhidangError` for no town or a repeated one.
    """
    towns = _check_towns(towns)
    stems = output_stems(towns, reserved=())
    return {t: f"{int(year)}年{stems[t]}指标填报表.xlsx" for t in towns}


def write_town_templates(folder: str | Path, year: int, towns: Iterable[str], *, catalog: Catalog | None = None,
                         previous: Dataset | None = None, county: str | None = None,
                         protect: bool = True) -> dict[str, Path]:
    """Write one workbook per town into ``folder``; return town → path.

    Each holds only its own town's row (and, with ``previous``, only its own last-year values).
    """
    names = town_template_names(towns, year)  # all names first: nothing is written for a bad list of towns
    folder = Path(folder)
    paths: dict[str, Path] = {}
    for town, name in names.items():
        wb = build_template(year, [town], catalog=catalog, previous=previous, protect=protect,
                            title=f"{county or ''}{town}{int(year)}年度履行全面从严治党主体责任指标填报表",
                            practices_title=f"{county or ''}{town}{int(year)}年度特色做法填报表")
        paths[town] = save_atomic(folder / name, wb.save)
    return paths
