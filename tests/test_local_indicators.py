"""A county's own indicators (sheet 本县指标): declared once, read as columns of its year sheets, written first in
（六）, and the town's largest movement leading （六）."""

from __future__ import annotations

import re

import pytest

import zhidang_analysis as zd
from zhidang_analysis.report import narrative
from zhidang_analysis.model.catalog import LOCAL_SENTENCE

from .conftest import PROFILE_HEADER, PROFILE_ROWS, write_xlsx

DECLARED = [["名称", "单位", "整数", "最小值", "最大值", "报告写法", "说明"],
            ["苹果种植面积", "亩", "否", 0, 100000, "种植苹果x", "全年苹果种植面积"],
            ["光伏装机容量", "千瓦", None, None, None, None, None]]


def county(folder, declared=DECLARED, extra_2025=None):
    write_xlsx(folder / "乡镇概况.xlsx", {"乡镇概况": [PROFILE_HEADER, *PROFILE_ROWS]})
    head = ["乡镇", "发展党员（名）", "重点项目投资（万元）", "苹果种植面积（亩）", "光伏装机容量（千瓦）"]
    write_xlsx(folder / "数据.xlsx", {
        "本县指标": declared,
        "2024": [head, ["甲镇", 5, 100, 3000, "—"], ["乙乡", 4, 80, "—", 1200], ["丙镇", 6, 90, 1000, "—"]],
        "2025": [head, ["甲镇", 6, 110, 3300, "—"], ["乙乡", 4, 536, "—", 1500], ["丙镇", 6, 95, 1050, "—"]]
        + (extra_2025 or []),
    })
    return folder


def test_a_countys_own_indicators_are_read_from_its_year_sheets(tmp_path):
    ds = zd.load_dataset(county(tmp_path), cache=False)
    cat = ds.catalog
    apples = cat.match_header("苹果种植面积（亩）")[0]
    assert apples.startswith("local_") and cat.frame.at[apples, "section"] == "s6"
    assert cat.frame.at[apples, "sentence"] == LOCAL_SENTENCE and not cat.frame.at[apples, "integer"]
    v = ds.values.set_index(["town", "year", "indicator"])
    assert v.at[("甲镇", 2025, apples), "value"] == 3300.0
    assert v.at[("甲镇", 2025, apples), "source"] == "数据.xlsx!2025!D2"
    assert v.at[("乙乡", 2025, apples), "status"] == "na"
    solar = cat.match_header("光伏装机容量")[0]
    assert cat.frame.at[solar, "phrase"] == "光伏装机容量{}{chg}"  # no 报告写法: the name and the number


def test_the_sixth_section_leads_with_the_countys_own_industry(tmp_path):
    ds = zd.load_dataset(county(tmp_path), cache=False)
    six = narrative.town_report(ds, "甲镇", 2025).text.split("（六）")[1].split("二、")[0]
    body = six.split("\n", 2)[2].strip()
    # after at most a short lead of the phrase bank (立足本地特色产业，)
    assert re.match(r"^([^，。]{2,10}，)?种植苹果3300亩，同比增长10%。", body), body


def test_the_largest_movement_leads_and_says_how_large(tmp_path):
    ds = zd.load_dataset(county(tmp_path), cache=False)
    six = narrative.town_report(ds, "乙乡", 2025).text.split("（六）")[1].split("二、")[0]
    body = six.split("\n", 2)[2].strip()
    # 80 → 536 万元 is 6.7 times the year before: that sentence comes first and says so; the solar one follows
    first = body.split("。")[0]
    # (after the sentence's lead, one per town: 扎实推进乡村建设行动，先后投资…)
    assert re.match(r"(?:[^，]*，)?先后投资", first) and "投资536万元实施重点项目" in first, body
    assert first.endswith("投资536万元实施重点项目【待补：重点项目项数】，投资额是上年的6.7倍"), first  # 重点项目 named once
    assert body.index("投资额是上年的6.7倍") < body.index("光伏装机容量1500千瓦")


@pytest.mark.parametrize("row, cell, message", [
    (["发展党员", "名", None, None, None, None, None], "A4", "与指标目录中的“发展党员（名）”同名"),
    (["苹果种植面积", "亩", None, None, None, None, None], "A4", "与A2重复"),
    (["核桃种植面积", None, None, None, None, None, None], "B4", "“核桃种植面积”缺少单位"),
    (["核桃种植面积", "亩", "对", None, None, None, None], "C4", "“整数”填写不正确"),
    (["核桃种植面积", "亩", None, "零", None, None, None], "D4", "“核桃种植面积”的最小值不是数字"),
    (["核桃种植面积", "亩", None, None, None, "种植核桃", None], "F4", "“报告写法”中要有一个x表示数字的位置"),
])
def test_a_bad_declaration_is_an_error_naming_its_cell(tmp_path, row, cell, message):
    result = zd.validate(county(tmp_path, declared=DECLARED + [row]))
    found = [(p.sheet, p.cell, p.message) for p in result.errors]
    assert ("本县指标", cell, message) in found, found


def test_a_countys_own_indicators_survive_the_dataset_cache(tmp_path):
    folder = county(tmp_path / "data")
    first = zd.load_dataset(folder)  # read, and stored in the on-disk cache
    from zhidang_analysis.inputs import load as loaders

    loaders._DATASETS.clear()  # as a restarted kernel: only the on-disk cache knows it
    again = zd.load_dataset(folder)
    for ds in (first, again):
        assert "本县特色产业" in ds.catalog.sentences and ds.catalog.match_header("苹果种植面积（亩）")[0]
    six = narrative.town_report(again, "甲镇", 2025).text.split("（六）")[1]
    assert "种植苹果3300亩" in six


def test_the_entry_template_carries_the_countys_own_indicators(tmp_path):
    """`zhidang template --profile <the county's folder>` gives the county's own indicators their columns (with
    their ranges) and a sheet 本县指标 that declares them, so the filled template reads back on its own."""
    from click.testing import CliRunner
    from openpyxl import load_workbook

    from zhidang_analysis.cli import main

    from .template_filling import fill

    data = tmp_path / "data"
    data.mkdir()
    county(data)
    out = tmp_path / "2026年指标填报表.xlsx"
    res = CliRunner().invoke(main, ["template", "--year", "2026", "--profile", str(data), "-o", str(out)])
    assert res.exit_code == 0, res.output
    wb = load_workbook(out)
    declared = [list(r) for r in wb["本县指标"].iter_rows(values_only=True)]
    assert declared[0] == DECLARED[0]
    assert declared[1] == ["苹果种植面积", "亩", "否", 0, 100000, "种植苹果x", "全年苹果种植面积"]
    assert declared[2][:6] == ["光伏装机容量", "千瓦", "否", 0, None, None]
    ds = zd.load_dataset(data, cache=False)
    apples, solar = (ds.catalog.match_header(h)[0] for h in ("苹果种植面积（亩）", "光伏装机容量（千瓦）"))
    headers = [c.value for c in wb.worksheets[0][3]]
    assert ds.catalog.label(apples) in headers and ds.catalog.label(solar) in headers
    cells = fill(out, {"甲镇": {apples: 3500, "new_members": 7}}, catalog=ds.catalog)
    # the filled template alone: its own declaration makes the columns the county's indicators again
    filled = zd.load_dataset(out, data / "乡镇概况.xlsx", cache=False)
    v = filled.values.set_index(["town", "year", "indicator"])
    assert v.at[("甲镇", 2026, apples), "value"] == 3500.0
    assert v.at[("甲镇", 2026, apples), "source"].endswith(cells[("甲镇", apples)])
    # with last year's data beside it (declared twice, once in each): still one indicator
    both = zd.load_dataset(out, data, cache=False)
    assert both.catalog.local_entries() == filled.catalog.local_entries()
    assert sorted(both.years) == [2024, 2025, 2026]
