"""Cross-field rules (data/rules.yaml, zhidang_analysis.crosscheck) as ``zhidang validate`` applies them.

Every workbook is written here (see conftest): ``rows[i][j]`` is Excel cell ``<column j+1><row i+1>``.
The profile of conftest has the header 县 乡镇 乡镇类别 省份 分散居住村 文旅品牌 县党代会届次 行政村数 户籍人口
党员人数 党支部数 (columns A–K), towns on rows 2–4: 甲镇 10 villages (H2), 12 branches (K2); 乙乡 6 (H3),
8 (K3); 丙镇 8 (H4), 9 (K4). Expected cells below are worked out from that by hand.
"""

from __future__ import annotations

import csv
import math
import re

import pandas as pd
import pytest
from click.testing import CliRunner

import zhidang_analysis as zd
from zhidang_analysis.inputs import crosscheck
from zhidang_analysis.cli import main
from zhidang_analysis.errors import DataError

from .conftest import PROFILE_ROWS, REPO, write_profile, write_xlsx

FILE = "指标.xlsx"
TITLE = ["测试县年度指标统计表"]
PROFILE = "文件“乡镇概况.xlsx”工作表“乡镇概况”"  # how a message names the profile sheet from a year sheet


def validate(folder, sheets):
    write_xlsx(folder / FILE, sheets)
    return zd.validate(folder)


def rows_of(result):
    """(town, sheet, cell, value, expected) of each error, in the order reported."""
    return [(p.town, p.sheet, p.cell, p.value, p.expected) for p in result.errors]


def assert_names_both(p, *cells):
    """An error (level, Chinese text) whose message names every cell involved, and whose text names file and sheet."""
    assert p.level == "error"
    assert p.file == FILE
    assert re.search(r"[\u4e00-\u9fff]", p.message)
    for c in cells:
        assert c in p.message, (c, p.message)
    text = str(p)
    assert text.startswith("【错误】") and f"文件“{FILE}”" in text and f"单元格{p.cell}" in text


# --------------------------------------------------------------------------------------------- the rules file
def test_rules_file_holds_every_rule_of_the_brief_with_known_codes():
    cat = zd.load_catalog()
    rules = crosscheck.load_rules()
    for r in rules:
        assert all(c in cat for c in r.codes), r.id
        assert r.level == "error"
        assert re.search(r"[\u4e00-\u9fff]", r.message)
    got = {(r.test.left.codes, r.test.op, r.test.right.codes or r.test.right.constant,
            tuple(c.text(cat) for c in r.condition)) for r in rules}
    name = cat.name
    assert got == {
        (("screening_problems",), ">=", ("screening_aspects",),
         (f"{name('screening_problems')} > 0", f"{name('screening_aspects')} > 0")),
        (("five_star_branches",), "<=", ("party_branches",), ()),
        (("yijiantiao_villages",), "<=", ("villages",), ()),
        (("weak_org_villages",), "<=", ("villages",), ()),
        (("pledges_signed",), "<=", ("party_members",), ()),
        (("home_study_members",), "<=", ("party_members",), ()),
        (("monitor_directors_talked",), "<=", ("villages",), ()),
        (("provincial_demo_villages", "county_demo_villages"), "<=", ("villages",), ()),
        (("hardship_persons",), ">=", ("hardship_households",), ()),
        (("warning_attendance",), ">=", ("warning_sessions",), ()),
        (("epidemic_members",), ">=", ("epidemic_teams",), ()),
        (("livestock_insured",), "<=", ("livestock_stock",), ()),
        (("home_study_visits",), ">", 0.0, (f"{name('home_study_members')} > 0",)),
        (("nat_person_times",), ">", 0.0, (f"{name('nat_rounds')} > 0",)),
        (("disinfection_households",), ">", 0.0, (f"{name('disinfection_rounds')} > 0",)),
    }


def test_every_rule_is_listed_in_the_readme():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "\n## 校验规则\n" in readme
    section = readme.split("\n## 校验规则\n", 1)[1].split("\n## ", 1)[0]
    for rule in crosscheck.load_rules():
        assert crosscheck.rule_line(rule) in section, f"README 校验规则 lacks rule {rule.id}: run python -m zhidang_analysis.inputs.crosscheck"


@pytest.mark.parametrize("rule, complaint", [
    ({"op": "=>"}, "op must be one of"),
    ({"message": "{left}超过{villages}"}, "message uses {villages}"),
    ({"left": "five_star_branches * 2"}, "cannot read"),
    ({"condition": "a > 0 or b > 0 and c > 0"}, "not both"),
    ({"level": "fatal"}, "level must be one of"),
])
def test_a_malformed_rules_file_is_refused_naming_the_rule(tmp_path, rule, complaint):
    base = {"id": "r1", "left": "five_star_branches", "op": "<=", "right": "party_branches", "message": "{left}超过{right}"}
    path = tmp_path / "rules.yaml"
    import yaml

    path.write_text(yaml.safe_dump({"rules": [{**base, **rule}]}, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ValueError, match=re.escape(complaint)) as e:
        crosscheck.load_rules(path)
    assert "r1" in str(e.value)


# --------------------------------------------------------------------------------------------- family: 问题与方面
def test_screening_problems_cannot_be_fewer_than_their_aspects(data_dir):
    head = ["乡镇", "发展党员问题排查方面数（个）", "发展党员排查发现问题（个）"]  # B, C; header on row 2
    # 甲镇 (row 3): 5 problems in 7 aspects; 乙乡 (row 4): aspects but no problem; 丙镇 (row 5): none at all
    result = validate(data_dir, {"2023": [TITLE, head, ["甲镇", 7, 5], ["乙乡", 3, 0], ["丙镇", 0, 0]]})
    assert rows_of(result) == [("甲镇", "2023", "C3", "5", "不少于7个"), ("乙乡", "2023", "C4", "0", "不少于3个")]
    p, q = result.errors
    assert p.message.startswith("发展党员排查发现问题（5个，单元格C3）少于发展党员问题排查方面数（7个，单元格B3）")
    assert_names_both(q, "单元格C4", "单元格B4")
    assert (p.indicator, q.indicator) == ("screening_problems", "screening_problems")


def test_screening_problems_not_fewer_than_aspects_pass(data_dir):
    head = ["乡镇", "发展党员问题排查方面数（个）", "发展党员排查发现问题（个）"]
    # equal counts, more problems than aspects, problems with the aspects left at 0: none breaks the rule
    result = validate(data_dir, {"2023": [head, ["甲镇", 7, 7], ["乙乡", 3, 12], ["丙镇", 0, 4]]})
    assert result.ok, "\n".join(map(str, result.problems))


# --------------------------------------------------------------------------------------------- family: 部分不超过总数（乡镇概况）
@pytest.mark.parametrize("header, size_name, size_cell, jia, limit", [
    ("五星级党支部（个）", "党支部数", "K2", 13, 12),
    ("实现“一肩挑”行政村（个）", "行政村数", "H2", 11, 10),
    ("软弱涣散党组织整顿村数（个）", "行政村数", "H2", 11, 10),
    ("约谈村监委会主任（名）", "行政村数", "H2", 11, 10),
])
def test_part_cannot_exceed_the_size_figure_of_the_profile(data_dir, header, size_name, size_cell, jia, limit):
    # 乙乡 (row 4) reaches its size figure exactly (6 villages, 8 branches): allowed; 丙镇 has 0
    yi = 8 if size_name == "党支部数" else 6
    result = validate(data_dir, {"2023": [TITLE, ["乡镇", header], ["甲镇", jia], ["乙乡", yi], ["丙镇", 0]]})
    assert rows_of(result) == [("甲镇", "2023", "B3", str(jia), f"不超过{limit}个")]
    p = result.errors[0]
    unit = "名" if "约谈" in header else "个"
    name = re.sub(r"（.*?）$", "", header)
    assert p.message.startswith(f"{name}（{jia}{unit}，单元格B3）超过乡镇概况中的{size_name}（{limit}个，{PROFILE}单元格{size_cell}）")
    assert_names_both(p, "单元格B3", f"单元格{size_cell}")


def test_provincial_and_county_demo_villages_together_within_villages(data_dir):
    head = ["乡镇", "省级美丽乡村示范点（个）", "县级示范村（个）"]  # B, C
    # 甲镇 4+7 = 11 > 10 villages; 乙乡 3+3 = 6 = 6; 丙镇 5+3 = 8 = 8
    result = validate(data_dir, {"2023": [TITLE, head, ["甲镇", 4, 7], ["乙乡", 3, 3], ["丙镇", 5, 3]]})
    assert rows_of(result) == [("甲镇", "2023", "B3", "4+7", "不超过10个")]
    assert result.errors[0].message == (
        "省级美丽乡村示范点（4个，单元格B3）与县级示范村（7个，单元格C3）之和（11个）"
        f"超过乡镇概况中的行政村数（10个，{PROFILE}单元格H2）")


def test_size_figure_cell_is_found_whatever_the_profile_column_order(tmp_path):
    # a title row, then 党支部数 right after 乡镇: header on row 2, 甲镇 on row 3, 党支部数 in column B
    header = ["乡镇", "党支部数", "县", "乡镇类别", "省份", "行政村数", "户籍人口", "党员人数"]
    profile = [["测试县乡镇概况"], header,
               ["甲镇", 12, "测试县", "镇", "甘肃", 10, 20000, 600],
               ["乙乡", 8, "测试县", "乡", "甘肃", 6, 8000, 240]]
    write_xlsx(tmp_path / "概况.xlsx", {"乡镇概况": profile})
    result = validate(tmp_path, {"2023": [["乡镇", "五星级党支部（个）"], ["甲镇", 13], ["乙乡", 2]]})
    assert rows_of(result) == [("甲镇", "2023", "B2", "13", "不超过12个")]
    assert "（12个，文件“概况.xlsx”工作表“乡镇概况”单元格B3）" in result.errors[0].message


# --------------------------------------------------------------------------------------------- family: 人数不少于单位数, 投保不超过存栏
def test_counts_of_people_not_fewer_than_units_and_insured_within_stock(data_dir):
    head = ["乡镇", "关心特殊困难人群户数（户）", "关心特殊困难人群人数（人）", "警示教育（次）", "警示教育人次（人次）",
            "党员疫情防控突击队（支）", "奋战防控一线党员（名）", "牛羊存栏（万头（只））", "大小畜投保（万头（只））"]
    #          B  C  D  E    F  G   H    I
    jia = [5, 3, 4, 120, 2, 30, 3.2, 2.0]   # row 2: persons C2 < households B2
    yi = [2, 6, 6, 5, 3, 40, 1.0, 1.0]      # row 3: attendance E3 < sessions D3 (insured = stock is fine)
    bing = [4, 9, 3, 90, 5, 4, 2.5, 2.6]    # row 4: members G4 < teams F4; insured I4 > stock H4
    result = validate(data_dir, {"2022": [head, ["甲镇", *jia], ["乙乡", *yi], ["丙镇", *bing]]})
    assert rows_of(result) == [
        ("甲镇", "2022", "C2", "3", "不少于5户"),
        ("乙乡", "2022", "E3", "5", "不少于6次"),
        ("丙镇", "2022", "G4", "4", "不少于5支"),
        ("丙镇", "2022", "I4", "2.6", "不超过2.5万头（只）"),
    ]
    hardship, warning, epidemic, livestock = result.errors
    assert hardship.message == "关心特殊困难人群人数（3人，单元格C2）少于关心特殊困难人群户数（5户，单元格B2）（每户至少一人）"
    assert_names_both(warning, "警示教育人次（5人次，单元格E3）", "警示教育（6次，单元格D3）")
    assert_names_both(epidemic, "奋战防控一线党员（4名，单元格G4）", "党员疫情防控突击队（5支，单元格F4）")
    assert_names_both(livestock, "大小畜投保（2.6万头（只），单元格I4）", "牛羊存栏（2.5万头（只），单元格H4）")


def test_rule_broken_in_a_csv_names_both_rows_of_the_value_column(data_dir):
    path = data_dir / "指标.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["县", "乡镇", "年度", "指标代码", "数值"])   # row 1; 数值 is column E
        w.writerow(["测试县", "甲镇", 2023, "hardship_households", 5])  # E2
        w.writerow(["测试县", "甲镇", 2023, "hardship_persons", 3])  # E3
        for town in ("乙乡", "丙镇"):
            w.writerow(["测试县", town, 2023, "theme_party_days", 9])
    result = zd.validate(data_dir)
    assert [(p.file, p.sheet, p.cell, p.value) for p in result.errors] == [("指标.csv", None, "E3", "3")]
    assert result.errors[0].message.startswith("关心特殊困难人群人数（3人，单元格E3）少于关心特殊困难人群户数（5户，单元格E2）")


# --------------------------------------------------------------------------------------------- family: 有活动必有数量
def test_activity_reported_needs_its_count_above_zero(data_dir):
    head = ["乡镇", "送学上门年老体弱党员（名）", "送学上门次数（次）", "核酸检测轮次（轮）", "核酸检测人次（人次）",
            "消杀轮次（轮）", "消杀户数（户）"]
    #          B  C  D  E     F  G
    jia = [5, 0, 3, 4000, 0, 0]  # row 2: 5 members but 0 visits (C2, B2); no disinfection at all: fine
    yi = [0, 0, 2, 0, 6, 0]      # row 3: no home study: fine; NAT rounds but 0 tests (E3, D3); rounds, 0 households (G3, F3)
    bing = [4, 8, 0, 0, 5, 300]  # row 4: all consistent
    result = validate(data_dir, {"2021": [head, ["甲镇", *jia], ["乙乡", *yi], ["丙镇", *bing]]})
    assert rows_of(result) == [
        ("甲镇", "2021", "C2", "0", "大于0"),
        ("乙乡", "2021", "E3", "0", "大于0"),
        ("乙乡", "2021", "G3", "0", "大于0"),
    ]
    home, nat, disinfection = result.errors
    assert home.message == "填报了送学上门年老体弱党员（5名，单元格B2），但送学上门次数（0次，单元格C2）为0"
    assert str(home).endswith("；读到“0”，应为大于0。")
    assert_names_both(nat, "核酸检测轮次（2轮，单元格D3）", "核酸检测人次（0人次，单元格E3）")
    assert_names_both(disinfection, "消杀轮次（6轮，单元格F3）", "消杀户数（0户，单元格G3）")


# --------------------------------------------------------------------------------------------- one pass, skipping
def test_several_violations_in_one_file_are_all_reported_in_one_pass(data_dir):
    y2023 = [TITLE, ["乡镇", "五星级党支部（个）", "关心特殊困难人群户数（户）", "关心特殊困难人群人数（人）"],
             ["甲镇", 13, 2, 5],   # row 3: 13 five-star branches > 12 (B3 vs 乡镇概况 K2)
             ["乙乡", 3, 2, 4],
             ["丙镇", 2, 6, 4]]    # row 5: 4 persons < 6 households (D5 vs C5)
    y2024 = [["乡镇", "发展党员问题排查方面数（个）", "发展党员排查发现问题（个）"],
             ["甲镇", 3, 8], ["乙乡", 6, 4], ["丙镇", 2, 2]]  # 乙乡 row 3: 4 problems < 6 aspects (C3 vs B3)
    result = validate(data_dir, {"2023": y2023, "2024": y2024})
    # ordered by town (profile order), then year, then rule
    assert rows_of(result) == [
        ("甲镇", "2023", "B3", "13", "不超过12个"),
        ("乙乡", "2024", "C3", "4", "不少于6个"),
        ("丙镇", "2023", "D5", "4", "不少于6户"),
    ]
    assert_names_both(result.errors[0], "单元格B3", f"{PROFILE}单元格K2")
    assert_names_both(result.errors[1], "单元格C3", "单元格B3")
    assert_names_both(result.errors[2], "单元格D5", "单元格C5")
    with pytest.raises(DataError) as e:
        zd.load_dataset(data_dir, cache=False)
    assert [p.cell for p in e.value.problems if p.level == "error"] == ["B3", "C3", "D5"]
    # and through the command line: every error printed, exit code 2
    out = CliRunner().invoke(main, ["validate", str(data_dir)])
    assert out.exit_code == 2, out.output
    assert "3处错误" in out.output
    for p in result.errors:
        assert str(p) in out.output


def test_rule_with_a_missing_or_not_applicable_value_is_skipped(tmp_path):
    rows = [list(r) for r in PROFILE_ROWS]
    rows[1][7] = None  # 乙乡 行政村数 blank (H3): a warning, and no village rule for 乙乡
    write_profile(tmp_path, rows)
    head = ["乡镇", "警示教育（次）", "警示教育人次（人次）", "实现“一肩挑”行政村（个）", "发展党员排查发现问题（个）"]
    sheet = [head,
             ["甲镇", 5, None, 3, 4],     # attendance blank: skipped; 发展党员问题排查方面数 has no column: skipped
             ["乙乡", "—", 0, 50, None],  # sessions not applicable: skipped; villages unknown: skipped
             ["丙镇", 3, 2, 8, 1]]        # row 4: 2 attendance < 3 sessions: the one error
    result = validate(tmp_path, {"2023": sheet})
    assert rows_of(result) == [("丙镇", "2023", "C4", "2", "不少于3次")]
    assert [(p.level, p.town, p.cell) for p in result.problems if p.level != "error"] == [("warning", "乙乡", "H3")]
    # an epidemic indicator outside 2020–2022 is not applicable: its rule is skipped, the value is never read
    clean = validate(tmp_path, {"2023": [["乡镇", "警示教育（次）"], ["甲镇", 2], ["乙乡", 3], ["丙镇", 1]]})
    assert clean.errors == []


# --------------------------------------------------------------------------------------------- the table, vectorised
def _tidy(*rows):
    """(town, year, code, value[, status]) rows as the loader's tidy table, each with its own cell."""
    out = []
    for n, (town, year, code, value, *status) in enumerate(rows, start=2):
        st = status[0] if status else ("missing" if value is None else "present")
        out.append({"county": "测试县", "town": town, "year": year, "indicator": code,
                    "value": math.nan if value is None else float(value), "approx": False, "status": st,
                    "source": f"{FILE}!{year}!B{n}"})
    return pd.DataFrame(out)


def _profile():
    return pd.DataFrame({"villages": [10.0, 6.0], "party_branches": [12.0, 8.0],
                         "source": ["乡镇概况.xlsx!乡镇概况!B2", "乡镇概况.xlsx!乡镇概况!B3"]},
                        index=pd.Index(["甲镇", "乙乡"], name="town"))


def test_violations_is_one_boolean_table_of_town_years_by_rule():
    v = _tidy(("甲镇", 2023, "five_star_branches", 13), ("甲镇", 2024, "five_star_branches", 12),
              ("乙乡", 2023, "five_star_branches", 9), ("乙乡", 2024, "five_star_branches", None),
              ("甲镇", 2023, "hardship_households", 4), ("甲镇", 2023, "hardship_persons", 3),
              ("乙乡", 2023, "epidemic_teams", None, "na"), ("乙乡", 2023, "epidemic_members", 0))
    bad = crosscheck.violations(v, _profile())
    assert list(bad.columns) == [r.id for r in crosscheck.load_rules()]
    assert bad.dtypes.eq(bool).all()
    assert sorted(bad.index) == [("乙乡", 2023), ("乙乡", 2024), ("甲镇", 2023), ("甲镇", 2024)]
    assert bad.loc[("甲镇", 2023), "five_star_within_branches"]
    assert not bad.loc[("甲镇", 2024), "five_star_within_branches"]  # equal is allowed
    assert bad.loc[("乙乡", 2023), "five_star_within_branches"]  # 9 > 8
    assert not bad.loc[("乙乡", 2024), "five_star_within_branches"]  # missing: skipped
    assert bad.loc[("甲镇", 2023), "hardship_persons_vs_households"]
    assert not bad["epidemic_members_vs_teams"].any()  # teams not applicable: skipped
    assert int(bad.to_numpy().sum()) == 3


def test_without_the_input_files_a_size_figure_is_named_by_its_profile_row():
    v = _tidy(("甲镇", 2023, "yijiantiao_villages", 11))
    [p] = crosscheck.check(v, _profile(), zd.load_catalog())
    assert (p.file, p.sheet, p.cell, p.town, p.indicator) == (FILE, "2023", "B2", "甲镇", "yijiantiao_villages")
    assert p.message == "实现“一肩挑”行政村（11个，单元格B2）超过乡镇概况中的行政村数（10个，文件“乡镇概况.xlsx”工作表“乡镇概况”第2行）"
