"""The town report end to end: papermill executes the notebook, nbconvert exports the HTML, we parse it."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner
from openpyxl import load_workbook

import zhidang_analysis as zd
from zhidang_analysis.cli import main
from zhidang_analysis.running.runner import TOWN_NOTEBOOK, run_town_report

pytestmark = pytest.mark.slow

PARTS = ["一、责任落实情况", "二、存在的问题", "三、下一步工作打算"]


@pytest.fixture(scope="module")
def ds():
    return zd.load_dataset()


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """Two real runs: a year with every indicator (2021) and a recent year with a missing value (2025)."""
    out = tmp_path_factory.mktemp("reports")
    return {
        ("青石镇", 2021): run_town_report("青石镇", 2021, out=out),
        ("河湾镇", 2025): run_town_report("河湾镇", 2025, out=out),
    }


def html_of(result) -> str:
    return result.html.read_text(encoding="utf-8")


def soup(result) -> BeautifulSoup:
    return BeautifulSoup(html_of(result), "html.parser")


def data_value(ds, town, year, code):
    v = ds.values
    return v[(v.town == town) & (v.year == year) & (v.indicator == code)].iloc[0]


def test_outputs_are_written_side_by_side(reports, tmp_path):
    r = reports[("青石镇", 2021)]
    assert r.html.name == "青石镇.html" and r.html.parent.name == "2021"
    assert r.notebook == r.html.with_suffix(".ipynb")
    nb = nbformat.read(r.notebook, as_version=4)
    assert any("injected-parameters" in c.metadata.get("tags", []) for c in nb.cells)
    assert not [p for p in r.html.parent.iterdir() if p.name.startswith(".")]  # no temp files left


@pytest.mark.parametrize("key", [("青石镇", 2021), ("河湾镇", 2025)])
def test_headings_present_and_no_placeholder_left(reports, key):
    s = soup(reports[key])
    assert [h.get_text() for h in s.find_all("h2")][:3] == PARTS
    h3 = [h.get_text() for h in s.find_all("h3")]
    assert [h[:3] for h in h3] == ["（一）", "（二）", "（三）", "（四）", "（五）", "（六）"]
    text = s.get_text()
    assert not re.search(r"(?<![A-Za-z])[xX]{1,3}(?![A-Za-z])", text)


@pytest.mark.parametrize("key", [("青石镇", 2021), ("河湾镇", 2025)])
def test_numbers_in_html_equal_the_data(reports, ds, key):
    town, year = key
    s = soup(reports[key])
    spans = s.select("span.num")
    assert len(spans) > 40
    checked = 0
    for span in spans:
        code = span["data-indicator"]
        if ds.catalog.frame.at[code, "origin"] != "values":
            continue
        row = data_value(ds, town, year, code)
        assert float(span["data-value"]) == pytest.approx(row["value"])
        assert span["data-source"] == row["source"]
        checked += 1
    assert checked > 40
    for code, unit in (("theme_party_days", "次"), ("new_members", "名"), ("disputes_resolved", "起")):
        v = int(data_value(ds, town, year, code)["value"])
        assert any(sp.get_text() == f"{v}{unit}" and sp["data-indicator"] == code for sp in spans)


def test_not_applicable_sentence_absent_and_present_when_it_applies(reports):
    t2021 = soup(reports[("青石镇", 2021)]).get_text()
    t2025 = soup(reports[("河湾镇", 2025)]).get_text()
    assert "组建党员疫情防控突击队" in t2021
    assert "疫情防控" not in t2025 and "核酸检测" not in t2025


def test_missing_value_shows_marker_and_list(reports):
    s = soup(reports[("河湾镇", 2025)])
    marker = s.select_one("span.missing")
    assert marker.get_text() == "【待补：双语宣讲次数】"
    assert marker["data-indicator"] == "bilingual_lectures"
    assert "附：待补数据（1项）" in s.get_text()


@pytest.mark.parametrize("key", [("青石镇", 2021), ("河湾镇", 2025)])
def test_html_is_self_contained_without_code(reports, key):
    html = html_of(reports[key])
    s = BeautifulSoup(html, "html.parser")
    assert not s.find("script")
    assert not s.find("link")
    assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", html, flags=re.I)  # no remote URL at all
    for tag in s.find_all(src=True):
        assert tag["src"].startswith("data:")
    for tag in s.find_all(href=True):
        assert tag["href"].startswith("#")
    text = s.get_text()
    for code_text in ("import zhidang_analysis", "zd.load_dataset", "town =", "In [", "Out["):
        assert code_text not in html
    assert "injected" not in html.lower()
    assert len(s.find_all("pre")) == 0
    assert "全面从严治党" in text


def test_charts_embedded_small_file_and_report_css(reports):
    html = html_of(reports[("青石镇", 2021)])
    s = BeautifulSoup(html, "html.parser")
    imgs = s.select('img[src^="data:image/png;base64,"]')
    assert len(imgs) == 3
    assert [f.get_text() for f in s.find_all("figcaption")][0].startswith("图1")
    css = s.find("style").get_text()
    assert "FangSong" in css and "方正小标宋简体" in css and "@page" in css and "size: A4" in css
    assert "margin: 37mm" in css
    without_images = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", html)
    assert len(without_images.encode()) < 40_000  # no notebook CSS inlined
    assert len(html.encode()) < 450_000


@pytest.mark.parametrize("key", [("青石镇", 2021), ("河湾镇", 2025)])
def test_no_glyph_warning_or_error_in_any_output(reports, key):
    nb = nbformat.read(reports[key].notebook, as_version=4)
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            assert out.output_type != "error"
            blob = json.dumps(out, ensure_ascii=False)
            assert "Glyph" not in blob and "missing from" not in blob and "findfont" not in blob
            if out.output_type == "stream":
                assert out.name != "stderr", out.text


def test_unknown_town_fails_in_first_cells_with_clear_error(tmp_path):
    with pytest.raises(zd.ReportError, match="未找到乡镇“不存在镇”") as e:
        run_town_report("不存在镇", 2025, out=tmp_path)
    assert e.value.cell is not None and e.value.cell <= 2
    assert not (tmp_path / "2025" / "不存在镇.html").exists()
    assert not list((tmp_path / "2025").glob(".*"))


def test_failed_run_leaves_previous_report_untouched(tmp_path):
    good = run_town_report("青石镇", 2025, out=tmp_path)
    before = good.html.read_bytes(), good.notebook.read_bytes()
    with pytest.raises(zd.ReportError):
        run_town_report("青石镇", 2025, out=tmp_path, data=tmp_path / "no-such-folder")
    assert (good.html.read_bytes(), good.notebook.read_bytes()) == before
    assert sorted(p.name for p in good.html.parent.iterdir()) == ["青石镇.html", "青石镇.ipynb"]


def test_town_name_with_markup_is_escaped_and_file_name_safe(tmp_path):
    nasty = "<b>&\"'镇"
    data = tmp_path / "data"
    shutil.copytree(zd.SAMPLE_DATA, data)
    for name in ("乡镇概况.xlsx", "示范县指标数据.xlsx", "目标任务.xlsx", "特色做法.xlsx"):
        wb = load_workbook(data / name)
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for c in row:
                    if c.value == "青石镇":
                        c.value = nasty
        wb.save(data / name)
    r = run_town_report(nasty, 2025, data=data, out=tmp_path / "out")
    assert r.html.name == "_b_&_'镇.html"
    assert r.html.parent == tmp_path / "out" / "2025"
    html = r.html.read_text(encoding="utf-8")
    assert "<b>&" not in html
    s = BeautifulSoup(html, "html.parser")
    assert s.find("b") is None
    assert s.title.get_text().startswith(nasty)
    assert s.find("h1").get_text().startswith(f"中共{nasty}委员会")


def test_cli_run_writes_report_and_rejects_unknown_town(tmp_path):
    runner = CliRunner()
    res = runner.invoke(main, ["run", "--town", "青石镇", "--year", "2024", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "2024" / "青石镇.html").exists()
    assert "已生成报告" in res.output
    res = runner.invoke(main, ["run", "--town", "青石", "--year", "2024", "--out", str(tmp_path)])
    assert res.exit_code == 1
    assert "未找到乡镇“青石”" in res.output and "青石镇" in res.output


def test_papermill_help_notebook_lists_parameters_with_meaning():
    exe = Path(sys.executable).with_name("papermill")
    res = subprocess.run([str(exe), "--help-notebook", str(TOWN_NOTEBOOK)], capture_output=True, text=True,
                         check=True)
    out = res.stdout
    for name, kind, meaning in (("town", "str", "乡镇名称"), ("year", "int", "报告年度"),
                                ("data", "str", "数据文件或文件夹"), ("yoy", "bool", "与上年比较"),
                                ("general_problems", "bool", "共性问题"), ("round_approx", "bool", "约数")):
        # "  town: str (default "青石镇")   乡镇名称…" (the help may wrap onto the next line)
        assert re.search(rf"^\s+{name}: {kind} \(default [^)]*\)\s+\S*{meaning}", out, flags=re.M), out
