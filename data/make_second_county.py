"""A second county, unlike the bundled sample, for tests and benchmarks: ``build(folder)`` writes its workbooks.

    python data/make_second_county.py [FOLDER]      # default: a temporary folder, printed

石岭县 (invented) is an apple, herb and labour county of nine towns with data for 2024 and 2025 only. None of its
towns grows 高原夏菜 or has herders, only three have a scenic area; it has real collapses (a tourism income that
halves, 办实事 down a third), a tie at the top, a town whose key-project investment grew sixfold. Its towns type
their 特色做法 the way real offices do: terse; long; 一是…二是; half-width commas and full-width spaces; numbered
problems on one line; a cell ending in 。 where the report adds its own; a town that writes 无 / 暂无 everywhere.
It declares its own indicators (apple and herb acreage, photovoltaic capacity) in a sheet 本县指标. Nothing here
is tuned to the report: it is the county the reviewer reads.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
from openpyxl import Workbook

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))

from zhidang_analysis.model.catalog import load_catalog  # noqa: E402

COUNTY = "石岭县"
PROVINCE = "甘肃"
YEARS = [2024, 2025]
SEED = 20261204

# town, kind, villages, population, members per 100 people, scenic brand (or ""), growth 2024→2025
TOWNS = [
    ("石岭镇", "镇", 12, 38500, 3.4, "石岭古镇·陇上人家", 0.04),
    ("塬上镇", "镇", 15, 31200, 2.9, "", 0.06),
    ("北川乡", "乡", 9, 14300, 2.7, "", -0.03),
    ("龙泉镇", "镇", 10, 22800, 3.1, "龙泉温汤·康养小镇", -0.12),
    ("杏树乡", "乡", 7, 9600, 2.6, "", -0.08),
    ("东峪乡", "乡", 8, 11800, 2.8, "", 0.09),
    ("高庙镇", "镇", 11, 24100, 3.0, "", 0.02),
    ("南沟乡", "乡", 6, 7300, 2.5, "", 0.00),
    ("柏林镇", "镇", 13, 27400, 3.2, "柏林秋色·塬边牧场", 0.05),
]
PER_VILLAGE = {
    "home_study_members": 2.4, "home_study_visits": 7.0, "theme_party_days": 13.0, "pledges_signed": 48.0,
    "screening_problems": 1.0, "unity_model_families": 1.1, "good_daughters_in_law": 0.7, "good_mothers_in_law": 0.5,
    "model_families": 0.9, "supervised_cadres": 2.0, "integrity_meeting_attendance": 10.0, "secretary_talks": 3.6,
    "livestock_stock": 0.12, "publicity_reports": 3.0, "homestays": 1.5, "tourists": 0.9, "tourism_income": 520.0,
    "key_project_investment": 80.0, "key_projects": 0.45, "skills_contests": 0.5, "care_actions": 2.6,
    "left_behind_elderly": 11.0, "left_behind_children": 7.0, "hardship_households": 2.5, "disputes_resolved": 3.5,
    "practical_deeds": 4.5, "urgent_problems_solved": 3.0, "sheds_demolished": 4.0, "walls_removed": 180.0,
    "garbage_cleared": 22.0,
}
TOURISM = {"homestays", "tourists", "tourism_income", "publicity_reports"}
NOT_HERE = {"summer_veg_area", "rotation_demo_sites", "bilingual_lectures"}  # no 高原夏菜, no herders
DECIMALS = {"livestock_stock": 2, "tourists": 1, "tourism_income": 1, "key_project_investment": 1}
TARGET_CODES = ["theme_party_days", "new_members", "warning_sessions", "practical_deeds", "tourism_income"]
# the county's own indicators (sheet 本县指标): name, unit, 报告写法, and each town's (2024, 2025) values
LOCAL = [
    ("苹果种植面积", "亩", "种植苹果x", {"塬上镇": (18600, 19850), "石岭镇": (6200, 6350), "龙泉镇": (3100, 3050),
                                      "高庙镇": (900, 1400)}),
    ("中药材种植面积", "亩", "种植中药材x", {"北川乡": (7400, 8800), "石岭镇": (2100, 2300),
                                                 "杏树乡": (600, 580)}),
    ("光伏装机容量", "千瓦", "村级光伏电站装机容量达x", {"东峪乡": (1200, 5600)}),
]

PRACTICES = {
    "石岭镇": {  # long, 一是…二是 paragraphs, its own problems and plans
        "study_carrier": "“石岭讲堂”", "study_routine": "每周一晚集中学习",
        "workstyle_mechanism": "“一线工作法”",
        "workstyle_rules": "首问负责、限时办结",
        "s2_practice": "一是推行“支部+协会”模式，在苹果、中药材两个产业协会中建立党小组5个，把党员示范户编入协会骨干。二是开展“亮身份、作承诺、当先锋”活动，全镇党员挂牌亮户，主动认领村级公益岗位。",
        "s4_practice": "镇党委把压实责任落在清单上，班子成员每季度到包抓村讲一次廉政党课，镇纪委对村级“三资”管理开展专项检查，发现并整改问题。",
        "own_problems": "一是部分村党组织书记年龄偏大，后备力量储备不足；二是“石岭讲堂”进村入户还不够，偏远村覆盖不均衡；三是村级集体经济增收渠道单一，对产业项目依赖较大。",
        "own_plans": "一是实施村级后备力量“递进培养”计划，每村储备后备干部2名以上。\n二是把“石岭讲堂”办到村组和田间地头，每季度每村至少开讲一次。\n三是盘活村集体闲置资产，探索入股分红、物业租赁等增收路子。",
        "leading_industries": "苹果、中药材、劳务",
    },
    "塬上镇": {  # terse
        "study_carrier": "“塬上夜校”",
        "key_project_kinds": "苹果冷链库",
        "leading_industries": "苹果",
        "own_problems": "苹果销售渠道单一",
    },
    "北川乡": {  # herbs; half-width punctuation, full-width spaces, trailing 。 in a phrase
        "study_routine": "每月“主题党日+政策宣讲”。",
        "workstyle_rules": "考勤制度,值班制度",
        "s6_practice": "依托中药材种植基地,推行“党支部+合作社+农户”模式，　　统一供种、统一技术、统一收购,带动农户种植党参、黄芪。。",
        "own_problems": "中药材价格波动大,农户抗风险能力弱；\n合作社规范化程度不高",
        "leading_industries": "中药材,劳务",
    },
    "龙泉镇": {  # tourism; its income halved
        "study_carrier": "“温汤书屋”",
        "inspection_method": "“清单对照、逐项打分”",
        "s5_practice": "采取“清单对照、逐项打分”的办法，对全镇10个村的“三资”管理、惠民资金发放逐项检查，检查结果在村务公开栏公示。",
        "own_problems": "1.温泉康养项目运营不佳，游客明显减少 2.部分干部抓发展的办法不多 3.村级财务管理还不够规范",
        "leading_industries": "康养旅游、苹果",
    },
    "杏树乡": {  # labour export; 办实事 fell by a third
        "workstyle_mechanism": "周例会制度",
        "own_problems": "外出务工党员多，组织生活难以正常开展",
        "own_plans": "建立流动党员微信群，每季度组织一次线上组织生活",
        "leading_industries": "劳务输出、杏子",
    },
    "东峪乡": {  # photovoltaic; numbered items on one line with ① ②
        "study_carrier": "“光伏课堂”",
        "key_project_kinds": "村级光伏电站、产业路",
        "own_problems": "①光伏收益分配制度还不够完善②部分党员参加学习不经常③产业路建设进度偏慢",
        "leading_industries": "光伏、养殖",
    },
    "高庙镇": {  # odd punctuation everywhere
        "study_carrier": "“庙前学习角”", "workstyle_mechanism": "“周调度 月通报”机制",
        "s1_practice": "在镇村两级设立学习角12个 , 每月开展一次“书记讲党课”活动 ;组织党员到会宁红军会师旧址接受教育.",
        "own_problems": "学习角利用率不高;部分村“三会一课”记录不规范;",
        "leading_industries": "肉牛养殖、小杂粮",
    },
    "南沟乡": {  # an office that writes 无 everywhere
        "study_carrier": "无", "workstyle_rules": "暂无", "s3_practice": "无。", "own_problems": "没有",
        "leading_industries": "—",
    },
    "柏林镇": {  # cattle and autumn tourism; own problems in 一是 form, own plans for two of three
        "study_carrier": "“柏林党校”", "duty_check_method": "随机抽查、电话点名",
        "s6_practice": "围绕“柏林秋色·塬边牧场”品牌，镇党委牵头组建肉牛养殖合作社3个，党员养殖大户结对带动农户86户，推行统一防疫、统一饲草、统一销售。",
        "own_problems": "一是肉牛养殖规模化程度不高。二是秋季旅游季节性强，淡季游客少。三是部分党员带头作用不明显。",
        "own_plans": "一是新建标准化养殖小区2个，引导散养户入园养殖。\n二是开发冬春季节农事体验项目，延长旅游季。",
        "leading_industries": "肉牛养殖、乡村旅游",
    },
}


# what towns named the year before (2024): their 特色做法 above, with these problems instead of 2025's
PROBLEMS_2024 = {
    "石岭镇": "一是村级活动场所利用率不高；二是流动党员管理还有盲区",
    "塬上镇": "苹果储藏能力不足",
    "北川乡": "党员队伍老化,35岁以下党员少",
    "龙泉镇": "1.温泉项目配套设施不完善 2.村干部学历偏低",
    "东峪乡": "①光伏电站运维管理不规范②村级财务公开不及时",
    "高庙镇": "“三会一课”记录不规范;肉牛养殖防疫能力弱",
    "柏林镇": "一是党员带富能力不强。二是乡村旅游起步晚。",
}


def generate():
    """(values, profile, targets): values[(town, year)][code] = number or '—'."""
    rng = np.random.default_rng(SEED)
    cat = load_catalog()
    values, profile, targets = {}, [], {}
    for town, kind, vil, pop, per100, brand, growth in TOWNS:
        members = int(round(pop * per100 / 100))
        branches = vil + int(rng.integers(1, 5))
        profile.append({"县": COUNTY, "乡镇": town, "乡镇类别": kind, "省份": PROVINCE, "分散居住村": None,
                        "文旅品牌": brand or None, "县党代会届次": 16, "县党代会召开年度": 2021, "行政村数": vil,
                        "户籍人口": pop, "党员人数": members, "党支部数": branches})
        level = {code: base * vil * rng.uniform(0.75, 1.3) for code, base in PER_VILLAGE.items()}
        investment = vil * rng.uniform(40, 110)  # a town's own level: amounts move with it, not at random
        for k, year in enumerate(YEARS):
            g = (1 + growth) ** k
            row: dict[str, object] = {}
            for code in PER_VILLAGE:
                v = level[code] * g * rng.uniform(0.96, 1.04)
                row[code] = round(v, DECIMALS[code]) if code in DECIMALS else int(round(v))
            row["hardship_persons"] = int(round(row["hardship_households"] * rng.uniform(2.0, 2.6)))
            row["pledges_signed"] = min(row["pledges_signed"], int(members * 0.95))
            row["home_study_members"] = min(row["home_study_members"], int(members * 0.2))
            row["new_members"] = int(np.clip(round(members * 0.02 * g * rng.uniform(0.9, 1.1)), 5, 30))
            row["activists_trained"] = int(round(row["new_members"] * rng.uniform(1.5, 2.1)))
            row["five_star_branches"] = int(min(branches, round(branches * 0.25 * g)))
            row["yijiantiao_villages"] = vil if town != "杏树乡" else vil - 1
            row["weak_org_villages"] = int(rng.integers(0, 3))
            row["screening_aspects"] = min(int(rng.integers(3, 7)), row["screening_problems"])
            row["monitor_directors_talked"] = vil
            row["discipline_secretary_talks"] = int(rng.integers(2, 5))
            row["warning_sessions"] = int(round(vil * 0.6 * g * rng.uniform(0.9, 1.1))) + 2
            row["warning_attendance"] = int(row["warning_sessions"] * rng.integers(20, 40))
            row["micro_power_checkpoints"] = int(rng.integers(6, 18))
            row["income_per_household"] = round(rng.uniform(0.5, 0.9) * g, 2)
            row["livestock_insured"] = round(row["livestock_stock"] * rng.uniform(0.5, 0.75), 2)
            row["new_parks"] = int(rng.integers(0, 2))
            row["beautiful_village_investment"] = round(investment * g * rng.uniform(0.95, 1.05), 1)
            row["provincial_demo_villages"] = int(rng.integers(0, 2))
            row["county_demo_villages"] = int(rng.integers(1, 3))
            for code in NOT_HERE:
                row[code] = "—"
            if not brand:
                for code in TOURISM:
                    row[code] = "—"
            for code in list(row):
                if not cat.applies(code, year):
                    del row[code]
            values[(town, year)] = row
    # what happened in 2025, town by town
    v24, v25 = values[("龙泉镇", 2024)], values[("龙泉镇", 2025)]
    v25["tourism_income"] = round(v24["tourism_income"] * 0.48, 1)        # the spa closed half the year
    v25["tourists"] = round(v24["tourists"] * 0.55, 1)
    v24, v25 = values[("杏树乡", 2024)], values[("杏树乡", 2025)]
    v25["practical_deeds"] = int(round(v24["practical_deeds"] * 0.66))   # 办实事 down a third
    v24, v25 = values[("东峪乡", 2024)], values[("东峪乡", 2025)]
    v25["key_project_investment"] = round(v24["key_project_investment"] * 6.7, 1)  # the photovoltaic plant
    v25["key_projects"] = v24["key_projects"] + 3
    # a tie at the top: 石岭镇 and 柏林镇 hold the same theme party days per village
    values[("石岭镇", 2025)]["theme_party_days"] = 12 * 19
    values[("柏林镇", 2025)]["theme_party_days"] = 13 * 19
    for town, *_ in TOWNS:
        t = {}
        for code in TARGET_CODES:
            prev = values[(town, 2024)].get(code)
            if isinstance(prev, (int, float)):
                t[code] = round(prev * 1.05, 1) if not cat.frame.at[code, "integer"] else int(round(prev * 1.05))
        targets[town] = t
    return values, profile, targets


def build(folder: str | Path) -> Path:
    """Write the county's four workbooks into ``folder`` (created) and return it."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    cat = load_catalog()
    values, profile, targets = generate()

    wb = Workbook()
    ws = wb.active
    ws.title = "本县指标"
    ws.append(["名称", "单位", "整数", "最小值", "最大值", "报告写法", "说明"])
    for name, unit, phrase, _ in LOCAL:
        ws.append([name, unit, "否", 0, None, phrase, f"本县{name}"])
    for year in YEARS:
        codes = cat.applicable(year)
        ws = wb.create_sheet(f"{year}年")
        ws.append([f"{COUNTY}{year}年度乡镇党委履行全面从严治党主体责任指标"])
        ws.append(["乡镇"] + [cat.label(c) for c in codes] + [f"{name}（{unit}）" for name, unit, *_ in LOCAL])
        k = YEARS.index(year)
        for town, *_ in TOWNS:
            local = [by_town[town][k] if town in by_town else "—" for *_, by_town in LOCAL]
            ws.append([town] + [values[(town, year)].get(c) for c in codes] + local)
    wb.save(folder / f"{COUNTY}指标数据.xlsx")

    wb = Workbook()
    ws = wb.active
    ws.title = "乡镇概况"
    heads = list(profile[0])
    ws.append(heads)
    for rec in profile:
        ws.append([rec[h] for h in heads])
    wb.save(folder / "乡镇概况.xlsx")

    wb = Workbook()
    ws = wb.active
    ws.title = "2025"
    ws.append(["乡镇"] + [cat.label(c) for c in TARGET_CODES])
    for town, *_ in TOWNS:
        ws.append([town] + [targets[town].get(c) for c in TARGET_CODES])
    wb.save(folder / f"{COUNTY}目标任务.xlsx")

    wb = Workbook()
    ws = wb.active
    ws.title = "特色做法"
    fields = cat.practice_fields
    ws.append(["乡镇", "年度"] + list(fields["name"]))
    for town, *_ in TOWNS:
        for year in YEARS:
            own = PRACTICES.get(town, {})
            # the year before: the same practices, that year's problems, no plans written down
            rec = dict(own) if year == 2025 else {k: v for k, v in own.items() if k not in {"own_problems", "own_plans"}}
            if year == 2024 and town in PROBLEMS_2024:
                rec["own_problems"] = PROBLEMS_2024[town]
            ws.append([town, year] + [rec.get(code) for code in fields.index])
    wb.save(folder / "特色做法.xlsx")
    return folder


if __name__ == "__main__":
    out = build(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="shiling-"))
    print(f"已生成石岭县数据：{out}")
