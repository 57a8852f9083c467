"""Parsing the 乡镇概况 sheet (the text and size figures of each town) and the 本县指标 sheet (a county's own
indicators)."""

from __future__ import annotations

import math
import zlib

from ..model.catalog import LOCAL_SENTENCE, Catalog, normalize_header
from .cells import CellError, cell_name, county_text, expected_text, parse_cell, shown_value, text_problem
from .sheets import (
    YEAR_SHEET, Collector, MergedCells, cell_text, cell_value, claim_column, earlier_headers, find_header_row,
    header_text, is_footer_label, is_number, is_total_label, town_name
)

PROFILE_SHEET = "乡镇概况"
#: The sheet where a county declares its own indicators (its industries: apple acreage, photovoltaic capacity …).
LOCAL_SHEET = "本县指标"
LOCAL_COLUMNS = {"名称": "name", "单位": "unit", "整数": "integer", "最小值": "min", "最大值": "max",
                 "报告写法": "phrase", "说明": "help"}


def parse_local_indicators(df, sheet, col: Collector, cat: Catalog, out: list[dict]) -> None:
    """The county's own indicators declared in the sheet 本县指标, one row each:

        名称 | 单位 | 整数（是/否，默认否） | 最小值 | 最大值 | 报告写法 | 说明

    appended to ``out`` as catalog entries (section （六）, more is better). 报告写法 is the clause the report writes,
    with ``x`` where the number goes (``种植苹果x``); without it the report writes ``苹果种植面积3200亩``. Every
    problem is an error naming its cell."""
    h = find_header_row(df, "名称", anywhere=True)
    if h is None:
        col.add("error", sheet, "A1", None, "找不到表头行", "含有“" + "”“".join(LOCAL_COLUMNS) + "”各列的表头行")
        return
    columns = {}
    for j in range(df.shape[1]):
        head = cell_text(cell_value(df, h, j))
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
            return cell_value(df, i, columns[key]) if key in columns else None

        name = cell_text(get("name"))
        if not name:
            continue
        where = cell_name(i, columns["name"])
        unit = cell_text(get("unit"))
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
        integer = cell_text(get("integer")) or "否"
        if integer not in {"是", "否"}:
            col.add("error", sheet, cell_name(i, columns["integer"]), integer, "“整数”填写不正确", "“是”或“否”")
            continue
        bounds = {}
        for key, default in (("min", 0.0), ("max", float("inf"))):
            raw = get(key)
            if raw is None or cell_text(raw) == "":
                bounds[key] = default
            elif is_number(raw):
                bounds[key] = float(raw)
            else:
                col.add("error", sheet, cell_name(i, columns[key]), raw, f"“{name}”的{'最小值' if key == 'min' else '最大值'}不是数字", "数字或留空")
                bounds = {}
                break
        if not bounds:
            continue
        phrase = cell_text(get("phrase")).replace("ｘ", "x")
        if phrase and phrase.count("x") != 1:
            col.add("error", sheet, cell_name(i, columns["phrase"]), phrase, "“报告写法”中要有一个x表示数字的位置",
                    "如“种植苹果x”（报告写作“种植苹果3200亩”）")
            continue
        out.append({"code": f"local_{zlib.crc32(name.encode('utf-8')):08x}", "name": name, "unit": unit,
                    "section": "s6", "integer": integer == "是", "polarity": 1, **bounds,
                    "phrase": (phrase.replace("x", "{}") if phrase else f"{name}{{}}") + "{chg}",
                    "sentence": LOCAL_SENTENCE, "help": cell_text(get("help")) or f"本县自定的指标（{sheet}表）"})


# --------------------------------------------------------------------------------------------- profile
def parse_profile(df, sheet, col: Collector, cat: Catalog, profiles: dict, origin: dict):
    h = find_header_row(df, "乡镇", anywhere=True)
    if h is None:
        col.add("error", sheet, "A1", None, "找不到表头行", "含有“乡镇”列的表头行")
        return
    fields = cat.profile_fields
    by_name = {normalize_header(n): c for c, n in fields["name"].items()}
    columns: dict[int, str] = {}
    earlier: list[tuple[str, object, str]] = []
    for j in range(df.shape[1]):
        head = cell_value(df, h, j)
        if head is None:
            if any(cell_value(df, i, j) is not None for i in range(h + 1, len(df))):
                col.add("error", sheet, cell_name(h, j), None, "此列有数据但没有表头", "乡镇概况表的列名")
            continue
        code = by_name.get(normalize_header(head))
        if code is None:
            found = cat.read_header(header_text(head))
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
    earlier_headers(earlier, sheet, col, cat)
    for code, row in fields.iterrows():
        if row.get("required") and code not in columns.values():
            col.add("error", sheet, cell_name(h, 0), None, f"缺少“{row['name']}”列", f"表头含“{row['name']}”")
    if "town" not in columns.values():
        return
    town_col = next(j for j, c in columns.items() if c == "town")
    county_col = next((j for j, c in columns.items() if c == "county"), None)
    merged = MergedCells(df, sheet, h, col)
    repeated = {j for j, c in columns.items() if c in {"county", "province"}}  # the same text on every row
    inds = {code: cat[code].to_dict() for code in columns.values() if code not in fields.index}
    label = fields["name"].to_dict()
    required = fields["required"].to_dict()
    choice = fields["choices"].to_dict() if "choices" in fields.columns else {}
    for i in range(h + 1, len(df)):
        if merged.covers(i, town_col):
            continue  # the merged range is the error
        raw_town = cell_value(df, i, town_col)
        town = town_name(raw_town)
        numbers = any(is_number(cell_value(df, i, j)) for j in columns)
        if not town:
            filled = [j for j in range(df.shape[1]) if cell_value(df, i, j) is not None and not merged.covers(i, j)]
            if not filled or set(filled) <= repeated:
                continue
            if is_footer_label(cell_value(df, i, filled[0])) and not numbers:
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
            county = county_text(cell_value(df, i, county_col)) if county_col is not None else ""
            if (county != col.view.county) if county else not col.view.first:
                continue
        record = {"source": f"{col.file}!{sheet}!{cell_name(i, town_col)}"}
        for j, code in columns.items():
            raw = cell_value(df, i, j)
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
                    text = county_text(raw)
                choices = choice.get(code)
                if not text and merged.covers(i, j):
                    pass  # the merged range is the error
                elif not text and required[code]:
                    col.add("error", sheet, where, None, f"“{label[code]}”不能为空", "填写内容", town)
                elif text and isinstance(choices, list) and text not in choices:
                    col.add("error", sheet, where, text, f"“{label[code]}”填写不正确", "“" + "”或“".join(choices) + "”", town)
                elif text and code == "county_congress_year":
                    m = YEAR_SHEET.match(cell_text(shown_value(raw)))
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
            col.add("warning", sheet, cell_name(i, town_col), f"党支部{shown_value(br)}个、行政村{shown_value(vil)}个",
                    "党支部数少于行政村数，请核实", "党支部数不少于行政村数", town)
