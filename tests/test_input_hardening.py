"""Input that used to be lost or guessed while ``zhidang validate`` said 0 errors (issue 13).

Each test writes its own small input and asserts the exact error, warning or value. Layout of the standard
year sheet (as in test_loaders.py)::

    row 1  title
    row 2  乡镇 | 主题党日活动（次） | 发展党员（名） | 警示教育（次） | 户均增收（万元）
    row 3  甲镇 |  B3 | C3 | D3 | E3
    row 4  乙乡 |  B4 | C4 | D4 | E4
    row 5  丙镇 |  B5 | C5 | D5 | E5

The towns 甲镇, 乙乡, 丙镇 come from the profile workbook 乡镇概况.xlsx of the ``data_dir`` fixture.
"""

from __future__ import annotations

import struct
import zipfile

import pytest

import zhidang_analysis as zd
from zhidang_analysis.outputs import checks
from zhidang_analysis.inputs import workbooks
from zhidang_analysis.inputs.cells import UNCOMPUTED_EXPECTED
from zhidang_analysis.model.dataset import Problem

from .conftest import PROFILE_HEADER, PROFILE_ROWS, write_profile, write_xlsx

TITLE = ["测试县2023年度指标统计表"]
HEAD = ["乡镇", "主题党日活动（次）", "发展党员（名）", "警示教育（次）", "户均增收（万元）"]
JIA, YI, BING = [12, 10, 3, 0.5], [8, 5, 2, 0.4], [20, 7, 4, 0.6]
FILE = "指标.xlsx"


def rows(jia=JIA, yi=YI, bing=BING, *, head=HEAD, extra=()):
    return [TITLE, head, ["甲镇", *jia], ["乙乡", *yi], ["丙镇", *bing], *extra]


def value(ds, town, year, code):
    v = ds.values
    hit = v[(v["town"] == town) & (v["year"] == year) & (v["indicator"] == code)]
    assert len(hit) == 1
    return hit.iloc[0]


def problems(result, level=None) -> list[tuple]:
    """(level, file, sheet, cell, value, message, expected) of each problem, in order."""
    return [(p.level, p.file, p.sheet, p.cell, p.value, p.message, p.expected)
            for p in result.problems if level is None or p.level == level]


def ok(result):
    assert result.ok, "\n".join(map(str, result.problems))
    return result.dataset


# --------------------------------------------------------------------------------------------- formulas
def test_formula_without_saved_result_is_an_error_asking_to_open_and_save(data_dir):
    # openpyxl (like any script) writes the formula and no result: <f>SUM(8,1)</f><v></v>
    write_xlsx(data_dir / FILE, {"2023": rows(yi=["=SUM(8,1)", 5, 2, 0.4])})
    result = zd.validate(data_dir)
    assert problems(result) == [
        ("error", FILE, "2023", "B4", "=SUM(8,1)",
         "“主题党日活动”是公式，但文件中没有保存公式的计算结果（文件由程序生成，或没有在Excel/WPS中计算后保存）",
         "计算好的数值：请用Excel或WPS打开该文件，保存后再校验"),
    ]
    assert result.dataset is None


def test_formula_with_its_saved_result_is_read_as_that_result(data_dir):
    path = write_xlsx(data_dir / FILE, {"2023": rows(yi=["=SUM(8,1)", 5, 2, 0.4])})
    # what Excel writes after calculating: the cached result in <v>
    with zipfile.ZipFile(path) as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
    sheet = next(n for n in parts if n.startswith("xl/worksheets/sheet"))
    assert b"<f>SUM(8,1)</f><v></v>" in parts[sheet]
    parts[sheet] = parts[sheet].replace(b"<f>SUM(8,1)</f><v></v>", b"<f>SUM(8,1)</f><v>9</v>")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, data in parts.items():
            zf.writestr(n, data)
    ds = ok(zd.validate(data_dir))
    assert value(ds, "乙乡", 2023, "theme_party_days")["value"] == 9.0
    assert ds.problems == []


def test_total_row_of_formulas_without_results_is_one_warning(data_dir):
    extra = [["合计", "=SUM(B3:B5)", "=SUM(C3:C5)", "=SUM(D3:D5)", None]]
    ds = ok(zd.validate(write_xlsx(data_dir / FILE, {"2023": rows(extra=extra)}).parent))
    assert [(p.level, p.cell, p.value, p.message, p.expected) for p in ds.problems] == [
        ("warning", "B6", "=SUM(B3:B5)", "合计行的3个单元格是没有保存计算结果的公式，未能与各乡镇之和核对，合计行已忽略",
         UNCOMPUTED_EXPECTED)]


def test_profile_text_formula_without_result_is_an_error(tmp_path):
    profile = [list(r) for r in PROFILE_ROWS]
    profile[1][3] = '=CONCAT("甘","肃")'  # 乙乡's 省份, D3
    write_profile(tmp_path, profile)
    write_xlsx(tmp_path / FILE, {"2023": rows()})
    result = zd.validate(tmp_path)
    assert [(p.file, p.cell, p.value, p.message) for p in result.errors] == [
        ("乡镇概况.xlsx", "D3", '=CONCAT("甘","肃")',
         "“省份”是公式，但文件中没有保存公式的计算结果（文件由程序生成，或没有在Excel/WPS中计算后保存）")]


# --------------------------------------------------------------------------------------------- .xls
def write_xls(path, sheets: dict[str, list[list]], *, errors=(), percent=(), merges=()):
    """An .xls written with xlwt: ``errors`` are (row, col, BIFF error code) cells, ``percent`` (row, col)
    cells formatted ``0%``, ``merges`` (r0, r1, c0, c1) ranges of the first sheet (0-based)."""
    import xlwt

    wb = xlwt.Workbook(encoding="utf-8")
    pct = xlwt.easyxf(num_format_str="0%")
    for k, (name, data) in enumerate(sheets.items()):
        ws = wb.add_sheet(name)
        for i, row in enumerate(data):
            for j, v in enumerate(row):
                if k == 0 and any((r0 <= i <= r1 and c0 <= j <= c1) for r0, r1, c0, c1 in merges):
                    continue
                if v is not None:
                    ws.write(i, j, v, pct if k == 0 and (i, j) in percent else xlwt.Style.default_style)
        if k == 0:
            for i, j, code in errors:
                ws.row(i).set_cell_error(j, code)
            for r0, r1, c0, c1 in merges:
                ws.write_merge(r0, r1, c0, c1, data[r0][c0])
    wb.save(str(path))
    return path


def test_xls_error_values_are_errors_not_blanks(data_dir):
    # BIFF error codes: 0x07 #DIV/0!, 0x2A #N/A, 0x17 #REF!
    write_xls(data_dir / "指标.xls", {"2023": rows(jia=[None, 10, 3, 0.5], yi=[8, None, 2, 0.4], bing=[20, 7, None, 0.6])},
              errors=[(2, 1, 0x07), (3, 2, 0x2A), (4, 3, 0x17)])
    result = zd.validate(data_dir)
    assert [(p.file, p.sheet, p.cell, p.value, p.message) for p in result.errors] == [
        ("指标.xls", "2023", "B3", "#DIV/0!", "“主题党日活动”单元格是Excel错误值（公式出错）"),
        ("指标.xls", "2023", "C4", "#N/A", "“发展党员”单元格是Excel错误值（公式出错）"),
        ("指标.xls", "2023", "D5", "#REF!", "“警示教育”单元格是Excel错误值（公式出错）"),
    ]


def test_xls_values_percent_and_merged_cells(data_dir):
    write_xls(data_dir / "指标.xls", {"2023": rows(yi=[8, 5, 2, 0.85])}, percent=[(3, 4)], merges=[(0, 0, 0, 4), (2, 3, 3, 3)])
    result = zd.validate(data_dir)
    assert [(p.cell, p.value, p.message) for p in result.errors] == [
        ("D3", "3", "表格中有合并单元格D3:D4：合并后只保留左上角单元格的值，其余单元格的数据会丢失"),
        ("E4", "85%", "“户均增收”单元格设置成了百分比格式（显示为85%，实际是0.85），而该指标的单位是“万元”"),
    ]
    # the same workbook without those two: every value read from the .xls (the title merged above is fine)
    write_xls(data_dir / "指标.xls", {"2023": rows()}, merges=[(0, 0, 0, 4)])
    ds = ok(zd.validate(data_dir))
    assert value(ds, "丙镇", 2023, "warning_sessions")[["value", "source"]].tolist() == [4.0, "指标.xls!2023!D5"]
    assert value(ds, "乙乡", 2023, "income_per_household")["value"] == 0.4


# --------------------------------------------------------------------------------------------- merged cells
def test_merged_cells_in_the_data_are_an_error_naming_the_range(data_dir):
    def merge(ws):
        ws.merge_cells("A1:E1")  # the title: fine
        ws.merge_cells("C3:C4")  # 甲镇 and 乙乡 share one 发展党员 value: 乙乡's is lost
        ws.merge_cells("A7:E7")  # a footer note across the row: fine

    write_xlsx(data_dir / FILE, {"2023": rows(extra=[[], ["填表人：张三"]])}, merge)
    result = zd.validate(data_dir)
    assert problems(result) == [
        ("error", FILE, "2023", "C3", "10",
         "表格中有合并单元格C3:C4：合并后只保留左上角单元格的值，其余单元格的数据会丢失",
         "取消合并单元格，在每个单元格中分别填写")]


def test_merged_county_column_in_the_profile_is_one_error(tmp_path):
    path = write_profile(tmp_path)

    from openpyxl import load_workbook

    wb = load_workbook(path)
    wb["乡镇概况"].merge_cells("A2:A4")
    wb.save(path)
    write_xlsx(tmp_path / FILE, {"2023": rows()})
    result = zd.validate(tmp_path)
    assert [(p.file, p.cell, p.value, p.message) for p in result.errors] == [
        ("乡镇概况.xlsx", "A2", "测试县", "表格中有合并单元格A2:A4：合并后只保留左上角单元格的值，其余单元格的数据会丢失")]


# --------------------------------------------------------------------------------------------- year sheets
@pytest.mark.parametrize("name", ["2025年度", "2025 年", "二〇二五年", "二零二五年度", "２０２５年"])
def test_year_sheet_names_that_name_the_year_with_certainty_are_read(data_dir, name):
    write_xlsx(data_dir / FILE, {name: rows()})
    ds = ok(zd.validate(data_dir))
    assert ds.years == [2025]
    assert value(ds, "丙镇", 2025, "warning_sessions")["source"] == f"指标.xlsx!{name}!D5"
    assert ds.problems == []


@pytest.mark.parametrize(("name", "message", "expected"), [
    ("25年", "工作表有数据（表头行第一列为“乡镇”），但名称中的年份不完整", "四位数年份，如“2025年”"),
    ("Sheet1", "工作表有数据（表头行第一列为“乡镇”），但名称中没有年度", "以年度命名，如“2025年”"),
    ("2025年数据", "工作表有数据（表头行第一列为“乡镇”），但名称除年份外还有其他文字，无法确定是否就是2025年的数据",
     "工作表名称只写年度，如“2025年”"),
    ("2024-2025", "工作表有数据（表头行第一列为“乡镇”），但名称中有多个年份", "每个年度一个工作表，名称只写年度，如“2025年”"),
])
def test_a_data_sheet_whose_year_is_not_certain_is_an_error_never_skipped(data_dir, name, message, expected):
    write_xlsx(data_dir / FILE, {"2024": rows(), name: rows()})
    result = zd.validate(data_dir)
    assert problems(result) == [("error", FILE, name, None, name, message, expected)]


def test_a_corrected_copy_of_a_year_sheet_is_an_error_naming_both(data_dir):
    write_xlsx(data_dir / FILE, {"2025年": rows(), "2025年 (2)": rows(jia=[13, 10, 3, 0.5])})
    result = zd.validate(data_dir)
    assert problems(result) == [
        ("error", FILE, "2025年 (2)", None, "2025年 (2)", "与工作表“2025年”是同一年度（2025年）的数据，无法确定用哪一个",
         "每个年度一个工作表：保留正确的一个并命名为“2025年”，删除另一个")]
    assert "工作表“2025年 (2)”" in str(result.errors[0]) and "“2025年”" in str(result.errors[0])


def test_a_sheet_that_is_not_data_is_still_only_a_warning(data_dir):
    write_xlsx(data_dir / FILE, {"2023": rows(), "2025年 (2)": [["备忘：下周报送"]]})
    ds = ok(zd.validate(data_dir))
    assert [(p.level, p.sheet, p.message) for p in ds.problems] == [("warning", "2025年 (2)", "工作表名称不是年度，已跳过")]


# --------------------------------------------------------------------------------------------- files
def write_ods(path, content_rows: str, name="2023"):
    """A minimal OpenDocument spreadsheet whose one table holds ``content_rows`` (table:table-row XML)."""
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
        'xmlns:calcext="urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0" office:version="1.2">'
        f'<office:body><office:spreadsheet><table:table table:name="{name}">{content_rows}'
        '</table:table></office:spreadsheet></office:body></office:document-content>')
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
        'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>')
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
        zf.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
    return path


def ods_row(*cells: str) -> str:
    return "<table:table-row>" + "".join(cells) + "</table:table-row>"


def text(s: str, extra: str = "") -> str:
    return f'<table:table-cell office:value-type="string"{extra}><text:p>{s}</text:p></table:table-cell>'


def num(x, extra: str = "") -> str:
    return f'<table:table-cell office:value-type="float" office:value="{x}"{extra}><text:p>{x}</text:p></table:table-cell>'


def test_ods_is_read(data_dir):
    write_ods(data_dir / "指标.ods", ods_row(text("乡镇"), text("主题党日活动（次）"), text("发展党员（名）"))
              + ods_row(text("甲镇"), num(12), num(10)) + ods_row(text("乙乡"), num(8), num(5))
              + ods_row(text("丙镇"), num(20), num(7)))
    ds = ok(zd.validate(data_dir))
    assert value(ds, "丙镇", 2023, "new_members")[["value", "source"]].tolist() == [7.0, "指标.ods!2023!C4"]
    assert ds.problems == []


def test_ods_error_percent_and_merged_cells_are_errors(data_dir):
    error = ('<table:table-cell table:formula="of:=1/0" office:value-type="string" office:string-value="" '
             'calcext:value-type="error"><text:p>#DIV/0!</text:p></table:table-cell>')
    percent = '<table:table-cell office:value-type="percentage" office:value="0.85"><text:p>85%</text:p></table:table-cell>'
    write_ods(data_dir / "指标.ods", ods_row(text("乡镇"), text("主题党日活动（次）"), text("发展党员（名）"))
              + ods_row(text("甲镇"), error, num(10)) + ods_row(text("乙乡"), percent, num(5, ' table:number-rows-spanned="2"'))
              + ods_row(text("丙镇"), num(20), "<table:covered-table-cell/>"))
    result = zd.validate(data_dir)
    assert [(p.file, p.cell, p.value, p.message) for p in result.errors] == [
        ("指标.ods", "C3", "5", "表格中有合并单元格C3:C4：合并后只保留左上角单元格的值，其余单元格的数据会丢失"),
        ("指标.ods", "B2", "#DIV/0!", "“主题党日活动”单元格是Excel错误值（公式出错）"),
        ("指标.ods", "B3", "85%", "“主题党日活动”单元格设置成了百分比格式（显示为85%，实际是0.85），而该指标的单位是“次”"),
    ]


def test_files_that_are_not_read_are_each_named(data_dir):
    write_xlsx(data_dir / FILE, {"2023": rows()})
    for name in ("2024年.et", "汇总.wps", "指标.numbers", "备份.xlsb"):
        (data_dir / name).write_bytes(b"\0" * 16)
    (data_dir / "说明.docx").write_bytes(b"not data")  # not spreadsheet data: not named
    result = zd.validate(data_dir)
    assert [(p.file, p.message) for p in result.errors] == [
        ("2024年.et", "不读取此格式的文件（WPS表格文件“.et”），其中的数据不会被使用"),
        ("备份.xlsb", "不读取此格式的文件（Excel二进制工作簿“.xlsb”），其中的数据不会被使用"),
        ("指标.numbers", "不读取此格式的文件（Numbers表格“.numbers”），其中的数据不会被使用"),
        ("汇总.wps", "不读取此格式的文件（WPS文字文件“.wps”），其中的数据不会被使用"),
    ]
    assert {p.expected for p in result.errors} == {"另存为Excel工作簿（.xlsx）后放回文件夹，或把不是数据的文件移出数据文件夹"}


def test_csv_in_the_wide_layout_is_an_error(data_dir):
    (data_dir / "指标.csv").write_text("乡镇,主题党日活动（次）,发展党员（名）\n甲镇,12,10\n", encoding="utf-8")
    result = zd.validate(data_dir)
    assert problems(result, "error") == [
        ("error", "指标.csv", None, "第1行", "乡镇,主题党日活动（次）,发展党员（名）",
         "CSV文件是宽表（每个指标一列，如“主题党日活动（次）”），未读取",
         "长表CSV（列名：县, 乡镇, 年度, 指标代码, 数值，每行一个数值）；宽表请放在Excel工作簿中以年度命名的工作表里")]


def test_csv_with_a_header_only_is_a_warning(data_dir):
    write_xlsx(data_dir / FILE, {"2023": rows()})
    (data_dir / "补报.csv").write_text("县,乡镇,年度,指标代码,数值\n", encoding="utf-8")
    ds = ok(zd.validate(data_dir))
    assert [(p.file, p.cell, p.message) for p in ds.problems] == [("补报.csv", "第2行", "CSV文件只有表头，没有数据行")]


# --------------------------------------------------------------------------------------------- percent, header
def test_percent_formatted_cell_in_a_non_percent_column_is_an_error(data_dir):
    def percent(ws):
        ws["E4"].number_format = "0%"  # 乙乡 户均增收 0.85 shown as 85%

    write_xlsx(data_dir / FILE, {"2023": rows(yi=[8, 5, 2, 0.85])}, percent)
    result = zd.validate(data_dir)
    assert problems(result) == [
        ("error", FILE, "2023", "E4", "85%",
         "“户均增收”单元格设置成了百分比格式（显示为85%，实际是0.85），而该指标的单位是“万元”",
         "0～100之间的数值（单位：万元）：请把单元格格式改为“常规”或“数值”后重新填写")]


def test_a_quoted_percent_sign_is_not_a_percent_format(data_dir):
    def fmt(ws):
        ws["E4"].number_format = '0.00"%"'  # shows 0.85%: a literal sign, the value is 0.85

    write_xlsx(data_dir / FILE, {"2023": rows(yi=[8, 5, 2, 0.85])}, fmt)
    assert value(ok(zd.validate(data_dir)), "乙乡", 2023, "income_per_household")["value"] == 0.85


def test_header_with_a_line_break_before_the_unit_is_accepted(data_dir):
    head = ["乡镇", "主题党日活动\n（次）", "发展党员\r\n（名）", "警示教育 （次）", "户均增收（万元）"]
    ds = ok(zd.validate(write_xlsx(data_dir / FILE, {"2023": rows(head=head)}).parent))
    assert value(ds, "乙乡", 2023, "theme_party_days")["value"] == 8.0
    assert value(ds, "丙镇", 2023, "new_members")["value"] == 7.0
    assert ds.problems == []


def test_header_with_a_line_break_and_a_wrong_unit_is_still_an_error(data_dir):
    head = ["乡镇", "主题党日活动\n（个）", "发展党员（名）", "警示教育（次）", "户均增收（万元）"]
    result = zd.validate(write_xlsx(data_dir / FILE, {"2023": rows(head=head)}).parent)
    assert [(p.cell, p.message) for p in result.errors] == [("B2", "表头中的单位与指标目录不符")]


# --------------------------------------------------------------------------------------------- 【待补】
def test_town_row_left_blank_is_a_warning_naming_the_town(data_dir):
    write_xlsx(data_dir / FILE, {"2023": rows(yi=[None, None, None, None])})
    ds = ok(zd.validate(data_dir))
    assert [(p.level, p.file, p.sheet, p.cell, p.value, p.message, p.town) for p in ds.problems] == [
        ("warning", FILE, "2023", "A4", "乙乡", "乡镇“乙乡”2023年的数据整行空白，报告中该乡镇当年的各项数字将显示为【待补】",
         "乙乡")]


def test_a_not_applicable_row_is_not_blank(data_dir):
    write_xlsx(data_dir / FILE, {"2023": rows(yi=["—", "—", "—", "—"])})
    assert ok(zd.validate(data_dir)).problems == []


def test_column_present_in_another_year_but_missing_from_this_one_is_a_warning(data_dir):
    write_xlsx(data_dir / FILE, {"2023": rows(), "2024": [r[:3] for r in rows()]})  # 2024 lost D and E
    ds = ok(zd.validate(data_dir))
    assert [(p.level, p.sheet, p.message) for p in ds.problems] == [
        ("warning", "2024", "工作表中没有以下2项指标的列，各乡镇2024年的这些数字在报告中将显示为【待补】：警示教育、户均增收")]


def test_a_nearly_full_sheet_names_the_columns_it_lacks(data_dir):
    cat = zd.load_catalog()
    codes = cat.applicable(2023)
    kept = [c for c in codes if c not in {"care_actions", "tourists"}]
    head = ["乡镇"] + [cat.name(c) for c in kept]
    sheet = [head] + [[t] + [1] * len(kept) for t in ("甲镇", "乙乡", "丙镇")]
    ds = ok(zd.validate(write_xlsx(data_dir / FILE, {"2023": sheet}).parent))
    messages = [p.message for p in ds.problems if p.level == "warning"]
    assert messages == ["工作表中没有以下2项指标的列，各乡镇2023年的这些数字在报告中将显示为【待补】：景区年接待游客量、关爱服务行动"]  # catalog order


def test_a_few_indicators_collected_alike_every_year_are_not_warned_about(data_dir):
    write_xlsx(data_dir / FILE, {"2023": rows(), "2024": rows()})
    assert ok(zd.validate(data_dir)).problems == []


def test_csv_town_without_an_indicator_the_others_give_is_a_warning(data_dir):
    (data_dir / "指标.csv").write_text(
        "县,乡镇,年度,指标代码,数值\n测试县,甲镇,2023,发展党员,9\n测试县,甲镇,2023,警示教育,2\n"
        "测试县,乙乡,2023,发展党员,5\n测试县,丙镇,2023,发展党员,7\n", encoding="utf-8")
    ds = ok(zd.validate(data_dir))
    assert [(p.file, p.town, p.message) for p in ds.problems] == [
        ("指标.csv", None, "CSV文件中没有乙乡、丙镇2023年以下1项指标的数值，报告中将显示为【待补】：警示教育")]


# --------------------------------------------------------------------------------------------- numbers
@pytest.mark.parametrize("raw", ["2 6", "20 3", "1 18", "1 181 0"])
def test_spaces_that_are_not_thousands_grouping_are_an_error(data_dir, raw):
    result = zd.validate(write_xlsx(data_dir / FILE, {"2023": rows(jia=[raw, 10, 3, 0.5])}).parent)
    assert problems(result) == [
        ("error", FILE, "2023", "B3", raw, "“主题党日活动”数字中间有空格，无法确定是一个数还是几个数",
         "0～2000之间的整数（单位：次），去掉空格（只有千分位分组可以用空格或逗号，如“1 181”“1,181”）")]


@pytest.mark.parametrize(("raw", "expected"), [
    ("1 181", 1181.0), ("1,181", 1181.0), ("1\u00a0181", 1181.0), ("1\u2009181", 1181.0), (" 1 181 次", 1181.0),
    (202.99999999999997, 203.0), (12.000000000000002, 12.0),
])
def test_real_grouping_and_float_noise_are_normalised(data_dir, raw, expected):
    ds = ok(zd.validate(write_xlsx(data_dir / FILE, {"2023": rows(jia=[raw, 10, 3, 0.5])}).parent))
    assert value(ds, "甲镇", 2023, "theme_party_days")["value"] == expected


def test_float_noise_in_a_decimal_column_is_the_number_shown(data_dir):
    ds = ok(zd.validate(write_xlsx(data_dir / FILE, {"2023": rows(jia=[12, 10, 3, 0.1 + 0.2])}).parent))
    assert value(ds, "甲镇", 2023, "income_per_household")["value"] == 0.3


def test_a_cell_error_does_not_also_give_a_total_mismatch_warning(data_dir):
    # 丙镇's 警示教育 is an error; without it the towns add up to 5 against a total of 9: no second message
    write_xlsx(data_dir / FILE, {"2023": rows(bing=[20, 7, "很多", 0.6], extra=[["合计", 40, 22, 9, None]])})
    result = zd.validate(data_dir)
    assert [(p.level, p.cell, p.value) for p in result.problems] == [("error", "D5", "很多")]


def test_an_unknown_town_row_does_not_give_a_total_mismatch_warning(data_dir):
    data = [TITLE, HEAD, ["甲镇", *JIA], ["乙乡", *YI], ["丁镇", *BING], ["合计", 40, 22, 9, None]]
    result = zd.validate(write_xlsx(data_dir / FILE, {"2023": data}).parent)
    assert [(p.level, p.cell, p.message) for p in result.problems] == [("error", "A5", "乡镇不在乡镇概况表中")]


# --------------------------------------------------------------------------------------------- encrypted
def cfb(names: list[str]) -> bytes:
    """A small compound file (the container of an encrypted .xlsx) with empty streams named ``names``."""
    free, end, fat_sect = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD
    header = (bytes.fromhex("D0CF11E0A1B11AE1") + b"\0" * 16
              + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + b"\0" * 6
              + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, end, 0, end, 0)
              + struct.pack("<I", 0) + struct.pack("<108I", *[free] * 108))
    assert len(header) == 512
    fat = struct.pack("<128I", fat_sect, end, *[free] * 126)

    def entry(name: str, kind: int, child=free, right=free) -> bytes:
        raw = (name + "\0").encode("utf-16-le")
        return (raw.ljust(64, b"\0") + struct.pack("<HBB", len(raw), kind, 1) + struct.pack("<III", free, right, child)
                + b"\0" * 16 + b"\0" * 4 + b"\0" * 16 + struct.pack("<IQ", end, 0))

    entries = [entry("Root Entry", 5, child=1)]
    entries += [entry(n, 2, right=(k + 2 if k + 2 <= len(names) else free)) for k, n in enumerate(names)]
    directory = b"".join(entries).ljust(512, b"\0")
    return header + fat + directory


def test_password_protected_workbook_says_so_and_how_to_remove_the_password(data_dir):
    (data_dir / "加密.xlsx").write_bytes(cfb(["EncryptionInfo", "EncryptedPackage"]))
    write_xlsx(data_dir / FILE, {"2023": rows()})
    result = zd.validate(data_dir)
    assert problems(result) == [
        ("error", "加密.xlsx", None, None, None, "工作簿设置了打开密码（已加密），无法读取",
         "没有打开密码的文件：在Excel中点“文件→信息→保护工作簿→用密码进行加密”，清空密码后保存"
         "（WPS：“文件→文档加密→密码加密”，清空打开密码后保存），再重新校验")]
    assert "BadZipFile" not in str(result.errors[0])


def test_old_xls_content_with_an_xlsx_suffix_says_so(data_dir):
    (data_dir / "旧格式.xlsx").write_bytes(cfb(["Workbook"]))
    result = zd.validate(data_dir)
    assert [(p.file, p.message, p.expected) for p in result.errors] == [
        ("旧格式.xlsx", "文件内容是旧版Excel（.xls）格式，扩展名却是“.xlsx”", "扩展名改为 .xls，或在Excel中另存为 .xlsx")]


# --------------------------------------------------------------------------------------------- footer, total
def test_towns_named_like_footer_or_total_words_are_towns(tmp_path):
    towns = [["测试县", "注滋口镇", "镇", "湖南", None, None, 15, 10, 20000, 600, 12],
             ["测试县", "新合计乡", "乡", "湖南", None, None, 15, 6, 8000, 240, 8],
             ["测试县", "说明乡", "乡", "湖南", None, None, 15, 6, 8000, 240, 8]]
    write_profile(tmp_path, towns + [[None, "全县合计", None, None, None, None, None, 22, 36000, 1080, 28]])
    data = [TITLE, HEAD, ["注滋口镇", *JIA], ["新合计乡", *YI], ["说明乡", *BING],
            ["全县合计", 40, 22, 9, None], [], ["注：数据截至12月31日"], ["填表人：张三"]]
    ds = ok(zd.validate(write_xlsx(tmp_path / FILE, {"2023": data}).parent))
    assert ds.towns == ["注滋口镇", "新合计乡", "说明乡"]
    assert value(ds, "注滋口镇", 2023, "theme_party_days")["value"] == 12.0
    assert value(ds, "新合计乡", 2023, "new_members")["source"] == "指标.xlsx!2023!C4"
    assert ds.problems == []  # 全县合计 adds up (12+8+20, 10+5+7, 3+2+4), the footers are not towns


def test_total_row_is_recognised_by_its_shape(data_dir):
    data = rows(extra=[["总 计", 41, 22, 9, None]])
    ds = ok(zd.validate(write_xlsx(data_dir / FILE, {"2023": data}).parent))
    assert [(p.cell, p.message) for p in ds.problems] == [("B6", "合计行与各乡镇之和不一致（各乡镇之和为40），合计行已忽略")]


def test_footer_label_with_numbers_is_an_error_not_dropped(data_dir):
    data = rows(extra=[["填表人：张三", 5, None, None, None]])
    result = zd.validate(write_xlsx(data_dir / FILE, {"2023": data}).parent)
    assert problems(result) == [
        ("error", FILE, "2023", "A6", "填表人：张三", "此行像落款或注释，但填有数字，无法确定是否为乡镇数据",
         "落款行不填数字；乡镇行第一列填写乡镇名称")]


def test_profile_row_with_figures_but_no_town_is_an_error(tmp_path):
    write_profile(tmp_path, PROFILE_ROWS + [["测试县", None, "镇", "甘肃", None, None, 15, 9, 9000, 300, 9]])
    write_xlsx(tmp_path / FILE, {"2023": rows()})
    result = zd.validate(tmp_path)
    assert [(p.file, p.cell, p.message) for p in result.errors] == [("乡镇概况.xlsx", "B5", "此行有内容但缺少乡镇名称")]


def test_practices_town_named_like_a_footer_word_is_read(tmp_path):
    write_profile(tmp_path, [["测试县", "注滋口镇", "镇", "湖南", None, None, 15, 10, 20000, 600, 12]])
    write_xlsx(tmp_path / FILE, {"2023": [HEAD, ["注滋口镇", *JIA]],
                                 "特色做法": [["乡镇", "年度", "学习载体"], ["注滋口镇", 2023, "湖畔课堂"],
                                          ["注：每个乡镇每年一行", None, None]]})
    ds = ok(zd.validate(tmp_path))
    assert ds.practice("注滋口镇", 2023)["study_carrier"][0] == "湖畔课堂"


# --------------------------------------------------------------------------------------------- resources
def test_zip_bomb_is_refused_before_parsing(data_dir, monkeypatch):
    monkeypatch.setattr(workbooks, "MAX_UNCOMPRESSED_BYTES", 1024 * 1024)
    path = write_xlsx(data_dir / FILE, {"2023": rows()})
    with zipfile.ZipFile(path) as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
    sheet = next(n for n in parts if n.startswith("xl/worksheets/sheet"))
    parts[sheet] = parts[sheet].replace(b"</worksheet>", b" " * (3 * 1024 * 1024) + b"</worksheet>")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, data in parts.items():
            zf.writestr(n, data)
    assert path.stat().st_size < 64 * 1024  # a few KB that inflate to more than 3 MB
    parsed = []
    original = workbooks._read_openpyxl
    monkeypatch.setattr(workbooks, "_read_openpyxl", lambda p: parsed.append(p.name) or original(p))
    result = zd.validate(data_dir)
    assert problems(result) == [
        ("error", FILE, None, None, None, "工作簿解压后有3 MB，超过上限1 MB，未读取（文件可能已损坏或是恶意构造的）",
         "解压后不超过1 MB的工作簿")]
    assert parsed == ["乡镇概况.xlsx"]  # the bomb is refused from its zip directory alone, never parsed


def test_sheet_dimension_beyond_the_row_limit_is_refused(data_dir, monkeypatch):
    monkeypatch.setattr(workbooks, "MAX_ROWS", 1000)
    path = write_xlsx(data_dir / FILE, {"2023": rows()})
    with zipfile.ZipFile(path) as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
    sheet = next(n for n in parts if n.startswith("xl/worksheets/sheet"))
    parts[sheet] = parts[sheet].replace(b'<dimension ref="A1:E5"/>', b'<dimension ref="A1:E1048576"/>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, data in parts.items():
            zf.writestr(n, data)
    result = zd.validate(data_dir)
    assert [(p.file, p.message, p.expected) for p in result.errors] == [
        (FILE, "工作表声明有1048576行，超过上限1000行，未读取（如果是带格式的空白行，请删除多余的行）", "不超过1000行的工作表")]


def test_rows_beyond_the_limit_without_a_dimension_are_refused(data_dir, monkeypatch):
    monkeypatch.setattr(workbooks, "MAX_ROWS", 4)
    write_xlsx(data_dir / FILE, {"2023": rows()})  # 5 rows: the dimension is checked, and then the frame
    monkeypatch.setattr(workbooks, "_check_zip", lambda path: None)
    result = zd.validate(data_dir)
    assert [(p.file, p.sheet, p.message) for p in result.errors] == [
        (FILE, "2023", "工作表有5行，超过上限4行，未读取（如果是带格式的空白行，请删除多余的行）")]


def test_limits_are_far_above_a_real_county_workbook():
    assert workbooks.MAX_UNCOMPRESSED_BYTES == 200 * 1024 * 1024
    assert workbooks.MAX_ROWS == 100_000


# --------------------------------------------------------------------------------------------- --report
def test_check_report_of_thousands_of_problems_groups_and_counts_every_one(tmp_path):
    towns = [f"镇{k}" for k in range(1500)]
    found = []
    for k, town in enumerate(towns):
        found.append(Problem("error", "a.xlsx", "2023", f"B{k + 3}", "很多", "无法识别为数字", "整数", town))
        if k % 3 == 0:
            found.append(Problem("warning", "a.xlsx", "2023", f"C{k + 3}", "", "未填写", "", town))
    found.append(Problem("error", "b.xlsx", None, None, None, "文件不存在"))
    cat = zd.load_catalog()
    rows_ = checks._rows(found, cat)
    summary = checks._summary(rows_, towns[:10] + ["无问题镇"])
    assert [s["town"] for s in summary] == towns[:10] + ["无问题镇"] + towns[10:] + [checks.NO_TOWN]
    assert summary[0] == {"town": "镇0", "error": 1, "warning": 1, "check": 0, "notice": 0, "status": "有错误，请更正后重新报送"}
    assert summary[1] == {"town": "镇1", "error": 1, "warning": 0, "check": 0, "notice": 0, "status": "有错误，请更正后重新报送"}
    assert summary[10] == {"town": "无问题镇", "error": 0, "warning": 0, "check": 0, "notice": 0, "status": "通过"}
    assert summary[-1]["error"] == 1
    assert sum(s["error"] + s["warning"] for s in summary) == len(found) == 2001
    html = checks.write_check_report(found, tmp_path / "r.html", towns=towns).read_text(encoding="utf-8")
    assert html.count("无法识别为数字") == 1500 and html.count("未填写") == 500 and html.count("文件不存在") == 1
    assert html.index(">镇1<") < html.index(">镇2<") < html.index(">镇1499<")


# --------------------------------------------------------------------------------------------- more that was dropped
def test_copy_of_the_profile_sheet_is_an_error_not_skipped(tmp_path):
    write_profile(tmp_path)
    write_xlsx(tmp_path / "概况更正.xlsx", {"乡镇概况 (2)": [["县", "乡镇"], ["测试县", "甲镇"]]})
    write_xlsx(tmp_path / FILE, {"2023": rows()})
    result = zd.validate(tmp_path)
    assert problems(result) == [
        ("error", "概况更正.xlsx", "乡镇概况 (2)", None, "乡镇概况 (2)",
         "工作表名称含“乡镇概况”但不完全相同，未读取（可能是“乡镇概况”表的副本或更正稿）", "只保留一个名为“乡镇概况”的工作表")]


def test_profile_column_with_data_but_no_header_is_an_error(tmp_path):
    write_xlsx(tmp_path / "乡镇概况.xlsx", {"乡镇概况": [PROFILE_HEADER + [None]] + [r + [5] for r in PROFILE_ROWS]})
    write_xlsx(tmp_path / FILE, {"2023": rows()})
    result = zd.validate(tmp_path)
    assert [(p.file, p.cell, p.message) for p in result.errors] == [("乡镇概况.xlsx", "L1", "此列有数据但没有表头")]
