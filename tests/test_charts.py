"""Charts return Figures with the expected panels, bars and Chinese text, in the CJK font, without warnings.

Each function is checked on a tiny hand-built frame (expected bar lengths, panel data and labels worked
out by hand below) and on the bundled sample. pytest turns every warning into an error (pyproject), so
a "Glyph … missing from font" warning while drawing fails the test; ``_draw`` also says so explicitly.
"""

from __future__ import annotations

import dataclasses
import io
import re
import struct
import warnings

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib import font_manager
from matplotlib._pylab_helpers import Gcf
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from pandas.testing import assert_frame_equal
from PIL import Image

import zhidang_analysis as zd
from zhidang_analysis.report import charts, chartstyle
from zhidang_analysis.analysis import indicators as ind
from zhidang_analysis.errors import UnknownNameError
from zhidang_analysis.outputs.export import FigureHTML

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MINUS = "\u2212"
TOWNS = ["甲镇", "乙乡", "丙镇"]

# town → (2023, 2024) for three key indicators; 甲镇 did not fill in new_members for 2024.
TINY = {
    "theme_party_days": {"甲镇": (30, 36), "乙乡": (20, 18), "丙镇": (25, 25)},
    "new_members": {"甲镇": (5, None), "乙乡": (3, 4), "丙镇": (4, 6)},
    "income_per_household": {"甲镇": (0.5, 0.6), "乙乡": (0.4, 0.3), "丙镇": (0.45, 0.5)},
}


def _frame(table: dict) -> pd.DataFrame:
    rows = []
    for code, by_town in table.items():
        for town, pair in by_town.items():
            for year, value in zip((2023, 2024), pair):
                rows.append({"county": "测试县", "town": town, "year": year, "indicator": code,
                             "value": np.nan if value is None else float(value), "approx": False,
                             "status": "missing" if value is None else "present", "source": "test"})
    return pd.DataFrame(rows)


@pytest.fixture
def tiny() -> pd.DataFrame:
    return _frame(TINY)


@pytest.fixture
def tiny_profile() -> pd.DataFrame:
    # 党支部 chosen so that theme_party_days per branch reverses the raw order:
    # 甲镇 36/24 = 1.5, 乙乡 18/8 = 2.25, 丙镇 25/10 = 2.5
    return pd.DataFrame({"villages": [20.0, 6.0, 8.0], "party_branches": [24.0, 8.0, 10.0],
                         "party_members": [600.0, 240.0, 450.0], "population": [20000.0, 8000.0, 15000.0]},
                        index=pd.Index(TOWNS, name="town"))


@pytest.fixture
def tiny_scores() -> pd.DataFrame:
    idx = pd.MultiIndex.from_tuples([(t, 2024) for t in TOWNS], names=["town", "year"])
    s = pd.DataFrame({"s1": [90.0, 40.0, 60.0], "s2": [80.0, 20.0, 50.0], "s3": [70.0, 30.0, np.nan],
                      "s4": [100.0, 0.0, 50.0], "s5": [60.0, 60.0, 60.0], "s6": [88.0, 12.0, 50.0],
                      "score": [81.4, 27.5, 55.0]}, index=idx)
    s["rank"] = pd.array([1, 3, 2], dtype="Int64")
    return s


@pytest.fixture(scope="module")
def ds():
    return zd.load_dataset()


@pytest.fixture(scope="module")
def sample_scores(ds):
    return ind.composite_score(ds.values, ds.profile)


def _draw(fig: Figure) -> bytes:
    """Draw the figure (savefig to PNG bytes) with every warning an error, missing glyphs included."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return charts.figure_to_png(fig)


def _texts(fig: Figure) -> str:
    """All text of the figure: titles, labels, tick labels, annotations, legends."""
    out = [t.get_text() for t in fig.findobj(matplotlib.text.Text)]
    return "\n".join(out)


def _is_cjk(text) -> bool:
    path = font_manager.findfont(text.get_fontproperties(), fallback_to_default=False)
    return text.get_fontfamily()[0] == "Noto Sans CJK SC" and path.endswith("NotoSansCJKsc-Regular.otf")


def _bars(ax) -> list[float]:
    return [round(p.get_width(), 6) for p in ax.patches]


def _yticklabels(ax) -> list[str]:
    return [t.get_text() for t in ax.get_yticklabels()]


# --------------------------------------------------------------------------------------------- font
def test_use_cjk_font_registers_the_mplfonts_file_once():
    first = charts.use_cjk_font()
    path = chartstyle._font_path()
    count = sum(e.fname == path for e in font_manager.fontManager.ttflist)
    assert charts.use_cjk_font() == first == "Noto Sans CJK SC"
    assert sum(e.fname == path for e in font_manager.fontManager.ttflist) == count
    assert path.endswith("mplfonts/fonts/NotoSansCJKsc-Regular.otf")


def test_font_has_the_minus_sign():
    font = matplotlib.ft2font.FT2Font(chartstyle._font_path())
    assert font.get_char_index(ord(MINUS)) != 0


def test_glyph_check_is_not_vacuous():
    """A character no font has does warn: so the warning-free draws below mean something."""
    with charts.chart_style():
        fig = Figure()
        fig.text(0.5, 0.5, "\U0001F600")
    with pytest.warns(UserWarning, match="missing from font"):
        FigureCanvasAgg(fig).draw()


def test_style_is_only_applied_inside_chart_style():
    before = list(matplotlib.rcParams["font.family"])
    with charts.chart_style():
        assert matplotlib.rcParams["font.family"][0] == "Noto Sans CJK SC"
        assert not matplotlib.rcParams["axes.spines.top"]
    assert list(matplotlib.rcParams["font.family"]) == before


# --------------------------------------------------------------------------------------------- town_trend
def test_town_trend_tiny_has_one_panel_per_indicator_with_gaps(tiny):
    fig = charts.town_trend(tiny, "甲镇")
    assert isinstance(fig, Figure)
    assert [ax.get_title() for ax in fig.axes] == ["主题党日活动（次）", "发展党员（名）", "户均增收（万元）"]
    town_lines = [[ln for ln in ax.get_lines() if ln.get_label() == "甲镇"][0] for ax in fig.axes]
    assert list(town_lines[0].get_ydata()) == [30.0, 36.0]
    ydata = town_lines[1].get_ydata()
    assert ydata[0] == 5.0 and np.isnan(ydata[1])  # the missing year is a gap
    median = [ln for ln in fig.axes[0].get_lines() if ln.get_label() == "全县中位数"][0]
    assert list(median.get_ydata()) == [25.0, 25.0]
    assert list(fig.axes[0].get_xticks()) == [2023, 2024]
    assert "甲镇重点指标变化趋势" not in _texts(fig)  # the report's caption is the title
    assert _draw(fig).startswith(PNG_SIGNATURE)
    assert all(_is_cjk(ax.title) for ax in fig.axes)


def test_town_trend_drops_codes_without_data(tiny):
    fig = charts.town_trend(tiny, "甲镇", codes=["new_members", "tourists"])
    assert [ax.get_title() for ax in fig.axes] == ["发展党员（名）"]


def test_town_trend_negative_values_draw_with_true_minus(tiny):
    neg = tiny.assign(value=tiny["value"] - 40.0)
    fig = charts.town_trend(neg, "乙乡", codes=["theme_party_days"])
    _draw(fig)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert any(label.startswith(MINUS) for label in labels)


def test_town_trend_sample(ds):
    fig = charts.town_trend(ds.values, "青石镇")
    key = [c for c in zd.load_catalog().value_codes if zd.load_catalog().frame.at[c, "key"]]
    assert len(fig.axes) == len(key) == 13
    png = _draw(fig)
    assert png.startswith(PNG_SIGNATURE) and len(png) < 150_000


def test_town_trend_unknown_town(tiny):
    with pytest.raises(UnknownNameError):
        charts.town_trend(tiny, "丁镇")
    with pytest.raises(UnknownNameError):
        charts.town_trend(tiny, "甲镇", codes=["no_such_code"])


# --------------------------------------------------------------------------------------------- town_vs_county
def test_town_vs_county_tiny_index_against_median(tiny):
    # 2024 medians: theme 25 (36 → 144), income 0.5 (0.6 → 120); 甲镇's new_members is missing
    fig = charts.town_vs_county(tiny, "甲镇", 2024)
    ax = fig.axes[0]
    assert _bars(ax) == [144.0, 120.0]
    assert _yticklabels(ax) == ["主题党日活动", "户均增收"]
    assert {matplotlib.colors.to_hex(p.get_facecolor()) for p in ax.patches} == {charts.ACCENT.lower()}
    assert 100 in [ln.get_xdata()[0] for ln in ax.get_lines()]
    texts = _texts(fig)
    assert "36次" in texts and "0.6万元" in texts and "甲镇2024年重点指标与全县中位数比较" not in texts
    assert ax.get_xlabel() == "指数（全县中位数＝100）" and _is_cjk(ax.xaxis.label)
    _draw(fig)


def test_town_vs_county_unfavourable_bars_are_grey(tiny):
    # 乙乡 2024: theme 18/25 = 72, new_members 4/5 = 80, income 0.3/0.5 = 60, all below the median
    fig = charts.town_vs_county(tiny, "乙乡", 2024)
    ax = fig.axes[0]
    assert _bars(ax) == [72.0, 80.0, 60.0]
    # mid grey, not the washed-out light grey: legible on screen and apart from the accent in a grey print
    assert {matplotlib.colors.to_hex(p.get_facecolor()) for p in ax.patches} == {charts.GREY.lower()}
    assert "不及全县中位数" in _texts(fig)


def _luminance(colour) -> float:
    """WCAG 2 relative luminance of a colour (sRGB linearised)."""
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in matplotlib.colors.to_rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def test_town_vs_county_below_median_bars_are_legible_against_white():
    # a below-median bar must stand out from the white page (contrast ratio ≥ 3:1, WCAG's rule for graphics)
    # and from the accent colour of a better bar
    worse = _luminance(charts.GREY)
    assert (1.0 + 0.05) / (worse + 0.05) >= 3.0
    assert (1.0 + 0.05) / (_luminance(charts.GREY_LIGHT) + 0.05) < 2.0  # what the bars were: washed out
    assert abs(worse - _luminance(charts.ACCENT)) > 0.15


def test_town_vs_county_labels_neutral_indicators_as_neutral(tiny):
    # 甲镇 2024 disputes resolved 40 against a median of 30: 133, a neutral count (catalog polarity 0), and the
    # secretary's talks 13 against 10: 130, a volume that follows the town's size; neither is 持平 nor 优于
    extra = _frame({"disputes_resolved": {"甲镇": (30, 40), "乙乡": (20, 30), "丙镇": (25, 20)},
                    "secretary_talks": {"甲镇": (10, 13), "乙乡": (8, 10), "丙镇": (9, 9)}})
    fig = charts.town_vs_county(pd.concat([tiny, extra], ignore_index=True), "甲镇", 2024,
                                codes=["theme_party_days", "secretary_talks", "disputes_resolved"])
    ax = fig.axes[0]
    assert _bars(ax) == [144.0, 130.0, round(40 / 30 * 100, 6)]
    faces = [matplotlib.colors.to_hex(p.get_facecolor()) for p in ax.patches]
    assert faces == [charts.ACCENT.lower(), "#ffffff", "#ffffff"]  # the neutral ones are outlined and hatched
    assert [p.get_hatch() for p in ax.patches] == [None, "////", "////"]
    texts = _texts(fig)
    assert "中性指标（不比优劣）" in texts and "与全县中位数持平" not in texts and "优于全县中位数" in texts
    _draw(fig)


def test_town_vs_county_skips_zero_median(tiny):
    zero = _frame({"warning_sessions": {"甲镇": (0, 1), "乙乡": (0, 0), "丙镇": (0, 0)}})
    fig = charts.town_vs_county(pd.concat([tiny, zero], ignore_index=True), "甲镇", 2024,
                                codes=["theme_party_days", "warning_sessions"])
    assert _bars(fig.axes[0]) == [144.0]


def test_town_vs_county_sample(ds):
    fig = charts.town_vs_county(ds.values, "河湾镇", 2025)
    png = _draw(fig)
    # 13 key indicators less the two tourism ones 河湾镇 does not report
    assert len(fig.axes[0].patches) == 11
    assert png.startswith(PNG_SIGNATURE) and len(png) < 150_000


def test_town_vs_county_unknown_names(tiny):
    with pytest.raises(UnknownNameError):
        charts.town_vs_county(tiny, "丁镇", 2024)
    with pytest.raises(UnknownNameError):
        charts.town_vs_county(tiny, "甲镇", 2019)


# --------------------------------------------------------------------------------------------- score_breakdown
def test_section_labels_are_short():
    assert [charts.section_label(f"s{i}") for i in range(1, 7)] == [
        "（一）政治站位", "（二）组织建设", "（三）转变作风", "（四）“一岗双责”", "（五）底线思维", "（六）党建引领"]


def test_score_breakdown_tiny(tiny_scores):
    fig = charts.score_breakdown(tiny_scores, "丙镇", 2024)
    ax = fig.axes[0]
    # 丙镇 has no s3 score: five bars, six labels
    assert _bars(ax) == [60.0, 50.0, 50.0, 60.0, 50.0]
    assert _yticklabels(ax)[0] == "（一）政治站位" and len(_yticklabels(ax)) == 6
    median = [ln for ln in ax.get_lines() if ln.get_label() == "全县中位数"][0]
    assert list(median.get_xdata()) == [60.0, 50.0, 50.0, 50.0, 60.0, 50.0]
    assert ax.get_title() == ""
    # the score, and no unofficial place in the county unless asked for
    summary = [t for t in ax.texts if t.get_text() == "综合得分55.0分"]
    assert len(summary) == 1 and _is_cjk(summary[0])
    assert "全县第" not in _texts(fig)
    ranked = charts.score_breakdown(tiny_scores, "丙镇", 2024, rank=True)
    assert "综合得分55.0分，全县第2名（共3个乡镇）" in [t.get_text() for t in ranked.axes[0].texts]
    assert "暂无数据" in _texts(fig)
    _draw(fig)


def test_score_breakdown_sample(sample_scores):
    fig = charts.score_breakdown(sample_scores, "青石镇", 2025, rank=True)
    ax = fig.axes[0]
    # (三) and (五) hold no performance measure (a volume, a checklist): not scored, and said so
    assert len(ax.patches) == 4
    assert [t.get_text() for t in ax.texts].count("不计分") == 2
    summary = [t.get_text() for t in ax.texts if t.get_text().startswith("综合得分")]
    assert len(summary) == 1 and "共14个乡镇" in summary[0]
    png = _draw(fig)
    assert png.startswith(PNG_SIGNATURE) and len(png) < 150_000


def test_score_breakdown_unknown_names(tiny_scores):
    with pytest.raises(UnknownNameError):
        charts.score_breakdown(tiny_scores, "丁镇", 2024)
    with pytest.raises(UnknownNameError):
        charts.score_breakdown(tiny_scores, "甲镇", 2023)


# --------------------------------------------------------------------------------------------- score_ranking
def test_score_ranking_tiny_sorted_with_rank_labels(tiny_scores):
    fig = charts.score_ranking(tiny_scores, 2024, highlight="丙镇")
    ax = fig.axes[0]
    assert _yticklabels(ax) == ["甲镇", "丙镇", "乙乡"]
    assert _bars(ax) == [81.4, 55.0, 27.5]
    colours = [matplotlib.colors.to_hex(p.get_facecolor()) for p in ax.patches]
    assert colours[1] == charts.ACCENT.lower() and colours[0] != colours[1]
    texts = _texts(fig)
    assert "81.4分 第1名" in texts and "27.5分 第3名" in texts and "2024年各乡镇综合得分排名" not in texts
    assert ax.get_xlabel() == "综合得分（分，满分100）" and _is_cjk(ax.xaxis.label)
    _draw(fig)


def test_score_ranking_sample(sample_scores):
    fig = charts.score_ranking(sample_scores, 2025)
    assert len(fig.axes[0].patches) == 14
    png = _draw(fig)
    assert png.startswith(PNG_SIGNATURE) and len(png) < 150_000


def test_score_ranking_unknown_names(tiny_scores):
    with pytest.raises(UnknownNameError):
        charts.score_ranking(tiny_scores, 2019)
    with pytest.raises(UnknownNameError):
        charts.score_ranking(tiny_scores, 2024, highlight="丁镇")


# --------------------------------------------------------------------------------------------- heatmap
def _levels(fig) -> np.ndarray:
    return np.ma.filled(fig.axes[0].images[0].get_array().astype("float64"), np.nan)


def test_heatmap_tiny_percentiles(tiny):
    fig = charts.heatmap(tiny, 2024)
    # columns theme, new_members, income; rows 甲镇, 乙乡, 丙镇 (order of appearance)
    expected = np.array([[100.0, np.nan, 100.0], [0.0, 0.0, 0.0], [50.0, 100.0, 50.0]])
    np.testing.assert_array_equal(_levels(fig), expected)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["主题党日活动（次）", "发展党员（名）", "户均增收（万元）"]
    assert _yticklabels(ax) == TOWNS
    assert len(fig.axes) == 2  # the heat map and its colour bar
    assert fig.axes[1].get_ylabel() == "相对水平（0=全县最低，100=全县最高）"
    assert _is_cjk(ax.get_xticklabels()[0]) and _is_cjk(fig.axes[1].yaxis.label)
    _draw(fig)


def test_heatmap_with_profile_uses_size_scaling(tiny, tiny_profile):
    fig = charts.heatmap(tiny, 2024, codes=["theme_party_days"], profile=tiny_profile)
    np.testing.assert_array_equal(_levels(fig)[:, 0], [0.0, 50.0, 100.0])
    assert "折算" in fig.axes[0].get_xlabel()


def test_heatmap_without_the_size_figure_an_indicator_is_scaled_by_draws_nothing_of_it(tiny, tiny_profile):
    """An analyst's own profile without 党支部数: 主题党日 (compared per 党支部) cannot be compared, and is left out
    (not drawn from raw counts, not an error)."""
    fig = charts.heatmap(tiny, 2024, codes=["theme_party_days"], profile=tiny_profile.drop(columns="party_branches"))
    assert "暂无可绘制的数据" in _texts(fig)


def test_heatmap_reverses_less_is_better(tiny):
    cat = zd.load_catalog()
    frame = cat.frame.copy()
    frame.loc["theme_party_days", "polarity"] = -1
    reversed_cat = dataclasses.replace(cat, frame=frame)
    fig = charts.heatmap(tiny, 2024, codes=["theme_party_days"], catalog=reversed_cat)
    np.testing.assert_array_equal(_levels(fig)[:, 0], [0.0, 100.0, 50.0])
    assert fig.axes[0].get_xticklabels()[0].get_text().endswith("*")
    assert fig.axes[0].get_xlabel() == "注：标*的指标越小越好，已反向排序"


def test_heatmap_sample(ds):
    fig = charts.heatmap(ds.values, 2025, profile=ds.profile)
    assert _levels(fig).shape == (14, 13)
    png = _draw(fig)
    assert png.startswith(PNG_SIGNATURE) and len(png) < 150_000


def test_heatmap_unknown_year(tiny):
    with pytest.raises(UnknownNameError):
        charts.heatmap(tiny, 2019)


# --------------------------------------------------------------------------------------------- county_small_multiples
def test_county_small_multiples_tiny_sum_and_mean(tiny):
    fig = charts.county_small_multiples(tiny)
    assert [ax.get_title() for ax in fig.axes] == ["主题党日活动（次）", "发展党员（名）", "户均增收（万元，乡镇平均）"]
    theme, members, income = (ax.get_lines()[0].get_ydata() for ax in fig.axes)
    assert list(theme) == [75.0, 79.0]
    assert list(members) == [12.0, 10.0]
    np.testing.assert_allclose(income, [0.45, 1.4 / 3])
    # 2024 new_members lacks 甲镇: drawn as a hollow point
    hollow = fig.axes[1].get_lines()[1]
    assert list(hollow.get_xdata()) == [2024] and hollow.get_markerfacecolor() == "white"
    assert "空心点：当年有乡镇未填报，合计偏低" in _texts(fig)
    assert all(_is_cjk(ax.title) for ax in fig.axes)
    _draw(fig)


def test_county_small_multiples_sample(ds):
    fig = charts.county_small_multiples(ds.values)
    assert len(fig.axes) == 13
    png = _draw(fig)
    assert png.startswith(PNG_SIGNATURE) and len(png) < 150_000


def test_county_small_multiples_unknown_code(tiny):
    with pytest.raises(UnknownNameError):
        charts.county_small_multiples(tiny, codes=["no_such_code"])


# --------------------------------------------------------------------------------------------- movers
def test_movers_tiny_diverging_bars(tiny):
    # theme_party_days 2024: 甲镇 +6, 乙乡 −2, 丙镇 unchanged (left out)
    fig = charts.movers(ind.yoy(tiny), 2024)
    ax = fig.axes[0]
    assert _bars(ax) == [6.0, -2.0]
    assert _yticklabels(ax) == ["甲镇", "乙乡"]
    texts = _texts(fig)
    assert "+6次" in texts and f"{MINUS}2次" in texts
    assert "2024年主题党日活动比上年变化较大的乡镇" not in texts
    assert ax.get_xlabel() == "比上年增减（次）" and _is_cjk(ax.xaxis.label)
    _draw(fig)
    assert any(t.get_text().startswith(MINUS) for t in ax.get_xticklabels())


def test_movers_of_a_count_have_whole_number_ticks():
    # 主题党日 changes of +3, +1, −2 and −1 次: matplotlib's default ticks would be −2.0, −1.5 … 2.5
    table = {"theme_party_days": {"甲镇": (30, 33), "乙乡": (20, 21), "丙镇": (25, 23), "丁镇": (10, 9)}}
    fig = charts.movers(ind.yoy(_frame(table)), 2024)
    ax = fig.axes[0]
    _draw(fig)
    lo, hi = ax.get_xlim()
    ticks = [t for t in ax.get_xticks() if lo <= t <= hi]
    assert len(ticks) >= 3 and all(float(t).is_integer() for t in ticks), ticks
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert labels and not any("." in t for t in labels), labels


def test_movers_of_a_volume_are_neutral_not_better_or_worse():
    # the secretary's talks follow the town's size: a fall is no 向差
    table = {"secretary_talks": {"甲镇": (10, 13), "乙乡": (8, 6), "丙镇": (9, 9)}}
    fig = charts.movers(ind.yoy(_frame(table)), 2024, "secretary_talks")
    texts = _texts(fig)
    assert "中性指标（不比好坏）" in texts and "向差" not in texts and "向好" not in texts
    assert [p.get_hatch() for p in fig.axes[0].patches] == ["////", "////"]


def test_movers_by_rate_in_percent(tiny):
    fig = charts.movers(ind.yoy(tiny), 2024, "new_members", by="rate")
    # 乙乡 3 → 4 (+33.3%), 丙镇 4 → 6 (+50%); 甲镇 missing
    assert _bars(fig.axes[0]) == [50.0, round(100 / 3, 6)]
    assert "+33.3%" in _texts(fig)


def test_movers_keeps_n_each_side(ds):
    fig = charts.movers(ind.yoy(ds.values), 2025, n=2)
    widths = _bars(fig.axes[0])
    assert len(widths) == 4 and widths[0] >= widths[1] > 0 > widths[2] >= widths[3]
    png = _draw(fig)
    assert png.startswith(PNG_SIGNATURE) and len(png) < 150_000


def test_movers_unknown_names(tiny):
    y = ind.yoy(tiny)
    with pytest.raises(UnknownNameError):
        charts.movers(y, 2019)
    with pytest.raises(UnknownNameError):
        charts.movers(y, 2024, "no_such_code")


# --------------------------------------------------------------------------------------------- common
def test_charts_do_not_mutate_inputs_nor_touch_pyplot(tiny, tiny_scores, tiny_profile):
    before_values, before_scores = tiny.copy(), tiny_scores.copy()
    y = ind.yoy(tiny)
    before_yoy = y.copy()
    n_figs = Gcf.get_num_fig_managers()
    charts.town_trend(tiny, "甲镇")
    charts.town_vs_county(tiny, "甲镇", 2024)
    charts.heatmap(tiny, 2024, profile=tiny_profile)
    charts.county_small_multiples(tiny)
    charts.score_breakdown(tiny_scores, "甲镇", 2024)
    charts.score_ranking(tiny_scores, 2024)
    charts.movers(y, 2024)
    assert_frame_equal(tiny, before_values)
    assert_frame_equal(tiny_scores, before_scores)
    assert_frame_equal(y, before_yoy)
    assert Gcf.get_num_fig_managers() == n_figs


def test_tick_labels_keep_cjk_font_when_drawn_outside_the_style(tiny):
    fig = charts.heatmap(tiny, 2024)
    with matplotlib.rc_context({"font.family": ["DejaVu Sans"]}):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            FigureCanvasAgg(fig).draw()
    labels = fig.axes[0].get_yticklabels() + fig.axes[1].get_yticklabels()
    assert labels and all(_is_cjk(t) for t in labels)


def test_figure_to_png_is_small_png(tiny):
    png = charts.figure_to_png(charts.town_vs_county(tiny, "甲镇", 2024), dpi=80)
    assert png.startswith(PNG_SIGNATURE) and len(png) < 150_000
    assert b"Matplotlib" not in png  # no software stamp: identical input gives identical bytes


def test_nothing_to_draw_gives_a_message_not_an_error(tiny):
    fig = charts.town_trend(tiny, "甲镇", codes=["tourists"])
    assert "暂无可绘制的数据" in _texts(fig)
    still = tiny.assign(value=tiny.groupby(["town", "indicator"])["value"].transform("first"))
    fig = charts.movers(ind.yoy(still), 2024)
    assert "与上年相比无变化或无上年数据" in _texts(fig)
    _draw(fig)


# --------------------------------------------------------------------------------------------- one title, no clipping
# The report's caption (export.FigureHTML) is a figure's only title; the figure itself draws none.
YEARS6 = list(range(2020, 2026))


def _six_years(table: dict) -> pd.DataFrame:
    """Tidy values for 2020–2025 from ``{code: {town: [six values]}}`` (None = left blank)."""
    rows = []
    for code, by_town in table.items():
        for town, values in by_town.items():
            for year, value in zip(YEARS6, values):
                rows.append({"county": "测试县", "town": town, "year": year, "indicator": code,
                             "value": np.nan if value is None else float(value), "approx": False,
                             "status": "missing" if value is None else "present", "source": "test"})
    return pd.DataFrame(rows)


# Zeros at the bottom of the axis and the highest value in the last year, where markers get cut.
SIX = {
    "theme_party_days": {"甲镇": [0, 10, 20, 30, 40, 50], "乙乡": [5, 0, 8, 9, 12, 6], "丙镇": [7, 7, 7, 7, 7, 7]},
    "new_members": {"甲镇": [0, 0, 0, 0, 0, 0], "乙乡": [3, 4, None, 5, 6, 9], "丙镇": [1, 2, 3, 2, 1, 0]},
    "livestock_stock": {"甲镇": [1.2, 1.3, 1.1, 1.4, 1.5, 1.6], "乙乡": [0.8, 0.9, 0.9, 1.0, 1.2, 1.1],
                        "丙镇": [2.0, 2.1, 2.2, 2.2, 2.3, 2.4]},
}


@pytest.fixture
def six() -> pd.DataFrame:
    return _six_years(SIX)


@pytest.fixture
def bracket_catalog():
    """The catalog with a unit that has brackets of its own, as the report prints it: 万头（只）."""
    cat = zd.load_catalog()
    frame = cat.frame.copy()
    frame.loc["livestock_stock", "unit"] = "万头（只）"
    return dataclasses.replace(cat, frame=frame)


def _all_charts(tiny, tiny_scores, tiny_profile) -> dict[str, Figure]:
    return {
        "town_trend": charts.town_trend(tiny, "甲镇"),
        "town_vs_county": charts.town_vs_county(tiny, "甲镇", 2024),
        "score_breakdown": charts.score_breakdown(tiny_scores, "乙乡", 2024),
        "score_ranking": charts.score_ranking(tiny_scores, 2024),
        "heatmap": charts.heatmap(tiny, 2024, profile=tiny_profile),
        "county_small_multiples": charts.county_small_multiples(tiny),
        "movers": charts.movers(ind.yoy(tiny), 2024),
        "empty town_trend": charts.town_trend(tiny, "甲镇", codes=["tourists"]),
        "empty movers": charts.movers(ind.yoy(tiny[tiny["year"] == 2024]), 2024),
    }


def test_no_chart_draws_a_title_of_its_own(tiny, tiny_scores, tiny_profile):
    names = {zd.load_catalog().name(c) for c in zd.load_catalog().value_codes}

    def is_panel_title(title: str) -> bool:  # an indicator with its unit, nothing about the town or the years
        return title.split("（")[0] in names and not any(t in title for t in TOWNS) and "20" not in title

    for name, fig in _all_charts(tiny, tiny_scores, tiny_profile).items():
        _draw(fig)
        assert fig.get_suptitle() == "", name
        small_multiples = name in ("town_trend", "county_small_multiples")
        for ax in fig.axes:
            titles = [ax.get_title(loc) for loc in ("left", "center", "right")]
            assert titles[0] == titles[2] == "", name
            # one panel per indicator: its title is the indicator with its unit, nothing about town or years
            assert is_panel_title(titles[1]) if small_multiples else (titles[1] == ""), (name, titles[1])
    assert "暂无可绘制的数据" in _texts(charts.town_trend(tiny, "甲镇", codes=["tourists"]))


def test_score_breakdown_keeps_the_composite_score_inside_the_axes(tiny_scores):
    fig = charts.score_breakdown(tiny_scores, "甲镇", 2024, rank=True)
    ax = fig.axes[0]
    summary = [t for t in ax.texts if t.get_text() == "综合得分81.4分，全县第1名（共3个乡镇）"]
    assert len(summary) == 1
    _draw(fig)
    # drawn inside the plot, above the first section's bar
    box = summary[0].get_window_extent()
    frame = ax.get_window_extent()
    assert frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
    first_bar = ax.patches[0].get_window_extent()
    assert box.y0 >= first_bar.y1


def test_heatmap_keeps_its_notes_as_the_axis_label(tiny, tiny_profile):
    cat = zd.load_catalog()
    frame = cat.frame.copy()
    frame.loc["theme_party_days", "polarity"] = -1
    fig = charts.heatmap(tiny, 2024, profile=tiny_profile, catalog=dataclasses.replace(cat, frame=frame))
    ax = fig.axes[0]
    assert ax.get_title() == ""
    assert ax.get_xlabel() == "注：按行政村数、党支部数、党员人数或户籍人口折算后比较；标*的指标越小越好，已反向排序"
    assert _is_cjk(ax.xaxis.label)
    _draw(fig)


def _marker_lines(fig: Figure):
    for ax in fig.axes:
        for line in ax.get_lines():
            if line.get_marker() not in (None, "None", "", " ") and line.get_label() != "全县中位数":
                yield ax, line


@pytest.mark.parametrize("build", [
    lambda v: charts.town_trend(v, "甲镇"),
    lambda v: charts.town_trend(v, "丙镇"),
    lambda v: charts.town_trend(v, "乙乡", show_median=False),
    lambda v: charts.county_small_multiples(v),
], ids=["town_trend_甲镇", "town_trend_丙镇", "town_trend_no_median", "county_small_multiples"])
def test_trend_points_are_never_clipped(six, build):
    fig = build(six)
    _draw(fig)
    checked = 0
    for ax, line in _marker_lines(fig):
        y = np.asarray(line.get_ydata(), dtype="float64")
        x = np.asarray(line.get_xdata(), dtype="float64")
        ok = ~np.isnan(y)
        lo, hi = ax.get_ylim()
        assert np.all((lo < y[ok]) & (y[ok] < hi)), (ax.get_title(), list(y), (lo, hi))
        # the whole marker, not only its centre, is inside the frame (or drawn unclipped over it)
        radius = (line.get_markersize() / 2 + line.get_markeredgewidth()) * fig.dpi / 72
        pix = ax.transData.transform(np.c_[x[ok], y[ok]])
        frame = ax.get_window_extent()
        inside = (pix[:, 1] - radius >= frame.y0) & (pix[:, 1] + radius <= frame.y1)
        assert inside.all() or not line.get_clip_on(), (ax.get_title(), list(y))
        checked += int(ok.sum())
    assert checked > 0


def test_trend_points_at_the_edges_are_drawn_whole_when_clipping_is_on(six):
    """Belt and braces: even a clipped line would keep its markers, thanks to the headroom."""
    fig = charts.town_trend(six, "甲镇")
    _draw(fig)
    for ax, line in _marker_lines(fig):
        y = np.asarray(line.get_ydata(), dtype="float64")
        y = y[~np.isnan(y)]
        lo, hi = ax.get_ylim()
        span = hi - lo
        radius_data = (line.get_markersize() / 2 + line.get_markeredgewidth()) / 72 * fig.dpi
        radius_data *= span / ax.get_window_extent().height
        assert y.max() + radius_data < hi and y.min() - radius_data > lo, ax.get_title()


def _year_labels_fit(ax) -> bool:
    labels = [t for t in ax.get_xticklabels() if t.get_text()]
    pos = ax.transData.transform(np.c_[ax.get_xticks(), np.zeros(len(ax.get_xticks()))])[:, 0]
    gap = float(np.min(np.diff(pos)))
    rotation = labels[0].get_rotation()
    if rotation == 0:
        boxes = [t.get_window_extent() for t in labels]
        return all(a.x1 < b.x0 for a, b in zip(boxes, boxes[1:]))
    height = labels[0].get_fontsize() * ax.figure.dpi / 72  # parallel slanted labels: distance across them
    return gap * np.sin(np.radians(rotation)) > height


def test_trend_charts_label_every_year_of_a_long_series():
    twelve = pd.concat([_six_years(SIX).assign(year=lambda f, k=k: f["year"] - 6 * k) for k in (0, 1)],
                       ignore_index=True)
    years = list(range(2014, 2026))
    # three panels as narrow as those of the four-column default
    for fig in (charts.town_trend(twelve, "甲镇", figsize=(charts.WIDTH * 3 / 4, 2.5)),
                charts.county_small_multiples(twelve, figsize=(charts.WIDTH * 3 / 4, 2.5))):
        _draw(fig)
        for ax in fig.axes:
            assert [t.get_text() for t in ax.get_xticklabels()] == [str(y) for y in years]
            assert _year_labels_fit(ax), ax.get_title()


@pytest.mark.parametrize("build", [
    lambda v: charts.town_trend(v, "甲镇"),
    lambda v: charts.town_trend(v, "甲镇", ncols=2),
    lambda v: charts.county_small_multiples(v),
    lambda v: charts.county_small_multiples(v, codes=["theme_party_days"], figsize=(3, 2)),
], ids=["town_trend", "town_trend_2cols", "county_small_multiples", "county_small_multiples_narrow"])
def test_trend_charts_label_every_year(six, build):
    fig = build(six)
    _draw(fig)
    for ax in fig.axes:
        assert list(ax.get_xticks()) == YEARS6
        assert [t.get_text() for t in ax.get_xticklabels()] == [str(y) for y in YEARS6], ax.get_title()
        assert _year_labels_fit(ax), ax.get_title()


def test_with_unit_never_nests_brackets():
    assert charts._with_unit("牛羊存栏", "万头（只）") == "牛羊存栏（万头/只）"
    assert charts._with_unit("牛羊存栏", "万头(只)") == "牛羊存栏（万头/只）"
    assert charts._with_unit("户均增收", "万元", "乡镇平均") == "户均增收（万元，乡镇平均）"
    assert charts._with_unit("大小畜投保", "万头（只）", "乡镇平均") == "大小畜投保（万头/只，乡镇平均）"
    assert charts._with_unit("合计", "") == charts._with_unit("合计", None) == "合计"


NESTED = re.compile(r"[（(][^）)]*[（(]")


def test_labels_with_a_bracketed_unit_are_not_nested(six, bracket_catalog):
    cat = bracket_catalog
    figs = {
        "town_trend": charts.town_trend(six, "甲镇", codes=["livestock_stock"], catalog=cat),
        "county_small_multiples": charts.county_small_multiples(six, codes=["livestock_stock"], catalog=cat),
        "heatmap": charts.heatmap(six, 2025, codes=["livestock_stock"], catalog=cat),
        "movers": charts.movers(ind.yoy(six, catalog=cat), 2025, "livestock_stock", catalog=cat),
    }
    assert figs["town_trend"].axes[0].get_title() == "牛羊存栏（万头/只）"
    assert figs["county_small_multiples"].axes[0].get_title() == "牛羊存栏（万头/只）"
    assert figs["heatmap"].axes[0].get_xticklabels()[0].get_text() == "牛羊存栏（万头/只）"
    assert figs["movers"].axes[0].get_xlabel() == "比上年增减（万头/只）"
    for name, fig in figs.items():
        _draw(fig)
        labels = [ax.get_title() for ax in fig.axes] + [ax.get_xlabel() for ax in fig.axes]
        labels += [ax.get_ylabel() for ax in fig.axes]
        labels += [t.get_text() for ax in fig.axes for t in ax.get_xticklabels() + ax.get_yticklabels()]
        assert not [lab for lab in labels if NESTED.search(lab)], name


def test_score_breakdown_zero_is_visible_and_not_read_as_missing(tiny_scores):
    # 乙乡 scored 0.0 in s4 (lowest of the three towns); 丙镇 has no s3 score at all
    fig = charts.score_breakdown(tiny_scores, "乙乡", 2024)
    ax = fig.axes[0]
    _draw(fig)
    row = 3  # s4
    dots = [ln for ln in ax.get_lines() if ln.get_label() != "全县中位数" and 0.0 in list(ln.get_xdata())]
    assert len(dots) == 1
    dot = dots[0]
    k = list(dot.get_xdata()).index(0.0)
    assert dot.get_ydata()[k] == row and dot.get_markersize() >= 4
    assert matplotlib.colors.to_hex(dot.get_color()) == charts.ACCENT.lower()
    assert not dot.get_clip_on()  # drawn whole over the axis, not cut in half
    label = [t for t in ax.texts if t.get_text().startswith("0.0")]
    assert [t.get_text() for t in label] == ["0.0（全县最低）"]
    x, y = label[0].get_position()
    assert y == row and x < 5  # beside the dot, not beside the county median marker (at 50)
    assert "暂无数据" not in _texts(fig)
    # a missing section reads differently: no dot, no number, 暂无数据
    fig = charts.score_breakdown(tiny_scores, "丙镇", 2024)
    ax = fig.axes[0]
    assert [ln for ln in ax.get_lines() if ln.get_label() != "全县中位数"] == []
    texts = [(t.get_text(), t.get_position()[1]) for t in ax.texts]
    assert ("暂无数据", 2) in texts
    assert not [t for t, y in texts if y == 2 and t[0].isdigit()]
    _draw(fig)


def test_score_breakdown_shared_zero_says_so(tiny_scores):
    shared = tiny_scores.copy()
    shared.loc[("丙镇", 2024), "s4"] = 0.0
    fig = charts.score_breakdown(shared, "乙乡", 2024)
    assert "0.0（并列全县最低）" in [t.get_text() for t in fig.axes[0].texts]


def test_score_breakdown_value_label_stays_by_its_bar(tiny_scores):
    # 乙乡 s1 40.0 with the county median at 60: the label sits by the bar, not after the median marker
    fig = charts.score_breakdown(tiny_scores, "乙乡", 2024)
    label = [t for t in fig.axes[0].texts if t.get_text() == "40.0"][0]
    assert 40 < label.get_position()[0] < 60


# --------------------------------------------------------------------------------------------- laid out and drawn once
def _png_size(png: bytes) -> tuple[int, int]:
    """Width and height from the PNG's IHDR chunk."""
    assert png.startswith(PNG_SIGNATURE)
    return struct.unpack(">II", png[16:24])


# White added on each side by figure_to_png at 110 dpi: PAD_IN less constrained layout's own pad (3/72 in).
FRAME_PX = round((charts.PAD_IN - 3 / 72) * 110)


@pytest.fixture
def spy(monkeypatch) -> dict:
    """Count figure draws and layout-engine runs; record every text drawn, with its extent on the renderer it
    is drawn on and that renderer's size (the image, or the figure that is framed into the image)."""
    seen = {"draws": 0, "layouts": 0, "texts": []}
    figure_draw, text_draw = Figure.draw, matplotlib.text.Text.draw
    executes = {engine: engine.execute for engine in (ConstrainedLayoutEngine, charts.GridLayoutEngine)}

    def counting_draw(self, renderer):
        seen["draws"] += 1
        return figure_draw(self, renderer)

    def counting_execute(self, fig):  # either engine: constrained layout, or the grid of small multiples
        seen["layouts"] += 1
        return executes[type(self)](self, fig)

    def recording_text_draw(self, renderer):
        text_draw(self, renderer)
        if self.get_visible() and self.get_text():
            size = renderer.get_canvas_width_height()
            seen["texts"].append((self.get_text(), self.get_window_extent(renderer), size))

    monkeypatch.setattr(Figure, "draw", counting_draw)
    for engine in executes:
        monkeypatch.setattr(engine, "execute", counting_execute)
    monkeypatch.setattr(matplotlib.text.Text, "draw", recording_text_draw)
    return seen


def _clipped(seen: dict) -> list[str]:
    """The texts drawn (partly) outside the canvas they were drawn on (1 px of rounding allowed)."""
    out = []
    for text, box, (width, height) in seen["texts"]:
        if box.x0 < -1 or box.y0 < -1 or box.x1 > width + 1 or box.y1 > height + 1:
            out.append(f"{text!r} {box.extents.round(1).tolist()} outside {width}×{height}")
    return out


def test_figure_to_png_lays_out_and_draws_each_chart_once(tiny, tiny_scores, tiny_profile, spy):
    """One layout pass and one draw per chart: no savefig layout pass, no bbox_inches="tight" pass."""
    for name, fig in _all_charts(tiny, tiny_scores, tiny_profile).items():
        spy["draws"] = spy["layouts"] = 0
        charts.figure_to_png(fig)
        assert (spy["draws"], spy["layouts"]) == (1, 1), name
    spy["draws"] = spy["layouts"] = 0
    FigureHTML(charts.town_trend(tiny, "甲镇"), "图1")  # the report's path
    assert (spy["draws"], spy["layouts"]) == (1, 1)


def test_figure_to_png_is_the_figure_framed_in_white(ds):
    fig = charts.town_trend(ds.values, "青石镇")
    width, height = FigureCanvasAgg(fig).get_width_height()  # the figure's own pixels at 110 dpi
    png = charts.figure_to_png(fig)
    assert _png_size(png) == (width + 2 * FRAME_PX, height + 2 * FRAME_PX)
    assert _png_size(png)[0] == 705  # 6.3 in at 110 dpi and 0.1 in of white either side, as before
    assert _png_size(charts.figure_to_png(charts.town_trend(ds.values, "青石镇"), dpi=80))[0] == 504 + 2 * 5
    assert charts.figure_to_png(charts.town_trend(ds.values, "青石镇")) == png  # same figure, same bytes


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def test_print_chart_is_a_palette_png_of_the_drawn_pixels(ds):
    """A chart for print (colors=256) is quantized from the drawn pixels: a chart of up to 256 colours keeps
    every pixel; the small multiples (more colours) keep every pixel of their 256 most frequent colours, and each
    rarer edge pixel becomes the nearest of them: fewer pixels move than with Pillow's median cut, which it replaced."""
    for build in (lambda: charts.town_vs_county(ds.values, "青石镇", 2025),
                  lambda: charts.town_trend(ds.values, "青石镇")):
        full = charts.figure_to_png(build(), dpi=200)
        palette = charts.figure_to_png(build(), dpi=200, colors=256)
        image = Image.open(io.BytesIO(palette))
        assert image.mode == "P" and b"Matplotlib" not in palette
        assert round(image.info["dpi"][0]) == 200
        rgb = Image.open(io.BytesIO(full)).convert("RGB")
        drawn, got = _pixels(full), _pixels(palette)
        if rgb.getcolors(256) is not None:
            assert np.array_equal(got, drawn)
        else:
            counts = sorted(rgb.getcolors(1 << 16), key=lambda nc: (-nc[0], nc[1]))
            frequent = np.array([c for _, c in counts[:256]])
            bits = drawn.astype(np.int64) @ np.array([1, 1 << 8, 1 << 16])
            kept = np.isin(bits, frequent @ np.array([1, 1 << 8, 1 << 16]))
            assert 0.99 < kept.mean() < 1.0  # a few edge pixels are of rarer colours
            assert np.array_equal(got[kept], drawn[kept])
            error = np.abs(got.astype(int) - drawn).max(axis=2)
            assert error.max() <= chartstyle.NEAREST_MAX
            median_cut = np.asarray(rgb.quantize(256, method=Image.Quantize.MEDIANCUT).convert("RGB"))
            assert (error > 0).mean() < (np.abs(median_cut.astype(int) - drawn).max(axis=2) > 0).mean()
            assert error.mean() < 0.05
        assert len(palette) < 0.8 * len(full)


def test_palette_png_keeps_few_colours_exactly():
    rgba = np.full((40, 60, 4), 255, dtype=np.uint8)
    rgba[5:20, 10:30, :3] = (139, 26, 26)
    rgba[25:35, 0:60, :3] = (77, 77, 77)
    rgba[0, 0, :3] = (1, 2, 3)  # one pixel of its own colour is kept too
    image = Image.open(io.BytesIO(charts.palette_png(rgba, 300)))
    assert image.mode == "P" and len(image.getcolors()) == 4
    assert np.array_equal(np.asarray(image.convert("RGB")), rgba[..., :3])


def test_palette_png_maps_rare_colours_to_the_nearest_frequent_one():
    rgba = np.full((10, 100, 4), 255, dtype=np.uint8)
    rgba[:5, :, :3] = (200, 10, 10)
    rgba[5:, :, :3] = (10, 10, 200)
    rgba[0, :40, :3] = (190, 20, 10)  # frequent enough: 40 pixels
    rgba[5, 0, :3] = (198, 12, 11)  # rare: nearest is (200, 10, 10), not (190, 20, 10)
    rgba[5, 1, :3] = (20, 12, 190)  # rare: nearest is (10, 10, 200)
    image = Image.open(io.BytesIO(charts.palette_png(rgba, 300, colors=3)))
    got = np.array(image.convert("RGB"))
    assert len(image.getcolors()) == 3
    assert tuple(got[5, 0]) == (200, 10, 10) and tuple(got[5, 1]) == (10, 10, 200)
    got[5, :2] = rgba[5, :2, :3]  # every other pixel is exactly as drawn
    assert np.array_equal(got, rgba[..., :3])


def test_palette_png_median_cuts_a_rare_colour_far_from_every_frequent_one():
    """A small mark of its own colour among more colours than the palette holds is not turned into another
    colour: the image is median-cut as a whole instead (Pillow's result, exactly)."""
    rgba = np.full((20, 100, 4), 255, dtype=np.uint8)
    rgba[:10, :, :3] = (200, 10, 10)
    rgba[10:, :50, :3] = (10, 10, 200)
    rgba[19, 99, :3] = (10, 200, 10)  # one green pixel: > NEAREST_MAX from red, blue and white
    image = Image.open(io.BytesIO(charts.palette_png(rgba, 300, colors=3)))
    expected = Image.fromarray(np.ascontiguousarray(rgba[..., :3])).quantize(3, method=Image.Quantize.MEDIANCUT)
    assert np.array_equal(np.asarray(image.convert("RGB")), np.asarray(expected.convert("RGB")))


def test_town_trend_reuse_redraws_one_figure_to_the_same_pixels(ds, tiny):
    """reuse=True lends the thread's figure of the same layout, redrawn with the town's lines, limits and legend:
    byte for byte the PNG of a new figure, whichever towns and years came before (a gap, a layout in between)."""
    calls, lent = 0, set()
    for values, towns in ((tiny, ["乙乡", "甲镇", "丙镇"]),
                          (ind.up_to(ds.values, 2023), ds.towns[:4]),
                          (ds.values, ds.towns[:4] + ["青石镇"])):
        for town in towns:
            fig = charts.town_trend(values, town, reuse=True)
            calls, lent = calls + 1, lent | {id(fig)}
            assert charts.figure_to_png(fig, dpi=150) == charts.figure_to_png(charts.town_trend(values, town), dpi=150)
            assert fig.legends[0].get_texts()[0].get_text() == town
    assert len(lent) <= 6 < calls  # one figure per layout (柳林镇 has fewer panels), not one per call
    again = charts.town_trend(ds.values, "青石镇", reuse=True)
    assert id(again) in lent and charts.town_trend(ds.values, "青石镇") is not again  # reuse=False: a new figure

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:  # another thread never gets this thread's figure
        other = pool.submit(charts.town_trend, ds.values, "青石镇", reuse=True).result()
    assert other is not again


def test_figure_to_png_leaves_the_figure_as_it_was(tiny):
    fig = charts.town_trend(tiny, "甲镇")
    canvas, engine, dpi, face = fig.canvas, fig.get_layout_engine(), fig.dpi, fig.get_facecolor()
    charts.figure_to_png(fig, dpi=80)
    assert fig.canvas is canvas and fig.get_layout_engine() is engine
    assert fig.dpi == dpi == 110 and fig.get_facecolor() == face


@pytest.mark.parametrize("build", [
    lambda ds, s: charts.town_trend(ds.values, "青石镇"),
    lambda ds, s: charts.town_vs_county(ds.values, "青石镇", 2025),
    lambda ds, s: charts.score_breakdown(s, "青石镇", 2025),
    lambda ds, s: charts.score_ranking(s, 2025, highlight="青石镇"),
    lambda ds, s: charts.heatmap(ds.values, 2025, profile=ds.profile),
    lambda ds, s: charts.county_small_multiples(ds.values),
    lambda ds, s: charts.movers(ind.yoy(ds.values), 2025),
    lambda ds, s: charts.town_trend(ds.values, "青石镇", codes=["tourists"], figsize=(3, 2)),
    lambda ds, s: charts.heatmap(ds.values[ds.values["town"].isin(["青石镇", "城关镇"])], 2025, figsize=(4, 2)),
], ids=["town_trend", "town_vs_county", "score_breakdown", "score_ranking", "heatmap", "county_small_multiples",
        "movers", "narrow_trend", "short_heatmap"])
def test_no_text_is_clipped(ds, sample_scores, build, spy):
    """Every text drawn (titles, labels, tick labels, legends, annotations) lies inside the image."""
    charts.figure_to_png(build(ds, sample_scores))
    assert spy["draws"] == 1 and spy["texts"]
    assert _clipped(spy) == []


def test_a_title_wider_than_its_panel_in_the_last_column_widens_the_image(ds, spy):
    # 户均增收（万元，乡镇平均） is wider than its panel, the fourth of its row: the layout leaves it to stick out
    fig = charts.county_small_multiples(ds.values)
    assert "户均增收（万元，乡镇平均）" in [ax.get_title() for ax in fig.axes[3::4]]
    png = charts.figure_to_png(fig)
    assert spy["draws"] == 1 and _clipped(spy) == []
    assert _png_size(png)[0] > 705
    title = [box for text, box, _ in spy["texts"] if text == "户均增收（万元，乡镇平均）"][0]
    assert title.x1 <= _png_size(png)[0] - FRAME_PX  # with white beyond it


def test_panel_titles_sit_above_their_panels_clear_of_offset_texts(six):
    big = six.assign(value=six["value"] * 1e6)  # scientific notation: a 1e7 over the y axis, which titles dodge
    for fig in (charts.town_trend(six, "甲镇"), charts.county_small_multiples(six), charts.town_trend(big, "甲镇")):
        _draw(fig)
        for ax in fig.axes:
            title, offset = ax.title.get_window_extent(), ax.yaxis.get_offset_text()
            assert title.y0 >= ax.get_window_extent().y1, ax.get_title()
            if offset.get_text():  # only ever a power of ten, never an offset such as +7.5e4
                assert "+" not in offset.get_text() and max(ax.get_ylim()) >= 1e6, offset.get_text()
                assert not title.overlaps(offset.get_window_extent()), ax.get_title()


# --------------------------------------------------------------------------------------------- faster, same image
@pytest.mark.parametrize("build", [
    lambda ds, s: charts.town_trend(ds.values, "青石镇"),
    lambda ds, s: charts.county_small_multiples(ds.values),
    lambda ds, s: charts.town_vs_county(ds.values, "青石镇", 2025),
    lambda ds, s: charts.score_breakdown(s, "青石镇", 2025),
    lambda ds, s: charts.score_ranking(s, 2025, highlight="青石镇"),
    lambda ds, s: charts.movers(ind.yoy(ds.values), 2025),
], ids=["town_trend", "county_small_multiples", "town_vs_county", "score_breakdown", "score_ranking", "movers"])
def test_grid_layout_puts_the_axes_where_constrained_layout_does(ds, sample_scores, build):
    """GridLayoutEngine measures each panel once; the panels end up where constrained layout puts them."""
    fig = build(ds, sample_scores)
    assert isinstance(fig.get_layout_engine(), charts.GridLayoutEngine)
    reference = build(ds, sample_scores)
    reference.set_layout_engine("constrained")
    for f in (fig, reference):
        f.canvas.draw()  # Figure.draw runs the figure's layout engine
    for ax, ref in zip(fig.axes, reference.axes, strict=True):
        got, want = ax.get_window_extent(), ref.get_window_extent()
        assert np.allclose(got.extents, want.extents, atol=1.0), (ax.get_title(), got, want)


def test_cached_text_renderer_draws_the_same_pixels(ds, sample_scores):
    """Texts measured and shaped once per process (chartstyle._RendererAgg) give the image of a plain Agg renderer."""
    chartstyle._TEXT_CACHE.clear()
    for fig in (charts.heatmap(ds.values, 2025, profile=ds.profile), charts.score_breakdown(sample_scores, "青石镇", 2025)):
        fig.set_layout_engine(None)
        with charts.chart_style():
            plain = FigureCanvasAgg(fig)
            plain.draw()
            expected = np.asarray(plain.buffer_rgba()).copy()
            for _ in range(2):  # the first draw fills the cache, the second uses it
                cached = chartstyle._CanvasAgg(fig)
                cached.draw()
                assert np.array_equal(np.asarray(cached.buffer_rgba()), expected)
    assert chartstyle._TEXT_CACHE


def test_empty_axis_labels_are_placed_again_after_rendering(tiny):
    fig = charts.town_trend(tiny, "甲镇")
    charts.figure_to_png(fig)
    assert all(axis._autolabelpos for ax in fig.axes for axis in (ax.xaxis, ax.yaxis))


def test_the_bundled_font_file_wins_over_an_installed_font_of_the_same_family(tmp_path):
    """A machine with Debian's fonts-noto-cjk has another 'Noto Sans CJK SC' (another file, version and metrics):
    charts are still drawn with the file that mplfonts ships, so they look the same on every machine."""
    import shutil

    bundled = chartstyle._font_path()
    installed = tmp_path / "NotoSansCJK-Regular-system.otf"
    shutil.copy(bundled, installed)  # the same family, another file
    manager = font_manager.fontManager
    saved = list(manager.ttflist)
    try:
        manager.addfont(str(installed))
        manager.ttflist.insert(0, manager.ttflist.pop())  # listed first, as a system font is
        prop = font_manager.FontProperties(family=charts.CJK_FAMILY)
        # which of two equal candidates matplotlib takes is up to its scoring and its cache's order
        assert len([e for e in manager.ttflist if e.name == charts.CJK_FAMILY and e.fname != bundled]) >= 1
        assert charts.use_cjk_font() == charts.CJK_FAMILY
        assert font_manager.findfont(prop, fallback_to_default=False) == bundled
        assert [e.fname for e in manager.ttflist if e.name == charts.CJK_FAMILY] == [bundled]
        assert charts.use_cjk_font() == charts.CJK_FAMILY  # idempotent
        assert sum(e.fname == bundled and e.name == charts.CJK_FAMILY for e in manager.ttflist) == 1
    finally:
        manager.ttflist = saved
        manager.addfont(bundled)
        charts.use_cjk_font()
