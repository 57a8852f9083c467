"""The check report sent back to the towns (``zhidang validate --report``, a batch's ``checks.html``).

Validation (:mod:`zhidang_analysis.inputs`) finds what cannot be used (errors) and what looks wrong
(warnings); :func:`analysis.plausibility.plausibility` (re-exported here) finds values that are valid but
unusual — a big jump against last year, a value far outside the county's range — and marks them ``check``
(请核实): the town confirms or corrects them. :func:`review` runs both.

:func:`write_check_report` writes every problem, grouped by town, with file, sheet, cell, the value found
and what is expected, as an Excel workbook (openpyxl) or a self-contained HTML page (Jinja2).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from copy import copy
from dataclasses import replace
from datetime import datetime
from importlib import resources
from pathlib import Path

import jinja2
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from ..analysis.plausibility import plausibility
from ..errors import ZhidangError
from ..inputs.load import validate
from ..inputs.workbooks import expand
from ..model.bundled import SAMPLE_DATA
from ..model.catalog import Catalog, load_catalog
from ..model.dataset import LEVELS, Problem, ValidationResult
from .template import display_width, save_atomic, text_cell

REPORT_SHEET = "审核结果"
SUMMARY_SHEET = "审核汇总"
REPORT_SUFFIXES = {".xlsx", ".html", ".htm"}
NO_TOWN = "（未对应到具体乡镇）"
REPORT_COLUMNS = ["乡镇", "类别", "文件", "工作表", "单元格", "指标", "读到的值", "问题", "应为"]


def review(*paths: str | Path, jump_factor: float = 3.0, catalog: Catalog | None = None,
           **options) -> ValidationResult:
    """Validate ``paths`` and add the plausibility checks (``options`` go to :func:`plausibility`).

    The result's ``problems`` hold errors, warnings and checks; ``dataset`` is the validated dataset, or
    None when there are errors. With errors, the checks still cover the files that have none (they are
    validated again without the faulty files), so one town's mistake does not hide the others' checks.
    """
    paths = paths or (SAMPLE_DATA,)
    result = validate(*paths, catalog=catalog)
    dataset = result.dataset
    if dataset is None:
        bad = {p.file for p in result.errors}
        files = expand(paths)
        good = [f for f in files if f.name not in bad and str(f) not in bad]
        if good and len(good) < len(files):
            dataset = validate(*good, catalog=catalog).dataset
    checks = []
    if dataset is not None:  # towns are compared with their own county's only
        for county in dataset.counties:
            found = plausibility(dataset.for_county(county), jump_factor, **options)
            checks += [replace(p, county=county) for p in found]
    problems = result.problems + checks
    several = dataset.multi if dataset is not None else len({p.county for p in problems if p.county}) > 1
    if several:  # a town is named 县/乡镇 where counties share names
        problems = [replace(p, town=f"{p.county}/{p.town}") if p.town and p.county else p for p in problems]
    return ValidationResult(problems, result.dataset)


# --------------------------------------------------------------------------------------------- report
_CELL = re.compile(r"^(?P<col>[A-Z]{1,3})(?P<row>\d+)$")


def _cell_key(cell: str | None) -> tuple:
    """Sort cells by row, then column (``B4`` before ``AA4`` before ``B5``); unparsable ones last."""
    m = _CELL.match(cell or "")
    if not m:
        return (1, 0, 0, cell or "")
    col = 0
    for ch in m.group("col"):
        col = col * 26 + ord(ch) - 64
    return (0, int(m.group("row")), col, "")


def _rows(problems: Sequence[Problem], catalog: Catalog) -> list[dict]:
    """One display row per problem, grouped by town (first-seen order, NO_TOWN last), then by level."""
    towns = list(dict.fromkeys(p.town for p in problems if p.town))
    order = {t: i for i, t in enumerate(towns)}
    rank = {level: i for i, level in enumerate(LEVELS)}

    def key(p: Problem):
        return (order.get(p.town, len(order)), rank.get(p.level, 9), p.file or "", p.sheet or "",
                _cell_key(p.cell), p.message)

    rows = []
    for p in sorted(problems, key=key):
        indicator = catalog.name(p.indicator) if p.indicator in catalog else (p.indicator or "")
        rows.append({
            "town": p.town or NO_TOWN, "level": p.level, "label": LEVELS.get(p.level, p.level),
            "file": p.file or "", "sheet": p.sheet or "", "cell": p.cell or "", "indicator": indicator,
            "value": "" if p.value is None else str(p.value), "message": p.message, "expected": p.expected or "",
        })
    return rows


def _by_town(rows: list[dict]) -> dict[str, list[dict]]:
    """The display rows of each town, in one pass (order kept)."""
    groups: dict[str, list[dict]] = {}
    for r in rows:
        groups.setdefault(r["town"], []).append(r)
    return groups


def _summary(rows: list[dict], towns: Sequence[str] | None) -> list[dict]:
    """One line per town: its counts per level and the verdict. Linear in the number of rows (it used to scan
    every row once per town: 20,000 problems of 20,000 towns took minutes)."""
    groups = _by_town(rows)
    names = list(dict.fromkeys(list(towns or []) + [t for t in groups if t != NO_TOWN]))
    if NO_TOWN in groups:
        names.append(NO_TOWN)
    out = []
    for name in names:
        levels = [r["level"] for r in groups.get(name, ())]
        counts = {level: levels.count(level) for level in LEVELS}
        if counts["error"]:
            status = "有错误，请更正后重新报送"
        elif counts["check"] or counts["warning"]:
            status = "请核实标出的数据"
        else:
            status = "通过"
        out.append({"town": name, **counts, "status": status})
    return out


_NOTES = [
    "“错误”：数据无法使用，请按“单元格”列找到原表中的位置，按“应为”列更正后重新报送。",
    "“警告”：数据已读取，但可能有误，请核对。",
    "“请核实”：数据有效但不寻常（与上年相比变化很大，或明显偏离全县一般水平），不是错误；如数据无误，请说明原因。",
    "“提示”：数据已按原意读取，不影响本次使用：写法与现在的模板不同（如旧版模板的表头、半角标点、只写“无”的栏），"
    "下次填报时请按提示改用新写法；特色做法照抄上一年的，报告也会照抄，请写本年的做法。",
    "更正后重新报送，县里再次审核时只列出尚未解决的问题。",
]
_FILL = {"error": PatternFill("solid", fgColor="F8CBAD"), "warning": PatternFill("solid", fgColor="FFE699"),
         "check": PatternFill("solid", fgColor="DDEBF7"), "notice": PatternFill("solid", fgColor="E2EFDA")}
_THIN = Side(style="thin", color="A6A6A6")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEAD_FILL = PatternFill("solid", fgColor="F2F2F2")


def _write_xlsx(rows: list[dict], summary: list[dict], title: str, stamp: str, path: Path):
    wb = Workbook()
    ws = wb.active
    ws.title = SUMMARY_SHEET
    ws.cell(row=1, column=1, value=title).font = Font(bold=True, size=14)
    ws.cell(row=2, column=1, value=f"生成时间：{stamp}")
    heads = ["乡镇", *LEVELS.values(), "审核结论"]
    for j, h in enumerate(heads, start=1):
        c = ws.cell(row=4, column=j, value=h)
        c.font, c.fill, c.border = Font(bold=True), _HEAD_FILL, _BORDER
    for i, s in enumerate(summary, start=5):
        text_cell(ws, i, 1, s["town"]).border = _BORDER
        for j, level in enumerate(LEVELS, start=2):
            ws.cell(row=i, column=j, value=s[level]).border = _BORDER
        c = ws.cell(row=i, column=len(heads), value=s["status"])
        c.border = _BORDER
        if s["error"]:
            c.fill = _FILL["error"]
    n = 5 + len(summary) + 1
    ws.cell(row=n, column=1, value="说明").font = Font(bold=True)
    for k, note in enumerate(_NOTES, start=1):
        ws.cell(row=n + k, column=1, value=f"{k}. {note}")
    for j, w in enumerate([max(14, *(display_width(s["town"]) + 2 for s in summary)) if summary else 14,
                           *[8] * len(LEVELS), 30], start=1):
        letter = get_column_letter(j)
        ws.column_dimensions[letter].width = w

    ws = wb.create_sheet(REPORT_SHEET)
    keys = ["town", "label", "file", "sheet", "cell", "indicator", "value", "message", "expected"]
    widths = [14, 8, 24, 10, 8, 20, 12, 50, 40]
    for j, (h, w) in enumerate(zip(REPORT_COLUMNS, widths), start=1):
        c = ws.cell(row=1, column=j, value=h)
        c.font, c.fill, c.border = Font(bold=True), _HEAD_FILL, _BORDER
        ws.column_dimensions[get_column_letter(j)].width = w
    # each cell's style is copied from the first cell styled alike: setting border, alignment and fill on every
    # cell hashes those style objects each time, the bulk of the time for a report of thousands of rows
    styles: dict[tuple, object] = {}
    for i, r in enumerate(rows, start=2):
        for j, k in enumerate(keys, start=1):
            c = text_cell(ws, i, j, r[k]) if r[k] != "" else ws.cell(row=i, column=j)
            like = (k, r["level"] if j == 2 else None)
            if like in styles:
                c._style = copy(styles[like])
                continue
            c.border = _BORDER
            c.alignment = Alignment(wrap_text=k in {"message", "expected", "file"}, vertical="top")
            if j == 2:
                c.fill = _FILL.get(r["level"], PatternFill())
            styles[like] = copy(c._style)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(keys))}{max(1, len(rows)) + 1}"
    wb.active = 0
    wb.save(path)


def _write_html(rows: list[dict], summary: list[dict], title: str, stamp: str, path: Path):
    text = resources.files("zhidang_analysis").joinpath("templates", "check_report.html.j2").read_text(encoding="utf-8")
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    by_town = _by_town(rows)
    groups = [(s, by_town.get(s["town"], [])) for s in summary]
    html = env.from_string(text).render(title=title, stamp=stamp, summary=summary, groups=groups, notes=_NOTES,
                                        columns=REPORT_COLUMNS[1:], levels=LEVELS, total=len(rows))
    path.write_text(html, encoding="utf-8")


def write_check_report(problems: Iterable[Problem], path: str | Path, *, towns: Sequence[str] | None = None,
                       catalog: Catalog | None = None, title: str = "数据审核结果") -> Path:
    """Write ``problems`` as a check report to ``path`` (``.xlsx`` or ``.html``), atomically; return the path.

    Per town (``towns`` lists towns to show even without problems, e.g. as 通过): every error, warning and
    check with file, sheet, cell, indicator, the value found, the problem and what is expected. The
    workbook's sheets are named so that the loader ignores them if the report lands in a data folder.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in REPORT_SUFFIXES:
        raise ZhidangError(f"审核结果只能保存为 .xlsx 或 .html 文件，而不是“{path.name}”")
    cat = catalog or load_catalog()
    rows = _rows(list(problems), cat)
    summary = _summary(rows, towns)
    now = datetime.now()  # local time, as the reader writes it: 2025年12月4日 19:00
    stamp = f"{now.year}年{now.month}月{now.day}日 {now:%H:%M}"
    write = _write_xlsx if suffix == ".xlsx" else _write_html
    return save_atomic(path, lambda tmp: write(rows, summary, title, stamp, tmp))


def report_towns(result: ValidationResult) -> list[str] | None:
    """The towns a report should list (the dataset's profile), when the data loaded."""
    return None if result.dataset is None else result.dataset.towns


__all__ = ["LEVELS", "plausibility", "report_towns", "review", "write_check_report"]
