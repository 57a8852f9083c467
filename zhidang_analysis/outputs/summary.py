"""The county summary workbook (全县汇总表): what a county analyst hands the leadership after a batch.

One workbook per county and year (:func:`summary_workbook`, :func:`write_summary`):

- one sheet per report section （一）…（六）: towns down the side, and for every indicator that applies that year
  six columns: 本年, 上年, 增减, 增幅, 全县排名 and 目标完成率. A value is the number of the dataset (never
  text): a blank the town did not fill shows 【待补】, a ``—`` shows 不适用, a ``30余`` keeps 30 with the number
  format ``0"余"``. Every value cell carries a comment with its source (file!sheet!cell); a value that is one of
  the town's problems (:func:`analysis.problems.town_problems`, the one problem model) is filled red with a
  comment saying why. The rank is the one the reports state (:func:`analysis.standing.county_context`: size-scaled,
  on the exact scaled values, ties share a rank and show 并列);
- 综合: per town the composite score and its rank, the section scores, the problems and the completeness of its
  data (:func:`report.overview.completeness`).

Every sheet has real Excel features: number formats per unit, frozen header rows and town column, an
auto-filter, conditional formats (falls in red, targets missed in orange), A4 landscape printing fitted to the
page width (about three indicators per page across, the town column repeated on each) with the header rows repeated and the page number in the footer, and column widths for Chinese text.

With several counties, :func:`write_summaries` writes one workbook per county and a 各县比较 workbook.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.formatting.rule import CellIsRule, ColorScaleRule, FormulaRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from ..analysis.problems import KINDS, town_problems
from ..analysis.standing import SCALE_TEXT, county_context, county_scores
from ..model.dataset import Dataset
from ..report.overview import completeness, county_comparison
from ..report.phrasing import fmt_scaled
from .files import atomic_write_bytes
from .names import safe_filename
from .textwidth import display_width

__all__ = ["MARKS", "SUMMARY_NAME", "COMPARISON_NAME", "section_sheet_name", "summary_workbook",
           "comparison_workbook", "write_summary", "write_summaries"]

SUMMARY_NAME = "全县汇总表"
COMPARISON_NAME = "各县比较"
#: What a cell without a number shows.
MARKS = {"missing": "【待补】", "na": "不适用"}
#: The columns of one indicator on a section sheet.
SUBCOLUMNS = ["本年", "上年", "增减", "增幅", "全县排名", "目标完成率"]
TITLE_ROW, GROUP_ROW, HEADER_ROW = 1, 2, 3
#: Indicators on one printed page across (A4 landscape, six columns each, the town column repeated).
INDICATORS_PER_PAGE = 3
FIRST_ROW = HEADER_ROW + 1
_NUMERALS = "一二三四五六"

_THIN = Side(style="thin", color="A6A6A6")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_FILL_GROUP = PatternFill("solid", fgColor="DDEBF7")
_FILL_HEADER = PatternFill("solid", fgColor="F2F2F2")
_FILL_MISSING = PatternFill("solid", fgColor="FFF2CC")
_FILL_NA = PatternFill("solid", fgColor="EDEDED")
_FILL_APPROX = PatternFill("solid", fgColor="E2EFDA")
_FILL_PROBLEM = PatternFill("solid", fgColor="F8CBAD")
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
_LEFT = Alignment(horizontal="left", vertical="center", wrap_text=True)
_RED = Font(color="C00000")
_GREEN = Font(color="00703C")
_ORANGE_FILL = PatternFill("solid", fgColor="FCE4D6")
_PERCENT = "0.0%"
_MIN_WIDTH, _MAX_WIDTH = 8, 40
_AUTHOR = "zhidang-analysis"


def number_format(integer: bool, *, approx: bool = False, signed: bool = False) -> str:
    """The Excel number format of a value: whole numbers for a count, two decimals for an amount (万元, 万头);
    ``0"余"`` for an approximate count; with a sign for a change."""
    base = "#,##0" if integer else "#,##0.00"
    if approx:
        return f'{base}"余"'
    if signed:
        return f"+{base};-{base};0"
    return base


def rank_format(tied: bool) -> str:
    """A rank as a number (it sorts and filters) that shows 并列 when shared."""
    return '"并列"0' if tied else "0"


def section_sheet_name(code: str, title: str) -> str:
    """A section's sheet: （一）提高政治站位 (the title's first clause), at most Excel's 31 characters."""
    i = int(code[1:]) - 1
    name = f"（{_NUMERALS[i]}）{title.split('，')[0]}"
    for bad in '[]:*?/\\':
        name = name.replace(bad, "")
    return name[:31]


def _title(ws: Worksheet, text: str, ncols: int) -> None:
    ws.cell(TITLE_ROW, 1, text).font = Font(bold=True, size=14)
    ws.cell(TITLE_ROW, 1).alignment = Alignment(horizontal="left", vertical="center")
    ws.row_dimensions[TITLE_ROW].height = 24


def _header(cell, text, fill=_FILL_HEADER) -> None:
    cell.value = text
    cell.font = Font(bold=True)
    cell.fill = fill
    cell.alignment = _CENTER
    cell.border = _BORDER


def _print_setup(ws: Worksheet, last_col: int, last_row: int, pages_wide: int = 1) -> None:
    """A4 landscape, fitted to the page width (``pages_wide`` pages across), header rows and town column repeated,
    page number in the footer."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = pages_wide
    ws.page_setup.fitToHeight = 0
    ws.print_title_rows = f"{TITLE_ROW}:{HEADER_ROW}"
    ws.print_title_cols = "A:A"
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"
    ws.freeze_panes = ws.cell(FIRST_ROW, 2)
    ws.auto_filter.ref = f"A{HEADER_ROW}:{get_column_letter(last_col)}{max(last_row, HEADER_ROW)}"


def _fit_widths(ws: Worksheet, widths: dict[int, int]) -> None:
    for col, w in widths.items():
        ws.column_dimensions[get_column_letter(col)].width = max(_MIN_WIDTH, min(_MAX_WIDTH, w + 2))


def _note(cell, lines: list[str], *, width: int = 260) -> None:
    lines = [s for s in lines if s]
    if lines:
        c = Comment("\n".join(lines), _AUTHOR)
        c.width, c.height = width, 30 + 18 * sum(1 + display_width(s) // 36 for s in lines)
        cell.comment = c


def _source_text(source) -> str:
    """``file!sheet!cell`` as 数据来源 says it."""
    if not isinstance(source, str) or not source:
        return ""
    parts = source.split("!")
    if len(parts) == 3:
        return f"数据来源：{parts[0]}，工作表“{parts[1]}”，单元格{parts[2]}"
    return f"数据来源：{source}"


def _fmt_value(x: float, integer: bool) -> str:
    return f"{x:,.0f}" if integer else f"{x:,.2f}"


class _Tables:
    """The tables of one county and year that every sheet reads, computed once."""

    def __init__(self, ds: Dataset, year: int):
        self.ds, self.year = ds, year
        v = ds.values
        self.now = v[v["year"] == year].set_index(["town", "indicator"])
        prev = v[(v["year"] == year - 1) & (v["status"] == "present")]
        self.prev = prev.set_index(["town", "indicator"])["value"]
        self.context = county_context(ds, year).set_index(["town", "indicator"])
        ranks = self.context["rank"]
        self.tied = (self.context["rank_max"] != ranks)
        self.problems = town_problems(ds, year)
        data = self.problems[self.problems["kind"] != "own"]
        self.problem_at = {(r.town, r.indicator): r for r in data.itertuples()}
        self.towns = [t for t in ds.towns if t in set(self.now.index.get_level_values(0))]


def _section_sheet(wb: Workbook, t: _Tables, section: str) -> Worksheet | None:
    ds, year, cat = t.ds, t.year, t.ds.catalog
    codes = [c for c in cat.applicable(year) if cat.frame.at[c, "section"] == section]
    if not codes:
        return None
    ws = wb.create_sheet(section_sheet_name(section, cat.sections[section]))
    ncols = 1 + len(SUBCOLUMNS) * len(codes)
    _title(ws, f"{ds.county}{year}年{SUMMARY_NAME}　{ws.title}", ncols)
    ws.merge_cells(start_row=GROUP_ROW, start_column=1, end_row=HEADER_ROW, end_column=1)
    _header(ws.cell(GROUP_ROW, 1), "乡镇")
    widths = {1: max(display_width("乡镇"), *(display_width(x) for x in t.towns))}
    last_row = FIRST_ROW + len(t.towns) - 1
    for k, code in enumerate(codes):
        row = cat[code]
        integer = bool(row["integer"])
        first = 2 + k * len(SUBCOLUMNS)
        ws.merge_cells(start_row=GROUP_ROW, start_column=first, end_row=GROUP_ROW,
                       end_column=first + len(SUBCOLUMNS) - 1)
        group = ws.cell(GROUP_ROW, first)
        _header(group, cat.label(code), _FILL_GROUP)
        for j in range(1, len(SUBCOLUMNS)):
            ws.cell(GROUP_ROW, first + j).border = _BORDER
        if isinstance(row.get("help"), str) and row["help"]:
            _note(group, [row["help"]])
        for j, sub in enumerate(SUBCOLUMNS):
            _header(ws.cell(HEADER_ROW, first + j), sub)
            widths[first + j] = max(display_width(sub), 8)
        scale = SCALE_TEXT.get(str(t.context["scale"].xs(code, level="indicator").iloc[0])
                               if code in t.context.index.get_level_values(1) else "", "")
        if scale:
            _note(ws.cell(HEADER_ROW, first + 4), [f"按{scale}值比较（与报告一致，按折算后的实际值排名，相同者并列）"])
        label_width = display_width(cat.label(code))
        if label_width > len(SUBCOLUMNS) * 8:
            for j in range(len(SUBCOLUMNS)):
                widths[first + j] = max(widths[first + j], -(-label_width // len(SUBCOLUMNS)))
        for i, town in enumerate(t.towns):
            r = FIRST_ROW + i
            _indicator_cells(ws, t, town, code, r, first, integer)
        if t.towns:
            cols = [get_column_letter(first + j) for j in range(len(SUBCOLUMNS))]
            change = f"{cols[2]}{FIRST_ROW}:{cols[3]}{last_row}"
            ws.conditional_formatting.add(change, CellIsRule(operator="lessThan", formula=["0"], font=_RED))
            ws.conditional_formatting.add(change, CellIsRule(operator="greaterThan", formula=["0"], font=_GREEN))
            top = f"{cols[5]}{FIRST_ROW}"  # a blank cell (no target) is not a target missed
            ws.conditional_formatting.add(f"{top}:{cols[5]}{last_row}",
                                          FormulaRule(formula=[f"AND(ISNUMBER({top}),{top}<1)"], fill=_ORANGE_FILL))
    for i, town in enumerate(t.towns):
        c = ws.cell(FIRST_ROW + i, 1, town)
        c.font = Font(bold=True)
        c.alignment = _LEFT
        c.border = _BORDER
    ws.row_dimensions[GROUP_ROW].height = 36
    _fit_widths(ws, widths)
    # fitted to one page across per INDICATORS_PER_PAGE indicators (all of (二) on one page prints too small to
    # read); no manual page breaks: Excel ignores them when a sheet is fitted to pages
    _print_setup(ws, ncols, last_row, pages_wide=-(-len(codes) // INDICATORS_PER_PAGE))
    return ws


def _indicator_cells(ws: Worksheet, t: _Tables, town: str, code: str, r: int, first: int, integer: bool) -> None:
    key = (town, code)
    cells = [ws.cell(r, first + j) for j in range(len(SUBCOLUMNS))]
    for c in cells:
        c.border = _BORDER
        c.alignment = Alignment(horizontal="right", vertical="center")
    value_cell = cells[0]
    if key not in t.now.index:
        value_cell.value = MARKS["na"]
        value_cell.fill = _FILL_NA
        value_cell.alignment = _CENTER
        return
    rec = t.now.loc[key]
    notes = []
    status = rec["status"]
    if status != "present" or pd.isna(rec["value"]):
        mark = MARKS["na"] if status == "na" else MARKS["missing"]
        value_cell.value = mark
        value_cell.fill = _FILL_NA if status == "na" else _FILL_MISSING
        value_cell.alignment = _CENTER
        notes.append("填报为“—”：本年不适用" if status == "na" else "未填报，待补充")
    else:
        value = float(rec["value"])
        value_cell.value = int(value) if integer and value.is_integer() else value
        approx = bool(rec["approx"])
        value_cell.number_format = number_format(integer, approx=approx)
        if approx:
            value_cell.fill = _FILL_APPROX
            notes.append(f"约数：原填“{_fmt_value(value, integer)}余”，按{_fmt_value(value, integer)}计")
    problem = t.problem_at.get(key)
    if problem is not None:
        value_cell.fill = _FILL_PROBLEM
        notes.insert(0, f"存在问题（{KINDS.get(problem.kind, problem.kind)}）：{problem.text}")
    notes.append(_source_text(rec["source"]))
    _note(value_cell, notes)

    prev = t.prev.get(key, np.nan)
    if not pd.isna(prev):
        cells[1].value = int(prev) if integer and float(prev).is_integer() else float(prev)
        cells[1].number_format = number_format(integer)
    if status == "present" and not pd.isna(rec["value"]) and not pd.isna(prev):
        change = float(rec["value"]) - float(prev)
        cells[2].value = round(change, 6)
        cells[2].number_format = number_format(integer, signed=True)
        if prev != 0:
            cells[3].value = change / float(prev)
            cells[3].number_format = "+0.0%;-0.0%;0.0%"
    if key in t.context.index:
        ctx = t.context.loc[key]
        cells[4].value = int(ctx["rank"])
        cells[4].number_format = rank_format(bool(t.tied.get(key, False)))
        cells[4].alignment = _CENTER
        scale = SCALE_TEXT.get(str(ctx["scale"]), "")
        if scale:
            digits = ctx.get("digits", np.nan)
            told = fmt_scaled(float(ctx["scaled"]), None if pd.isna(digits) else int(digits))
            _note(cells[4], [f"按{scale}{told}比较，共{int(ctx['n_towns'])}个乡镇"])
        completion = ctx.get("completion", np.nan)
        if not pd.isna(completion):
            cells[5].value = float(completion)
            cells[5].number_format = _PERCENT
            _note(cells[5], [f"年度目标：{_fmt_value(float(ctx['target']), integer)}{t.ds.catalog[code]['unit']}",
                             _source_text(ctx.get("target_source", ""))])


def _overall_sheet(wb: Workbook, t: _Tables) -> Worksheet:
    ds, year = t.ds, t.year
    ws = wb.create_sheet("综合", 0)
    scores = county_scores(ds, year)
    scores = scores.xs(year, level="year") if len(scores) else scores
    comp = completeness(ds, year).set_index("乡镇")
    sections = [s for s in (f"s{i}" for i in range(1, 7)) if s in scores.columns]
    headers = (["乡镇", "综合得分", "得分排名"] + [f"（{_NUMERALS[int(s[1:]) - 1]}）得分" for s in sections]
               + ["问题数", "存在的问题", "应填（项）", "已填（项）", "未填（项）", "约数（项）", "完整率", "未填指标"])
    _title(ws, f"{ds.county}{year}年{SUMMARY_NAME}　综合", len(headers))
    for j, h in enumerate(headers, start=1):
        ws.merge_cells(start_row=GROUP_ROW, start_column=j, end_row=HEADER_ROW, end_column=j)
        _header(ws.cell(GROUP_ROW, j), h)
    _note(ws.cell(GROUP_ROW, 2), ["综合得分：各部分按规模折算后的百分位得分加权平均（0—100分），方法见 data/scoring.yaml"])
    _note(ws.cell(GROUP_ROW, headers.index("存在的问题") + 1),
          ["与报告“二、存在的问题”一致：乡镇自查问题在前，其后为数据显示的问题"])
    towns = list(comp.index)
    ranks = scores["rank"] if "rank" in scores else pd.Series(dtype="Int64")
    dup = ranks.dropna().duplicated(keep=False)
    widths = {j: display_width(h) for j, h in enumerate(headers, start=1)}
    for i, town in enumerate(towns):
        r = FIRST_ROW + i
        probs = t.problems[t.problems["town"] == town]
        texts = [f"{n}. {x}" for n, x in enumerate(probs["text"], start=1)]
        c_row = comp.loc[town]
        row = [town]
        if town in scores.index and not pd.isna(scores.at[town, "score"]):
            row += [float(scores.at[town, "score"]), int(ranks[town])]
        else:
            row += [None, None]
        row += [None if town not in scores.index or pd.isna(scores.at[town, s]) else float(scores.at[town, s])
                for s in sections]
        row += [len(probs), "\n".join(texts), int(c_row["应填（项）"]), int(c_row["已填（项）"]),
                int(c_row["未填（项）"]), int(c_row["约数（项）"]),
                None if pd.isna(c_row["完整率（%）"]) else float(c_row["完整率（%）"]) / 100.0, c_row["未填指标"] or None]
        for j, x in enumerate(row, start=1):
            c = ws.cell(r, j, x)
            c.border = _BORDER
            c.alignment = _LEFT if isinstance(x, str) else Alignment(horizontal="right", vertical="center")
        ws.cell(r, 1).font = Font(bold=True)
        ws.cell(r, 2).number_format = "0.0"
        ws.cell(r, 3).number_format = rank_format(bool(dup.get(town, False)))
        for j in range(len(sections)):
            ws.cell(r, 4 + j).number_format = "0.0"
        k = headers.index("存在的问题") + 1
        if texts:
            ws.cell(r, k).fill = _FILL_PROBLEM
            sources = [_source_text(s) for s in probs["source"] if isinstance(s, str) and s]
            _note(ws.cell(r, k), ["自查问题" + s.removeprefix("数据来源") for s in dict.fromkeys(sources)])
        ws.cell(r, headers.index("完整率") + 1).number_format = _PERCENT
        widths[1] = max(widths[1], display_width(town))
        longest = max((display_width(x) for x in texts), default=0)
        widths[k] = max(widths[k], min(longest, 60))
        ws.row_dimensions[r].height = max(18, 15 * sum(1 + display_width(x) // 60 for x in texts))
    widths[headers.index("未填指标") + 1] = 30
    last_row = FIRST_ROW + len(towns) - 1
    if towns:
        ws.conditional_formatting.add(f"B{FIRST_ROW}:B{last_row}", _score_scale())
        col = get_column_letter(headers.index("完整率") + 1)
        top = f"{col}{FIRST_ROW}"
        ws.conditional_formatting.add(f"{top}:{col}{last_row}",
                                      FormulaRule(formula=[f"AND(ISNUMBER({top}),{top}<1)"], fill=_FILL_MISSING))
    for j, w in widths.items():
        ws.column_dimensions[get_column_letter(j)].width = max(_MIN_WIDTH, min(62, w + 2))
    ws.column_dimensions[get_column_letter(headers.index("存在的问题") + 1)].width = 62
    _print_setup(ws, len(headers), last_row)
    return ws


def _score_scale() -> ColorScaleRule:
    return ColorScaleRule(start_type="num", start_value=0, start_color="F8696B", mid_type="num", mid_value=50,
                          mid_color="FFEB84", end_type="num", end_value=100, end_color="63BE7B")


def _legend(wb: Workbook, ds: Dataset, year: int) -> None:
    ws = wb.create_sheet("说明")
    lines = [
        ("说明", ""),
        ("本表", f"{ds.county}{year}年各乡镇履行全面从严治党主体责任情况的数据汇总，由 zhidang-analysis 自动生成。"),
        ("本年、上年", "乡镇填报的数值；“上年”为上一年度的数值（未填报或不适用则空）。"),
        ("增减、增幅", "本年减上年、增减除以上年；下降为红色，增长为绿色。"),
        ("全县排名", "与报告一致：按规模折算（村均、每百名党员等）后比较，按折算后的实际值排名，相同者“并列”；"
                     "越少越好的指标以少者为先。"),
        ("目标完成率", "本年数值除以年度目标；未完成（低于100%）为橙色。批注给出目标和来源。"),
        (MARKS["missing"], "黄色：乡镇未填报，待补充。"),
        (MARKS["na"], "灰色：填报为“—”或本年不适用。"),
        ("约数", "绿色：填报为“30余”式约数，按30计，显示为“30余”。"),
        ("存在问题", "红色：报告“二、存在的问题”所列问题，批注说明原因（与报告、全县概览一致）。"),
        ("数据来源", "每个数值的批注给出来源文件、工作表和单元格。"),
    ]
    for i, (a, b) in enumerate(lines, start=1):
        ws.cell(i, 1, a).font = Font(bold=True)
        ws.cell(i, 2, b).alignment = _LEFT
    for i, fill in ((7, _FILL_MISSING), (8, _FILL_NA), (9, _FILL_APPROX), (10, _FILL_PROBLEM)):
        ws.cell(i, 1).fill = fill
    ws.column_dimensions["A"].width = 14
    ws.column_dimensions["B"].width = 100
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4


def summary_workbook(ds: Dataset, year: int, county: str | None = None) -> Workbook:
    """The summary workbook of one county (``county``, or the dataset's only one) and ``year`` (not saved)."""
    ds = ds.for_county(county or (ds.counties[0] if len(ds.counties) == 1 else county))
    year = ds.check_year(year)
    t = _Tables(ds, year)
    wb = Workbook()
    wb.remove(wb.active)
    for section in (f"s{i}" for i in range(1, 7)):
        _section_sheet(wb, t, section)
    _overall_sheet(wb, t)
    _legend(wb, ds, year)
    wb.active = 0
    return wb


def comparison_workbook(ds: Dataset, year: int) -> Workbook:
    """The 各县比较 workbook of a dataset of several counties: one row per county (:func:`county_comparison`)."""
    year = ds.check_year(year)
    table = county_comparison(ds, year)
    wb = Workbook()
    ws = wb.active
    ws.title = COMPARISON_NAME
    _title(ws, f"{year}年{COMPARISON_NAME}", len(table.columns))
    widths = {}
    for j, h in enumerate(table.columns, start=1):
        ws.merge_cells(start_row=GROUP_ROW, start_column=j, end_row=HEADER_ROW, end_column=j)
        _header(ws.cell(GROUP_ROW, j), h)
        widths[j] = max(display_width(h) // 2 + 2, 8)
    for i, rec in enumerate(table.itertuples(index=False)):
        for j, x in enumerate(rec, start=1):
            x = None if x is pd.NA or (isinstance(x, float) and np.isnan(x)) else x
            x = x.item() if hasattr(x, "item") else x
            c = ws.cell(FIRST_ROW + i, j, x)
            c.border = _BORDER
            h = table.columns[j - 1]
            if "（%）" in h or "（分）" in h:
                c.number_format = "0.0"
            elif isinstance(x, (int, float)):
                c.number_format = "#,##0" if isinstance(x, int) else "#,##0.00"
        widths[1] = max(widths[1], display_width(rec[0]))
    _fit_widths(ws, widths)
    _print_setup(ws, len(table.columns), FIRST_ROW + len(table) - 1)
    return wb


def _save(wb: Workbook, path: Path) -> Path:
    buf = io.BytesIO()
    wb.save(buf)
    return atomic_write_bytes(Path(path), buf.getvalue())


def summary_name(year: int, county: str | None = None) -> str:
    """The file name: ``2025年全县汇总表.xlsx`` (``2025年甲县汇总表.xlsx`` for one of several counties)."""
    return f"{year}年{safe_filename(county) + '汇总表' if county else SUMMARY_NAME}.xlsx"


def write_summary(ds: Dataset, year: int, path: str | Path, county: str | None = None) -> Path:
    """Write the summary workbook of ``year`` to ``path`` (atomically)."""
    return _save(summary_workbook(ds, year, county), Path(path))


def write_summaries(ds: Dataset, years: Iterable[int], folder: str | Path) -> list[Path]:
    """Write the summary workbooks of ``years`` into ``folder``: ``<year>年全县汇总表.xlsx`` for one county;
    for several, ``<year>年<县>汇总表.xlsx`` per county and ``<year>年各县比较.xlsx``."""
    folder = Path(folder)
    out = []
    for year in years:
        year = ds.check_year(year)
        if ds.multi:
            for county in ds.counties:
                cv = ds.for_county(county)
                if year in cv.years:
                    out.append(write_summary(cv, year, folder / summary_name(year, county)))
            out.append(_save(comparison_workbook(ds, year), folder / f"{year}年{COMPARISON_NAME}.xlsx"))
        else:
            out.append(write_summary(ds, year, folder / summary_name(year)))
    return out
