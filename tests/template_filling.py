"""Helpers for the template tests: a profile workbook, and typing values into a written template.

``fill`` finds a town's row by column A and an indicator's column by its header ``名称（单位）``, the way a
town office finds where to type; it returns the Excel cell name of every value written. ``fill_practices``
does the same in the sheet 特色做法 (header: the practice field's name).
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter

from zhidang_analysis.model.catalog import Catalog, load_catalog

PROFILE_HEADER = ["县", "乡镇", "乡镇类别", "省份", "县党代会届次", "行政村数", "户籍人口", "党员人数", "党支部数"]
# villages 10 and 6, branches 12 and 8: no profile warning
PROFILE_ROWS = {
    "甲镇": ["测试县", "甲镇", "镇", "甘肃", 15, 10, 20000, 600, 12],
    "乙乡": ["测试县", "乙乡", "乡", "甘肃", 15, 6, 8000, 240, 8],
}


def write_profile(folder: Path, towns=("甲镇", "乙乡"), name: str = "乡镇概况.xlsx") -> Path:
    path = Path(folder) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = Workbook()
    ws = wb.active
    ws.title = "乡镇概况"
    ws.append(PROFILE_HEADER)
    for town in towns:
        ws.append(PROFILE_ROWS[town])
    wb.save(path)
    return path


def valid_row(year: int, *, shift: int = 0, catalog: Catalog | None = None) -> dict[str, object]:
    """A plausible, valid value for every indicator of ``year``: counts 1–7 (+shift), amounts 0.5–2.0."""
    cat = catalog or load_catalog()
    row: dict[str, object] = {}
    for k, code in enumerate(cat.applicable(year)):
        row[code] = (k % 7) + 1 + shift if cat.frame.at[code, "integer"] else 0.5 + 0.25 * (k % 7)
    # the cross-field rules of data/rules.yaml hold: parts never exceed their whole (profile: at least 6
    # villages, 8 branches); people are not fewer than households / sessions / teams; problems not fewer
    # than their aspects (counts are >= 1, so every "more than 0 when" rule holds too)
    row.update({"yijiantiao_villages": 3, "five_star_branches": 3, "hardship_households": 2, "hardship_persons": 6,
                "weak_org_villages": 3, "monitor_directors_talked": 3, "provincial_demo_villages": 1,
                "county_demo_villages": 2, "warning_attendance": 300, "epidemic_teams": 2, "epidemic_members": 30,
                "livestock_stock": 2.0, "livestock_insured": 1.0, "screening_aspects": 2, "screening_problems": 6})
    return {c: v for c, v in row.items() if c in cat.frame.index and cat.applies(c, year)}


def header_columns(ws, header_row: int = 3) -> dict[str, str]:
    """Header text → column letter."""
    return {ws.cell(header_row, j).value: get_column_letter(j)
            for j in range(2, ws.max_column + 1) if ws.cell(header_row, j).value}


def _type_into(path: Path, sheet: str | None, values: dict[str, dict[str, object]], header_of) -> dict:
    """Type ``values[town][code]`` at the column whose header is ``header_of(code)`` and the town's row."""
    wb = load_workbook(path)
    ws = wb[sheet] if sheet else wb.worksheets[0]
    columns = header_columns(ws)
    rows = {ws.cell(i, 1).value: i for i in range(4, ws.max_row + 1) if ws.cell(i, 1).value}
    cells = {}
    for town, row in values.items():
        for code, value in row.items():
            cell = f"{columns[header_of(code)]}{rows[town]}"
            ws[cell] = value
            cells[(town, code)] = cell
    wb.save(path)
    return cells


def fill(path: Path, values: dict[str, dict[str, object]], *, catalog: Catalog | None = None,
         sheet: str | None = None) -> dict[tuple[str, str], str]:
    """Type ``values[town][code]`` into the template at ``path``; return (town, code) → cell name."""
    cat = catalog or load_catalog()
    return _type_into(path, sheet, values, cat.label)


def fill_practices(path: Path, texts: dict[str, dict[str, str]], *,
                   catalog: Catalog | None = None) -> dict[tuple[str, str], str]:
    """Type ``texts[town][code]`` into the sheet 特色做法 of the template at ``path``; return (town, code) → cell."""
    cat = catalog or load_catalog()
    return _type_into(path, "特色做法", texts, lambda code: cat.practice_fields.at[code, "name"])
