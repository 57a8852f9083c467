"""What ``zhidang extract`` writes: the entry template of each year with the values read from past reports
(each value's source sentence as the cell's comment) and the sheet 复核; and the comparison of a report's numbers
with the figures a town submitted (``--compare``)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Iterable

import pandas as pd
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from ..inputs.extract import Extraction
from ..model.catalog import Catalog, load_catalog
from ..model.dataset import Dataset
from ..inputs.practices import PRACTICES_SHEET
from .template import FIRST_TOWN_ROW, HEADER_ROW, build_template, practice_fields, save_atomic

REVIEW_SHEET = "复核"
_REVIEW_COLUMNS = ["序号", "乡镇", "年度", "文件", "指标", "数值", "单位", "约数", "单元格", "原文（数字以【】标出）", "说明"]
_DOUBT = PatternFill("solid", fgColor="FCE4D6")


def _number(v: float) -> float | int:
    return int(v) if float(v).is_integer() else v


def _cell_text(value: float, approx: bool):
    return f"{_number(value)}余" if approx else _number(value)


def _code_columns(ws, cat: Catalog) -> dict[str, int]:
    cols = {}
    for j in range(2, ws.max_column + 1):
        code, _ = cat.match_header(ws.cell(row=HEADER_ROW, column=j).value)
        if code:
            cols[code] = j
    return cols


def build_extracted(extractions: Iterable[Extraction], *, catalog: Catalog | None = None):
    """The workbook (openpyxl, not saved): one year sheet per year read, one row per town, and 复核."""
    cat = catalog or load_catalog()
    extractions = list(extractions)
    by_year: dict[int, list[Extraction]] = defaultdict(list)
    for ex in extractions:
        by_year[ex.year].append(ex)
    years = sorted(by_year)
    wb = None
    cells: dict[tuple[str, int, str], str] = {}
    for year in years:
        towns = list(dict.fromkeys(ex.town for ex in by_year[year]))
        book = build_template(year, towns, catalog=cat, protect=False)
        ws = book[str(year)]
        if wb is None:
            wb = book
        else:  # a further year: its sheet, values and all, goes to the first workbook
            target = wb.create_sheet(str(year), index=years.index(year))
            for row in ws.iter_rows():
                for c in row:
                    if c.value is not None:
                        target.cell(row=c.row, column=c.column, value=c.value)
            for key, dim in ws.column_dimensions.items():
                target.column_dimensions[key].width = dim.width
            ws = target
        cols = _code_columns(ws, cat)
        rows = {town: FIRST_TOWN_ROW + i for i, town in enumerate(towns)}
        for ex in by_year[year]:
            for code, (value, approx, _sentence, marked) in ex.values.items():
                if code not in cols:
                    continue
                c = ws.cell(row=rows[ex.town], column=cols[code], value=_cell_text(value, approx))
                c.comment = Comment(f"摘自{Path(ex.path).name}：{marked}"[:1000], "zhidang extract")
                cells[(ex.town, year, code)] = f"{year}!{c.coordinate}"
    if wb is None:
        raise ValueError("no extraction")
    too_long = _practices(wb, extractions, cat)
    _review_sheet(wb, extractions, cat, cells, too_long)
    return wb


def _practices(wb, extractions: list[Extraction], cat: Catalog) -> list[tuple[Extraction, str, str]]:
    """The town's own paragraphs into the sheet 特色做法 (one row per town and year); a text longer than its
    column allows is left for 复核 instead (returned)."""
    fields = practice_fields(cat)
    if PRACTICES_SHEET not in wb.sheetnames or fields.empty:
        return []
    ws = wb[PRACTICES_SHEET]
    cols = {}
    for j in range(3, ws.max_column + 1):
        name = ws.cell(row=HEADER_ROW, column=j).value
        code = next((c for c in fields.index if fields.loc[c, "name"] == name), None)
        if code:
            cols[code] = j
    rows = {(ws.cell(row=i, column=1).value, ws.cell(row=i, column=2).value): i
            for i in range(FIRST_TOWN_ROW, ws.max_row + 1) if ws.cell(row=i, column=1).value}
    too_long = []
    for ex in extractions:
        if not ex.practices:
            continue
        row = rows.get((ex.town, ex.year))
        if row is None:
            row = max(rows.values(), default=FIRST_TOWN_ROW - 1) + 1
            ws.cell(row=row, column=1, value=ex.town)
            ws.cell(row=row, column=2, value=ex.year)
            rows[(ex.town, ex.year)] = row
        for code, text in ex.practices.items():
            if code not in cols:
                continue
            limit = fields.loc[code, "max"]
            if limit == limit and limit and len(text) > int(limit):
                too_long.append((ex, code, text))
                continue
            ws.cell(row=row, column=cols[code], value=text)
    return too_long


def _review_sheet(wb, extractions: list[Extraction], cat: Catalog, cells: dict, too_long=()) -> None:
    ws = wb.create_sheet(REVIEW_SHEET, index=len([s for s in wb.sheetnames if s.isdigit()]))
    ws.append(_REVIEW_COLUMNS)
    for c in ws[1]:
        c.font = Font(bold=True)

    def add(row: list, doubtful: bool = False) -> None:
        ws.append([ws.max_row, *row])
        if doubtful:
            for c in ws[ws.max_row]:
                c.fill = _DOUBT
    for ex in extractions:
        name = Path(ex.path).name
        for code, (value, approx, _sentence, marked) in ex.values.items():
            cell = cells.get((ex.town, ex.year, code), "")
            add([ex.town, ex.year, name, cat.name(code), _number(value), cat[code]["unit"], "是" if approx else "否",
                       cell, marked, "已填入" if cell else "乡镇概况数字，未填入指标表"])
        for code, reason, marked in ex.review:
            add([ex.town, ex.year, name, cat.name(code) if code else "", None, cat[code]["unit"] if code else "",
                 "", "", marked, reason], doubtful=bool(marked))
        for f in ex.unclaimed:
            if f.part == "work":
                add([ex.town, ex.year, name, "", _number(f.value), "", "是" if f.approx else "否", "", f.marked,
                           "未对应任何指标，请核实是否需要填写"])
    fields = practice_fields(cat)
    for ex, code, text in too_long:
        add([ex.town, ex.year, Path(ex.path).name, fields.loc[code, "name"], None, "", "", "", text,
             f"乡镇自己的文字超过“特色做法”表该栏的{int(fields.loc[code, 'max'])}字上限，未填入，请删减后填写"], doubtful=True)
    widths = [6, 10, 8, 24, 22, 10, 8, 6, 10, 80, 40]
    for j, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(j)].width = w
    for row in ws.iter_rows(min_row=2):
        row[9].alignment = Alignment(wrap_text=True, vertical="top")
        row[10].alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A2"


def write_extracted(path: str | Path, extractions: Iterable[Extraction], *, catalog: Catalog | None = None) -> Path:
    """Write :func:`build_extracted` to ``path`` (atomically); ``zhidang validate`` reads it like any template."""
    wb = build_extracted(extractions, catalog=catalog)
    return save_atomic(path, wb.save)


def compare(extractions: Iterable[Extraction], ds: Dataset) -> pd.DataFrame:
    """Every number of the reports that differs from the figure submitted for that town and year.

    Columns: 乡镇, 年度, 指标, 报告数字, 报送数字, 原文, 单元格 (the cell of the submitted figure). A 约数 (30余)
    differs when the submitted figure is below it; a number the report states that the data leave blank is listed.
    Numbers of the plans (三、下一步工作打算) are targets and are not compared.
    """
    cat = ds.catalog
    v = ds.values.set_index(["town", "year", "indicator"])
    rows, seen = [], set()
    for ex in extractions:
        for f in ex.found:
            if f.code is None or f.part == "next" or (ex.town, ex.year, f.code) not in v.index:
                continue
            sub = v.loc[(ex.town, ex.year, f.code)]
            submitted = sub["value"] if sub["status"] == "present" else None
            if submitted is not None and (f.value <= submitted if f.approx else abs(f.value - submitted) < 1e-6):
                continue
            key = (ex.town, ex.year, f.code, f.value, f.sentence)
            if key in seen:
                continue
            seen.add(key)
            rows.append({"乡镇": ex.town, "年度": ex.year, "指标": cat.name(f.code), "报告数字": f.raw,
                         "报送数字": "（未填）" if submitted is None else _number(submitted),
                         "原文": f.marked, "单元格": sub["source"]})
    return pd.DataFrame(rows, columns=["乡镇", "年度", "指标", "报告数字", "报送数字", "原文", "单元格"])
