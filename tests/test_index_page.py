"""The batch's index page and check report, written without running any report (``running.batch.write_index``,
``write_checks``): a town whose data have errors is a row of the index linked to its part of the check report; the
footer names no path of this machine and gives the time as a reader writes it."""

from __future__ import annotations

import json
import shutil
import time
from urllib.parse import quote, unquote

import pytest
from bs4 import BeautifulSoup
from openpyxl import load_workbook

import zhidang_analysis as zd
from zhidang_analysis.running.batch import local_time, write_checks, write_index
from zhidang_analysis.running.manifest import manifest_path
from zhidang_analysis.running.plan import load_for_batch

YEAR = 2025
BAD_TOWN = "城关镇"


@pytest.fixture(scope="module")
def bad_data(tmp_path_factory):
    """The sample with 城关镇's 主题党日活动 of 2025 written as text: the batch leaves 城关镇 out."""
    folder = tmp_path_factory.mktemp("data")
    for f in zd.SAMPLE_DATA.glob("*.xlsx"):
        shutil.copy(f, folder / f.name)
    wb = load_workbook(folder / "示范县指标数据.xlsx")
    ws = wb[f"{YEAR}年"]
    header = next(r for r in ws.iter_rows() if r[0].value == "乡镇")
    col = next(c.column - 1 for c in header if c.value == "主题党日活动（次）")
    row = next(r for r in ws.iter_rows() if r[0].value == BAD_TOWN)
    row[col].value = "很多"
    wb.save(folder / "示范县指标数据.xlsx")
    return folder, row[col].coordinate


@pytest.fixture
def utc8(monkeypatch):
    """This machine's time zone set to China Standard Time for the test."""
    if not hasattr(time, "tzset"):
        pytest.skip("time.tzset is not available on this platform (Windows): the local zone cannot be set")
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_local_time_is_written_in_chinese_in_this_machines_zone(utc8):
    assert local_time("2025-12-04T11:05:00+00:00") == "2025年12月4日 19:05"
    assert local_time("2025-12-31T16:30:00+00:00") == "2026年1月1日 00:30"  # the next day in China
    assert local_time("") == "" and local_time("不是时间") == "不是时间"


def test_a_town_whose_data_have_errors_is_a_row_of_the_index_linked_to_the_check_report(bad_data, tmp_path, utc8):
    data, cell = bad_data
    ds, bad = load_for_batch(data)
    assert list(bad) == [BAD_TOWN] and BAD_TOWN not in ds.towns
    path = manifest_path(tmp_path, YEAR)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"updated_at": "2025-12-04T11:05:00+00:00", "reports": {}}), encoding="utf-8")
    checks = write_checks(ds, bad, tmp_path, YEAR)
    index = BeautifulSoup(write_index(ds, tmp_path, YEAR, checks=checks, bad_towns=bad).read_text(encoding="utf-8"),
                          "html.parser")

    rows = index.select("#towns tbody tr")
    assert [r["data-town"] for r in rows][-1] == BAD_TOWN and len(rows) == len(ds.towns) + 1
    row = rows[-1]
    assert "failed" in row["class"] and row["data-problems"] == "1"
    cells = {td["data-label"]: td for td in row.find_all("td")}
    assert cells["排名"].get_text() == "—" and cells["综合得分"].get_text() == "—"
    assert cells["存在问题"].get_text() == "—" and cells["存在问题"]["data-value"] == ""  # no report, no count
    text = cells["报告"].get_text()
    assert "数据有误，未生成（1处错误）" in text and cell in text and "主题党日活动" in text
    link = cells["报告"].find("a", class_="checks-link")
    assert link.get_text() == "查看数据审核结果"
    assert link["href"] == f"{quote(checks)}#{quote('town-' + BAD_TOWN)}"

    # the link leads to the town's part of the check report, which names the cell
    page = BeautifulSoup((tmp_path / str(YEAR) / checks).read_text(encoding="utf-8"), "html.parser")
    part = page.find(id=unquote(link["href"].split("#", 1)[1]))
    assert part is not None and part.name == "h2" and part.get_text() == BAD_TOWN
    finding = part.find_next_sibling("table")
    assert finding.select_one("td.label.error").get_text() == "错误" and cell in finding.get_text()
    # a town without findings is named once, at the end, not a heading of its own each
    clean = page.find(id="clean").find_next_sibling("p")
    assert "河湾镇" in clean.get_text() and clean.get_text().endswith("未发现问题。")
    assert page.find(id="town-河湾镇").name == "span"

    # the footer: how the score is made in words, no path of this machine, the time as a reader writes it
    footer = index.select("p.note")[-1].get_text()
    assert "scoring.yaml" not in footer and "zhidang_analysis" not in footer and str(tmp_path) not in footer
    assert "更新时间：2025年12月4日 19:05。" in footer
    assert "综合得分的计算方法见全县综合分析" in footer
    assert str(tmp_path) not in str(index) and "/root" not in str(index) and "/home" not in str(index)


def test_the_index_title_breaks_between_words_only(bad_data, tmp_path):
    ds, bad = load_for_batch(bad_data[0])
    index = BeautifulSoup(write_index(ds, tmp_path, YEAR, bad_towns=bad).read_text(encoding="utf-8"), "html.parser")
    assert [s.get_text() for s in index.h1.select("span.nw")] == [
        f"{ds.county}{YEAR}年度", "履行全面从严治党", "主体责任情况报告"]
