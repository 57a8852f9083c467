"""The sheet 特色做法: each town's own practices, read with every problem named by file, sheet and cell."""

from __future__ import annotations

import pandas as pd

import zhidang_analysis as zd
from zhidang_analysis.inputs.practices import split_items

from .conftest import write_xlsx

HEADER = ["乡镇", "年度", "学习载体", "（一）特色做法", "自查问题"]
VALUES = {"2025": [["乡镇", "主题党日活动（次）"], ["甲镇", 12], ["乙乡", 8], ["丙镇", 9]]}


def _load(data_dir, rows):
    write_xlsx(data_dir / "指标.xlsx", VALUES)
    write_xlsx(data_dir / "做法.xlsx", {"特色做法": rows})
    return zd.validate(data_dir)


def test_practices_are_read_per_town_and_year_with_their_cells(data_dir):
    result = _load(data_dir, [HEADER,
                              ["甲镇", 2025, "周三“田间课堂”", "坚持……。", "问题一\n问题二"],
                              ["乙乡", "2025年", None, None, None]])
    assert result.ok, [str(p) for p in result.problems]
    ds = result.dataset
    assert ds.practice("甲镇", 2025) == {
        "study_carrier": ("周三“田间课堂”", "做法.xlsx!特色做法!C2"),
        "s1_practice": ("坚持……。", "做法.xlsx!特色做法!D2"),
        "own_problems": ("问题一\n问题二", "做法.xlsx!特色做法!E2"),
    }
    assert ds.practice("乙乡", 2025) == {} and ds.practice("丙镇", 2025) == {}
    text = zd.narrative.town_report(ds, "甲镇", 2025).text
    assert "依托周三“田间课堂”" in text and "问题一" in text and "问题二" in text


def test_every_problem_of_the_sheet_is_reported_in_one_pass(data_dir):
    result = _load(data_dir, [HEADER + ["学习心得"],
                              ["甲镇", 2025, "课堂", None, None, None],
                              ["丁镇", 2025, "课堂", None, None, None],
                              ["乙乡", "二五年", "课堂", None, None, None],
                              ["甲镇", 2025, "又一行", None, None, None],
                              ["丙镇", 2025, "很长" * 21, None, None, None]])
    got = {(p.cell, p.message) for p in result.errors}
    assert got == {
        ("F1", "无法识别的表头"),
        ("A3", "乡镇不在乡镇概况表中"),
        ("B4", "年度无法识别"),
        ("A5", "乡镇“甲镇”2025年的特色做法重复：文件“做法.xlsx”工作表“特色做法”第2行已填写"),
        ("C6", "“学习载体”太长（42字）"),
    }
    assert all(p.file == "做法.xlsx" and p.sheet == "特色做法" for p in result.errors)
    assert result.dataset is None


def test_a_practice_year_without_values_is_a_warning(data_dir):
    result = _load(data_dir, [HEADER, ["甲镇", 2024, "课堂", None, None]])
    assert result.ok
    [w] = [p for p in result.problems if p.level == "warning"]
    assert (w.cell, w.message) == ("C2", "特色做法中的2024年没有指标数据，该行不会写入报告")


def test_list_items_split_by_line_or_semicolon_and_numbering_removed():
    assert split_items("1. 甲问题。\n（2）乙问题；三是丙问题") == ["甲问题", "乙问题", "丙问题"]
    assert split_items("青稞种植业、牦牛养殖业", by_dunhao=True) == ["青稞种植业", "牦牛养殖业"]


def test_a_routine_the_towns_own_figures_cannot_bear_is_to_be_checked():
    """坚持每月开展“主题党日” in a year of 100 主题党日 in 10 branches (10 each: not one a month) is 请核实, named by its
    cell with the figures; 150 in 12 branches (12.5) and 每季度 with 45 in 10 (4.5) are not."""
    from zhidang_analysis.inputs.practices import routine_claims
    from zhidang_analysis.model.catalog import load_catalog

    cat = load_catalog()
    practices = pd.DataFrame([
        ("甲镇", 2025, "study_rules", "坚持每月开展“主题党日+政策宣讲”", "特色做法.xlsx!特色做法!D2"),
        ("乙镇", 2025, "study_rules", "坚持每月开展“主题党日+政策宣讲”", "特色做法.xlsx!特色做法!D3"),
        ("丙乡", 2025, "study_rules", "每季度开展一次主题党日", "特色做法.xlsx!特色做法!D4"),
        ("丁乡", 2025, "study_rules", "每月集中学习一次", "特色做法.xlsx!特色做法!D5"),
    ], columns=["town", "year", "field", "text", "source"])
    values = pd.DataFrame([(t, 2025, "theme_party_days", v, "present") for t, v in
                           (("甲镇", 100.0), ("乙镇", 150.0), ("丙乡", 45.0), ("丁乡", 20.0))],
                          columns=["town", "year", "indicator", "value", "status"])
    profile = pd.DataFrame({"party_branches": [10.0, 12.0, 10.0, 10.0]}, index=["甲镇", "乙镇", "丙乡", "丁乡"])
    found = routine_claims(practices, values, profile, cat)
    assert [(p.level, p.town, p.cell, p.indicator) for p in found] == [("check", "甲镇", "D2", "theme_party_days")]
    assert "平均每个党支部10.0次，不到每月一次" in found[0].message and "‘主题党日+政策宣讲’" in found[0].message
    assert found[0].value == "坚持每月开展“主题党日+政策宣讲”"  # what the cell says, as it says it
