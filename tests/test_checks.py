"""Plausibility checks (请核实) and the check report sent back to the towns."""

from __future__ import annotations

import os
import re

import pandas as pd
import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner
from openpyxl import load_workbook

from tests.template_filling import fill, header_columns, valid_row, write_profile
from zhidang_analysis.model.catalog import load_catalog
from zhidang_analysis.outputs.checks import plausibility, review, write_check_report
from zhidang_analysis.cli import main
from zhidang_analysis.errors import ZhidangError
from zhidang_analysis.model.dataset import VALUE_COLUMNS, Dataset, Problem
from zhidang_analysis.outputs.template import save_atomic, write_template, write_town_templates

TOWNS = ["T1", "T2", "T3", "T4", "T5", "T6"]
COLUMN = {"theme_party_days": "C", "new_parks": "D", "income_per_household": "E", "new_members": "F"}


def _dataset(series: dict[tuple[str, int], list], approx: set = frozenset()) -> Dataset:
    """values[(code, year)] = one value per town of TOWNS (None: missing); source ``d.xlsx!<year>!<col><row>``."""
    rows = []
    for (code, year), values in series.items():
        for i, (town, value) in enumerate(zip(TOWNS, values), start=4):
            present = value is not None
            rows.append(("测试县", town, year, code, float(value) if present else float("nan"),
                         (town, year, code) in approx, "present" if present else "missing",
                         f"d.xlsx!{year}!{COLUMN[code]}{i}"))
    values = pd.DataFrame(rows, columns=VALUE_COLUMNS)
    profile = pd.DataFrame({"county": "测试县"}, index=pd.Index(TOWNS, name="town"))
    return Dataset(values=values, profile=profile, targets=pd.DataFrame(), catalog=load_catalog())


@pytest.fixture
def ds() -> Dataset:
    return _dataset({
        ("theme_party_days", 2025): [100, 110, 120, 130, 140, 150],
        ("theme_party_days", 2026): [105, 115, 600, 35, 145, 150],
        ("new_parks", 2025): [0, 1, 2, 0, 1, 2],
        ("new_parks", 2026): [2, 2, 2, 2, 2, 9],
        ("income_per_household", 2025): [0.5, 0.6, 0.5, 0.6, 0.5, 0.6],
        ("income_per_household", 2026): [0.5, 2.5, 0.55, 0.6, 0.5, 0.6],
        ("new_members", 2026): [10, 11, 12, 300, None, None],
    }, approx={("T3", 2026, "theme_party_days")})


# --------------------------------------------------------------------------------------------- plausibility
def test_plausibility_flags_jumps_and_values_far_from_the_county(ds):
    found = plausibility(ds)
    assert [(p.town, p.indicator, p.cell, p.value, p.level) for p in found] == [
        # income 0.6 -> 2.5 (> 3 x 0.6 = 1.8); 2026: Q1 0.5125, Q3 0.6, IQR 0.0875, fences [0.25, 0.8625];
        # 2.5 > 4 x median 0.575 = 2.3
        ("T2", "income_per_household", "E5", "2.5", "check"),
        ("T2", "income_per_household", "E5", "2.5", "check"),
        # 120 -> 600余 (5 x); 2026: Q1 107.5, Q3 148.75, IQR 41.25, fences [-16.25, 272.5]; 600 > 4 x median 130
        ("T3", "theme_party_days", "C6", "600余", "check"),
        ("T3", "theme_party_days", "C6", "600余", "check"),
        # 130 -> 35: 130 > 3 x 35 (35 is inside the fences [-16.25, 272.5])
        ("T4", "theme_party_days", "C7", "35", "check"),
    ]
    # not flagged: new_parks 0 -> 2 and 2 -> 9 (small counts, floor 10); 9 among 2s (IQR 0 -> d 1, fence 5,
    # but 9 is not 4 x the floored median 10); new_members 300 (only 4 towns present < min_towns 5)
    assert str(found[1]) == (
        "【请核实】文件“d.xlsx”，工作表“2026”，单元格E5：“户均增收”明显偏离全县各乡镇的一般水平"
        "（2026年6个乡镇的中位数为0.57万元）；读到“2.5”，应为接近全县一般范围（0.25～0.86万元）；如数据无误，请说明原因。")
    assert found[0].message == "“户均增收”比上年大幅增加（2025年为0.6万元，是上年的4.17倍）"
    assert found[2].message == "“主题党日活动”比上年大幅增加（2025年为120次，是上年的5倍）"
    assert found[2].expected == "与上年相差不超过3倍；如数据无误，请说明原因"
    assert found[3].message == "“主题党日活动”明显偏离全县各乡镇的一般水平（2026年6个乡镇的中位数为130次）"
    assert found[3].expected == "接近全县一般范围（0～272.5次）；如数据无误，请说明原因"
    assert found[4].message == "“主题党日活动”比上年大幅减少（2025年为130次，只有上年的26.92%）"
    assert (found[4].file, found[4].sheet) == ("d.xlsx", "2026")


def test_plausibility_lives_in_the_analysis_layer_and_the_check_report_keeps_its_name():
    # the overview (report layer) and the check report (outputs) count the same 请核实 from one function
    from zhidang_analysis.analysis import plausibility as checks_of_data
    from zhidang_analysis.outputs import checks

    assert checks.plausibility is checks_of_data.plausibility is plausibility
    assert "plausibility" in checks.__all__


def test_jump_factor_and_years_are_configurable(ds):
    only_range = plausibility(ds, jump_factor=5.0)  # 4.17, 5 and 3.71 are not above 5: the range checks remain
    assert [(p.town, p.message.endswith(("中位数为0.57万元）", "中位数为130次）"))) for p in only_range] == [
        ("T2", True), ("T3", True)]
    assert plausibility(ds, years=[2025]) == []
    jumps_only = plausibility(ds, min_towns=7)  # 6 towns: too few for a county range
    assert [(p.town, "比上年" in p.message) for p in jumps_only] == [("T2", True), ("T3", True), ("T4", True)]


def test_amounts_changing_from_zero_are_flagged_small_counts_are_not():
    ds = _dataset({("income_per_household", 2025): [0, 0.5, 0.5, 0.5, 0.5, 0.5],
                   ("income_per_household", 2026): [0.4, 0.5, 0.5, 0.5, 0.5, 0.5],
                   ("new_parks", 2025): [0, 0, 0, 0, 0, 0], ("new_parks", 2026): [9, 0, 0, 0, 0, 0]})
    found = plausibility(ds, years=[2026])  # (in 2025, 0 among five 0.5s is itself far from the county)
    assert [(p.town, p.indicator, p.message) for p in found] == [
        ("T1", "income_per_household", "“户均增收”比上年大幅增加（2025年为0万元）")]


# --------------------------------------------------------------------------------------------- report
MISTAKES = {
    "甲镇": {"theme_party_days": "十二",           # not a number
             "new_members": 12.5},                # a count with decimals
    "乙乡": {"income_per_household": 150,         # out of range 0–100
             "home_study_visits": -3,              # negative
             "practical_deeds": "约20"},           # unreadable approximate form
}


def _county_folder(tmp_path):
    """Profile, a valid 2025 workbook, and a 2026 template filled with MISTAKES; return (folder, cells)."""
    folder = tmp_path / "回收"
    write_profile(folder)
    fill(write_template(folder / "2025年.xlsx", 2025, ["甲镇", "乙乡"]),
         {"甲镇": valid_row(2025) | {"warning_sessions": 5}, "乙乡": valid_row(2025, shift=1)})
    path = write_template(folder / "2026年.xlsx", 2026, ["甲镇", "乙乡"])
    rows = {"甲镇": valid_row(2026) | MISTAKES["甲镇"], "乙乡": valid_row(2026, shift=1) | MISTAKES["乙乡"]}
    cells = fill(path, rows)
    return folder, path, cells


def _report_rows(path):
    ws = load_workbook(path)["审核结果"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == ("乡镇", "类别", "文件", "工作表", "单元格", "指标", "读到的值", "问题", "应为")
    return rows[1:]


def test_check_report_names_each_bad_cell(tmp_path):
    folder, path, cells = _county_folder(tmp_path)
    # where a town office looks: the header says which column, column A which row
    columns = header_columns(load_workbook(path)["2026"])
    assert (columns["主题党日活动（次）"], columns["发展党员（名）"]) == ("E", "L")  # 2026: no epidemic columns
    assert cells[("甲镇", "theme_party_days")] == "E4" and cells[("乙乡", "home_study_visits")] == "C5"

    result = review(folder)
    assert not result.ok
    out = write_check_report(result.problems, tmp_path / "审核结果.xlsx")
    rows = _report_rows(out)
    bad = {(t, c) for t, row in MISTAKES.items() for c in row}
    expected = {(town, "错误", "2026年.xlsx", "2026", cells[(town, code)], load_catalog().name(code),
                 str(MISTAKES[town][code])) for town, code in bad}
    assert {r[:7] for r in rows} == expected
    by_cell = {r[4]: r for r in rows}
    assert by_cell["E4"][7] == "“主题党日活动”无法识别为数字"
    assert by_cell["E4"][8] == "0～2000之间的整数（单位：次），约数写作“30余”，不适用写作“—”"
    assert by_cell["L4"][7] == "“发展党员”该指标是计数，不能有小数"
    assert [r[0] for r in rows] == ["甲镇", "甲镇", "乙乡", "乙乡", "乙乡"]  # grouped by town
    summary = list(load_workbook(out)["审核汇总"].iter_rows(min_row=4, max_row=6, values_only=True))
    assert summary == [("乡镇", "错误", "警告", "请核实", "提示", "审核结论"),
                       ("甲镇", 2, 0, 0, 0, "有错误，请更正后重新报送"), ("乙乡", 3, 0, 0, 0, "有错误，请更正后重新报送")]

    html = write_check_report(result.problems, tmp_path / "审核结果.html")
    soup = BeautifulSoup(html.read_text(encoding="utf-8"), "html.parser")
    tables = soup.find_all("table")
    assert [h.get_text() for h in soup.find_all("h2")] == ["汇总", "甲镇", "乙乡"]
    town_cells = [[tr.find_all("td")[3].get_text() for tr in t.find("tbody").find_all("tr")] for t in tables[1:]]
    assert [sorted(c) for c in town_cells] == [
        sorted(cells[("甲镇", c)] for c in MISTAKES["甲镇"]), sorted(cells[("乙乡", c)] for c in MISTAKES["乙乡"])]


def test_cli_report_loop_correct_and_resubmit(tmp_path):
    folder, path, cells = _county_folder(tmp_path)
    report = tmp_path / "发回" / "审核结果.xlsx"
    runner = CliRunner()

    r = runner.invoke(main, ["validate", str(folder), "--report", str(report), "--report", str(report.with_suffix(".html"))])
    assert r.exit_code == 2, r.output  # errors; the report is written all the same
    assert r.output.rstrip().endswith("校验完成：5处错误，0处警告。\n审核结果已保存：{}\n审核结果已保存：{}".format(
        report, report.with_suffix(".html")))
    assert sorted(p.name for p in report.parent.iterdir()) == ["审核结果.html", "审核结果.xlsx"]  # no temp files
    assert len(_report_rows(report)) == 5

    # 乙乡 corrects two of its three cells
    fill(path, {"乙乡": {"income_per_household": 1.5, "home_study_visits": 30}})
    r = runner.invoke(main, ["validate", str(folder), "--report", str(report)])
    assert r.exit_code == 2
    assert {(row[0], row[4]) for row in _report_rows(report)} == {
        ("甲镇", cells[("甲镇", "theme_party_days")]), ("甲镇", cells[("甲镇", "new_members")]),
        ("乙乡", cells[("乙乡", "practical_deeds")])}

    # everything corrected: no errors, but 甲镇's warning sessions went from 5 to 60 -> 请核实, exit code 0
    fill(path, {"甲镇": {"theme_party_days": 12, "new_members": 12, "warning_sessions": 60},
                "乙乡": {"practical_deeds": "20余"}})
    r = runner.invoke(main, ["validate", str(folder), "--report", str(report), "--jump-factor", "3"])
    assert r.exit_code == 0, r.output
    assert "校验完成：0处错误，0处警告，1处请核实。" in r.output
    [row] = _report_rows(report)
    sessions = header_columns(load_workbook(path)["2026"])["警示教育（次）"]
    assert row[:7] == ("甲镇", "请核实", "2026年.xlsx", "2026", f"{sessions}4", "警示教育", "60")
    assert row[7] == "“警示教育”比上年大幅增加（2025年为5次，是上年的12倍）"
    r = runner.invoke(main, ["validate", str(folder), "--jump-factor", "20"])
    assert r.exit_code == 0 and "校验完成：0处错误，0处警告。" in r.output


def test_checks_still_cover_towns_whose_files_have_no_errors(tmp_path):
    folder = tmp_path / "回收"
    write_profile(folder)
    fill(write_template(folder / "2025年.xlsx", 2025, ["甲镇", "乙乡"]),
         {"甲镇": valid_row(2025), "乙乡": valid_row(2025, shift=1) | {"new_members": 4}})
    paths = write_town_templates(folder, 2026, ["甲镇", "乙乡"])
    fill(paths["甲镇"], {"甲镇": valid_row(2026) | {"theme_party_days": "很多"}})
    fill(paths["乙乡"], {"乙乡": valid_row(2026, shift=1) | {"new_members": 40}})
    result = review(folder)
    assert [(p.level, p.town, p.file) for p in result.problems] == [
        ("error", "甲镇", "2026年甲镇指标填报表.xlsx"), ("check", "乙乡", "2026年乙乡指标填报表.xlsx")]
    assert result.dataset is None


def test_html_report_escapes_names_and_is_self_contained(tmp_path):
    problems = [
        Problem("error", "<b>镇</b>.xlsx", "2026", "B4", "<img src=x onerror=alert(1)>", "无法识别为数字", "整数",
                "<script>alert(1)</script>镇", "theme_party_days"),
        Problem("warning", "a.xlsx", None, None, None, "工作表名称不是年度，已跳过"),
    ]
    html = write_check_report(problems, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<script>" not in html and "<img" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;镇" in html
    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", html) and "@import" not in html
    soup = BeautifulSoup(html, "html.parser")
    assert [h.get_text() for h in soup.find_all("h2")] == ["汇总", "<script>alert(1)</script>镇", "（未对应到具体乡镇）"]


def test_xlsx_report_keeps_formula_like_values_as_text(tmp_path):
    problems = [Problem("error", "a.xlsx", "2026", "C5", "=HYPERLINK(\"x\")", "无法识别为数字", "整数", "=甲镇")]
    ws = load_workbook(write_check_report(problems, tmp_path / "r.xlsx"))["审核结果"]
    assert (ws["A2"].value, ws["A2"].data_type) == ("=甲镇", "s")
    assert (ws["G2"].value, ws["G2"].data_type) == ("=HYPERLINK(\"x\")", "s")


def test_report_suffix_must_be_xlsx_or_html(tmp_path):
    with pytest.raises(ZhidangError, match="xlsx 或 .html"):
        write_check_report([], tmp_path / "r.csv")
    r = CliRunner().invoke(main, ["validate", "--report", str(tmp_path / "r.txt")])
    assert r.exit_code == 2 and "xlsx 或 .html" in r.output and not (tmp_path / "r.txt").exists()


def test_a_failed_write_leaves_the_previous_file_and_no_temp_file(tmp_path):
    target = tmp_path / "审核结果.xlsx"
    target.write_bytes(b"previous")

    def broken(tmp):
        tmp.write_bytes(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError):
        save_atomic(target, broken)
    assert target.read_bytes() == b"previous" and os.listdir(tmp_path) == ["审核结果.xlsx"]
