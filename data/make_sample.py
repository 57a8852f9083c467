"""Generate the bundled synthetic sample under ``data/sample/`` (deterministic: fixed seed).

    python data/make_sample.py            # or: make sample

Writes three workbooks in the layout users fill (the loaders read exactly this):
  示范县指标数据.xlsx   one sheet per year 2020–2025 (title row, header with units, one row per town, 合计 row)
  乡镇概况.xlsx         the town profile (text for the report's XX places, size figures)
  目标任务.xlsx         yearly targets for a few key indicators (two towns have none)
  特色做法.xlsx         each town's own named practices per year (sheet 特色做法), from sample_practices.yaml

All names and numbers are invented. A few cells are approximate (``30余``), two are blank (missing),
two towns without a scenic area report tourism as ``—`` (not applicable).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import yaml
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))

from zhidang_analysis.model.catalog import load_catalog  # noqa: E402

OUT = ROOT / "sample"
SEED = 20251127
YEARS = list(range(2020, 2026))
COUNTY = "示范县"
PROVINCE = "甘肃"

# town, kind, villages, population, trend (yearly growth of activity), has scenic area, herding villages, brand
TOWNS = [
    ("城关镇", "镇", 14, 41000, 0.03, True, "", "古城新韵·城关人家"),
    ("青石镇", "镇", 11, 23500, 0.09, True, "石峡村、青岭村", "青石古道·峡谷人家"),
    ("河湾镇", "镇", 9, 18200, 0.02, False, "", ""),
    ("柳林镇", "镇", 12, 26800, -0.06, False, "", ""),
    ("金川镇", "镇", 10, 21000, 0.01, True, "金沙村", "金川湿地·候鸟之乡"),
    ("红崖镇", "镇", 8, 15600, 0.08, True, "红崖村、大滩村", "红崖丹霞·心醉牧场"),
    ("松山乡", "乡", 7, 9800, 0.02, True, "松林村、上寨村", "风驰花海草原·心醉松山"),
    ("石门乡", "乡", 6, 8400, -0.07, True, "石门村", "石门云海·牧歌石门"),
    ("花海乡", "乡", 9, 12100, 0.10, True, "花海村、野牛沟村", "花海草原·十里画廊"),
    ("马营镇", "镇", 13, 29700, 0.00, True, "", "马营古堡·边塞风情"),
    ("白杨乡", "乡", 6, 7900, -0.04, True, "白杨村", "白杨林海·乡村慢游"),
    ("天堂镇", "镇", 10, 19400, 0.05, True, "天堂村、朱岔村", "天堂秘境·藏乡风情"),
    ("东坪乡", "乡", 8, 10500, 0.04, True, "东坪村", "东坪梯田·四季花乡"),
    ("西滩镇", "镇", 11, 22300, 0.02, True, "", "西滩草原·马背人家"),
]

# code: (base per village in 2020, decimals) for counts scaled by size; others handled below
PER_VILLAGE = {
    "home_study_members": (3.0, 0), "home_study_visits": (9.0, 0), "bilingual_lectures": (2.0, 0),
    "theme_party_days": (12.0, 0), "epidemic_members": (7.0, 0), "disinfection_households": (210.0, 0),
    "nat_person_times": (2600.0, 0), "pledges_signed": (55.0, 0), "screening_problems": (1.2, 0),
    "unity_model_families": (1.5, 0), "good_daughters_in_law": (0.8, 0), "good_mothers_in_law": (0.6, 0),
    "model_families": (1.0, 0), "supervised_cadres": (2.2, 0), "integrity_meeting_attendance": (11.0, 0),
    "secretary_talks": (4.0, 0), "summer_veg_area": (520.0, 0), "livestock_stock": (0.22, 2),
    "publicity_reports": (4.0, 0), "homestays": (2.0, 0), "tourists": (1.1, 1), "tourism_income": (650.0, 1),
    "key_project_investment": (95.0, 1), "key_projects": (0.5, 0), "skills_contests": (0.6, 0),
    "care_actions": (3.0, 0), "left_behind_elderly": (9.0, 0), "left_behind_children": (6.0, 0),
    "hardship_households": (3.0, 0), "disputes_resolved": (4.0, 0), "practical_deeds": (5.0, 0),
    "urgent_problems_solved": (3.5, 0), "sheds_demolished": (6.0, 0), "walls_removed": (260.0, 0),
    "garbage_cleared": (28.0, 0),
}
TOURISM = {"homestays", "tourists", "tourism_income", "publicity_reports"}
# Cells written as approximate text ("30余"): (town, year, code)
APPROX = [
    ("城关镇", 2021, "home_study_visits"), ("青石镇", 2021, "epidemic_members"),
    ("河湾镇", 2022, "pledges_signed"), ("柳林镇", 2023, "integrity_meeting_attendance"),
    ("花海乡", 2025, "publicity_reports"), ("马营镇", 2025, "sheds_demolished"),
    ("天堂镇", 2024, "garbage_cleared"), ("松山乡", 2025, "home_study_visits"),
]
# Cells left blank (missing)
MISSING = [("河湾镇", 2025, "bilingual_lectures"), ("石门乡", 2022, "care_actions")]
NO_TARGETS = {"河湾镇", "西滩镇"}
# targets are set for indicators where more is better (disputes resolved are not a target: fewer disputes is good)
TARGET_CODES = ["theme_party_days", "new_members", "warning_sessions", "practical_deeds", "tourism_income"]


def generate():
    """Return (values, profile): values[(town, year)][code] = number (or '—' for not applicable)."""
    rng = np.random.default_rng(SEED)
    cat = load_catalog()
    values: dict[tuple[str, int], dict[str, object]] = {}
    profile = []
    for town, kind, vil, pop, trend, scenic, herding, brand in TOWNS:
        members = int(round(pop * rng.uniform(0.026, 0.038)))
        branches = vil + int(rng.integers(2, 7))
        profile.append({"县": COUNTY, "乡镇": town, "乡镇类别": kind, "省份": PROVINCE, "分散居住村": herding,
                        "文旅品牌": brand, "县党代会届次": 15, "县党代会召开年度": 2021, "行政村数": vil, "户籍人口": pop,
                        "党员人数": members, "党支部数": branches,
                        # the seed town writes as the seed report did: the model wording is its own style
                        "行文用语": "范本" if town == "天堂镇" else ""})
        level = {code: base * vil * rng.uniform(0.8, 1.25) for code, (base, _) in PER_VILLAGE.items()}
        new_base = float(np.clip(members * rng.uniform(0.017, 0.024), 9, 26))
        five_star_share = rng.uniform(0.15, 0.35)
        # amounts evolve smoothly too: a town's own level, its trend and ±5% noise
        income_base = rng.uniform(0.4, 0.8)
        insured_share = rng.uniform(0.55, 0.8)
        investment_base = vil * rng.uniform(60, 140)
        for k, year in enumerate(YEARS):
            growth = (1 + trend) ** k
            row: dict[str, object] = {}
            for code, (_, dec) in PER_VILLAGE.items():
                v = level[code] * growth * rng.uniform(0.95, 1.05)
                row[code] = round(v, dec) if dec else int(round(v))
            row["hardship_persons"] = int(round(row["hardship_households"] * rng.uniform(2.1, 2.8)))
            # pledges are signed by Party members, one each: at most as many as the town has
            row["pledges_signed"] = min(row["pledges_signed"], int(members * 0.97))
            row["new_members"] = int(np.clip(round(new_base * growth * rng.uniform(0.9, 1.1)), 8, 30))
            row["activists_trained"] = int(round(row["new_members"] * rng.uniform(1.5, 2.2)))
            row["five_star_branches"] = int(min(branches, round(branches * min(0.9, five_star_share * growth))))
            row["yijiantiao_villages"] = vil if (year >= 2021 or town not in {"柳林镇", "石门乡"}) else vil - 2
            row["weak_org_villages"] = int(rng.integers(1, 4))
            # the problems found fall into at most as many 方面 as there are problems
            row["screening_aspects"] = min(int(rng.integers(4, 8)), row["screening_problems"])
            row["monitor_directors_talked"] = vil
            row["discipline_secretary_talks"] = int(rng.integers(2, 5))
            row["warning_sessions"] = int(round(vil * 0.7 * growth * rng.uniform(0.9, 1.1))) + 2
            row["warning_attendance"] = int(row["warning_sessions"] * rng.integers(25, 45))
            row["micro_power_checkpoints"] = int(rng.integers(8, 16))
            row["rotation_demo_sites"] = max(1, int(round(vil / 4 * growth)))
            row["income_per_household"] = round(income_base * growth * rng.uniform(0.95, 1.05), 2)
            row["livestock_insured"] = round(row["livestock_stock"] * insured_share * rng.uniform(0.97, 1.03), 2)
            row["new_parks"] = int(rng.integers(0, 3))
            row["beautiful_village_investment"] = round(investment_base * growth * rng.uniform(0.9, 1.1), 1)
            row["provincial_demo_villages"] = int(rng.integers(0, 2)) + (1 if trend > 0.05 else 0)
            row["county_demo_villages"] = int(rng.integers(1, 4))
            # epidemic control 2020–2022
            row["epidemic_teams"] = max(1, vil // 2 + int(rng.integers(0, 3)))
            row["disinfection_rounds"] = int(rng.integers(6, 20))
            row["nat_rounds"] = int(rng.integers(2, 7))
            for code in list(row):
                if not cat.applies(code, year):
                    del row[code]
            if not scenic:
                for code in TOURISM & set(row):
                    row[code] = "—"
            values[(town, year)] = row
    for town, year, code in APPROX:
        v = values[(town, year)][code]
        values[(town, year)][code] = f"{int(v) // 10 * 10}余"
    for town, year, code in MISSING:
        values[(town, year)][code] = None
    return values, profile


def _title(ws, text, width):
    ws.cell(row=1, column=1, value=text).font = Font(bold=True, size=14)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    ws.cell(row=1, column=1).alignment = Alignment(horizontal="center")


def write_values(values, path: Path):
    cat = load_catalog()
    wb = Workbook()
    wb.remove(wb.active)
    for year in YEARS:
        codes = cat.applicable(year)
        # two sheet-name styles and two header styles occur in real workbooks; the sample has both
        ws = wb.create_sheet(f"{year}年" if year % 2 else str(year))
        _title(ws, f"{COUNTY}{year}年度乡镇履行全面从严治党主体责任指标统计表", len(codes) + 1)
        header_row = 3 if year == 2024 else 2  # 2024 has an empty row between title and header
        heads = ["乡镇"] + [cat.label(c) if year >= 2022 else cat.name(c) for c in codes]
        for j, h in enumerate(heads, start=1):
            ws.cell(row=header_row, column=j, value=h)
        r = header_row
        for town, *_ in TOWNS:
            r += 1
            ws.cell(row=r, column=1, value=town)
            for j, code in enumerate(codes, start=2):
                ws.cell(row=r, column=j, value=values[(town, year)].get(code))
        r += 1
        ws.cell(row=r, column=1, value="合计")
        for j, code in enumerate(codes, start=2):
            if not cat.frame.at[code, "additive"]:
                continue
            nums = [_number(values[(t, year)].get(code)) for t, *_ in TOWNS]
            nums = [n for n in nums if n is not None]
            total = sum(nums)
            ws.cell(row=r, column=j, value=round(total, 2) if not cat.frame.at[code, "integer"] else int(total))
        ws.cell(row=r + 2, column=1, value="填表人：示范县委组织部（示例数据，纯属虚构）")
        ws.freeze_panes = ws.cell(row=header_row + 1, column=2)
    wb.save(path)


def _number(v):
    if v is None or v == "—":
        return None
    if isinstance(v, str):
        return float(v.rstrip("余多"))
    return v


def write_profile(profile, path: Path):
    wb = Workbook()
    ws = wb.active
    ws.title = "乡镇概况"
    heads = list(profile[0])
    for j, h in enumerate(heads, start=1):
        ws.cell(row=1, column=j, value=h)
    for i, rec in enumerate(profile, start=2):
        for j, h in enumerate(heads, start=1):
            ws.cell(row=i, column=j, value=rec[h] if rec[h] != "" else None)
    wb.save(path)


def write_targets(values, path: Path):
    cat = load_catalog()
    wb = Workbook()
    wb.remove(wb.active)
    for year in YEARS[3:]:
        ws = wb.create_sheet(str(year))
        codes = [c for c in TARGET_CODES if cat.applies(c, year)]
        _title(ws, f"{COUNTY}{year}年度目标任务", len(codes) + 1)
        for j, h in enumerate(["乡镇"] + [cat.label(c) for c in codes], start=1):
            ws.cell(row=2, column=j, value=h)
        r = 2
        for town, *_ in TOWNS:
            if town in NO_TARGETS:
                continue
            r += 1
            ws.cell(row=r, column=1, value=town)
            for j, code in enumerate(codes, start=2):
                prev = _number(values[(town, year - 1)].get(code))
                if prev is None:
                    continue
                target = prev * 1.06
                ws.cell(row=r, column=j, value=round(target, 1) if not cat.frame.at[code, "integer"] else int(round(target)))
    wb.save(path)


def practices() -> list[dict[str, str]]:
    """One record per town and year from ``sample_practices.yaml`` (``all`` plus that year's own entries,
    which replace a field of ``all``). 天堂镇 holds the seed report's own practices; 河湾镇 gave none."""
    raw = yaml.safe_load((ROOT / "sample_practices.yaml").read_text(encoding="utf-8")) or {}
    cat = load_catalog()
    records = []
    for town, *_ in TOWNS:
        spec = raw.get(town) or {}
        for year in YEARS:
            fields = {**(spec.get("all") or {}), **(spec.get(year) or {})}
            if not fields:
                continue
            rec = {"乡镇": town, "年度": year}
            for code, text in fields.items():
                name = cat.practice_fields.at[code, "name"]
                rec[name] = "\n".join(text) if isinstance(text, list) else str(text)
            records.append(rec)
    return records


def write_practices(records, path: Path):
    cat = load_catalog()
    wb = Workbook()
    ws = wb.active
    ws.title = "特色做法"
    heads = ["乡镇", "年度"] + list(cat.practice_fields["name"])
    for j, h in enumerate(heads, start=1):
        ws.cell(row=1, column=j, value=h)
    for i, rec in enumerate(records, start=2):
        for j, h in enumerate(heads, start=1):
            cell = ws.cell(row=i, column=j, value=rec.get(h))
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    wb.save(path)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    values, profile = generate()
    write_values(values, OUT / "示范县指标数据.xlsx")
    write_profile(profile, OUT / "乡镇概况.xlsx")
    write_targets(values, OUT / "目标任务.xlsx")
    write_practices(practices(), OUT / "特色做法.xlsx")
    print(f"已生成示范数据：{OUT}")


if __name__ == "__main__":
    main()
