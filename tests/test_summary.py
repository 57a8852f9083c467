"""The county summary workbook (全县汇总表, ``outputs/summary.py``), opened with openpyxl.

The small county of conftest (甲镇 10 villages 12 branches 600 members, 乙乡 6 villages 8 branches 240 members,
丙镇 8 villages 9 branches 450 members), two years. By hand:

- 主题党日活动 2025: 甲 50 (4.2 per 党支部), 乙 30 (3.8), 丙 32 (3.6) → 1, 2, 3;
  丙 2024 was 45: 增减 −13, 增幅 −13/45, a fall of 28.9% → a problem (较上年下降).
- 发展党员 2025: 甲 “30余” (30 per 600 = 5.0 per 100 members), 乙 12 (5.0), 丙 18 (4.0) → 甲, 乙 并列1.
- 旅游综合收入 2025: 甲 120.5, 乙 “—” (不适用), 丙 blank (【待补】).
- target of 主题党日活动 2025 for 甲: 40 → 完成 125%.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from tests.conftest import write_xlsx
from zhidang_analysis import load_dataset
from zhidang_analysis.analysis.problems import town_problems
from zhidang_analysis.cli import main
from zhidang_analysis.outputs.summary import MARKS, section_sheet_name, summary_workbook, write_summaries, write_summary

HEADER = ["乡镇", "主题党日活动（次）", "发展党员（名）", "户均增收（万元）", "旅游综合收入（万元）"]
Y2024 = [["甲镇", 40, 28, 0.8, 100], ["乙乡", 30, 11, 0.7, "—"], ["丙镇", 45, 17, 0.6, 80]]
Y2025 = [["甲镇", 50, "30余", 0.9, 120.5], ["乙乡", 30, 12, 0.75, "—"], ["丙镇", 32, 18, 0.65, None]]
FIRST = 4  # first town row


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    from tests.conftest import write_profile

    d = tmp_path_factory.mktemp("summary")
    write_profile(d)
    write_xlsx(d / "指标数据.xlsx", {"2024": [HEADER, *Y2024], "2025": [HEADER, *Y2025]})
    write_xlsx(d / "年度目标.xlsx", {"2025": [["乡镇", "主题党日活动（次）"], ["甲镇", 40]]})
    return d


@pytest.fixture(scope="module")
def ds(folder):
    # (主题党日 a handful in each town's branches: the norm of one a month is not what these tests are about)
    from zhidang_analysis.model.catalog import load_catalog

    from .conftest import without_norms

    return load_dataset(folder, catalog=without_norms(load_catalog()), cache=False)


@pytest.fixture(scope="module")
def book(ds, tmp_path_factory):
    path = write_summary(ds, 2025, tmp_path_factory.mktemp("out") / "2025年全县汇总表.xlsx")
    return path, load_workbook(path)


def _columns(ws) -> dict[tuple[str, str], int]:
    """(indicator label, sub-header) → column, read from the two header rows."""
    out, group = {}, None
    for col in range(2, ws.max_column + 1):
        group = ws.cell(2, col).value or group
        out[(group, ws.cell(3, col).value)] = col
    return out


def _rows(ws) -> dict[str, int]:
    return {ws.cell(r, 1).value: r for r in range(FIRST, ws.max_row + 1) if ws.cell(r, 1).value}


def test_sheets_one_per_section_then_overall(book, ds):
    _, wb = book
    cat = ds.catalog
    assert wb.sheetnames[0] == "综合"
    assert section_sheet_name("s2", cat.sections["s2"]) == "（二）强化组织建设"
    assert "（二）强化组织建设" in wb.sheetnames and "（六）坚持党建引领" in wb.sheetnames
    assert wb.sheetnames[-1] == "说明"


def test_values_equal_the_dataset(book, ds):
    _, wb = book
    v = ds.values[ds.values["year"] == 2025]
    checked = set()
    for sheet in wb.sheetnames[1:-1]:
        ws = wb[sheet]
        cols, rows = _columns(ws), _rows(ws)
        for rec in v.itertuples():
            label = ds.catalog.label(rec.indicator)
            if (label, "本年") not in cols:
                continue
            cell = ws.cell(rows[rec.town], cols[(label, "本年")])
            if rec.status == "present":
                assert cell.value == pytest.approx(rec.value), (sheet, rec.town, label)
                assert isinstance(cell.value, (int, float))
            else:
                assert cell.value == MARKS[rec.status]
            checked.add((rec.town, rec.indicator))
    # every value given (a number or “—”) is on a sheet; the loader's blanks of indicators outside the year sheet too
    given = v[(v["status"] != "missing") & v["indicator"].isin(ds.catalog.applicable(2025))]
    assert set(zip(given["town"], given["indicator"])) <= checked
    assert len(checked) == v["indicator"].isin(ds.catalog.applicable(2025)).sum()


def test_change_and_marks(book):
    _, wb = book
    ws = wb["（二）强化组织建设"]
    cols, rows = _columns(ws), _rows(ws)
    days = "主题党日活动（次）"
    assert ws.cell(rows["丙镇"], cols[(days, "上年")]).value == 45
    assert ws.cell(rows["丙镇"], cols[(days, "增减")]).value == -13
    assert ws.cell(rows["丙镇"], cols[(days, "增幅")]).value == pytest.approx(-13 / 45)
    assert ws.cell(rows["甲镇"], cols[(days, "目标完成率")]).value == pytest.approx(1.25)
    assert "年度目标：40次" in ws.cell(rows["甲镇"], cols[(days, "目标完成率")]).comment.text
    # 约数: the number 30 kept, shown as 30余, with a comment
    approx = ws.cell(rows["甲镇"], cols[("发展党员（名）", "本年")])
    assert approx.value == 30 and approx.number_format.endswith('"余"')
    assert "约数" in approx.comment.text
    # the source of every value: file, sheet and cell
    assert "指标数据.xlsx，工作表“2025”，单元格B2" in ws.cell(rows["甲镇"], cols[(days, "本年")]).comment.text
    six = wb["（六）坚持党建引领"]
    cols6, rows6 = _columns(six), _rows(six)
    tour = "旅游综合收入（万元）"
    assert six.cell(rows6["乙乡"], cols6[(tour, "本年")]).value == "不适用"
    assert six.cell(rows6["丙镇"], cols6[(tour, "本年")]).value == "【待补】"
    assert six.cell(rows6["甲镇"], cols6[(tour, "本年")]).value == pytest.approx(120.5)


def test_ranks_with_ties(book):
    _, wb = book
    ws = wb["（二）强化组织建设"]
    cols, rows = _columns(ws), _rows(ws)
    # 发展党员 per 100 members 5.0, 5.0, 4.0: 并列1, 并列1, 3; 主题党日 per 党支部 4.2, 3.8, 3.6: 1, 2, 3
    for label, ranks, tied in (("发展党员（名）", (1, 1, 3), (True, True, False)),
                               ("主题党日活动（次）", (1, 2, 3), (False, False, False))):
        col = cols[(label, "全县排名")]
        cells = [ws.cell(rows[t], col) for t in ("甲镇", "乙乡", "丙镇")]
        assert tuple(c.value for c in cells) == ranks, label
        assert [c.number_format for c in cells] == ['"并列"0' if t else "0" for t in tied], label
    # the comment tells the value compared as the report prints it (50 ÷ 12 = 4.17 → 4.2; 30 ÷ 8 = 3.75 → 3.8)
    col = cols[("主题党日活动（次）", "全县排名")]
    assert "按平均每个党支部4.2比较，共3个乡镇" in ws.cell(rows["甲镇"], col).comment.text
    assert "按平均每个党支部3.8比较" in ws.cell(rows["乙乡"], col).comment.text


def test_number_formats_per_unit(book):
    _, wb = book
    ws = wb["（六）坚持党建引领"]
    cols, rows = _columns(ws), _rows(ws)
    assert ws.cell(rows["甲镇"], cols[("户均增收（万元）", "本年")]).number_format == "#,##0.00"
    two = wb["（二）强化组织建设"]
    c2, r2 = _columns(two), _rows(two)
    assert two.cell(r2["乙乡"], c2[("发展党员（名）", "本年")]).number_format == "#,##0"
    assert two.cell(r2["丙镇"], c2[("主题党日活动（次）", "增幅")]).number_format == "+0.0%;-0.0%;0.0%"
    assert two.cell(r2["甲镇"], c2[("主题党日活动（次）", "目标完成率")]).number_format == "0.0%"


def test_problems_highlighted_with_why(book, ds):
    _, wb = book
    problems = town_problems(ds, 2025)
    data = problems[problems["kind"] != "own"]
    assert len(data)  # 丙镇's fall of 主题党日活动 at least
    ws = wb["（二）强化组织建设"]
    cols, rows = _columns(ws), _rows(ws)
    cell = ws.cell(rows["丙镇"], cols[("主题党日活动（次）", "本年")])
    assert cell.fill.fgColor.rgb.endswith("F8CBAD")
    assert cell.comment.text.startswith("存在问题（较上年下降）")
    overall = wb["综合"]
    header = [overall.cell(2, c).value for c in range(1, overall.max_column + 1)]
    r = _rows(overall)["丙镇"]
    assert overall.cell(r, header.index("问题数") + 1).value == int((problems["town"] == "丙镇").sum())
    assert "主题党日活动" in overall.cell(r, header.index("存在的问题") + 1).value


def test_excel_features(book):
    _, wb = book
    for ws in (wb["综合"], wb["（二）强化组织建设"]):
        assert ws.freeze_panes == "B4"
        assert ws.auto_filter.ref == f"A3:{get_column_letter(ws.max_column)}6"
        assert ws.page_setup.orientation == "landscape"
        assert int(ws.page_setup.paperSize) == int(ws.PAPERSIZE_A4) == 9
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        # 综合 fits one page across; a section sheet one page across per three indicators (readable on A4)
        indicators = (ws.max_column - 1) // 6
        assert int(ws.page_setup.fitToWidth) == (1 if ws.title == "综合" else -(-indicators // 3))
        assert ws.print_title_cols.replace("$", "") == "A:A"
        assert ws.page_setup.fitToHeight == 0
        assert ws.print_title_rows.replace("$", "") == "1:3"
        assert "&P" in ws.oddFooter.center.text
        assert len(ws.conditional_formatting) >= 1
        assert ws.column_dimensions["A"].width >= 8
    two = wb["（二）强化组织建设"]
    rules = [r for cf in two.conditional_formatting for r in cf.rules]
    assert any(r.operator == "lessThan" for r in rules)
    assert any("ISNUMBER" in r.formula[0] for r in rules if r.formula)


def test_overall_scores_and_completeness(book, ds):
    from zhidang_analysis.analysis.standing import county_scores

    _, wb = book
    ws = wb["综合"]
    header = [ws.cell(2, c).value for c in range(1, ws.max_column + 1)]
    rows = _rows(ws)
    scores = county_scores(ds, 2025).xs(2025, level="year")
    for town in ("甲镇", "乙乡", "丙镇"):
        assert ws.cell(rows[town], 2).value == pytest.approx(scores.at[town, "score"])
        assert ws.cell(rows[town], 3).value == scores.at[town, "rank"]
    # 丙镇 left 旅游综合收入 blank: one more 未填 than 甲镇; 乙乡's “—” is not counted among the 应填
    col = {h: header.index(h) + 1 for h in header}
    jia, yi, bing = rows["甲镇"], rows["乙乡"], rows["丙镇"]
    assert ws.cell(bing, col["未填（项）"]).value == ws.cell(jia, col["未填（项）"]).value + 1
    assert ws.cell(bing, col["已填（项）"]).value == 3
    assert ws.cell(bing, col["完整率"]).value == pytest.approx(3 / ws.cell(bing, col["应填（项）"]).value)
    assert ws.cell(yi, col["应填（项）"]).value == ws.cell(jia, col["应填（项）"]).value - 1
    assert ws.cell(rows["甲镇"], header.index("约数（项）") + 1).value == 1


def test_several_counties_one_workbook_each_and_comparison(folder, tmp_path):
    d = tmp_path / "two"
    shutil.copytree(folder, d)
    from tests.conftest import PROFILE_HEADER

    write_xlsx(d / "乡镇概况.xlsx", {"乡镇概况": [PROFILE_HEADER,
                                               ["测试县", "甲镇", "镇", "甘肃", None, None, 15, 10, 20000, 600, 12],
                                               ["测试县", "乙乡", "乡", "甘肃", None, None, 15, 6, 8000, 240, 8],
                                               ["邻县", "丙镇", "镇", "甘肃", None, None, 15, 8, 15000, 450, 9]]})
    ds = load_dataset(d)
    assert ds.multi
    paths = write_summaries(ds, [2025], tmp_path / "out")
    names = sorted(p.name for p in paths)
    assert names == sorted(["2025年测试县汇总表.xlsx", "2025年邻县汇总表.xlsx", "2025年各县比较.xlsx"])
    wb = load_workbook(tmp_path / "out" / "2025年邻县汇总表.xlsx")
    assert list(_rows(wb["综合"])) == ["丙镇"]
    cmp = load_workbook(tmp_path / "out" / "2025年各县比较.xlsx").active
    assert [cmp.cell(r, 1).value for r in (4, 5)] == ["测试县", "邻县"]


def test_workbook_without_file(ds):
    wb = summary_workbook(ds, 2025)
    assert wb["综合"].cell(1, 1).value.startswith("测试县2025年全县汇总表")


def test_cli_export(folder, tmp_path):
    out = tmp_path / "exp"
    r = CliRunner().invoke(main, ["export", "--year", "2025", "--data", str(folder), "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert (out / "2025" / "2025年全县汇总表.xlsx").exists()
    assert "全县汇总表" in r.output
    help_text = CliRunner().invoke(main, ["export", "--help"]).output
    assert "汇总表" in help_text


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) 未安装")
def test_libreoffice_converts_to_pdf(book, tmp_path):
    path, _ = book
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/lo", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), str(path)], check=True, capture_output=True, timeout=180)
    pdf = tmp_path / (path.stem + ".pdf")
    assert pdf.exists() and pdf.stat().st_size > 1000
    from pypdf import PdfReader

    reader = PdfReader(pdf)
    text = "".join(p.extract_text() for p in reader.pages)
    assert "全县汇总表" in text and "并列1" in text


def test_explorer_button_writes_the_summary_of_the_selected_year(ds, tmp_path):
    from zhidang_analysis.explorer import Explorer

    ex = Explorer(ds, out=tmp_path, year=2025)
    ex.summary_button.click()
    path = tmp_path / "2025" / "2025年全县汇总表.xlsx"
    assert path.exists() and (tmp_path / "2025" / "charts.xlsx").exists()
    assert "汇总表已导出" in ex.status.value and "2025年全县汇总表.xlsx" in ex.links_html
    assert "download=" in ex.links_html  # a workbook is a download, not JupyterLab's text viewer
    assert load_workbook(path)["综合"].cell(1, 1).value.startswith("测试县2025年全县汇总表")
