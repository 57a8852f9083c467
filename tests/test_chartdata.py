"""The data of every chart (``report/chartdata.py``, ``outputs/chartbook.py``), on the small county of
``test_summary`` (甲镇 12 党支部, 乙乡 8, 丙镇 9; 主题党日活动 2025: 50, 30, 32; 2024: 40, 30, 45)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from tests.test_summary import folder  # noqa: F401 - the module fixture of the small county
from zhidang_analysis import load_dataset
from zhidang_analysis.analysis.standing import county_scores
from zhidang_analysis.cli import main
from zhidang_analysis.outputs.chartbook import chart_tables, write_chart_workbook
from zhidang_analysis.report.chartdata import overview_chart_data, town_chart_data


@pytest.fixture(scope="module")
def ds(folder):  # noqa: F811
    return load_dataset(folder)


def test_town_vs_county_index_by_hand(ds):
    data = town_chart_data(ds, "丙镇", 2025)
    vs = next(v for k, v in data.items() if k.startswith("图2"))
    row = vs[vs["指标代码"] == "theme_party_days"].iloc[0]
    # county median of 50, 30, 32 is 32: 丙镇 is at 100
    assert row["本乡镇"] == 32 and row["全县中位数"] == 32 and row["指数（全县中位数=100）"] == pytest.approx(100)
    jia = next(v for k, v in town_chart_data(ds, "甲镇", 2025).items() if k.startswith("图2"))
    assert jia.set_index("指标代码").at["theme_party_days", "指数（全县中位数=100）"] == pytest.approx(50 / 32 * 100)


def test_town_trend_is_the_towns_values_and_the_county_median(ds):
    trend = next(v for k, v in town_chart_data(ds, "丙镇", 2025).items() if k.startswith("图1"))
    t = trend[trend["指标代码"] == "theme_party_days"].set_index("年度")
    assert t.loc[2024, "本乡镇"] == 45 and t.loc[2025, "本乡镇"] == 32
    assert t.loc[2024, "全县中位数"] == 40 and t.loc[2025, "全县中位数"] == 32


def test_overview_figures_score_ranking_and_heatmap(ds):
    data = overview_chart_data(ds, 2025)
    captions = list(data)
    assert captions[0] == "图1  2025年各乡镇综合得分排名" and captions[-1].endswith("全县主要指标历年变化")
    ranking = data[captions[0]]
    scores = county_scores(ds, 2025).xs(2025, level="year")
    assert list(ranking["综合得分"]) == sorted(scores["score"].dropna(), reverse=True)
    heat = data[captions[1]].set_index(["乡镇", "指标代码"])
    # per 党支部 (12, 8, 9): 甲 50/12 = 4.17, 乙 30/8 = 3.75, 丙 32/9 = 3.56 → percentiles 100, 50, 0
    assert heat.at[("甲镇", "theme_party_days"), "比较值（折算后）"] == pytest.approx(50 / 12)
    assert heat.at[("甲镇", "theme_party_days"), "相对水平（0—100）"] == pytest.approx(100)
    assert heat.at[("乙乡", "theme_party_days"), "相对水平（0—100）"] == pytest.approx(50)
    assert heat.at[("丙镇", "theme_party_days"), "相对水平（0—100）"] == pytest.approx(0)
    totals = data[captions[-1]].set_index(["指标代码", "年度"])
    assert totals.at[("theme_party_days", 2025), "数值"] == 112
    assert totals.at[("theme_party_days", 2025), "口径"] == "各乡镇合计"


def test_charts_workbook_one_sheet_per_figure(ds, tmp_path):
    path = write_chart_workbook(ds, 2025, tmp_path / "charts.xlsx")
    wb = load_workbook(path)
    tables = chart_tables(ds, 2025)
    assert len(wb.sheetnames) == len(tables)
    for ws, (caption, frame) in zip(wb.worksheets, tables.items()):
        assert ws.cell(1, 1).value == caption
        assert [ws.cell(3, j + 1).value for j in range(len(frame.columns))] == list(frame.columns)
    town_sheet = wb.worksheets[-1]  # the town reports' 图3 with every town stacked
    assert town_sheet.cell(3, 1).value == "乡镇"
    assert {town_sheet.cell(r, 1).value for r in range(4, town_sheet.max_row + 1)} == {"甲镇", "乙乡", "丙镇"}


def test_cli_export_charts(folder, tmp_path):  # noqa: F811
    r = CliRunner().invoke(main, ["export", "--year", "2025", "--data", str(folder), "--out", str(tmp_path), "--charts"])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "2025" / "charts.xlsx").exists()


def test_the_data_is_what_the_figure_draws(ds):
    from zhidang_analysis.report import charts

    fig = charts.town_vs_county(ds.values, "甲镇", 2025, catalog=ds.catalog)
    bars = [p.get_width() for p in fig.axes[0].patches]
    vs = next(v for k, v in town_chart_data(ds, "甲镇", 2025).items() if k.startswith("图2"))
    assert bars == pytest.approx(list(vs["指数（全县中位数=100）"]))
    scores = county_scores(ds, 2025)
    fig = charts.score_ranking(scores, 2025)
    ranking = overview_chart_data(ds, 2025)["图1  2025年各乡镇综合得分排名"]
    assert [p.get_width() for p in fig.axes[0].patches] == pytest.approx(list(ranking["综合得分"]))
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == list(ranking["乡镇"])


def test_after_a_batch_the_analyst_files_are_written_where_the_overview_is(ds, tmp_path):
    from zhidang_analysis.running.batch import write_analyst_files

    files = write_analyst_files(ds, [2025], tmp_path, charts=True, summary=True)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in files) == ["2025/2025年全县汇总表.xlsx", "2025/charts.xlsx"]
    assert write_analyst_files(ds, [2025], tmp_path) == []
