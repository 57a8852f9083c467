"""The county overview: overview.py on a tiny hand-built county and on the sample; the notebook run end to end.

The tiny county (three towns, 2023–2024, six indicators) has every expected number worked out by hand in
the comments of ``TINY``; the slow tests execute ``notebooks/county_overview.ipynb`` and
``notebooks/explore.ipynb`` with papermill and parse what they produce.
"""

from __future__ import annotations

import json
import re

import nbformat
import numpy as np
import pandas as pd
import papermill as pm
import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner

import zhidang_analysis as zd
from zhidang_analysis.report import overview as ov
from zhidang_analysis.cli import main
from zhidang_analysis.errors import UnknownNameError, ZhidangError
from zhidang_analysis.model.dataset import Dataset
from zhidang_analysis.report.params import NOTEBOOKS
from zhidang_analysis.running.runner import OVERVIEW_NOTEBOOK, execute_notebook, run_overview

from .conftest import without_norms

TOWNS = ["甲镇", "乙乡", "丙镇"]
# (2023, 2024) values per town, in the order of TOWNS; None = left blank (missing), "30余" = approximate.
# County totals 2024: theme 36+18+25 = 79 (2023: 75, +4); new_members 4+6 = 10 with 甲镇 missing (no change
# told); five_star 1+2+1 = 4 (2023: 4, 持平); tourism_income 660 (2023: 600, +10%, a 万元 rate); disputes
# 12+30+16 = 58, 乙乡's 30 approximate (2023: 45, +13). income_per_household is not additive: no total.
TINY = {
    "theme_party_days": {2023: (30, 20, 25), 2024: (36, 18, 25)},
    "new_members": {2023: (5, 3, 4), 2024: (None, 4, 6)},
    "five_star_branches": {2023: (2, 1, 1), 2024: (1, 2, 1)},
    "tourism_income": {2023: (100, 200, 300), 2024: (110, 220, 330)},
    "disputes_resolved": {2023: (10, 20, 15), 2024: (12, "30余", 16)},
    "income_per_household": {2023: (0.5, 0.4, 0.45), 2024: (0.6, 0.3, 0.5)},
}
# Sizes: villages 20 / 6 / 8, party members 600 / 240 / 450, population 2 / 0.8 / 1.5 (10 000).
# Composite score 2024 (data/scoring.yaml: percentile points per indicator, section means, weights s2 0.25,
# s6 0.20 renormalised over the two sections that have scores):
#   theme per 党支部 (24, 8, 10) 1.5 / 2.25 / 2.5 → 0 / 50 / 100;  new_members per 100 members – / 1.67 / 1.33 → – / 100 / 0;
#   five_star per village 0.05 / 0.33 / 0.125 → 0 / 100 / 50          ⇒ s2 = 0 / 83.3 / 50
#   tourism per 10k 55 / 275 / 220 → 0 / 100 / 50;  disputes resolved are neutral (fewer disputes is not worse):
#   not scored;  income (as is) 0.6 / 0.3 / 0.5 → 100 / 0 / 50        ⇒ s6 = 50 / 50 / 50
#   score = (0.25·s2 + 0.20·s6) / 0.45 = 22.22 / 68.52 / 50.00  ⇒ ranks 甲镇 3, 乙乡 1, 丙镇 2
# 2023 gives the same order (乙乡 85.19), so every town is 持平 against 2023.
TINY_SCORES_2024 = {"乙乡": 68.519, "丙镇": 50.0, "甲镇": 22.222}


def tiny_dataset(names=TOWNS) -> Dataset:
    rename = dict(zip(TOWNS, names))
    rows = []
    for code, by_year in TINY.items():
        for year, vals in by_year.items():
            for town, v in zip(TOWNS, vals):
                approx = isinstance(v, str)
                value = float(v.removesuffix("余")) if approx else (np.nan if v is None else float(v))
                rows.append({"county": "测试县", "town": rename[town], "year": year, "indicator": code, "value": value,
                             "approx": approx, "status": "missing" if v is None else "present", "source": "t"})
    for year in (2023, 2024):  # 甲镇 wrote "—" for homestays: not applicable to it, not counted as 应填
        rows.append({"county": "测试县", "town": rename["甲镇"], "year": year, "indicator": "homestays",
                     "value": np.nan, "approx": False, "status": "na", "source": "t"})
    profile = pd.DataFrame({"county": "测试县", "villages": [20.0, 6.0, 8.0], "party_branches": [24.0, 8.0, 10.0],
                            "party_members": [600.0, 240.0, 450.0], "population": [20000.0, 8000.0, 15000.0]},
                           index=pd.Index(list(names), name="town"))
    targets = pd.DataFrame(columns=["town", "year", "indicator", "target", "source"])
    # (主题党日 a handful in 24 branches: the norm of one a month in every branch is not what these tests are about)
    return Dataset(values=pd.DataFrame(rows), profile=profile, targets=targets, catalog=without_norms(zd.load_catalog()))


@pytest.fixture(scope="module")
def tiny() -> Dataset:
    return tiny_dataset()


@pytest.fixture(scope="module")
def ds() -> Dataset:
    return zd.load_dataset()


def text_of(html) -> str:
    return BeautifulSoup(str(html), "html.parser").get_text()


# --------------------------------------------------------------------------------------------- totals
def test_county_totals_by_hand_on_tiny(tiny):
    t = ov.county_totals(tiny, 2024)
    assert list(t.index) == ["theme_party_days", "five_star_branches", "new_members", "tourism_income",
                             "disputes_resolved"]  # key + additive, catalog order; income_per_household left out
    assert t.loc["theme_party_days", ["total", "prev_total", "change"]].tolist() == [79.0, 75.0, 4.0]
    assert t.at["theme_party_days", "rate"] == pytest.approx(4 / 75)
    assert t.loc["new_members", ["total", "reporting", "missing", "comparable"]].tolist() == [10.0, 2, 1, False]
    assert np.isnan(t.at["new_members", "change"])
    assert t.at["five_star_branches", "change"] == 0.0
    assert t.at["tourism_income", "rate"] == pytest.approx(0.10)
    assert t.loc["disputes_resolved", ["total", "approx", "change"]].tolist() == [58.0, True, 13.0]


def test_county_total_of_new_members_2025_is_the_sum_over_towns(ds):
    v = ds.values
    now = v[(v.year == 2025) & (v.indicator == "new_members") & (v.status == "present")]["value"]
    before = v[(v.year == 2024) & (v.indicator == "new_members") & (v.status == "present")]["value"]
    t = ov.county_totals(ds, 2025)
    assert len(now) == 14
    assert t.at["new_members", "total"] == now.sum()
    assert t.at["new_members", "change"] == now.sum() - before.sum()


def test_county_totals_refuse_a_non_additive_indicator(tiny):
    with pytest.raises(ZhidangError, match="户均增收.*不是可以相加的指标"):
        ov.county_totals(tiny, 2024, codes=["income_per_household"])


def test_first_year_has_no_change(tiny):
    t = ov.county_totals(tiny, 2023)
    assert not t["comparable"].any() and t["change"].isna().all()
    assert ov.mover_codes(tiny, 2023) == []


# --------------------------------------------------------------------------------------------- ranking
def test_ranking_table_by_hand_on_tiny(tiny):
    r = ov.ranking_table(tiny, 2024)
    assert r["乡镇"].tolist() == ["乙乡", "丙镇", "甲镇"]
    assert r["排名"].tolist() == [1, 2, 3]
    assert r["综合得分"].tolist() == pytest.approx(list(TINY_SCORES_2024.values()), abs=1e-3)
    assert r["（二）组织建设"].tolist() == pytest.approx([83.333, 50.0, 0.0], abs=1e-3)
    assert r["（六）党建引领"].tolist() == pytest.approx([50.0, 50.0, 50.0], abs=1e-3)
    assert r["较上年"].tolist() == ["持平"] * 3
    # the problems the reports list: 乙乡's income per household 0.4 → 0.3 万元 (−25%, an amount: no base needed)
    # and its theme party days 20 → 18, a headline indicator down 10% (a slip); 甲镇's blank new_members and
    # 乙乡's approximate disputes are for the check report, not problems
    assert r.set_index("乡镇")["问题（项）"].to_dict() == {"乙乡": 2, "丙镇": 0, "甲镇": 0}


def test_ranking_table_columns_use_section_labels(ds):
    r = ov.ranking_table(ds, 2025)
    labels = [zd.charts.section_label(f"s{i}") for i in range(1, 7)]
    assert list(r.columns) == ["排名", "乡镇", "综合得分", *labels, "较上年", "问题（项）"]
    assert "较上年" not in ov.ranking_table(ds, 2020).columns  # no previous year


def test_ranking_order_is_descending_score_and_ranks_are_consistent(ds):
    r = ov.ranking_table(ds, 2025)
    assert sorted(r["乡镇"]) == sorted(ds.towns) and r["乡镇"].is_unique
    scores = r["综合得分"].to_numpy()
    assert (np.diff(scores) <= 0).all()
    assert r["排名"].tolist() == [1 + int((scores > s).sum()) for s in scores]
    expected = zd.indicators.composite_score(ds.values, ds.profile).xs(2025, level="year")
    assert r.set_index("乡镇")["综合得分"].to_dict() == pytest.approx(expected["score"].to_dict())


def test_rank_change_against_previous_year(ds):
    sc = zd.indicators.composite_score(ds.values, ds.profile)
    r = ov.ranking_table(ds, 2025).set_index("乡镇")
    for town in ds.towns:
        d = int(sc.at[(town, 2024), "rank"]) - int(sc.at[(town, 2025), "rank"])
        assert r.at[town, "较上年"] == ("持平" if d == 0 else (f"上升{d}位" if d > 0 else f"下降{-d}位"))


# --------------------------------------------------------------------------------------------- flags, completeness
def test_flag_table_lists_the_problems_the_reports_list(tiny, ds):
    f = ov.flag_table(tiny, 2024)
    assert list(f.columns) == ["乡镇", "类型", "说明"]
    # by hand: 乙乡's income 0.4 → 0.3 万元 is −25% (weight 2 + 4 × 0.25 = 3.0), its theme party days 20 → 18
    # −10%, a slip of a headline indicator (1.5 + 4 × 0.1 = 1.9); 甲镇's five-star branches 2 → 1 is −50% but a
    # count from a base under 5; no targets in the tiny county
    assert f.values.tolist() == [["乙乡", "较上年下降", "户均增收0.3万元，比上年下降25%"],
                                 ["乙乡", "较上年下滑", "主题党日活动18次，比上年下降10%"]]
    f25 = ov.flag_table(ds, 2025)
    counts = ov.ranking_table(ds, 2025).set_index("乡镇")["问题（项）"]
    assert f25["乡镇"].value_counts().reindex(ds.towns).fillna(0).astype(int).to_dict() == counts.to_dict()
    assert set(f25["类型"]) <= set(ov.FLAG_LABELS.values()) and "自查问题" in set(f25["类型"])
    order = [ds.towns.index(t) for t in f25["乡镇"]]
    assert order == sorted(order)  # towns in profile order
    # each town's rows are what its report lists in 二, in the same order
    from zhidang_analysis.report import narrative

    for town in ("柳林镇", "青石镇", "河湾镇"):
        text = narrative.town_report(ds, town, 2025).text
        problems = text.split("二、存在的问题")[1].split("三、下一步工作打算")[0]
        rows = f25[f25["乡镇"] == town]
        items = [i for i in re.split(r"[一二三四五六七八九十]+是", problems)[1:] if not i.startswith("【待补")]
        if rows.empty:  # none of its own, none in its data: a marker for the editor
            assert "【待补：本" in problems and "自查问题】" in problems
            continue
        assert len(items) == len(rows.drop_duplicates("说明")) or len(items) <= len(rows), (town, items)
        own = rows[rows["类型"] == "自查问题"]["说明"].tolist()
        # as the town wrote them (the report may add that one was named last year too), in the table's order (the
        # Party's own work first, the town's economy after it)
        at = [next(k for k, i in enumerate(items) if i.strip().rstrip("。").startswith(o)) for o in own]
        assert at == sorted(at), (town, items, own)


def _with(tiny: Dataset, *, targets=None, extra=None) -> Dataset:
    """The tiny county with targets (town, indicator, 2024 target) and extra value rows {code: {town: (2023, 2024)}}."""
    values = tiny.values
    if extra:
        rows = [{"county": "测试县", "town": town, "year": year, "indicator": code, "value": float(v), "approx": False,
                 "status": "present", "source": "t"}
                for code, by_town in extra.items() for town, pair in by_town.items() for year, v in zip((2023, 2024), pair)]
        values = pd.concat([values, pd.DataFrame(rows)], ignore_index=True)
    t = pd.DataFrame([{"town": town, "year": 2024, "indicator": code, "target": float(x), "source": "t"}
                      for town, code, x in (targets or [])], columns=["town", "year", "indicator", "target", "source"])
    return Dataset(values=values, profile=tiny.profile, targets=t, catalog=tiny.catalog)


def test_a_target_basically_done_is_no_problem_in_the_overview(tiny):
    # 主题党日活动 2024: 甲镇 36 of a target of 37 is 97.3% (95–99%: 基本完成, as its report tells it, not 未完成);
    # 丙镇 25 of 28 is 89.3%: a missed target
    ds = _with(tiny, targets=[("甲镇", "theme_party_days", 37), ("丙镇", "theme_party_days", 28)])
    f = ov.flag_table(ds, 2024)
    assert f[f["乡镇"] == "甲镇"].empty
    assert f[f["乡镇"] == "丙镇"].values.tolist() == [
        ["丙镇", "未完成目标", "主题党日活动25次，未完成28次的年度目标（完成89.3%）"]]
    assert ov.ranking_table(ds, 2024).set_index("乡镇")["问题（项）"].to_dict() == {"乙乡": 2, "丙镇": 1, "甲镇": 0}
    # the same problems as the town reports list, and the overview's sentence counts them
    from zhidang_analysis.analysis.problems import town_problems
    assert len(town_problems(ds, 2024, "甲镇")) == 0 and len(town_problems(ds, 2024, "丙镇")) == 1
    assert "未完成年度目标1项" in text_of(ov.overview_narrative(ds, 2024))


def test_an_indicator_that_is_no_problem_never_shows_as_one_nor_moves_a_score(tiny):
    # 党委书记集体约谈 (catalog problem: false, a volume) falls by 75% in 甲镇 (20 → 5) and 化解矛盾纠纷 (neutral) by
    # 60% in 丙镇: neither is a problem, and neither enters a section score or the composite score
    assert not bool(tiny.catalog.frame.at["secretary_talks", "problem"])
    ds = _with(tiny, extra={"secretary_talks": {"甲镇": (20, 5), "乙乡": (6, 6), "丙镇": (8, 9)}})
    f = ov.flag_table(ds, 2024)
    assert f["乡镇"].tolist() == ["乙乡", "乙乡"] and not f["说明"].str.contains("约谈").any()
    before, after = ov.ranking_table(tiny, 2024), ov.ranking_table(ds, 2024)
    pd.testing.assert_frame_equal(before, after)
    assert after["（四）“一岗双责”"].isna().all()  # no scored measure in (四) here: no score, not 0


def test_check_table_lists_what_the_check_report_marks_to_confirm(tmp_path):
    # 甲镇's theme party days jump from 30 to 300 (more than three times last year's): one value to confirm (请核实),
    # listed by the overview and counted the same in the batch's checks.html
    from zhidang_analysis.running.batch import write_checks

    values = tiny_dataset().values.copy()
    at = (values.town == "甲镇") & (values.year == 2024) & (values.indicator == "theme_party_days")
    values.loc[at, ["value", "source"]] = [300.0, "示范.xlsx!2024年!C3"]
    ds = Dataset(values=values, profile=tiny_dataset().profile, targets=tiny_dataset().targets,
                 catalog=zd.load_catalog())
    table = ov.check_table(ds, 2024)
    assert table.values.tolist() == [["甲镇", "主题党日活动", "300", "2024年!C3",
                                      "“主题党日活动”比上年大幅增加（2023年为30次，是上年的10倍）"]]
    section = BeautifulSoup(str(ov.check_section(ds, 2024)), "html.parser")
    assert "以下1处数据" in section.get_text() and section.caption.get_text() == "表4  2024年需要核实的数据（1处）"
    assert len(section.select("tbody tr")) == 1
    name = write_checks(ds, {}, tmp_path, 2024)
    page = BeautifulSoup((tmp_path / "2024" / name).read_text(encoding="utf-8"), "html.parser")
    marked = page.select("table.findings td.label.check")
    assert len(marked) == len(table) == 1
    assert "没有需要核实的数据" in text_of(ov.check_section(tiny_dataset(), 2024))


def test_column_labels_break_between_words_only():
    html = str(ov.html_table(pd.DataFrame({"排名": [1], "综合得分": [80.5], "（一）政治站位": [90.0], "问题（项）": [2]})))
    soup = BeautifulSoup(html, "html.parser")
    assert soup.div["class"] == ["zd-table-wrap"] and soup.div.table["class"] == ["zd-table"]
    words = [[w.get_text() for w in th.select("span.nw")] for th in soup.find_all("th")]
    assert words == [["排名"], ["综合", "得分"], ["（一）", "政治", "站位"], ["问题", "（项）"]]
    assert [th.get_text() for th in soup.find_all("th")] == ["排名", "综合得分", "（一）政治站位", "问题（项）"]
    assert str(ov.header_html("<b>主题党日活动")) == (
        '<span class="nw">&lt;b&gt;</span><wbr><span class="nw">主题</span><wbr><span class="nw">党日</span><wbr>'
        '<span class="nw">活动</span>')
    assert soup.find_all("th")[1].find_all("wbr") and not soup.find_all("th")[0].find_all("wbr")


def test_completeness_by_hand_on_tiny(tiny):
    c = ov.completeness(tiny, 2024).set_index("乡镇")
    # six indicators each; 甲镇's "—" for homestays is not counted, its new_members is blank
    assert c.loc["甲镇", ["应填（项）", "已填（项）", "未填（项）", "约数（项）"]].tolist() == [6, 5, 1, 0]
    assert c.at["甲镇", "完整率（%）"] == pytest.approx(500 / 6)
    assert c.at["甲镇", "未填指标"] == "发展党员"
    assert c.loc["乙乡", ["应填（项）", "已填（项）", "未填（项）", "约数（项）"]].tolist() == [6, 6, 0, 1]
    assert c.at["乙乡", "完整率（%）"] == 100.0 and c.at["乙乡", "未填指标"] == ""


def test_completeness_on_sample_counts_the_one_blank(ds):
    c = ov.completeness(ds, 2025).set_index("乡镇")
    assert list(c.index) == ds.towns
    assert int(c["未填（项）"].sum()) == 1
    assert c.loc["河湾镇", ["未填（项）", "未填指标"]].tolist() == [1, "双语宣讲"]
    v = ds.values[(ds.values.year == 2025) & (ds.values.town == "河湾镇")]
    assert c.at["河湾镇", "应填（项）"] == int(v["status"].isin(["present", "missing"]).sum())
    assert int(c["约数（项）"].sum()) == int(ds.values[(ds.values.year == 2025)]["approx"].sum()) == 3


def test_a_town_without_data_for_the_year_is_listed_as_not_sent(tiny):
    values = tiny.values
    extra = values[(values.town == "丙镇") & (values.year == 2023)].assign(town="丁乡")
    profile = pd.concat([tiny.profile, tiny.profile.loc[["丙镇"]].rename(index={"丙镇": "丁乡"})])
    ds4 = Dataset(values=pd.concat([values, extra], ignore_index=True), profile=profile, targets=tiny.targets,
                  catalog=tiny.catalog)
    c = ov.completeness(ds4, 2024).set_index("乡镇")
    assert c.loc["丁乡", ["已填（项）", "未填指标"]].tolist() == [0, "未报送"]
    assert "丁乡" not in ov.ranking_table(ds4, 2024)["乡镇"].tolist()
    assert "全县3个乡镇报送了年度数据，丁乡未报送。" in text_of(ov.overview_narrative(ds4, 2024))


# --------------------------------------------------------------------------------------------- narrative
def test_narrative_by_hand_on_tiny(tiny):
    html = ov.overview_narrative(tiny, 2024)
    text = text_of(html)
    assert BeautifulSoup(str(html), "html.parser").find("h1").get_text() == \
        "测试县二〇二四年度乡镇党委履行全面从严治党主体责任情况综合分析"
    assert "全县3个乡镇报送了年度数据。各乡镇应填指标共18项，已填17项，数据完整率94.4%，1项未填报，1项仅填报了约数。" in text
    assert ("主要指标全县合计：主题党日活动79次，比上年增加4次；五星级党支部4个，与上年持平；"
            "发展党员10名（1个乡镇未填报）；旅游综合收入660万元，同比增长10%；化解矛盾纠纷58余起，比上年增加13起。") in text
    assert "户均增收" not in text
    # a section at the midpoint (党建引领 50.0 for all three) is told neither as high nor as low
    assert "乙乡以68.5分居全县第1位，其组织建设（83.3分）得分较高" in text
    assert "甲镇以22.2分居全县末位（第3位），其组织建设（0.0分）得分较低。" in text  # a blank cell is no problem
    assert "50.0分）得分较" not in text
    assert "全县3个乡镇综合得分的中位数为50.0分。" in text
    assert "各乡镇报告列出存在的问题共2项，涉及1个乡镇，其中比上年下降20%以上1项、重点指标比上年下滑1项" in text


def test_narrative_numbers_carry_indicator_and_value(ds):
    soup = BeautifulSoup(str(ov.overview_narrative(ds, 2025)), "html.parser")
    span = soup.select_one('span.num[data-indicator="new_members"]')
    v = ds.values
    total = v[(v.year == 2025) & (v.indicator == "new_members")]["value"].sum()
    assert float(span["data-value"]) == total and span.get_text() == f"{int(total)}名"
    text = soup.get_text()
    assert "全县14个乡镇报送了年度数据" in text
    scores = zd.indicators.composite_score(ds.values, ds.profile).xs(2025, level="year").sort_values("score")
    best, worst = scores.index[-1], scores.index[0]
    assert f"{best}以{scores.at[best, 'score']:.1f}分居全县第1位" in text
    assert f"{worst}以{scores.at[worst, 'score']:.1f}分居全县末位（第14位）" in text


def test_the_weakest_towns_findings_are_counted_in_plain_words(ds):
    """2022's last town has one indicator down 20% or more and one headline indicator slipping: 另有1项指标比上年
    下降20%以上、1项重点指标比上年下滑 (not “1项指标重点指标”), and 主题党日 below one a month in every branch."""
    text = text_of(ov.overview_narrative(ds, 2022))
    assert "另有1项指标比上年下降20%以上、1项重点指标比上年下滑、1项指标未达到党内规定的要求。" in text
    assert all("项指标重点指标" not in text_of(ov.overview_narrative(ds, y)) for y in ds.years)


def test_first_year_narrative_says_nothing_about_change(tiny, ds):
    for data, year in ((tiny, 2023), (ds, 2020)):
        text = text_of(ov.overview_narrative(data, year))
        for word in ("比上年", "同比", "持平", "上年"):
            assert word not in text, (year, word)
        assert f"数据中没有{year - 1}年的数据" in text_of(ov.movers_text(data, year))


def test_town_names_are_escaped_in_narrative_and_tables():
    nasty = ["甲镇", "<i>&镇", "丙镇"]  # 乙乡, first in score and the one town with a problem
    ds = tiny_dataset(nasty)
    for html in (ov.overview_narrative(ds, 2024),
                 ov.html_table(ov.ranking_table(ds, 2024)), ov.html_table(ov.flag_table(ds, 2024), group=True),
                 ov.html_table(ov.completeness(ds, 2024))):
        assert "<i>" not in str(html)
        assert "&lt;i&gt;&amp;镇" in str(html)
        assert BeautifulSoup(str(html), "html.parser").find("i") is None


# --------------------------------------------------------------------------------------------- movers
def test_mover_codes_are_the_largest_comparable_rates(tiny, ds):
    # disputes +13/45 = 28.9%, tourism +10%, theme +5.3%; five_star unchanged, new_members not comparable
    assert ov.mover_codes(tiny, 2024) == ["disputes_resolved", "tourism_income"]
    assert ov.mover_codes(tiny, 2024, n=3) == ["disputes_resolved", "tourism_income", "theme_party_days"]
    t = ov.county_totals(ds, 2025)
    codes = ov.mover_codes(ds, 2025)
    rest = t.drop(index=codes)
    assert len(codes) == 2
    assert t.loc[codes, "rate"].abs().min() >= rest["rate"].abs().max()


def test_movers_text_names_the_rank_movers(tiny, ds):
    assert "各乡镇综合排名没有变化" in text_of(ov.movers_text(tiny, 2024))
    text = text_of(ov.movers_text(ds, 2025))
    sc = zd.indicators.composite_score(ds.values, ds.profile)
    move = (sc.xs(2024, level="year")["rank"] - sc.xs(2025, level="year")["rank"]).astype(int)
    best = move.idxmax()
    assert f"{best}（由第{sc.at[(best, 2024), 'rank']}位升至第{sc.at[(best, 2025), 'rank']}位）" in text


def test_weights_text_lists_every_section_in_percent(ds):
    assert text_of(ov.weights_text(ds)) == ("各部分权重：（一）政治站位15%、（二）组织建设25%、（三）转变作风10%、"
                                            "（四）“一岗双责”20%、（五）底线思维10%、（六）党建引领20%。"
                                            "其中（三）转变作风、（五）底线思维的指标都是随乡镇规模变化的数量或检查清单的条目数，"
                                            "不反映工作成效，不计分，综合得分按其余部分的权重折算。")


@pytest.mark.parametrize("fn", [ov.county_totals, ov.ranking_table, ov.flag_table, ov.completeness,
                                ov.overview_narrative, ov.movers_text, ov.mover_codes, ov.county_summary])
def test_unknown_year_raises(tiny, fn):
    with pytest.raises(UnknownNameError, match="未找到年度“1999”"):
        fn(tiny, 1999)


# --------------------------------------------------------------------------------------------- html_table
def test_html_table_formats_escapes_and_aligns():
    df = pd.DataFrame({"乡镇": ["<b>镇", "乙乡", "乙乡"], "排名": pd.array([1, 2, None], dtype="Int64"),
                       "得分": [81.44, np.nan, 3.0], "说明": ["一" * 11, "b", "c"]})
    html = str(ov.html_table(df, caption="表1 <x>", group=True))
    soup = BeautifulSoup(html, "html.parser")
    assert soup.find("b") is None and soup.find("x") is None
    assert soup.caption.get_text() == "表1 <x>"
    rows = [[td.get_text() for td in tr.find_all("td")] for tr in soup.tbody.find_all("tr")]
    assert rows == [["<b>镇", "1", "81.4", "一" * 11], ["乙乡", "2", "—", "b"], ["", "—", "3.0", "c"]]
    first = soup.tbody.tr.find_all("td")
    assert [td["class"] for td in first] == [["text", "nowrap"], ["num"], ["num"], ["text"]]
    assert [tr.get("class") for tr in soup.tbody.find_all("tr")] == [["group-start"], ["group-start"], None]


# --------------------------------------------------------------------------------------------- notebooks as files
@pytest.mark.parametrize("name, params", [
    ("county_overview.ipynb", {"year": ("int", "2025", "报告年度"), "data": ("str", '""', "数据文件或文件夹路径"),
                               "county": ("str", '""', "县名"), "exclude_towns": ("str", '""', "不纳入的乡镇")}),
    ("region_overview.ipynb", {"year": ("int", "2025", "报告年度"), "data": ("str", '""', "每个县一个子文件夹"),
                               "exclude_towns": ("str", '""', "不纳入的乡镇")}),
    ("explore.ipynb", {"town": ("str", '"青石镇"', "乡镇名称"), "year": ("int", "2025", "年度"),
                       "data": ("str", '""', "数据文件或文件夹路径")}),
])
def test_notebook_is_committed_clean_with_typed_parameters(name, params):
    path = NOTEBOOKS / name
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code[0].metadata.get("tags") == ["parameters"]
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    assert nb.metadata.kernelspec.name == "python3"
    found = pm.inspect_notebook(str(path))
    assert list(found) == list(params)
    for key, (kind, default, meaning) in params.items():
        assert found[key]["inferred_type_name"] == kind and found[key]["default"] == default
        assert meaning in found[key]["help"]


def test_cli_overview_rejects_unknown_year_before_starting_a_kernel(tmp_path):
    res = CliRunner().invoke(main, ["overview", "--year", "1999", "--out", str(tmp_path)])
    assert res.exit_code == 1
    assert "未找到年度“1999”" in res.output and "2020" in res.output
    assert not (tmp_path / "1999").exists()


def test_cli_overview_help_is_chinese():
    res = CliRunner().invoke(main, ["overview", "--help"])
    assert res.exit_code == 0 and "全县概览" in res.output and "--year" in res.output


# --------------------------------------------------------------------------------------------- end to end
@pytest.fixture(scope="module")
def overview_2025(tmp_path_factory):
    return run_overview(2025, out=tmp_path_factory.mktemp("reports"))


def _ranking(soup: BeautifulSoup):
    for table in soup.find_all("table"):
        heads = [th.get_text() for th in table.find_all("th")]
        if heads[:3] == ["排名", "乡镇", "综合得分"]:
            return [[td.get_text() for td in tr.find_all("td")] for tr in table.tbody.find_all("tr")]
    raise AssertionError("no ranking table")


@pytest.mark.slow
def test_overview_written_beside_its_notebook(overview_2025):
    r = overview_2025
    assert r.html.name == "overview.html" and r.html.parent.name == "2025"
    assert r.notebook == r.html.with_suffix(".ipynb")
    assert sorted(p.name for p in r.html.parent.iterdir()) == ["overview.html", "overview.ipynb"]
    soup = BeautifulSoup(r.html.read_text(encoding="utf-8"), "html.parser")
    assert soup.title.get_text() == "二〇二五年度乡镇党委履行全面从严治党主体责任情况综合分析"
    assert soup.find("h1").get_text().startswith("示范县二〇二五年度")


@pytest.mark.slow
def test_overview_ranking_has_every_town_once_in_score_order(overview_2025, ds):
    rows = _ranking(BeautifulSoup(overview_2025.html.read_text(encoding="utf-8"), "html.parser"))
    towns = [r[1] for r in rows]
    assert sorted(towns) == sorted(ds.towns) and len(towns) == len(set(towns)) == 14
    ranks = [int(r[0]) for r in rows]
    scores = [float(r[2]) for r in rows]
    assert scores == sorted(scores, reverse=True)
    expected = zd.indicators.composite_score(ds.values, ds.profile).xs(2025, level="year")
    assert {t: s for t, s in zip(towns, scores)} == {t: round(float(v), 1) for t, v in expected["score"].items()}
    # ranks follow the unrounded scores (two towns may both show 41.3 and still rank 2 and 3)
    assert {t: r for t, r in zip(towns, ranks)} == {t: int(v) for t, v in expected["rank"].items()}


@pytest.mark.slow
def test_overview_html_is_self_contained(overview_2025):
    html = overview_2025.html.read_text(encoding="utf-8")
    soup = BeautifulSoup(html, "html.parser")
    imgs = soup.select('img[src^="data:image/png;base64,"]')
    assert len(imgs) >= 4
    assert [f.get_text()[:2] for f in soup.find_all("figcaption")] == ["图1", "图2", "图3", "图4", "图5"]
    assert not soup.find("script") and not soup.find("link") and not soup.find("iframe")
    assert "http://" not in html and "https://" not in html
    assert not re.search(r"//[a-z0-9.-]+\.[a-z]{2,}", html, flags=re.I)  # no protocol-relative //host either
    for tag in soup.find_all(src=True):
        assert tag["src"].startswith("data:")
    for tag in soup.find_all(href=True):
        assert tag["href"].startswith("#")
    for code_text in ("import zhidang_analysis", "ranking_table(", "In [", "injected"):
        assert code_text not in html
    headings = [h.get_text() for h in soup.find_all("h2")]
    assert [h[:2] for h in headings] == ["一、", "二、", "三、", "四、", "五、", "六、", "七、"]
    assert [c.get_text()[:2] for c in soup.find_all("caption")] == ["表1", "表2", "表3"]
    assert "没有需要核实的数据" in soup.get_text()  # the sample is plausible throughout (checks.html: no 请核实)
    # a phone's layout is in a screen-only style, which print and WeasyPrint's PDF leave aside
    screen = soup.find("style", attrs={"media": "screen"})
    assert screen is not None and "@media (max-width: 40em)" in screen.get_text()
    assert "p.signoff { white-space: nowrap; }" in screen.get_text()
    assert not any("max-width: 40em" in st.get_text() for st in soup.find_all("style") if st is not screen)
    assert len(soup.select("div.zd-table-wrap > table.zd-table")) == 3
    # every chart: a tap shows it larger (a link to its own figure), with a hidden link that closes it
    for figure in soup.find_all("figure"):
        assert figure.a["class"] == ["zoom"] and figure.a["href"] == f"#{figure['id']}" and figure.a.img
        close = figure.find("a", class_="zoom-close")
        assert close.has_attr("hidden") and close["href"] == f"#{figure.figcaption['id']}"


@pytest.mark.slow
def test_overview_notebook_outputs_have_no_error_glyph_warning_or_stderr(overview_2025):
    nb = nbformat.read(overview_2025.notebook, as_version=4)
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            assert out.output_type != "error"
            blob = json.dumps(out, ensure_ascii=False)
            assert "Glyph" not in blob and "missing from" not in blob and "findfont" not in blob
            assert "Warning" not in blob
            if out.output_type == "stream":
                assert out.name != "stderr", out.text


@pytest.mark.slow
def test_overview_of_first_year_has_no_change_section_charts(tmp_path):
    r = run_overview(2020, out=tmp_path)
    soup = BeautifulSoup(r.html.read_text(encoding="utf-8"), "html.parser")
    assert [f.get_text()[:2] for f in soup.find_all("figcaption")] == ["图1", "图2", "图3"]
    text = soup.get_text()
    assert "数据中没有2019年的数据" in text and "较上年" not in text
    for word in ("比上年增加", "比上年减少", "同比", "与上年持平"):
        assert word not in text
    assert len(_ranking(soup)) == 14


@pytest.mark.slow
def test_cli_overview_writes_the_report(tmp_path):
    res = CliRunner().invoke(main, ["overview", "--year", "2024", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "2024" / "overview.html").is_file() and (tmp_path / "2024" / "overview.ipynb").is_file()
    assert "已生成全县概览" in res.output


@pytest.mark.slow
def test_explore_notebook_runs_with_papermill_without_errors(tmp_path):
    result = execute_notebook(NOTEBOOKS / "explore.ipynb", tmp_path / "explore.ipynb",
                              {"town": "柳林镇", "year": 2025, "data": ""})
    nb = nbformat.read(result.notebook, as_version=4)
    outputs = [out for cell in nb.cells for out in cell.get("outputs", [])]
    assert len(outputs) >= 15
    for out in outputs:
        assert out.output_type != "error"
        if out.output_type == "stream":
            assert out.name != "stderr", out.text
        assert "Glyph" not in json.dumps(out, ensure_ascii=False)
    text = json.dumps(outputs, ensure_ascii=False)
    assert "当前查看：柳林镇 2025年" in text
    # the problems its report lists: its own first, then a missed target
    assert "村级后备干部培养对象流失较多" in text and "发展党员11名，未完成14名的年度目标（完成78.6%）" in text
    assert text.count("data:image/png;base64,") >= 4


def test_overview_notebook_constant_points_at_the_committed_notebook():
    assert OVERVIEW_NOTEBOOK == NOTEBOOKS / "county_overview.ipynb" and OVERVIEW_NOTEBOOK.is_file()


def test_a_year_without_any_value_still_renders(tiny):
    v = tiny.values.copy()
    blank = (v.year == 2024) & (v.status == "present")
    v.loc[blank, ["value", "status", "approx"]] = [np.nan, "missing", False]
    empty = Dataset(values=v, profile=tiny.profile, targets=tiny.targets, catalog=tiny.catalog)
    r = ov.ranking_table(empty, 2024)
    assert r["乡镇"].tolist() == TOWNS and r["排名"].isna().all() and r["综合得分"].isna().all()
    text = text_of(ov.overview_narrative(empty, 2024))
    assert "已填0项" in text and "综合得分（满分100分）方面" not in text
    assert "上年或本年没有综合得分，不作排名比较" in text_of(ov.movers_text(empty, 2024))
    assert ov.mover_codes(empty, 2024) == []
