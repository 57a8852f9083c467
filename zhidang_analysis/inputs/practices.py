"""Read the sheet 特色做法: each town's own named practices, per year, as text.

The seed report names its own town's practices (a Thursday “理论学堂”, a 周一交任务 mechanism, an inspection
method, its leading industries …). Those are facts about one town, so they are input: a sheet named
``特色做法`` in any workbook, laid out as

    乡镇 | 年度 | 学习载体 | 学习制度 | … | （一）特色做法 | … | 自查问题

one row per town and year, with the columns of ``practice_fields`` in the catalog (any subset, any order).
A report states a practice only when its own town wrote it here. Every problem is reported with file,
sheet and cell like the numbers are. Text is cleaned on the way in (:mod:`towntext`: punctuation, spaces,
empty answers such as 无, numbered items) and each cell that needed it is named in a notice; it is escaped
later, when it is written into HTML.
"""

from __future__ import annotations

import re
import unicodedata

import pandas as pd

from ..model.catalog import Catalog, normalize_header
from ..model.dataset import Problem, empty_practices
from . import towntext
from .cells import cell_name, text_problem
from .sheets import (
    MergedCells, cell_text, cell_value, claim_column, find_header_row, is_footer_label, sheet_grid, town_name
)
from .towntext import split_items  # noqa: F401 - how the items of a list field are read, kept importable here

PRACTICES_SHEET = "特色做法"
PRACTICE_COLUMNS = ["town", "year", "field", "text", "source"]
_YEAR = re.compile(r"^(?P<year>(19|20)\d{2})(年|年度)?$")
# a routine a town's text states (坚持每月开展“主题党日+政策宣讲”) that its own figures can check: the routine word and
# how many times a year it means; the work, the indicator that counts it and the profile field it is counted per
ROUTINES = {"每周": 52, "每月": 12, "每季度": 4}
ROUTINE_WORK = {"主题党日": ("theme_party_days", "party_branches")}


def parse_sheet(df: pd.DataFrame, sheet: str, col, cat: Catalog, known_towns, out: list,
                seen: dict) -> None:
    """Parse one 特色做法 sheet into ``out`` (tuples of PRACTICE_COLUMNS).

    ``col`` is the loader's problem collector for this file; ``seen`` maps (town, year) to where it was first
    given, across files, so the same town and year twice is an error naming both places.
    """
    h = find_header_row(df, "乡镇", anywhere=True)
    if h is None:
        col.add("error", sheet, "A1", None, "找不到表头行", "含有“乡镇”“年度”和特色做法各列的表头行")
        return
    fields = cat.practice_fields
    g = sheet_grid(df)
    if fields.empty:
        col.add("warning", sheet, None, None, "指标目录中没有定义特色做法的列，此工作表未读取",
                "在指标目录的 practice_fields 中定义各列")
        return
    by_name = {normalize_header(n): c for c, n in fields["name"].items()}
    expected = "特色做法表的列：乡镇、年度、" + "、".join(fields["name"])
    town_col = year_col = county_col = None
    columns: dict[int, str] = {}
    for j in range(df.shape[1]):
        head = cell_value(df, h, j)
        if head is None:
            if any(g[i][j] is not None for i in range(h + 1, len(df))):
                col.add("error", sheet, cell_name(h, j), None, "此列有内容但没有表头", expected)
            continue
        key = cell_text(head)
        if key == "乡镇":
            town_col = j
            continue
        if key == "县":
            county_col = j
            continue
        if key in {"年度", "年份"}:
            year_col = j
            continue
        code = by_name.get(normalize_header(head))
        if code is None:
            col.add("error", sheet, cell_name(h, j), head, "无法识别的表头", expected)
            continue
        claim_column(columns, j, code, col, sheet, h, head)
    if town_col is None or year_col is None:
        missing = "、".join(n for n, c in (("乡镇", town_col), ("年度", year_col)) if c is None)
        col.add("error", sheet, cell_name(h, 0), None, f"缺少“{missing}”列", expected)
        return
    merged = MergedCells(df, sheet, h, col)
    limits = {code: int(m) for code, m in fields["max"].items()}  # looked up once, not per cell
    kinds = fields["kind"].to_dict()
    names = fields["name"].to_dict()
    first = len(out)
    for i in range(h + 1, len(df)):
        if merged.covers(i, town_col):
            continue  # the merged range is the error
        town = town_name(g[i][town_col])
        texts = {code: g[i][j] for j, code in columns.items()}
        if not town:
            if any(v is not None for v in texts.values()):
                col.add("error", sheet, cell_name(i, town_col), None, "此行有内容但缺少乡镇名称", "乡镇名称")
            continue
        if town in col.exclude or (is_footer_label(town) and g[i][year_col] is None):
            continue  # a footer note (填表人：…), which has no year; a town named 注滋口镇 is a town
        if not col.owns(town, g[i][county_col] if county_col is not None else None, sheet,
                        cell_name(i, town_col if county_col is None else county_col)):
            continue  # another county's row (several counties in one sheet)
        if known_towns is not None and town not in known_towns:
            col.add("error", sheet, cell_name(i, town_col), town, "乡镇不在乡镇概况表中", "乡镇概况表中的乡镇名称", town)
            continue
        raw_year = g[i][year_col]
        m = _YEAR.match(cell_text(raw_year if not isinstance(raw_year, float) or not raw_year.is_integer()
                              else int(raw_year)))
        if not m:
            col.add("error", sheet, cell_name(i, year_col), raw_year, "年度无法识别", "四位数年份，如2025", town)
            continue
        year = int(m.group("year"))
        here = f"文件“{col.file}”工作表“{sheet}”第{i + 1}行"
        if (town, year) in seen:
            col.add("error", sheet, cell_name(i, town_col), town,
                    f"乡镇“{town}”{year}年的特色做法重复：{seen[(town, year)]}已填写", "每个乡镇每个年度只占一行", town)
            continue
        seen[(town, year)] = here
        kept = len(out)
        for j, code in columns.items():
            raw = texts[code]
            if raw is None:
                continue
            bad = text_problem(raw)
            if bad is not None:
                col.add("error", sheet, cell_name(i, j), raw, f"“{names[code]}”{bad.message}", bad.expected,
                        town)
                continue
            where = cell_name(i, j)
            cleaned = towntext.clean(raw, kinds[code], by_dunhao=code == "leading_industries")
            text = cleaned.text
            limit = limits[code]
            if len(text) > limit:
                col.add("error", sheet, where, text[:20] + "……", f"“{names[code]}”太长（{len(text)}字）",
                        f"不超过{limit}字", town)
                continue
            if cleaned.changes:
                shown = unicodedata.normalize("NFC", str(raw)).strip()
                edited = text.replace("\n", "；")
                edited = f"“{edited[:30]}{'……' if len(edited) > 30 else ''}”" if text else "留空（没有就不填，不写“无”）"
                col.add("notice", sheet, where, shown[:30] + ("……" if len(shown) > 30 else ""),
                        f"“{names[code]}”已整理后写入报告：{'；'.join(cleaned.changes)}",
                        f"{edited}（请在表中照此改正，下次不再提示）", town)
            if not text:
                continue
            out.append((town, year, code, text, f"{col.file}!{sheet}!{where}"))
        if len(out) == kept and any(v is not None for v in texts.values()):  # answered, and only 无 (a blank row
            # of the template is a town that has not filled it in yet)
            col.add("notice", sheet, cell_name(i, town_col), None,
                    f"{town}{year}年的特色做法各栏都没有填写（或只写了“无”），报告只能写数据，写不出本乡镇的做法、自查问题和"
                    "下一步打算", "本年的做法、自查问题和下一步打算", town)
    _same_as_last_year(out, first, col, sheet, fields, kinds)


def _same_as_last_year(out: list, first: int, col, sheet: str, fields: pd.DataFrame, kinds: dict) -> None:
    """One notice per town whose paragraphs of its latest year in this sheet (rows ``out[first:]``) repeat, word
    for word, its paragraphs of the same fields the year before: the report would say last year's text again.
    Earlier years are history (their reports are written); the notice names the first such cell and every field."""
    before = {(town, year, code): text for town, year, code, text, _ in out}
    field_names = fields["name"].to_dict()
    latest: dict[str, int] = {}
    for town, year, *_ in out[first:]:
        latest[town] = max(year, latest.get(town, year))
    repeated: dict[str, list[tuple[str, str]]] = {}
    for town, year, code, text, source in out[first:]:
        if year == latest[town] and kinds.get(code) == "paragraph" and before.get((town, year - 1, code)) == text:
            repeated.setdefault(town, []).append((code, source.rsplit("!", 1)[-1]))
    for town, cells in repeated.items():
        text = before[(town, latest[town], cells[0][0])]
        year = latest[town]
        names = [str(field_names[code]) for code, _ in cells]
        if all(n.endswith("特色做法") for n in names):  # “（一）（二）特色做法”
            names = ["".join(n.removesuffix("特色做法") for n in names) + "特色做法"]
        names = "、".join(f"“{n}”" for n in names)
        col.add("notice", sheet, cells[0][1], text[:20] + ("……" if len(text) > 20 else ""),
                f"{town}{year}年的{names}与{year - 1}年一字不差，报告会逐字重复上年的内容",
                f"{year}年的做法和成效（确实没有变化的，可以不改）", town)


def frame(rows: list) -> pd.DataFrame:
    """The practices table from parsed rows, sorted by town, year and field."""
    if not rows:
        return empty_practices()
    df = pd.DataFrame(rows, columns=PRACTICE_COLUMNS).astype({"year": "int64"})
    return df.sort_values(["town", "year", "field"], kind="stable").reset_index(drop=True)


_ROUTINE = re.compile("(" + "|".join(ROUTINES) + ")[^。；，\n]{0,8}(" + "|".join(ROUTINE_WORK) + ")")


def unborne_routine(text: str, figures: dict, sizes) -> tuple[str, str, float, float] | None:
    """The routine ``text`` states that the town's own figures cannot bear, as (routine word, the work, times done,
    units counted per), or None: 坚持每月开展“主题党日+政策宣讲” in a year of 107 主题党日 in 11 branches.
    ``figures`` maps an indicator code to the town's value that year, ``sizes`` its profile (党支部数)."""
    m = _ROUTINE.search(text)
    if m is None:
        return None
    routine, work = m.groups()
    code, per = ROUTINE_WORK[work]
    done = figures.get(code)
    units = sizes.get(per) if sizes is not None else None
    if done is None or pd.isna(done) or not units or pd.isna(units) or done / units >= ROUTINES[routine]:
        return None
    return routine, work, float(done), float(units)


def routine_claims(practices: pd.DataFrame, values: pd.DataFrame, profile: pd.DataFrame, cat: Catalog) -> list[Problem]:
    """请核实 where a town's own text states a routine its own figures cannot bear: 坚持每月开展“主题党日+政策宣讲” in a
    year of 107 主题党日 in 11 branches (9.7 each, not one a month). The report would print the town's words beside
    the figures that contradict them (and, where the target was missed, beside the problem in 二); the town corrects
    one or the other. Named by its cell, with the figures."""
    out: list[Problem] = []
    if practices.empty or values.empty:
        return out
    names = cat.practice_fields["name"].to_dict() if not cat.practice_fields.empty else {}
    counted = {code for code, _ in ROUTINE_WORK.values()}
    have = values[values["indicator"].isin(counted) & (values["status"] == "present")]
    figures: dict[tuple, dict] = {}
    for t, y, c, v in zip(have["town"], have["year"], have["indicator"], have["value"]):
        figures.setdefault((t, int(y)), {})[c] = v
    for r in practices.itertuples():
        sizes = profile.loc[r.town] if r.town in profile.index else None
        found = unborne_routine(r.text, figures.get((r.town, int(r.year)), {}), sizes)
        if found is None:
            continue
        routine, work, done, units = found
        code, per = ROUTINE_WORK[work]
        m = _ROUTINE.search(r.text)
        file, sheet, cell = r.source.split("!")
        shown = r.text if len(r.text) <= 30 else m.group(0)  # a short field whole (每月“主题党日+政策宣讲”)
        said = shown.replace("“", "‘").replace("”", "’")  # quoted inside the message's quotes
        per_name = cat.name(per) if per in cat.frame.index else per
        unit = cat[code]["unit"]
        out.append(Problem(
            "check", file, sheet, cell, shown,
            f"{r.town}{r.year}年的“{names.get(r.field, r.field)}”写“{said}”，但当年{cat.name(code)}{done:g}{unit}、"
            f"{per_name}{units:g}个，平均每个{per_name.removesuffix('数')}{done / units:.1f}{unit}，不到{routine}一次",
            f"与数据相符的说法，或核实{cat.name(code)}的次数", r.town, code))
    return out
