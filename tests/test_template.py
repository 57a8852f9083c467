"""The Excel data-entry template: layout, data validation, round trip through the loader, per-town files, CLI.

Layout of the sheet for the year (rows are fixed by the template): 1 title, 2 sections, 3 header, 4… towns.

Data validation choice (documented in the template's 填表说明 too): type ``whole`` for counts and ``decimal``
for amounts with the catalog's range, error style ``warning`` — Excel warns about text but lets the user
keep it, so ``30余`` and ``—`` can still be typed; the loader checks every cell again.

The sheet 特色做法 (full catalog): 1 title, 2 report sections, 3 header ``乡镇 | 年度 | <practice fields>``,
4… towns with the year; text cells carry ``textLength`` ≤ the field's max, also with the ``warning`` style.
"""

from __future__ import annotations

import math
import shutil

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from tests.template_filling import fill, fill_practices, header_columns, valid_row, write_profile
from zhidang_analysis import load_dataset, validate
from zhidang_analysis.model.catalog import Catalog, load_catalog
from zhidang_analysis.cli import main
from zhidang_analysis.errors import UnknownNameError, ZhidangError
from zhidang_analysis.inputs.practices import PRACTICES_SHEET, split_items
from zhidang_analysis.outputs.template import (
    INSTRUCTIONS_SHEET, PREVIOUS_SHEET, safe_filename, town_template_name, write_template, write_town_templates,
)

# A small catalog for hand-computed layouts: columns do not move when the real catalog grows.
SMALL_CODES = ["home_study_visits", "theme_party_days", "new_members", "epidemic_teams", "supervised_cadres",
               "income_per_household", "tourism_income"]


@pytest.fixture(scope="module")
def small() -> Catalog:
    cat = load_catalog()
    profile_codes = list(cat.frame.index[cat.frame["origin"] == "profile"])
    return Catalog(frame=cat.frame.loc[SMALL_CODES + profile_codes], sections=cat.sections,
                   profile_fields=cat.profile_fields)


# --------------------------------------------------------------------------------------------- layout
def test_layout_title_sections_header_towns_and_frozen_panes(tmp_path, small):
    path = write_template(tmp_path / "t.xlsx", 2026, ["甲镇", "乙乡"], catalog=small, county="测试县")
    wb = load_workbook(path)
    assert wb.sheetnames == ["2026", "填表说明"]
    ws = wb["2026"]
    assert ws["A1"].value == "测试县2026年度乡镇履行全面从严治党主体责任指标填报表"
    # 2026: epidemic_teams (2020–2022) is left out -> B..G
    assert [ws.cell(3, j).value for j in range(1, 8)] == [
        "乡镇", "送学上门次数（次）", "主题党日活动（次）", "发展党员（名）", "纪委督促管理干部（名）",
        "户均增收（万元）", "旅游综合收入（万元）"]
    assert ws["H3"].value is None
    # grouped section row above the header; column A stays empty for the loader
    assert ws["A2"].value is None
    assert ws["B2"].value == "（一）提高政治站位，认真履行全面从严治党主体责任"
    assert ws["C2"].value == "（二）强化组织建设，严格落实党建各项工作任务"
    assert ws["E2"].value == "（三）聚焦转变作风，切实纠治顽瘴痼疾"
    assert ws["F2"].value == "（六）坚持党建引领，全力推动乡村全面振兴"
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert {"A1:G1", "C2:D2", "F2:G2"} <= merged
    assert not any(r.startswith(("B2", "E2")) for r in merged)  # one-column sections are not merged
    assert (ws["A4"].value, ws["A5"].value) == ("甲镇", "乙乡")
    assert ws["A7"].value.startswith("填表人")  # footer the loader skips
    assert ws.freeze_panes == "B4"
    # widths fit Chinese names: 2 units per character + 2, within 10..22
    assert ws.column_dimensions["C"].width == 20  # 主题党日活动（次）: 9 wide characters
    assert ws.column_dimensions["F"].width == 18  # 户均增收（万元）: 8
    assert ws.column_dimensions["A"].width == 10
    # input cells are unlocked, the rest of the protected sheet is not
    assert ws.protection.sheet
    assert ws["C4"].protection.locked is False and ws["A4"].protection.locked is True


def test_columns_follow_the_year(tmp_path, small):
    ws = load_workbook(write_template(tmp_path / "t.xlsx", 2021, ["甲镇"], catalog=small))["2021"]
    assert ws["E3"].value == "党员疫情防控突击队（支）"
    assert ws["E2"].value is None  # inside the merged (二) block C2:E2
    assert "C2:E2" in {str(r) for r in ws.merged_cells.ranges}


def test_data_validation_rules_are_in_the_written_file(tmp_path, small):
    path = write_template(tmp_path / "t.xlsx", 2026, ["甲镇", "乙乡"], catalog=small)
    ws = load_workbook(path)["2026"]
    rules = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
    assert set(rules) == {f"{c}4:{c}5" for c in "BCDEFG"}  # every input cell, nothing else
    theme = rules["C4:C5"]
    assert (theme.type, theme.operator, theme.formula1, theme.formula2) == ("whole", "between", "0", "2000")
    income = rules["F4:F5"]
    assert (income.type, income.operator, income.formula1, income.formula2) == ("decimal", "between", "0", "100")
    for dv in rules.values():
        assert dv.errorStyle == "warning" and dv.allow_blank
        assert dv.showInputMessage and dv.showErrorMessage
        assert len(dv.promptTitle) <= 32 and len(dv.prompt) <= 255 and len(dv.error) <= 225
    assert theme.promptTitle == "主题党日活动（次）"
    assert theme.prompt.startswith("单位：次；范围：0～2000；填整数。约数写“30余”，不适用写“—”，暂缺留空。")
    assert theme.prompt.endswith("全镇各党支部全年开展主题党日活动的次数合计")
    assert income.prompt.startswith("单位：万元；范围：0～100；填数值（可有小数）。")
    assert "请点“是”保留" in theme.error


def test_instructions_sheet_explains_approximate_na_and_each_indicator(tmp_path, small):
    ws = load_workbook(write_template(tmp_path / "t.xlsx", 2026, ["甲镇"], catalog=small))[INSTRUCTIONS_SHEET]
    text = "\n".join(str(c.value) for row in ws.iter_rows() for c in row if c.value)
    assert "“30余”" in text and "写“—”" in text and "留空" in text and "请点“是”保留" in text
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    table = rows[rows.index(["所属部分", "指标名称", "单位", "填写类型", "有效范围", "含义"]) + 1:]
    assert [r[1] for r in table] == ["送学上门次数", "主题党日活动", "发展党员", "纪委督促管理干部", "户均增收",
                                    "旅游综合收入"]
    assert table[4][2:5] == ["万元", "数值（可有小数）", "0～100"]
    assert table[1][5] == "全镇各党支部全年开展主题党日活动的次数合计"


# --------------------------------------------------------------------------------------------- round trip
def test_filled_template_loads_back_exactly_the_values_written(tmp_path):
    folder = tmp_path / "in"
    write_profile(folder)
    path = write_template(folder / "县汇总.xlsx", 2026, ["甲镇", "乙乡"], county="测试县")
    jia, yi = valid_row(2026), valid_row(2026, shift=1)
    yi.update({"theme_party_days": "30余",     # approximate, as typed
               "tourism_income": "—",           # not applicable
               "new_members": "１２",            # full-width digits
               "income_per_household": 0.75})
    del yi["bilingual_lectures"]               # left blank: missing
    cells = fill(path, {"甲镇": jia, "乙乡": yi})

    result = validate(folder)
    assert result.problems == []
    v = result.dataset.values.set_index(["town", "indicator"])
    assert set(v["year"]) == {2026}
    cat = load_catalog()
    for town, row in (("甲镇", jia), ("乙乡", yi)):
        for code in cat.value_codes:
            rec = v.loc[(town, code)]
            if code in row:
                assert rec["source"] == f"县汇总.xlsx!2026!{cells[(town, code)]}"
            if not cat.applies(code, 2026):
                assert rec["status"] == "na" and math.isnan(rec["value"])
            elif code not in row:
                assert rec["status"] == "missing" and math.isnan(rec["value"])
            elif code == "tourism_income" and town == "乙乡":
                assert rec["status"] == "na" and math.isnan(rec["value"])
            elif code == "theme_party_days" and town == "乙乡":
                assert (rec["value"], rec["approx"], rec["status"]) == (30.0, True, "present")
            elif code == "new_members" and town == "乙乡":
                assert (rec["value"], rec["approx"], rec["status"]) == (12.0, False, "present")
            else:
                assert (rec["value"], rec["approx"], rec["status"]) == (float(row[code]), False, "present")
    # the hand-checkable cells: row 5 is 乙乡; 主题党日活动 is the first (二) column after three (一) ones
    columns = header_columns(load_workbook(path)["2026"])
    assert columns["主题党日活动（次）"] == "E" and cells[("乙乡", "theme_party_days")] == "E5"
    assert columns["双语宣讲（次）"] == "D"  # the blank cell still names its place
    assert v.loc[("乙乡", "bilingual_lectures"), "source"] == "县汇总.xlsx!2026!D5"


def test_previous_year_reference_sheet_is_read_only_and_ignored_by_the_loader(tmp_path, small):
    folder = tmp_path / "in"
    write_profile(folder)
    p2025 = write_template(folder / "2025.xlsx", 2025, ["甲镇", "乙乡"], catalog=small)
    fill(p2025, {"甲镇": {"theme_party_days": 14, "income_per_household": 0.85, "tourism_income": "—"},
                 "乙乡": {"theme_party_days": "20余", "new_members": 7}}, catalog=small)
    previous = load_dataset(folder, catalog=small)

    out = tmp_path / "out" / "2026.xlsx"
    write_template(out, 2026, ["乙乡", "甲镇"], catalog=small, previous=previous)
    wb = load_workbook(out)
    assert wb.sheetnames == ["2026", INSTRUCTIONS_SHEET, PREVIOUS_SHEET]
    ref = wb[PREVIOUS_SHEET]
    assert ref.protection.sheet
    assert [ref.cell(3, j).value for j in range(1, 5)] == ["乡镇", "送学上门次数（次）", "主题党日活动（次）", "发展党员（名）"]
    # rows follow the template's town order: 乙乡 (row 4) then 甲镇 (row 5)
    assert [ref[c].value for c in ("A4", "B4", "C4", "D4", "F4", "G4")] == ["乙乡", None, "20余", 7, None, None]
    assert [ref[c].value for c in ("A5", "C5", "D5", "F5", "G5")] == ["甲镇", 14, None, 0.85, "—"]
    # rules 一…七 in A3:A9 (七: sheet protection), then 八 on the reference sheet
    assert wb[INSTRUCTIONS_SHEET]["A10"].value.startswith("八、“上年数据（参考）”工作表为上年已报送数据")

    # the filled 2026 workbook loads without a word about the reference or instructions sheets
    fill(out, {"甲镇": {"theme_party_days": 15}, "乙乡": {"theme_party_days": 21}}, catalog=small)
    shutil.copy(folder / "乡镇概况.xlsx", out.parent / "乡镇概况.xlsx")
    result = validate(out.parent, catalog=small)
    assert result.ok and result.problems == []


def test_previous_year_must_be_in_the_data(tmp_path, small):
    folder = tmp_path / "in"
    write_profile(folder)
    fill(write_template(folder / "2025.xlsx", 2025, ["甲镇"], catalog=small), {"甲镇": {"new_members": 3}},
         catalog=small)
    previous = load_dataset(folder, catalog=small)
    with pytest.raises(UnknownNameError, match="2026"):
        write_template(tmp_path / "x.xlsx", 2027, ["甲镇"], catalog=small, previous=previous)
    assert not (tmp_path / "x.xlsx").exists()


# --------------------------------------------------------------------------------------------- per town, merging
def test_per_town_workbooks_merge_into_one_county_dataset(tmp_path, small):
    folder = tmp_path / "回收"
    paths = write_town_templates(folder, 2026, ["甲镇", "乙乡"], catalog=small)
    assert {t: p.name for t, p in paths.items()} == {"甲镇": "2026年甲镇指标填报表.xlsx",
                                                      "乙乡": "2026年乙乡指标填报表.xlsx"}
    ws = load_workbook(paths["甲镇"])["2026"]
    assert ws["A4"].value == "甲镇" and ws["A5"].value is None
    assert ws["A1"].value == "甲镇2026年度履行全面从严治党主体责任指标填报表"
    fill(paths["甲镇"], {"甲镇": {"theme_party_days": 12, "income_per_household": 1.25}}, catalog=small)
    fill(paths["乙乡"], {"乙乡": {"theme_party_days": "30余", "tourism_income": "—"}}, catalog=small)
    write_profile(folder)

    result = validate(folder, catalog=small)
    assert result.problems == []
    v = result.dataset.values.set_index(["town", "indicator"])
    assert v.loc[("甲镇", "theme_party_days"), ["value", "source"]].tolist() == [12.0, "2026年甲镇指标填报表.xlsx!2026!C4"]
    assert v.loc[("甲镇", "income_per_household"), "value"] == 1.25
    assert v.loc[("乙乡", "theme_party_days"), ["value", "approx"]].tolist() == [30.0, True]
    assert v.loc[("乙乡", "tourism_income"), "status"] == "na"


def test_same_town_in_two_files_is_an_error_naming_both(tmp_path, small):
    folder = tmp_path / "回收"
    paths = write_town_templates(folder, 2026, ["甲镇", "乙乡"], catalog=small)
    fill(paths["甲镇"], {"甲镇": {"theme_party_days": 12}}, catalog=small)
    shutil.copy(paths["甲镇"], folder / "甲镇重报.xlsx")
    write_profile(folder)

    result = validate(folder, catalog=small)
    assert not result.ok
    [dup] = result.errors
    assert dup.file == "甲镇重报.xlsx" and "2026年甲镇指标填报表.xlsx" in dup.message
    assert dup.town == "甲镇" and "2026年数据重复" in dup.message


def test_town_names_are_data_not_formulas_or_paths(tmp_path, small):
    ws = load_workbook(write_template(tmp_path / "t.xlsx", 2026, ["=1+1镇"], catalog=small))["2026"]
    assert ws["A4"].value == "=1+1镇" and ws["A4"].data_type == "s"
    paths = write_town_templates(tmp_path / "out", 2026, ["../上/镇", "镇:A"], catalog=small)
    assert [p.name for p in paths.values()] == ["2026年_上_镇指标填报表.xlsx", "2026年镇_A指标填报表.xlsx"]
    assert all(p.parent == tmp_path / "out" for p in paths.values())
    assert safe_filename("CON") == "_CON" and town_template_name("甲镇", 2026) == "2026年甲镇指标填报表.xlsx"


def test_duplicate_or_empty_town_lists_are_refused(tmp_path, small):
    with pytest.raises(ZhidangError, match="乡镇重复：甲镇"):
        write_template(tmp_path / "t.xlsx", 2026, ["甲镇", "乙乡", "甲镇"], catalog=small)
    with pytest.raises(ZhidangError, match="没有乡镇"):
        write_template(tmp_path / "t.xlsx", 2026, [" "], catalog=small)
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------------------------- 特色做法
# The catalog's practice fields in order, from column C: 学习载体 C, 学习制度 D, 换届成效 E, 作风建设机制 F,
# 作风管理制度 G, 在岗督查方式 H, 小微权力检查方法 I, 重点项目类别 J, 主导产业 K, （一）…（六）特色做法 L…Q,
# 自查问题 R.
PRACTICE_LETTERS = {"study_carrier": "C", "leading_industries": "K", "s1_practice": "L", "s5_practice": "P",
                    "own_problems": "R"}


def test_practices_sheet_layout_validation_and_protection(tmp_path):
    cat = load_catalog()
    fields = cat.practice_fields
    wb = load_workbook(write_template(tmp_path / "t.xlsx", 2026, ["甲镇", "乙乡"], county="测试县"))
    assert wb.sheetnames == ["2026", PRACTICES_SHEET, INSTRUCTIONS_SHEET]
    assert wb.active.title == "2026"
    ws = wb[PRACTICES_SHEET]
    assert ws["A1"].value == "测试县2026年度乡镇特色做法填报表"
    ncols = len(fields) + 2
    assert f"A1:{get_column_letter(ncols)}1" in {str(r) for r in ws.merged_cells.ranges}
    assert [ws.cell(3, j).value for j in range(1, ncols + 1)] == ["乡镇", "年度", *fields["name"]]
    assert ws.cell(3, ncols + 1).value is None
    columns = header_columns(ws)
    assert {code: columns[fields.at[code, "name"]] for code in PRACTICE_LETTERS} == PRACTICE_LETTERS
    # report sections above the header; A2:B2 empty
    assert (ws["A2"].value, ws["B2"].value) == (None, None)
    assert ws["C2"].value == "（一）提高政治站位，认真履行全面从严治党主体责任"
    assert ws["K2"].value == "三、下一步工作打算" and ws["R2"].value == "二、存在的问题"
    # one row per town, the template's year, no text
    assert [[c.value for c in row] for row in ws.iter_rows(min_row=4, max_row=5, max_col=3)] == [
        ["甲镇", 2026, None], ["乙乡", 2026, None]]
    assert ws.max_row == 5  # no footer: nothing below the towns
    assert all(ws.cell(i, j).value is None for i in (4, 5) for j in range(3, ncols + 1))
    assert ws.freeze_panes == "C4"
    # town and year locked and grey; text cells unlocked, input fill, wrapped; rows tall, paragraphs wide
    assert ws.protection.sheet
    for cell in ("A4", "B4", "A5", "B5"):
        assert ws[cell].protection.locked is True and ws[cell].fill.fgColor.rgb == "00F2F2F2"
    for cell in ("C4", "L5", "R4"):
        c = ws[cell]
        assert c.protection.locked is False and c.fill.fgColor.rgb == "00FFFBE6" and c.alignment.wrap_text
    assert ws.column_dimensions["C"].width == 30 and ws.column_dimensions["L"].width == 50
    assert ws.row_dimensions[4].height >= 100

    rules = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
    assert set(rules) == {f"{get_column_letter(j)}4:{get_column_letter(j)}5"
                          for j in range(3, ncols + 1)}  # every text cell, not 乡镇 or 年度
    for code in fields.index:
        letter = columns[fields.at[code, "name"]]
        dv = rules[f"{letter}4:{letter}5"]
        assert (dv.type, dv.operator, dv.formula1) == ("textLength", "lessThanOrEqual", str(fields.at[code, "max"]))
        assert dv.errorStyle == "warning" and dv.allow_blank and dv.showInputMessage and dv.showErrorMessage
        assert dv.promptTitle == fields.at[code, "name"]
        assert len(dv.promptTitle) <= 32 and len(dv.prompt) <= 255 and len(dv.error) <= 225
        assert f"不超过{fields.at[code, 'max']}字" in dv.prompt and "最多" in dv.error
    carrier = rules["C4:C5"]
    assert carrier.formula1 == "40"
    assert carrier.prompt == ("写入报告第（一）部分；短语，报告把它写进固定的句子；不超过40字。"
                              "本乡镇打造的理论学习载体名称；报告写作“不断创新学习载体和学习方式……打造××”。"
                              "\n示例（范本原话）：周四“理论学堂”")
    assert rules["R4:R5"].formula1 == "600" and "每条一行" in rules["R4:R5"].prompt
    assert rules["K4:K5"].prompt.startswith("写入报告“三、下一步工作打算”；多项，用顿号“、”分隔；不超过80字。")
    assert rules["P4:P5"].prompt.endswith("达到了发现问题、整改落实、杜绝出错的目的。")


def test_practices_sheet_only_when_the_catalog_has_practice_fields(tmp_path, small):
    assert small.practice_fields.empty
    wb = load_workbook(write_template(tmp_path / "t.xlsx", 2026, ["甲镇"], catalog=small))
    assert PRACTICES_SHEET not in wb.sheetnames


def test_instructions_explain_the_practices_sheet(tmp_path):
    fields = load_catalog().practice_fields
    ws = load_workbook(write_template(tmp_path / "t.xlsx", 2026, ["甲镇"]))[INSTRUCTIONS_SHEET]
    rules = [str(c.value) for c in ws["A"] if c.value]
    [rule] = [r for r in rules if r.startswith("七、“特色做法”工作表")]
    for words in ("报告只写乡镇在这里写明的做法", "每个乡镇每个年度一行", "Alt+Enter", "用“；”分隔",
                  "主导产业用顿号“、”分隔", "某一格留空，报告中相应的句子照常写，只是不写这一做法", "请写本乡镇2026年自己的做法"):
        assert words in rule
    assert any(r.startswith("八、“2026”和“特色做法”工作表中除填写区域外已锁定") for r in rules)
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    table = rows[rows.index(["所属部分", "列名", "填写方式", "字数上限", "留空时", "含义与示例"]) + 1:]
    assert [r[1] for r in table] == list(fields["name"])
    carrier = table[0]
    assert carrier == ["（一）提高政治站位，认真履行全面从严治党主体责任", "学习载体", "短语", "40字",
                       "该句照常写，但不写这一做法",
                       "本乡镇打造的理论学习载体名称；报告写作“不断创新学习载体和学习方式……打造××”\n示例（范本原话）：周四“理论学堂”"]
    problems = table[list(fields.index).index("own_problems")]
    assert problems[:5] == ["二、存在的问题", "自查问题", "多条，每条一行", "600字",
                            "写数据反映的问题，并标出【待补：本镇自查问题】请乡镇补写"]
    assert table[list(fields.index).index("s1_practice")][4] == "该部分不加这一段"


def test_filled_practices_load_back_with_their_cells(tmp_path):
    folder = tmp_path / "in"
    write_profile(folder)
    path = write_template(folder / "县汇总.xlsx", 2026, ["甲镇", "乙乡"])
    fill(path, {"甲镇": valid_row(2026), "乙乡": valid_row(2026, shift=1)})
    phrase = "周二“田间课堂”"
    paragraph = "在田间地头开展党员冬春训，把课堂搬到群众家门口。"
    problems = "部分村级活动场所利用率不高\n个别党员参加组织生活不经常"  # Alt+Enter between the two
    cells = fill_practices(path, {"甲镇": {"study_carrier": phrase, "s1_practice": paragraph, "own_problems": problems}})
    assert cells == {("甲镇", "study_carrier"): "C4", ("甲镇", "s1_practice"): "L4", ("甲镇", "own_problems"): "R4"}

    result = validate(folder)
    assert result.problems == []  # the title and section rows, and 乙乡's row without text, are no trouble
    ds = result.dataset
    assert ds.practice("甲镇", 2026) == {
        "study_carrier": (phrase, "县汇总.xlsx!特色做法!C4"),
        "s1_practice": (paragraph, "县汇总.xlsx!特色做法!L4"),
        "own_problems": (problems, "县汇总.xlsx!特色做法!R4"),
    }
    assert ds.practice("乙乡", 2026) == {}
    assert split_items(ds.practice("甲镇", 2026)["own_problems"][0]) == ["部分村级活动场所利用率不高", "个别党员参加组织生活不经常"]
    assert len(ds.practices) == 3


def test_unfilled_practices_sheet_loads_without_a_word(tmp_path):
    folder = tmp_path / "in"
    write_profile(folder)
    fill(write_template(folder / "t.xlsx", 2026, ["甲镇", "乙乡"]),
         {"甲镇": valid_row(2026), "乙乡": valid_row(2026, shift=1)})
    result = validate(folder)
    assert result.problems == [] and result.dataset.practices.empty


def test_over_long_practice_is_an_error_naming_the_cell(tmp_path):
    folder = tmp_path / "in"
    write_profile(folder)
    path = write_template(folder / "县汇总.xlsx", 2026, ["甲镇", "乙乡"])
    fill(path, {"甲镇": valid_row(2026), "乙乡": valid_row(2026, shift=1)})
    fill_practices(path, {"乙乡": {"study_carrier": "长" * 41, "study_routine": "每天学习一小时"}})

    result = validate(folder)
    assert not result.ok
    [err] = result.errors
    assert (err.file, err.sheet, err.cell, err.town) == ("县汇总.xlsx", PRACTICES_SHEET, "C5", "乙乡")
    assert "“学习载体”太长（41字）" in err.message and err.expected == "不超过40字"


def test_per_town_workbooks_have_their_own_practices_row(tmp_path):
    folder = tmp_path / "回收"
    paths = write_town_templates(folder, 2026, ["甲镇", "乙乡"], county="测试县")
    ws = load_workbook(paths["乙乡"])[PRACTICES_SHEET]
    assert ws["A1"].value == "测试县乙乡2026年度特色做法填报表"
    assert (ws["A4"].value, ws["B4"].value, ws["A5"].value) == ("乙乡", 2026, None)
    assert {str(dv.sqref) for dv in ws.data_validations.dataValidation} >= {"C4", "R4"}
    for town, shift in (("甲镇", 0), ("乙乡", 1)):
        fill(paths[town], {town: valid_row(2026, shift=shift)})
    fill_practices(paths["乙乡"], {"乙乡": {"leading_industries": "高原夏菜种植业、乡村旅游业"}})
    write_profile(folder)

    result = validate(folder)
    assert result.problems == []
    assert result.dataset.practice("乙乡", 2026) == {
        "leading_industries": ("高原夏菜种植业、乡村旅游业", "2026年乙乡指标填报表.xlsx!特色做法!K4")}
    assert result.dataset.practice("甲镇", 2026) == {}


def test_with_previous_shows_last_years_practices_for_reference_only(tmp_path):
    folder = tmp_path / "in"
    write_profile(folder)
    p2025 = write_template(folder / "2025.xlsx", 2025, ["甲镇", "乙乡"])
    fill(p2025, {"甲镇": valid_row(2025), "乙乡": valid_row(2025, shift=1)})
    fill_practices(p2025, {"甲镇": {"study_carrier": "周四“理论学堂”", "own_problems": "问题一\n问题二"}})
    previous = load_dataset(folder)
    assert set(previous.practice("甲镇", 2025)) == {"study_carrier", "own_problems"}

    out = tmp_path / "out" / "2026.xlsx"
    write_template(out, 2026, ["甲镇", "乙乡"], previous=previous)
    wb = load_workbook(out)
    assert wb.sheetnames == ["2026", PRACTICES_SHEET, INSTRUCTIONS_SHEET, PREVIOUS_SHEET]
    # never pre-filled: a practice is written by the town for the year
    new = wb[PRACTICES_SHEET]
    assert all(new.cell(i, j).value is None for i in (4, 5) for j in range(3, new.max_column + 1))
    ref = wb[PREVIOUS_SHEET]
    rows = [[c.value for c in row[:3]] for row in ref.iter_rows()]
    start = rows.index(["乡镇", "项目", "上年填写内容"])
    assert str(rows[start - 1][0]).startswith("2025年特色做法（仅供参考")
    assert rows[start + 1:start + 3] == [["甲镇", "学习载体", "周四“理论学堂”"], ["甲镇", "自查问题", "问题一\n问题二"]]
    assert ref.protection.sheet

    # the reference text is not read: the filled 2026 workbook has no practices
    fill(out, {"甲镇": valid_row(2026), "乙乡": valid_row(2026, shift=1)})
    shutil.copy(folder / "乡镇概况.xlsx", out.parent / "乡镇概况.xlsx")
    result = validate(out.parent)
    assert result.problems == [] and result.dataset.practices.empty


# --------------------------------------------------------------------------------------------- CLI
def test_cli_template_for_named_towns(tmp_path):
    out = tmp_path / "模板.xlsx"
    r = CliRunner().invoke(main, ["template", "--year", "2026", "--towns", "甲镇，乙乡", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "已生成填报模板（2个乡镇）" in r.output
    ws = load_workbook(out)["2026"]
    assert (ws["A3"].value, ws["A4"].value, ws["A5"].value) == ("乡镇", "甲镇", "乙乡")
    assert ws.max_column == len(load_catalog().applicable(2026)) + 1


def test_cli_template_per_town_from_a_profile(tmp_path):
    profile = write_profile(tmp_path / "in")
    out = tmp_path / "各乡镇"
    r = CliRunner().invoke(main, ["template", "--year", "2026", "--profile", str(profile), "--per-town", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in out.iterdir()) == ["2026年乙乡指标填报表.xlsx", "2026年甲镇指标填报表.xlsx"]
    assert load_workbook(out / "2026年甲镇指标填报表.xlsx")["2026"]["A1"].value.startswith("测试县甲镇2026年度")


def test_cli_template_with_previous_needs_last_years_data(tmp_path):
    data = tmp_path / "往年"
    write_profile(data)
    fill(write_template(data / "2025年.xlsx", 2025, ["甲镇", "乙乡"]),
         {"甲镇": {"theme_party_days": 14}, "乙乡": {"theme_party_days": "20余"}})
    r = CliRunner().invoke(main, ["template", "--year", "2026", "--with-previous", "--data", str(data),
                                  "--towns", "乙乡,丙镇", "-o", str(tmp_path / "t.xlsx")])
    assert r.exit_code == 0, r.output
    assert "上年数据中没有这些乡镇，参考表中留空：丙镇" in r.output
    ref = load_workbook(tmp_path / "t.xlsx")[PREVIOUS_SHEET]
    assert (ref["A4"].value, ref["E4"].value, ref["A5"].value, ref["E5"].value) == ("乙乡", "20余", "丙镇", None)
    r = CliRunner().invoke(main, ["template", "--year", "2031", "--with-previous", "--data", str(data),
                                  "--towns", "甲镇", "-o", str(tmp_path / "u.xlsx")])
    assert r.exit_code == 1 and "未找到上年（参考）数据的年度“2030”" in r.output
    assert not (tmp_path / "u.xlsx").exists()


def test_cli_template_refuses_towns_and_profile_together(tmp_path):
    r = CliRunner().invoke(main, ["template", "--year", "2026", "--towns", "甲镇", "--profile", str(tmp_path)])
    assert r.exit_code == 2 and "只能选用一个" in r.output
