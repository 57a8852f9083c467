"""Loaders on small workbooks written by the tests: every normalisation rule and every error.

Standard layout of a year sheet written by :func:`year_rows` (Excel rows are 1-based)::

    row 1  title                                 (A1)
    row 2  填报单位 note                          (A2)
    row 3  blank
    row 4  乡镇 | 主题党日活动（次） | 发展党员（名） | 警示教育（次） | 户均增收（万元）
    row 5  甲镇 |  B5 | C5 | D5 | E5
    row 6  乙乡 |  B6 | C6 | D6 | E6
    row 7  丙镇 |  B7 | C7 | D7 | E7

so theme_party_days is column B, new_members C, warning_sessions D, income_per_household E.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import importlib.util
import math
import re
import sys

import pandas as pd
import pytest

import zhidang_analysis as zd
from zhidang_analysis.errors import DataError
from zhidang_analysis.model.dataset import VALUE_COLUMNS, Problem
from zhidang_analysis.inputs.cells import CellError, cell_name, parse_cell

from .conftest import PROFILE_ROWS, write_profile, write_xlsx

TITLE = ["测试县2023年度乡镇履行全面从严治党主体责任指标统计表"]
NOTE = ["填报单位：测试县委组织部"]
HEAD = ["乡镇", "主题党日活动（次）", "发展党员（名）", "警示教育（次）", "户均增收（万元）"]
JIA = [12, 10, 3, 0.5]
YI = [8, 5, 2, 0.4]
BING = [20, 7, 4, 0.6]
FILE = "指标.xlsx"


def year_rows(jia=JIA, yi=YI, bing=BING, *, head=HEAD, extra=()):
    return [TITLE, NOTE, [], head, ["甲镇", *jia], ["乙乡", *yi], ["丙镇", *bing], *extra]


def load(folder, sheets, name=FILE):
    write_xlsx(folder / name, sheets)
    return zd.validate(folder)


def ok(result) -> zd.Dataset:
    assert result.ok, "\n".join(map(str, result.problems))
    return result.dataset


def cell(ds, town, year, code) -> pd.Series:
    v = ds.values
    rows = v[(v["town"] == town) & (v["year"] == year) & (v["indicator"] == code)]
    assert len(rows) == 1
    return rows.iloc[0]


def only_error(result) -> Problem:
    assert result.dataset is None
    assert len(result.errors) == 1, "\n".join(map(str, result.problems))
    return result.errors[0]


def assert_located(p: Problem, *, file=FILE, sheet="2023", cell, value):
    """The problem names file, sheet, cell and the value found, in a Chinese message."""
    assert (p.level, p.file, p.sheet, p.cell, p.value) == ("error", file, sheet, cell, value)
    text = str(p)
    assert text.startswith("【错误】")
    assert re.search(r"[\u4e00-\u9fff]", p.message)
    assert f"文件“{file}”" in text
    if sheet:
        assert f"工作表“{sheet}”" in text
    if cell:
        assert f"单元格{cell}" in text
    if value:
        assert f"读到“{value}”" in text


# --------------------------------------------------------------------------------------------- cells
def test_cell_name_is_excel_a1():
    assert cell_name(0, 0) == "A1"
    assert cell_name(6, 3) == "D7"
    assert cell_name(9, 26) == "AA10"


def test_layout_cells_of_this_module():
    rows = year_rows()
    assert rows[3][0] == "乡镇" and cell_name(3, 0) == "A4"
    assert rows[6][3] == BING[2] and cell_name(6, 3) == "D7"


# --------------------------------------------------------------------------------------------- normalisation
@pytest.mark.parametrize(
    ("raw", "value", "approx", "status"),
    [
        (12, 12.0, False, "present"),
        ("12", 12.0, False, "present"),
        ("１２", 12.0, False, "present"),           # full-width digits
        (" 12 ", 12.0, False, "present"),           # spaces
        ("\u300012\u3000", 12.0, False, "present"),  # ideographic spaces
        ("1,234", 1234.0, False, "present"),        # thousands separator
        ("1，234", 1234.0, False, "present"),       # full-width comma
        ("12次", 12.0, False, "present"),           # the indicator's own unit
        ("30余", 30.0, True, "present"),
        ("30多", 30.0, True, "present"),
        ("30余次", 30.0, True, "present"),
        ("—", math.nan, False, "na"),
        ("——", math.nan, False, "na"),
        ("/", math.nan, False, "na"),
        ("不适用", math.nan, False, "na"),
        (None, math.nan, False, "missing"),
        ("   ", math.nan, False, "missing"),
    ],
)
def test_cell_normalisation_through_the_loader(data_dir, raw, value, approx, status):
    ds = ok(load(data_dir, {"2023": year_rows(jia=[raw, 10, 3, 0.5])}))
    row = cell(ds, "甲镇", 2023, "theme_party_days")
    if math.isnan(value):
        assert math.isnan(row["value"])
    else:
        assert row["value"] == value
    assert (bool(row["approx"]), row["status"]) == (approx, status)
    assert row["source"] == "指标.xlsx!2023!B5"
    assert ds.problems == []


def test_decimal_and_thousands_with_decimals_for_money(data_dir):
    head = ["乡镇", "户均增收（万元）", "旅游综合收入（万元）"]
    rows = [head, ["甲镇", "0.85", "1,234.5"], ["乙乡", 0.4, "—"], ["丙镇", "１.２", "12,345"]]
    ds = ok(load(data_dir, {"2023": rows}))
    assert cell(ds, "甲镇", 2023, "income_per_household")["value"] == 0.85
    assert cell(ds, "甲镇", 2023, "tourism_income")["value"] == 1234.5
    assert cell(ds, "乙乡", 2023, "tourism_income")["status"] == "na"
    assert cell(ds, "丙镇", 2023, "income_per_household")["value"] == 1.2
    assert cell(ds, "丙镇", 2023, "tourism_income")["value"] == 12345.0


def test_parse_cell_directly():
    ind = zd.load_catalog()["theme_party_days"]
    assert parse_cell("１２", ind) == (12.0, False, "present")
    assert parse_cell("30余次", ind) == (30.0, True, "present")
    assert parse_cell(7.0, ind) == (7.0, False, "present")
    with pytest.raises(CellError, match="不接受约数"):
        parse_cell("30余", ind, allow_approx=False)
    with pytest.raises(CellError, match="无法识别"):
        parse_cell("1,23", ind)  # not a thousands pattern: an error, never 123
    with pytest.raises(CellError, match="无法识别"):
        parse_cell("12个", ind)  # a unit that is not the indicator's


def test_excel_date_or_boolean_is_an_error():
    ind = zd.load_catalog()["theme_party_days"]
    with pytest.raises(CellError, match="日期"):
        parse_cell(dt.datetime(2023, 1, 12), ind)
    with pytest.raises(CellError):
        parse_cell(True, ind)


def test_title_row_above_header_is_skipped(data_dir):
    ds = ok(load(data_dir, {"2023": year_rows()}))
    assert ds.towns == ["甲镇", "乙乡", "丙镇"]
    assert cell(ds, "丙镇", 2023, "warning_sessions")["source"] == "指标.xlsx!2023!D7"
    assert cell(ds, "丙镇", 2023, "warning_sessions")["value"] == 4.0


def test_header_in_first_row_without_title(data_dir):
    rows = [HEAD, ["甲镇", *JIA], ["乙乡", *YI], ["丙镇", *BING]]
    ds = ok(load(data_dir, {"2023": rows}))
    assert cell(ds, "乙乡", 2023, "new_members")["source"] == "指标.xlsx!2023!C3"
    assert cell(ds, "乙乡", 2023, "new_members")["value"] == 5.0


def test_headers_without_units_and_with_quotes(data_dir):
    head = ["乡镇", "主题党日活动", "发展党员", "“好媳妇”", "好婆婆（名）"]
    rows = [head, ["甲镇", 12, 10, 3, 2], ["乙乡", 8, 5, 1, 1], ["丙镇", 20, 7, 0, 0]]
    ds = ok(load(data_dir, {"2023": rows}))
    assert cell(ds, "甲镇", 2023, "good_daughters_in_law")["value"] == 3.0
    assert cell(ds, "甲镇", 2023, "good_mothers_in_law")["value"] == 2.0
    assert cell(ds, "丙镇", 2023, "theme_party_days")["value"] == 20.0


def test_sheet_named_2023_and_2023nian(data_dir):
    ds = ok(load(data_dir, {"2023": year_rows(), "2024年": year_rows(jia=[13, 11, 4, 0.6])}))
    assert ds.years == [2023, 2024]
    row = cell(ds, "甲镇", 2024, "theme_party_days")
    assert (row["value"], row["source"]) == (13.0, "指标.xlsx!2024年!B5")


def test_matching_total_row_is_dropped_silently(data_dir):
    # sums by hand: B 12+8+20=40, C 10+5+7=22, D 3+2+4=9; E (户均增收) is not additive, any value passes
    ds = ok(load(data_dir, {"2023": year_rows(extra=[["合计", 40, 22, 9, 99]])}))
    assert ds.problems == []
    assert sorted(ds.values["town"].unique()) == sorted(["甲镇", "乙乡", "丙镇"])
    assert not ds.values["source"].str.endswith("8").any()  # nothing read from row 8


def test_total_row_counts_approximate_and_skips_not_applicable(data_dir):
    rows = year_rows(jia=["30余", 10, "—", 0.5], extra=[["小计", 58, 22, 6, None]])
    ds = ok(load(data_dir, {"2023": rows}))
    assert ds.problems == []


def test_mismatching_total_row_warns_naming_the_cell_then_is_dropped(data_dir):
    ds = ok(load(data_dir, {"2023": year_rows(extra=[["合计", 41, 22, 9, None]])}))
    assert len(ds.problems) == 1
    p = ds.problems[0]
    assert (p.level, p.file, p.sheet, p.cell, p.value) == ("warning", FILE, "2023", "B8", "41")
    assert "各乡镇之和为40" in p.message
    assert str(p).startswith("【警告】") and "单元格B8" in str(p)
    assert set(ds.values["town"]) == {"甲镇", "乙乡", "丙镇"}


def test_footer_notes_are_ignored(data_dir):
    rows = year_rows(extra=[[], ["填表人：张三"], ["注：数据截至12月31日"]])
    ds = ok(load(data_dir, {"2023": rows}))
    assert ds.problems == []
    assert set(ds.values["town"]) == {"甲镇", "乙乡", "丙镇"}


def test_town_names_with_spaces_are_normalised(data_dir):
    rows = [HEAD, ["甲 镇", *JIA], [" 乙乡", *YI], ["丙镇 ", *BING]]
    ds = ok(load(data_dir, {"2023": rows}))
    assert ds.towns == ["甲镇", "乙乡", "丙镇"]


def test_non_year_sheet_is_skipped_with_warning_and_instructions_sheet_silently(data_dir):
    ds = ok(load(data_dir, {"填表说明": [["请按说明填写"]], "Sheet1": [["随便"]], "2023": year_rows()}))
    assert len(ds.problems) == 1
    p = ds.problems[0]
    assert (p.level, p.sheet) == ("warning", "Sheet1")
    assert "不是年度" in p.message


def test_csv_tidy_long_form(data_dir):
    path = data_dir / "指标.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["县", "乡镇", "年度", "指标代码", "数值"])
        w.writerow(["测试县", "甲镇", "2023", "theme_party_days", "１２"])  # row 2
        w.writerow(["测试县", "甲镇", "2023年", "发展党员", "30余"])        # row 3, by Chinese name
        w.writerow(["测试县", "乙乡", "2023", "warning_sessions", "—"])     # row 4
        w.writerow(["测试县", "丙镇", "2023", "epidemic_teams", ""])        # row 5, epidemic in 2023
    ds = ok(zd.validate(data_dir))
    jia = cell(ds, "甲镇", 2023, "theme_party_days")
    assert (jia["value"], jia["status"], jia["source"]) == (12.0, "present", "指标.csv!E2")
    nm = cell(ds, "甲镇", 2023, "new_members")
    assert (nm["value"], bool(nm["approx"]), nm["source"]) == (30.0, True, "指标.csv!E3")
    assert cell(ds, "乙乡", 2023, "warning_sessions")["status"] == "na"
    assert cell(ds, "丙镇", 2023, "epidemic_teams")["status"] == "na"
    # indicators a CSV leaves out are missing for each town-year it mentions
    assert cell(ds, "甲镇", 2023, "care_actions")["status"] == "missing"
    assert len(ds.values) == 3 * 57


def test_csv_in_gbk_encoding(data_dir):
    text = "县,乡镇,年度,指标代码,数值\n测试县,甲镇,2023,发展党员,9\n"
    (data_dir / "指标.csv").write_bytes(text.encode("gbk"))
    ds = ok(zd.validate(data_dir))
    assert cell(ds, "甲镇", 2023, "new_members")["value"] == 9.0


def test_csv_bad_value_names_the_cell(data_dir):
    text = "县,乡镇,年度,指标代码,数值\n测试县,甲镇,2023,发展党员,9\n测试县,乙乡,2023,发展党员,很多\n"
    (data_dir / "指标.csv").write_text(text, encoding="utf-8")
    p = only_error(zd.validate(data_dir))
    assert_located(p, file="指标.csv", sheet=None, cell="E3", value="很多")
    assert p.town == "乙乡" and p.indicator == "new_members"


# --------------------------------------------------------------------------------------------- errors
def test_error_text_in_number_column(data_dir):
    p = only_error(load(data_dir, {"2023": year_rows(bing=[20, 7, "很多", 0.6])}))
    assert_located(p, cell="D7", value="很多")
    assert "无法识别为数字" in p.message and "警示教育" in p.message
    assert "0～1000之间的整数" in p.expected
    assert (p.town, p.indicator) == ("丙镇", "warning_sessions")


def test_error_negative_count(data_dir):
    p = only_error(load(data_dir, {"2023": year_rows(yi=[-3, 5, 2, 0.4])}))
    assert_located(p, cell="B6", value="-3")
    assert "不能为负数" in p.message
    assert (p.town, p.indicator) == ("乙乡", "theme_party_days")


def test_error_decimal_in_integer_count(data_dir):
    p = only_error(load(data_dir, {"2023": year_rows(jia=[12, 10.5, 3, 0.5])}))
    assert_located(p, cell="C5", value="10.5")
    assert "不能有小数" in p.message
    assert "整数" in p.expected


def test_decimal_text_in_integer_count_is_an_error_too(data_dir):
    p = only_error(load(data_dir, {"2023": year_rows(jia=[12, "10.5", 3, 0.5])}))
    assert_located(p, cell="C5", value="10.5")


def test_error_out_of_range(data_dir):
    # theme_party_days: 0～2000 in the catalog
    p = only_error(load(data_dir, {"2023": year_rows(bing=[2500, 7, 4, 0.6])}))
    assert_located(p, cell="B7", value="2500")
    assert "超出有效范围" in p.message
    assert p.expected.startswith("0～2000之间的整数")


def test_error_out_of_range_for_decimal_indicator(data_dir):
    # income_per_household: 0～100 万元
    p = only_error(load(data_dir, {"2023": year_rows(yi=[8, 5, 2, 150.5])}))
    assert_located(p, cell="E6", value="150.5")
    assert "0～100之间的数值（单位：万元）" == p.expected


def test_error_unknown_header(data_dir):
    head = ["乡镇", "主题党日活动（次）", "党建活动（次）", "警示教育（次）", "户均增收（万元）"]
    p = only_error(load(data_dir, {"2023": year_rows(head=head)}))
    assert_located(p, cell="C4", value="党建活动（次）")
    assert "无法识别的表头" in p.message


def test_error_unit_in_header_does_not_match(data_dir):
    head = ["乡镇", "主题党日活动（个）", "发展党员（名）", "警示教育（次）", "户均增收（万元）"]
    p = only_error(load(data_dir, {"2023": year_rows(head=head)}))
    assert_located(p, cell="B4", value="主题党日活动（个）")
    assert "单位" in p.message
    assert "主题党日活动（次）" in p.expected


def test_error_profile_item_in_year_sheet(data_dir):
    head = ["乡镇", "主题党日活动（次）", "发展党员（名）", "警示教育（次）", "户籍人口（人）"]
    p = only_error(load(data_dir, {"2023": year_rows(head=head)}))
    assert_located(p, cell="E4", value="户籍人口（人）")
    assert "乡镇概况" in p.message


def test_error_duplicate_town(data_dir):
    rows = [TITLE, NOTE, [], HEAD, ["甲镇", *JIA], ["乙乡", *YI], ["甲镇", *BING]]
    p = only_error(load(data_dir, {"2023": rows}))
    assert_located(p, cell="A7", value="甲镇")
    assert "乡镇重复" in p.message and "第5行" in p.message


def test_error_duplicate_column(data_dir):
    head = ["乡镇", "主题党日活动（次）", "发展党员（名）", "警示教育（次）", "主题党日活动"]
    p = only_error(load(data_dir, {"2023": year_rows(head=head)}))
    assert_located(p, cell="E4", value="主题党日活动")
    assert "重复的列" in p.message and "B4" in p.message


def test_error_town_missing_from_profile(data_dir):
    rows = [TITLE, NOTE, [], HEAD, ["甲镇", *JIA], ["乙乡", *YI], ["丁镇", *BING]]
    p = only_error(load(data_dir, {"2023": rows}))
    assert_located(p, cell="A7", value="丁镇")
    assert "不在乡镇概况表中" in p.message
    assert p.town == "丁镇"


def test_error_town_missing_from_profile_suggests_close_names(data_dir):
    rows = [HEAD, ["甲镇", *JIA], ["乙镇", *YI]]
    p = only_error(load(data_dir, {"2023": rows}))
    assert_located(p, cell="A3", value="乙镇")
    assert "乙乡" in p.expected


def test_error_unreadable_year_sheet_without_header_row(data_dir):
    rows = [TITLE, ["名称", "主题党日活动（次）"], ["甲镇", 3]]
    p = only_error(load(data_dir, {"2023": rows}))
    assert_located(p, cell="A1", value=TITLE[0])
    assert "找不到表头行" in p.message
    assert "乡镇" in p.expected


def test_error_empty_year_sheet(data_dir):
    p = only_error(load(data_dir, {"2023": []}))
    assert_located(p, cell="A1", value="")
    assert "空" in p.message


def test_error_value_for_indicator_not_applicable_that_year(data_dir):
    head = ["乡镇", "主题党日活动（次）", "党员疫情防控突击队（支）"]
    rows = [TITLE, head, ["甲镇", 12, 3], ["乙乡", 8, "—"], ["丙镇", 20, None]]
    p = only_error(load(data_dir, {"2023": rows}))
    assert_located(p, cell="C3", value="3")
    assert "2023年不适用" in p.message
    assert "2020—2022" in p.expected
    assert (p.town, p.indicator) == ("甲镇", "epidemic_teams")


def test_not_applicable_indicator_left_blank_or_dash_is_na(data_dir):
    head = ["乡镇", "主题党日活动（次）", "党员疫情防控突击队（支）"]
    rows = [TITLE, head, ["甲镇", 12, None], ["乙乡", 8, "—"], ["丙镇", 20, None]]
    ds = ok(load(data_dir, {"2023": rows}))
    assert set(ds.values.loc[ds.values["indicator"] == "epidemic_teams", "status"]) == {"na"}


def test_same_year_twice_in_one_workbook_is_an_error(data_dir):
    result = load(data_dir, {"2023": year_rows(), "2023年": year_rows()})
    p = only_error(result)
    assert (p.file, p.sheet) == (FILE, "2023年")
    assert "同一年度" in p.message and "“2023”" in p.message


def test_all_errors_of_a_file_are_collected_in_one_pass(data_dir):
    head = ["乡镇", "主题党日活动（次）", "发展党员（名）", "警示教育（次）", "党建活动"]
    rows = year_rows(jia=["很多", 10, 3, 0.5], yi=[8, 5.5, 2, 0.4], bing=[20, 7, -1, 0.6], head=head)
    rows.append(["丁镇", 1, 1, 1, 1])
    result = load(data_dir, {"2023": rows, "2024": [["没有表头"]]})
    cells = [(p.sheet, p.cell) for p in result.errors]
    assert sorted(cells) == [("2023", "A8"), ("2023", "B5"), ("2023", "C6"), ("2023", "D7"), ("2023", "E4"),
                             ("2024", "A1")]
    assert all(p.file == FILE for p in result.errors)


def test_load_dataset_raises_data_error_with_problems(data_dir):
    write_xlsx(data_dir / FILE, {"2023": year_rows(jia=["很多", 10, 3, 0.5], bing=[20, 7, -1, 0.6])})
    with pytest.raises(DataError) as e:
        zd.load_dataset(data_dir)
    assert [p.cell for p in e.value.problems] == ["B5", "D7"]
    message = str(e.value)
    assert message.startswith("数据校验未通过：共2处错误")
    assert "单元格B5" in message and "单元格D7" in message
    assert isinstance(e.value, zd.ZhidangError)


def test_errors_from_several_files_are_all_reported(data_dir):
    write_xlsx(data_dir / "a.xlsx", {"2023": year_rows(jia=["很多", 10, 3, 0.5])})
    write_xlsx(data_dir / "b.xlsx", {"2024": year_rows(yi=[8, 5, -2, 0.4])})
    result = zd.validate(data_dir)
    assert [(p.file, p.sheet, p.cell) for p in result.errors] == [("a.xlsx", "2023", "B5"), ("b.xlsx", "2024", "D6")]


def test_same_town_and_year_in_two_files_names_both(data_dir):
    write_xlsx(data_dir / "a.xlsx", {"2023": year_rows()})
    write_xlsx(data_dir / "b.xlsx", {"2023": [HEAD, ["甲镇", *JIA]]})
    p = only_error(zd.validate(data_dir))
    assert (p.file, p.town) == ("b.xlsx", "甲镇")
    assert "a.xlsx" in p.message and "2023年" in p.message
    assert "文件“b.xlsx”" in str(p) and "a.xlsx" in str(p)


def test_different_years_in_two_files_combine(data_dir):
    write_xlsx(data_dir / "a.xlsx", {"2023": year_rows()})
    write_xlsx(data_dir / "b.xlsx", {"2024": year_rows(jia=[13, 11, 4, 0.6])})
    ds = ok(zd.validate(data_dir))
    assert ds.years == [2023, 2024]
    assert cell(ds, "甲镇", 2023, "theme_party_days")["source"] == "a.xlsx!2023!B5"
    assert cell(ds, "甲镇", 2024, "theme_party_days")["source"] == "b.xlsx!2024!B5"


def test_missing_profile_is_an_error(tmp_path):
    write_xlsx(tmp_path / FILE, {"2023": year_rows()})
    result = zd.validate(tmp_path)
    assert not result.ok
    assert any("没有找到乡镇概况表" in p.message for p in result.errors)


def test_empty_folder_is_an_error(tmp_path):
    result = zd.validate(tmp_path)
    assert [p.message for p in result.errors] == ["没有找到数据文件"]


def test_office_lock_files_are_ignored(data_dir):
    write_xlsx(data_dir / FILE, {"2023": year_rows()})
    (data_dir / "~$指标.xlsx").write_bytes(b"not a workbook")
    ok(zd.validate(data_dir))


def test_unreadable_workbook_is_an_error_naming_the_file(data_dir):
    (data_dir / "坏文件.xlsx").write_bytes(b"this is not a zip file")
    result = zd.validate(data_dir)
    assert [p.file for p in result.errors] == ["坏文件.xlsx"]
    assert "无法读取Excel文件" in result.errors[0].message


# --------------------------------------------------------------------------------------------- profile
def test_profile_duplicate_town_is_an_error(tmp_path):
    write_profile(tmp_path, PROFILE_ROWS + [PROFILE_ROWS[0]])
    write_xlsx(tmp_path / FILE, {"2023": year_rows()})
    p = only_error(zd.validate(tmp_path))
    assert_located(p, file="乡镇概况.xlsx", sheet="乡镇概况", cell="B5", value="甲镇")
    assert "乡镇重复" in p.message


def test_profile_bad_town_kind_is_an_error(tmp_path):
    rows = [list(r) for r in PROFILE_ROWS]
    rows[1][2] = "县"
    write_profile(tmp_path, rows)
    write_xlsx(tmp_path / FILE, {"2023": year_rows()})
    p = only_error(zd.validate(tmp_path))
    assert_located(p, file="乡镇概况.xlsx", sheet="乡镇概况", cell="C3", value="县")
    assert p.expected == "“镇”或“乡”"


def test_profile_not_applicable_size_figure_is_an_error(tmp_path):
    rows = [list(r) for r in PROFILE_ROWS]
    rows[2][8] = "—"  # 户籍人口 of 丙镇: column I, row 4
    write_profile(tmp_path, rows)
    write_xlsx(tmp_path / FILE, {"2023": year_rows()})
    p = only_error(zd.validate(tmp_path))
    assert_located(p, file="乡镇概况.xlsx", sheet="乡镇概况", cell="I4", value="—")


def test_profile_frame(data_dir):
    write_xlsx(data_dir / FILE, {"2023": year_rows()})
    ds = ok(zd.validate(data_dir))
    prof = ds.profile
    assert list(prof.index) == ["甲镇", "乙乡", "丙镇"]
    assert prof.loc["甲镇", "county"] == "测试县"
    assert prof.loc["乙乡", "town_kind"] == "乡"
    assert prof.loc["丙镇", "herding_villages"] == "下村、中村"
    assert prof.loc["甲镇", "population"] == 20000.0
    assert prof.loc["乙乡", "party_branches"] == 8.0
    assert prof.loc["甲镇", "county_congress_ordinal"] == 15.0
    assert prof["population"].dtype == "float64"
    assert prof.loc["丙镇", "source"] == "乡镇概况.xlsx!乡镇概况!B4"
    assert ds.county == "测试县"


def test_profile_fewer_branches_than_villages_warns(tmp_path):
    rows = [list(r) for r in PROFILE_ROWS]
    rows[0][10] = 9  # 甲镇: 10 villages, 9 branches
    write_profile(tmp_path, rows)
    write_xlsx(tmp_path / FILE, {"2023": year_rows()})
    ds = ok(zd.validate(tmp_path))
    assert [(p.level, p.cell, p.town) for p in ds.problems] == [("warning", "B2", "甲镇")]


# --------------------------------------------------------------------------------------------- dataset
def test_values_table_columns_dtypes_and_sources(data_dir):
    ds = ok(load(data_dir, {"2023": year_rows()}))
    v = ds.values
    assert list(v.columns) == VALUE_COLUMNS == ["county", "town", "year", "indicator", "value", "approx",
                                                "status", "source"]
    assert v["year"].dtype == "int64"
    assert v["value"].dtype == "float64"
    assert v["approx"].dtype == "bool"
    for c in ("county", "town", "indicator", "status", "source"):
        assert pd.api.types.is_string_dtype(v[c]), c
    # 3 towns x 57 yearly indicators (51 apply in 2023, 6 epidemic ones are na)
    assert len(v) == 171
    assert v.groupby("status").size().to_dict() == {"missing": 3 * 47, "na": 3 * 6, "present": 3 * 4}
    assert set(v["county"]) == {"测试县"}
    row = cell(ds, "丙镇", 2023, "warning_sessions")
    assert (row["value"], row["source"]) == (4.0, "指标.xlsx!2023!D7")
    assert cell(ds, "丙镇", 2023, "care_actions")["source"] == "指标.xlsx!2023"
    # sorted by profile town order, then catalog order
    assert list(v["town"].drop_duplicates()) == ["甲镇", "乙乡", "丙镇"]
    assert list(v.loc[v["town"] == "甲镇", "indicator"]) == zd.load_catalog().value_codes
    assert v.index.equals(pd.RangeIndex(171))


def test_dataset_summary_and_lookups(data_dir):
    ds = ok(load(data_dir, {"2023": year_rows(jia=["30余", 10, 3, 0.5])}))
    s = ds.summary()
    assert (s["county"], s["towns"], s["years"], s["indicators"]) == ("测试县", 3, [2023], 57)
    assert (s["present"], s["approx"], s["na"], s["missing"]) == (12, 1, 18, 141)
    assert ds.check_town("乙乡") == "乙乡"
    assert ds.check_year("2023") == 2023
    with pytest.raises(zd.UnknownNameError):
        ds.check_town("丁镇")
    with pytest.raises(zd.UnknownNameError):
        ds.check_year(2019)


def test_town_without_data_in_a_year_warns(data_dir):
    rows_2024 = [HEAD, ["甲镇", *JIA], ["乙乡", *YI]]
    ds = ok(load(data_dir, {"2023": year_rows(), "2024": rows_2024}))
    assert [(p.level, p.file, p.town) for p in ds.problems] == [("warning", "乡镇概况.xlsx", "丙镇")]
    assert "2024年没有数据" in ds.problems[0].message


def test_more_five_star_branches_than_branches_is_an_error_naming_both_cells(data_dir):
    # a cross-field rule of data/rules.yaml (more in test_crosscheck.py); it used to be a warning
    head = ["乡镇", "五星级党支部（个）"]
    rows = [head, ["甲镇", 13], ["乙乡", 8], ["丙镇", 1]]  # 甲镇 has 12 branches: 乡镇概况 column K, row 2
    result = load(data_dir, {"2023": rows})
    assert not result.ok
    assert [(p.cell, p.value, p.town, p.expected) for p in result.errors] == [("B2", "13", "甲镇", "不超过12个")]
    p = result.errors[0]
    assert_located(p, cell="B2", value="13")
    assert p.message == ("五星级党支部（13个，单元格B2）超过乡镇概况中的党支部数"
                         "（12个，文件“乡镇概况.xlsx”工作表“乡镇概况”单元格K2）")
    assert [q.level for q in result.problems] == ["error"]
    with pytest.raises(DataError):
        zd.load_dataset(data_dir, cache=False)


def test_targets_workbook(data_dir):
    write_xlsx(data_dir / FILE, {"2023": year_rows()})
    write_xlsx(data_dir / "目标任务.xlsx", {"2024": [["2024年度目标任务"], HEAD[:3], ["甲镇", 15, 11], ["乙乡", 9, None]]})
    ds = ok(zd.validate(data_dir))
    assert ds.years == [2023]  # targets do not add years
    t = ds.targets
    assert list(t.columns) == ["town", "year", "indicator", "target", "source"]
    assert t.to_dict("records") == [
        {"town": "乙乡", "year": 2024, "indicator": "theme_party_days", "target": 9.0, "source": "目标任务.xlsx!2024!B4"},
        {"town": "甲镇", "year": 2024, "indicator": "new_members", "target": 11.0, "source": "目标任务.xlsx!2024!C3"},
        {"town": "甲镇", "year": 2024, "indicator": "theme_party_days", "target": 15.0, "source": "目标任务.xlsx!2024!B3"},
    ]


def _fingerprint(folder):
    return {
        f.name: (hashlib.sha256(f.read_bytes()).hexdigest(), f.stat().st_mtime_ns)
        for f in sorted(folder.iterdir())
    }


def test_input_files_are_unchanged_after_loading(data_dir):
    write_xlsx(data_dir / FILE, {"2023": year_rows(extra=[["合计", 41, 22, 9, None]])})
    before = _fingerprint(data_dir)
    zd.load_dataset(data_dir)
    assert _fingerprint(data_dir) == before
    assert sorted(before) == sorted(["乡镇概况.xlsx", FILE])


def test_input_files_are_unchanged_after_failed_loading(data_dir):
    write_xlsx(data_dir / FILE, {"2023": year_rows(jia=["很多", 10, 3, 0.5])})
    before = _fingerprint(data_dir)
    with pytest.raises(DataError):
        zd.load_dataset(data_dir)
    assert _fingerprint(data_dir) == before


def test_load_dataset_accepts_single_files(data_dir):
    write_xlsx(data_dir / FILE, {"2023": year_rows()})
    ds = zd.load_dataset(data_dir / "乡镇概况.xlsx", data_dir / FILE)
    assert ds.towns == ["甲镇", "乙乡", "丙镇"]
    assert [f.name for f in ds.files] == ["乡镇概况.xlsx", FILE]


def test_problem_str_format():
    p = Problem("error", "a.xlsx", "2023", "D7", "很多", "无法识别为数字", "整数")
    assert str(p) == "【错误】文件“a.xlsx”，工作表“2023”，单元格D7：无法识别为数字；读到“很多”，应为整数。"
    q = Problem("check", "a.xlsx", None, None, "", "数值偏大")
    assert str(q) == "【请核实】文件“a.xlsx”：数值偏大。"


def test_profile_without_any_yearly_data_is_an_error(data_dir):
    # a dataset with towns but no year would break every report (found while writing these tests)
    result = zd.validate(data_dir)
    assert result.dataset is None
    assert [p.message for p in result.errors] == ["没有找到年度指标数据"]


def test_year_sheet_with_header_but_no_towns_is_an_error(data_dir):
    result = load(data_dir, {"2023": [TITLE, HEAD, ["填表人：张三"]]})
    assert [p.message for p in result.errors] == ["没有找到年度指标数据"]


# --------------------------------------------------------------------------------------------- sample
EPIDEMIC = ["epidemic_teams", "epidemic_members", "disinfection_rounds", "disinfection_households",
            "nat_rounds", "nat_person_times"]


@pytest.fixture(scope="module")
def sample() -> zd.Dataset:
    return zd.load_dataset()


def test_sample_is_the_default_and_loads_without_problems(sample):
    assert [f.parent for f in sample.files] == [zd.SAMPLE_DATA] * 4
    # nothing but what many towns do: 2025 paragraphs that are their 2024 ones, a notice each
    assert [p for p in sample.problems if not p.message.endswith("与2024年一字不差，报告会逐字重复上年的内容")] == []
    assert sample.county == "示范县"


def test_sample_has_at_least_12_towns_and_years_2020_to_2025(sample):
    assert len(sample.towns) >= 12
    assert sample.years == [2020, 2021, 2022, 2023, 2024, 2025]
    # every town reports every year
    assert (sample.values.groupby("town")["year"].nunique() == 6).all()


def test_sample_profile_is_plausible(sample):
    prof = sample.profile
    assert (prof["party_branches"] >= prof["villages"]).all()
    share = prof["party_members"] / prof["population"]
    assert share.between(0.025, 0.04).all(), share.to_dict()
    assert set(prof["town_kind"]) == {"镇", "乡"}
    assert prof["county_congress_ordinal"].eq(15).all()


def test_sample_new_members_between_8_and_30(sample):
    v = sample.values
    nm = v.loc[v["indicator"] == "new_members", "value"]
    assert len(nm) == len(sample.towns) * 6
    assert nm.between(8, 30).all()


def test_sample_has_approximate_cells(sample):
    v = sample.values
    approx = v[v["approx"]]
    assert len(approx) == 8
    assert (approx["value"] % 10 == 0).all()  # written as "30余": a multiple of ten
    row = cell(sample, "城关镇", 2021, "home_study_visits")
    assert bool(row["approx"]) and row["status"] == "present"


def test_sample_has_missing_cells(sample):
    v = sample.values
    missing = v.loc[v["status"] == "missing", ["town", "year", "indicator"]]
    assert sorted(map(tuple, missing.to_numpy().tolist())) == [
        ("河湾镇", 2025, "bilingual_lectures"), ("石门乡", 2022, "care_actions")]
    assert math.isnan(cell(sample, "河湾镇", 2025, "bilingual_lectures")["value"])


def test_sample_epidemic_items_are_na_after_2022(sample):
    v = sample.values
    epi = v[v["indicator"].isin(EPIDEMIC)]
    assert set(epi.loc[epi["year"] > 2022, "status"]) == {"na"}
    assert set(epi.loc[epi["year"] <= 2022, "status"]) == {"present"}
    assert epi.loc[epi["year"] > 2022, "value"].isna().all()


def test_sample_tourism_not_applicable_for_towns_without_scenic_area(sample):
    v = sample.values
    na = v[(v["indicator"] == "tourists") & (v["status"] == "na")]
    assert set(na["town"]) == {"河湾镇", "柳林镇"}


def test_sample_targets(sample):
    t = sample.targets
    assert len(t) > 0
    assert set(t["year"]) == {2023, 2024, 2025}
    assert set(sample.towns) - set(t["town"]) == {"河湾镇", "西滩镇"}
    assert t["source"].str.startswith("目标任务.xlsx!").all()


def test_sample_sources_point_at_cells(sample):
    row = cell(sample, "城关镇", 2020, "home_study_members")
    # 2020: title row 1, header row 2, first town row 3, first indicator column B
    assert row["source"] == "示范县指标数据.xlsx!2020!B3"
    row = cell(sample, "城关镇", 2024, "home_study_members")
    assert row["source"] == "示范县指标数据.xlsx!2024!B4"  # 2024 has a blank row before the header


def _make_sample(tmp_path, monkeypatch, name):
    monkeypatch.setattr(sys, "path", list(sys.path))  # make_sample prepends the repo root
    spec = importlib.util.spec_from_file_location(f"make_sample_{name}", zd.SAMPLE_DATA.parent / "make_sample.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / name
    module.OUT = out
    module.main()
    return out


def test_make_sample_is_deterministic(tmp_path, monkeypatch, capsys):
    a = _make_sample(tmp_path, monkeypatch, "a")
    b = _make_sample(tmp_path, monkeypatch, "b")
    assert sorted(f.name for f in a.iterdir()) == ["乡镇概况.xlsx", "特色做法.xlsx", "目标任务.xlsx", "示范县指标数据.xlsx"]
    da, db = zd.load_dataset(a), zd.load_dataset(b)
    pd.testing.assert_frame_equal(da.values, db.values)
    pd.testing.assert_frame_equal(da.profile, db.profile)
    pd.testing.assert_frame_equal(da.targets, db.targets)
    pd.testing.assert_frame_equal(da.practices.drop(columns="source"), db.practices.drop(columns="source"))
    assert "已生成示范数据" in capsys.readouterr().out
    # and the bundled sample is what the script makes (run `make sample` after changing it or the catalog)
    pd.testing.assert_frame_equal(da.values, zd.load_dataset().values)
    pd.testing.assert_frame_equal(da.practices, zd.load_dataset().practices)


# --------------------------------------------------------------------------------------------- more edges
def test_profile_total_row_is_not_a_town(tmp_path):
    # found while writing these tests: a 合计 row of the size figures used to give three "不能为空" errors
    write_profile(tmp_path, PROFILE_ROWS + [[None, "合计", None, None, None, None, None, 24, 43000, 1290, 29]])
    write_xlsx(tmp_path / FILE, {"2023": year_rows()})
    ds = ok(zd.validate(tmp_path))
    assert list(ds.profile.index) == ["甲镇", "乙乡", "丙镇"]
    assert ds.problems == []


def test_data_error_lists_at_most_50_errors(data_dir):
    codes = zd.load_catalog().applicable(2023)[:20]
    head = ["乡镇"] + [zd.load_catalog().name(c) for c in codes]
    rows = [head] + [[town] + ["坏"] * 20 for town in ("甲镇", "乙乡", "丙镇")]
    write_xlsx(data_dir / FILE, {"2023": rows})
    with pytest.raises(DataError) as e:
        zd.load_dataset(data_dir)
    assert len(e.value.problems) == 60
    lines = str(e.value).splitlines()
    assert lines[0] == "数据校验未通过：共60处错误"
    assert len(lines) == 1 + 50 + 1
    assert lines[-1].strip() == "……另有10处错误未列出"


def test_nonexistent_file_is_an_error(data_dir):
    result = zd.validate(data_dir / "乡镇概况.xlsx", data_dir / "没有这个文件.xlsx")
    assert [p.message for p in result.errors] == ["文件不存在"]
    assert result.errors[0].file.endswith("没有这个文件.xlsx")


def test_excel_error_cell_is_an_error_not_missing(data_dir):
    # openpyxl stores the text "#DIV/0!" as an error cell (data type "e"), as Excel does for a broken formula
    p = only_error(load(data_dir, {"2023": year_rows(bing=[20, 7, "#DIV/0!", 0.6])}))
    assert_located(p, cell="D7", value="#DIV/0!")


def test_load_dataset_serves_unchanged_files_from_cache_as_independent_copies(tmp_path):
    import os
    import shutil

    import zhidang_analysis as zd
    from zhidang_analysis.inputs import load as loaders

    for f in zd.SAMPLE_DATA.glob("*.xlsx"):
        shutil.copy(f, tmp_path / f.name)
    first = zd.load_dataset(tmp_path)
    calls = []
    original = loaders.validate
    loaders.validate = lambda *a, **k: calls.append(a) or original(*a, **k)
    try:
        second = zd.load_dataset(tmp_path)
        assert calls == []  # served from the cache
        pd.testing.assert_frame_equal(first.values, second.values)
        second.values.loc[0, "value"] = -1.0
        assert zd.load_dataset(tmp_path).values.loc[0, "value"] != -1.0  # a copy, not the cached frame
        target = tmp_path / "乡镇概况.xlsx"
        st = target.stat()
        os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))  # the file changed
        zd.load_dataset(tmp_path)
        assert len(calls) == 1
        zd.load_dataset(tmp_path, cache=False)
        assert len(calls) == 2
    finally:
        loaders.validate = original


def test_the_dataset_cache_survives_a_restart_and_a_changed_file_is_read_again(data_dir, monkeypatch, tmp_path):
    from zhidang_analysis.inputs import load as loaders

    monkeypatch.setenv("ZHIDANG_CACHE_DIR", str(tmp_path / "cache"))
    path = write_xlsx(data_dir / "指标.xlsx", {"2023": [["乡镇", "主题党日活动（次）"], ["甲镇", 12], ["乙乡", 8], ["丙镇", 9]]})
    first = zd.load_dataset(data_dir)
    assert list((tmp_path / "cache").iterdir())  # written to the cache folder, not beside the inputs
    assert sorted(p.name for p in data_dir.iterdir()) == ["乡镇概况.xlsx", "指标.xlsx"]
    loaders._DATASETS.clear()  # a new worker process: nothing in memory
    monkeypatch.setattr(loaders, "validate", lambda *a, **k: pytest.fail("read again although unchanged"))
    again = zd.load_dataset(data_dir)
    pd.testing.assert_frame_equal(again.values, first.values)
    monkeypatch.undo()
    monkeypatch.setenv("ZHIDANG_CACHE_DIR", str(tmp_path / "cache"))
    loaders._DATASETS.clear()
    write_xlsx(path, {"2023": [["乡镇", "主题党日活动（次）"], ["甲镇", 13], ["乙乡", 8], ["丙镇", 9]]})
    changed = zd.load_dataset(data_dir)
    assert cell(changed, "甲镇", 2023, "theme_party_days")["value"] == 13.0


@pytest.mark.parametrize("which", ["one county, findings", "two counties"])
def test_a_cache_entry_is_data_not_code_and_gives_back_the_same_dataset(which, monkeypatch, tmp_path):
    """An entry of the disk cache is Parquet tables and a JSON file: read back, every table (their types, the
    profile's index of one or several counties), every finding, the files and the county's own indicators are
    the dataset loaded from the workbooks; a pickle someone placed in the cache folder is never read (and goes)."""
    from zhidang_analysis.inputs import cache
    from zhidang_analysis.inputs import load as loaders
    from zhidang_analysis.model.catalog import LOCAL_SENTENCE

    from .conftest import REPO
    from .test_counties import make_city

    monkeypatch.setenv("ZHIDANG_CACHE_DIR", str(tmp_path / "cache"))
    if which == "two counties":
        folder = make_city(tmp_path / "city")
    else:  # 石岭县: notices for its typing, a sheet 本县指标 of its own indicators
        spec = importlib.util.spec_from_file_location("make_second_county", REPO / "data" / "make_second_county.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        folder = module.build(tmp_path / "shiling")
    (tmp_path / "cache").mkdir()
    planted = (tmp_path / "cache" / "planted.pickle")
    planted.write_bytes(f"cos\nsystem\n(S'touch {tmp_path}/pwned'\ntR.".encode())  # a pickle that runs a command
    first = zd.load_dataset(folder)
    (entry,) = [p for p in (tmp_path / "cache").iterdir()]  # the planted pickle is gone, never read
    assert entry.is_dir() and sorted(p.name for p in entry.iterdir()) == [
        "meta.json", "practices.parquet", "profile.parquet", "targets.parquet", "values.parquet"]
    assert not (tmp_path / "pwned").exists()
    loaders._DATASETS.clear()  # a new worker process
    monkeypatch.setattr(loaders, "validate", lambda *a, **k: pytest.fail("read again although unchanged"))
    again = zd.load_dataset(folder)
    for name in ("values", "profile", "targets", "practices"):
        pd.testing.assert_frame_equal(getattr(again, name), getattr(first, name))
    assert again.problems == first.problems and again.files == first.files
    pd.testing.assert_frame_equal(again.catalog.frame, first.catalog.frame)
    if which == "two counties":
        assert again.multi and again.profile.index.names == ["county", "town"]
    else:
        # (notices of cells cleaned, and 北川乡's 每月“主题党日…” its figures cannot bear: 请核实)
        assert len(again.problems) >= 15 and {p.level for p in again.problems} == {"notice", "check"}
        assert (again.catalog.frame["sentence"] == LOCAL_SENTENCE).sum() == 3
    # a damaged entry is a miss: the workbooks are read again, and the entry written anew
    (entry / "values.parquet").write_bytes(b"not parquet")
    loaders._DATASETS.clear()
    monkeypatch.undo()
    monkeypatch.setenv("ZHIDANG_CACHE_DIR", str(tmp_path / "cache"))
    pd.testing.assert_frame_equal(zd.load_dataset(folder).values, first.values)
    assert cache.disk_load(entry) is not None
