"""Charts for the town report and the county overview: each function takes data and returns a Figure.

Every function takes the tidy values (``Dataset.values``) or a frame computed from them
(:func:`indicators.composite_score`, :func:`indicators.yoy`) first, never mutates it, and returns a
:class:`matplotlib.figure.Figure` built with ``Figure()`` directly, so no pyplot state is created or
leaked: nothing is saved, shown or registered. Turn a figure into PNG bytes with :func:`figure_to_png`::

    >>> import zhidang_analysis as zd
    >>> from zhidang_analysis import charts
    >>> ds = zd.load_dataset()
    >>> fig = charts.town_trend(ds.values, "青石镇")
    >>> charts.figure_to_png(fig)[:8]
    b'\\x89PNG\\r\\n\\x1a\\n'

Chinese text is set in Noto Sans CJK SC, the font file shipped by the ``mplfonts`` package. It is
registered in-process only (:func:`use_cjk_font`); no file is written into matplotlib's directories.
Every figure is built inside :func:`chart_style` (``matplotlib.rc_context(STYLE)``), and its first ticks
are made before it is returned, so its tick labels are created with the style's font even when the caller
later draws the figure outside that context. :func:`figure_to_png` lays a figure out and draws it once.

No chart draws a title of its own: the caption the report gives it (``export.FigureHTML(fig, caption)``)
is its only title, so the image never carries a second, different one. What a title used to say that the
caption does not (the composite score and rank of :func:`score_breakdown`, the notes of :func:`heatmap`)
is written inside the axes. Small multiples keep one short title per panel (the indicator and its unit).

Colours are sober and print in greys: the subject (the town of the report, a favourable bar) is the one
dark accent :data:`ACCENT`; everything else is grey.
"""

from __future__ import annotations

import math
import re

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from ..analysis.indicators import (
    catalog_or_default,
    check_names,
    county_compare,
    percentile_points,
    present_rows,
    scaled_values,
)
from ..model.catalog import Catalog
from .chartstyle import (  # noqa: F401 - re-exported: zd.charts keeps the style's public names
    ACCENT,
    CJK_FAMILY,
    CMAP,
    GREY,
    GREY_DARK,
    GREY_LIGHT,
    PAD_IN,
    STYLE,
    WIDTH,
    GridLayoutEngine,
    lend_trend,
    lent_trends,
    LentTrend,
    chart_style,
    figure_to_png,
    palette_png,
    use_cjk_font,
)

__all__ = [
    "ACCENT",
    "STYLE",
    "chart_style",
    "county_small_multiples",
    "figure_to_png",
    "palette_png",
    "heatmap",
    "movers",
    "score_breakdown",
    "score_ranking",
    "section_label",
    "town_trend",
    "town_vs_county",
    "use_cjk_font",
]

_CN_DIGITS = "〇一二三四五六七八九十"
#: How a bar says what its value means: better (the accent), worse (mid grey: legible, and apart from the accent
#: in a grey print), at the median (dark grey), and neutral — an indicator that is no better for being larger —
#: an outlined, hatched bar, so that it is read as neither.
_BAR_STYLE = {
    "better": {"facecolor": ACCENT, "edgecolor": ACCENT},
    "worse": {"facecolor": GREY, "edgecolor": GREY},
    "equal": {"facecolor": GREY_DARK, "edgecolor": GREY_DARK},
    "neutral": {"facecolor": "white", "edgecolor": GREY_DARK, "hatch": "////", "linewidth": 0.8},
}


# --------------------------------------------------------------------------------------------- helpers
def _new_figure(width: float, height: float, figsize, *, grid: bool = False) -> Figure:
    """A figure laid out by constrained layout, or by :class:`GridLayoutEngine` for a ``grid`` of panels."""
    if grid:
        return Figure(figsize=figsize or (width, height), layout=GridLayoutEngine())
    return Figure(figsize=figsize or (width, height), layout="constrained")


def _finish(fig: Figure) -> Figure:
    """Create every axis' first major and minor tick inside the style.

    Ticks are made lazily, at draw time, from the rcParams then in force; a tick made later copies the
    first one's font and style. Creating the first ones here (cheaper than a draw) keeps tick labels in
    the CJK font when the caller draws the figure outside :func:`chart_style`.
    """
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            axis.get_major_ticks()
            axis.get_minor_ticks()
    return fig


def _empty(fig: Figure, message: str = "暂无可绘制的数据") -> Figure:
    """A placeholder figure: the message in the middle of a bare axes (the caption says what is missing)."""
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.text(0.5, 0.5, message, ha="center", va="center", color=GREY, transform=ax.transAxes)
    return _finish(fig)


def _years(frame: pd.DataFrame) -> list[int]:
    return sorted(int(y) for y in pd.unique(frame["year"]))


def _key_codes(cat: Catalog) -> list[str]:
    f = cat.frame
    return [c for c in cat.value_codes if bool(f.at[c, "key"])]


def _fmt(x: float) -> str:
    """Short number text: 12.0 → '12', 3.456 → '3.46', −2 → '−2' (true minus sign)."""
    if x is None or pd.isna(x):
        return "—"
    x = float(x)
    text = f"{x:.0f}" if float(x).is_integer() else f"{x:.2f}".rstrip("0").rstrip(".")
    return text.replace("-", "\u2212")


def _signed(x: float, suffix: str = "") -> str:
    return ("+" if x > 0 else "") + _fmt(x) + suffix


_INNER_BRACKETS = re.compile(r"\s*[（(]\s*([^（）()]*?)\s*[）)]")


def _flat_unit(unit) -> str:
    """A unit without brackets of its own, so that it can go inside a label's brackets: ``万头（只）`` →
    ``万头/只``, ``(只)`` → ``只``."""
    if unit is None or (not isinstance(unit, str) and pd.isna(unit)):
        return ""
    return _INNER_BRACKETS.sub(r"/\1", str(unit).strip()).strip("/")


def _with_unit(name: str, unit=None, *notes: str) -> str:
    """``name（unit，note…）``: one pair of full-width brackets, never nested; empty parts are left out.

    Every chart label that carries a unit is built here.

    >>> _with_unit("牛羊存栏", "万头（只）")
    '牛羊存栏（万头/只）'
    >>> _with_unit("户均增收", "万元", "乡镇平均")
    '户均增收（万元，乡镇平均）'
    >>> _with_unit("乡镇数", "")
    '乡镇数'
    """
    parts = [p for p in (_flat_unit(unit), *(_flat_unit(n) for n in notes)) if p]
    return f"{name}（{'，'.join(parts)}）" if parts else name


def _label(code: str, cat: Catalog, *notes: str) -> str:
    """An indicator's name with its unit (and notes): ``牛羊存栏（万头/只）``; an unknown code as is."""
    if code not in cat:
        return _with_unit(str(code), "", *notes)
    return _with_unit(cat.name(code), cat.frame.at[code, "unit"], *notes)


def _pol(code: str, cat: Catalog) -> int:
    return int(cat.frame.at[code, "polarity"]) if code in cat else 1


def _judged(code: str, cat: Catalog) -> bool:
    """Whether a chart calls the indicator's level better or worse: a performance measure with a direction (catalog
    ``polarity`` ±1, ``measure: performance``). A neutral count, or a volume that follows the town's size or how it
    runs a meeting, is drawn as neutral — the same rule that keeps it out of the problems and the score."""
    if code not in cat or _pol(code, cat) == 0:
        return False
    return "measure" not in cat.frame.columns or cat.frame.at[code, "measure"] == "performance"


def _grid(n: int, ncols: int) -> tuple[int, int]:
    ncols = max(1, min(ncols, n))
    return math.ceil(n / ncols), ncols


# Width of a four-digit year at the style's x tick size (7.5 pt), in inches, and the room each panel loses
# to its y tick labels; measured on the Noto Sans CJK SC digits.
_YEAR_LABEL_IN = 0.22
_PANEL_MARGIN_IN = 0.45


def _year_axis(ax, years: list[int], panel_width: float) -> None:
    """A labelled tick for every year of the data, none skipped.

    The labels stand upright when they fit side by side in a panel ``panel_width`` inches wide; else they
    are slanted (45°), or set vertically and, for very many years, smaller, so that they never overlap.
    """
    ax.set_xlim(years[0] - 0.4, years[-1] + 0.4)
    labels = [str(y) for y in years]
    gap = (panel_width - _PANEL_MARGIN_IN) / (len(years) - 0.2)  # inches between two ticks
    size = float(STYLE["xtick.labelsize"])
    if len(years) < 2 or gap >= _YEAR_LABEL_IN + 0.05:
        ax.set_xticks(years, labels)
        return
    height = size / 72 * 1.15  # a slanted or vertical label needs its line height across
    rotation = 45 if gap * math.sin(math.radians(45)) >= height else 90
    if rotation == 90 and gap < height:
        size = max(5.0, gap / 1.15 * 72)
    # The tick parameters first, on the axis' one tick: the ticks made for the years are made with them.
    ax.tick_params(axis="x", labelrotation=rotation, labelsize=size, pad=1)
    ax.set_xticks(years, labels, horizontalalignment="right" if rotation == 45 else "center",
                  rotation_mode="anchor" if rotation == 45 else "default")


def _value_limits(shown, nonneg: bool) -> tuple[float, float] | None:
    """Y limits of a trend panel with room above the highest and below the lowest point, so that no marker
    touches the frame; a non-negative series starts at 0 (a point at 0 sits a little above the x axis).
    ``None`` when nothing is shown."""
    shown = np.asarray(shown, dtype="float64")
    shown = shown[~np.isnan(shown)]
    if not shown.size:
        return None
    lo, hi = float(shown.min()), float(shown.max())
    base = 0.0 if nonneg else lo
    span = hi - base
    if span <= 0:
        span = abs(hi) if hi != 0 else 1.0
    pad = 0.08 * span
    bottom = base if (nonneg and lo > 0) else base - pad
    return bottom, hi + pad


def _value_axis(ax, limits: tuple[float, float] | None, integer: bool) -> None:
    """Y axis of a trend panel: at most 4 bins (integers for a count), ``limits`` (:func:`_value_limits`)."""
    ax.yaxis.set_major_locator(MaxNLocator(nbins=4, integer=integer, min_n_ticks=3))
    if limits is not None:
        ax.set_ylim(*limits)
    ax.grid(axis="y")
    ax.set_axisbelow(True)


def _title_fixed(ylim) -> bool:
    """Whether a panel's title can be fixed at the top of the axes (:func:`_panel_title`): no y value the style
    would write with a scientific-notation multiplier (``1e6``, by ``axes.formatter.limits``)."""
    low, high = matplotlib.rcParams["axes.formatter.limits"]
    top = max(abs(v) for v in ylim)
    return 10.0 ** (low + 1) <= top < 10.0 ** high


def _panel_title(ax, text: str) -> None:
    """Title a panel of small multiples, once its y limits are set.

    The y axis never shows an offset (``+7.5e4``), so the title can be fixed at the top of the axes, where
    matplotlib's automatic placement puts it anyway; that placement measures the whole y axis again at every
    layout pass and every draw (about a fifth of the drawing time of a 13-panel figure) just to dodge such an
    offset text. With values a scientific-notation multiplier would be shown for (:func:`_title_fixed`), the
    placement stays automatic.
    """
    formatter = ax.yaxis.get_major_formatter()
    if hasattr(formatter, "set_useOffset"):
        formatter.set_useOffset(False)
    if _title_fixed(ax.get_ylim()):
        ax.set_title(text, fontsize=8.5, y=1.0)
    else:
        ax.set_title(text, fontsize=8.5)


def _codes_with_data(present: pd.DataFrame, codes: list[str]) -> list[str]:
    have = set(present.loc[present["value"].notna(), "indicator"])
    return [c for c in codes if c in have]


def section_label(code: str, catalog: Catalog | None = None) -> str:
    """Short label of a report section: ``（一）政治站位`` for s1.

    The rule: the first clause of the section title (before ``，``) without its leading two-character verb
    (提高/强化/聚焦/突出/树立/坚持…) when the clause is longer than four characters, numbered by the
    section's digit.

    >>> [section_label(f"s{i}") for i in range(1, 7)]  # doctest: +NORMALIZE_WHITESPACE
    ['（一）政治站位', '（二）组织建设', '（三）转变作风', '（四）“一岗双责”', '（五）底线思维',
     '（六）党建引领']
    """
    cat = catalog_or_default(catalog)
    title = cat.sections.get(code)
    if title is None:
        return code
    clause = title.split("，")[0].strip()
    if len(clause) > 4:
        clause = clause[2:]
    digits = "".join(ch for ch in code if ch.isdigit())
    if digits and 0 < int(digits) <= 10:
        return f"（{_CN_DIGITS[int(digits)]}）{clause}"
    return clause


def _check_scores(scores: pd.DataFrame, town=None, year=None) -> None:
    check_names(scores.index.to_frame(index=False), town=town, year=year)


# --------------------------------------------------------------------------------------------- town report
def town_trend(values: pd.DataFrame, town: str, codes=None, *, catalog: Catalog | None = None,
               ncols: int = 4, show_median: bool = True, figsize=None, reuse: bool = False) -> Figure:
    """Small multiples of one town's indicators over the years: one panel per indicator with data.

    ``codes`` defaults to the catalog's key indicators; indicators the town never reported are left out,
    so the number of panels is the number of indicators with data. The town's line is the accent colour,
    missing years are gaps; ``show_median`` adds the county median of each year as a grey dashed line.
    Every year of ``values`` is a labelled tick; each panel is titled with the indicator and its unit, the
    legend names the town. No figure title: the report's caption is the title.
    Raises :class:`UnknownNameError` for an unknown town or indicator code.

    ``reuse=True`` is for a caller that renders the figure at once and keeps no reference to it (the report
    notebook: ``export.FigureHTML(charts.town_trend(..., reuse=True), …)``): the figure is lent, not given. The
    thread's figure of the same layout (panels, titles, years, size) from an earlier call is redrawn with this
    town's lines, limits and legend, instead of building 13 axes and their ticks again (most of the chart's cost);
    the next call with ``reuse=True`` redraws it again. It draws the same pixels as a new figure.
    """
    cat = catalog_or_default(catalog)
    check_names(values, town=town, codes=codes, catalog=cat)
    present = present_rows(values)
    years = _years(values)
    codes = list(codes) if codes is not None else _key_codes(cat)
    mine = present[(present["town"] == town) & present["indicator"].isin(codes)]
    codes = _codes_with_data(mine, codes)
    with chart_style():
        if not codes:
            return _empty(_new_figure(WIDTH, 2.5, figsize))
        wide = mine.pivot_table(index="year", columns="indicator", values="value", aggfunc="first")
        wide = wide.reindex(index=years)
        median = (present[present["indicator"].isin(codes)]
                  .groupby(["year", "indicator"])["value"].median().unstack().reindex(index=years))
        panels = []  # (code, title, town's line, median line, y limits, integer ticks)
        for code in codes:
            y = wide[code].to_numpy(dtype="float64")
            mid = median[code].to_numpy(dtype="float64")
            shown = np.r_[y, mid] if show_median else y
            integer = bool(cat.frame.at[code, "integer"]) if code in cat else False
            panels.append((code, _label(code, cat), y, mid, _value_limits(shown, bool(np.nanmin(shown) >= 0)),
                           integer))
        layout = (tuple(years), ncols, show_median, figsize,
                  tuple((title, integer, limits is None or _title_fixed(limits))
                        for _, title, _, _, limits, integer in panels))
        lent = lent_trends().get(layout) if reuse else None
        if lent is not None:
            return _redraw_trend(layout, town, panels)
        nrows, ncols = _grid(len(codes), ncols)
        fig = _new_figure(WIDTH, 1.55 * nrows + 0.75, figsize, grid=True)
        lines = []
        for i, (_code, title, y, mid, limits, integer) in enumerate(panels):
            ax = fig.add_subplot(nrows, ncols, i + 1)
            if show_median:
                ax.plot(years, mid, color=GREY, lw=1.0, ls="--", label="全县中位数")
            (line,) = ax.plot(years, y, color=ACCENT, marker="o", ms=3.5, label=town, clip_on=False, zorder=3)
            lines.append((ax, line, ax.lines[0] if show_median else None))
            _year_axis(ax, years, fig.get_figwidth() / ncols)
            _value_axis(ax, limits, integer)
            _panel_title(ax, title)
        handles = [Line2D([], [], color=ACCENT, marker="o", ms=3.5, label=town)]
        if show_median:
            handles.append(Line2D([], [], color=GREY, lw=1.0, ls="--", label="全县中位数"))
        legend = fig.legend(handles=handles, loc="outside lower center", ncols=len(handles))
        fig = _finish(fig)
        if reuse:
            lend_trend(layout, LentTrend(fig, lines, legend.get_texts()[0]))
        return fig


def _redraw_trend(layout: tuple, town: str, panels: list[tuple]) -> Figure:
    """The figure lent for ``layout`` (the panels' titles, tick rules and years, the size) with ``town``'s
    lines, the county medians, the y limits of ``panels`` and the town in the legend."""
    lent = lent_trends()[layout]
    lent_trends().move_to_end(layout)
    for (ax, line, median_line), (_, _, y, mid, limits, _) in zip(lent.lines, panels, strict=True):
        ax._set_position(ax.get_subplotspec().get_position(lent.fig))  # where a new figure's layout starts
        line.set_ydata(y)
        line.set_label(town)
        if median_line is not None:
            median_line.set_ydata(mid)
        if limits is not None:
            ax.set_ylim(*limits)
    lent.town_label.set_text(town)
    return lent.fig


def town_vs_county(values: pd.DataFrame, town: str, year: int, codes=None, *,
                   catalog: Catalog | None = None, figsize=None) -> Figure:
    """The town's value of each indicator in ``year`` as an index against the county median (= 100).

    Horizontal bars in catalog order with a reference line at 100; each bar is annotated with the value
    actually reported and its unit (``30余次`` when reported as approximate). Colour by polarity: better
    than the median in the accent colour, worse in mid grey (legible, and apart from the accent in a grey print),
    exactly at the median in dark grey; an indicator that is neither better nor worse for being larger (a neutral
    count, or a volume that follows the town's size: catalog polarity 0 or ``measure`` other than performance) is
    an outlined, hatched bar labelled 中性指标 — its length is no merit nor fault.
    Indicators the town did not report, and those whose county median is zero, negative or missing, are
    left out, so the number of bars is the number of indicators compared. ``codes`` defaults to the key
    indicators. No title: the report's caption names the town and the year. Raises
    :class:`UnknownNameError` for an unknown town, year or code.
    """
    cat = catalog_or_default(catalog)
    check_names(values, town=town, year=year, codes=codes, catalog=cat)
    codes = list(codes) if codes is not None else _key_codes(cat)
    cc = county_compare(values, year, catalog=cat)
    mine = cc[(cc["town"] == town) & cc["indicator"].isin(codes)].drop_duplicates("indicator")
    mine = mine.set_index("indicator").reindex([c for c in codes if c in set(mine["indicator"])])
    ok = mine["value"].notna() & mine["county_median"].notna() & (mine["county_median"] > 0)
    mine = mine[ok]
    with chart_style():
        if mine.empty:
            return _empty(_new_figure(WIDTH, 2.5, figsize))
        index = (mine["value"] / mine["county_median"] * 100.0).to_numpy(dtype="float64")
        kinds = []
        for code, ix in zip(mine.index, index):
            side = np.sign(round(ix - 100.0, 9)) * _pol(code, cat)
            kinds.append("neutral" if not _judged(code, cat) else
                         "better" if side > 0 else ("worse" if side < 0 else "equal"))
        n = len(mine)
        fig = _new_figure(WIDTH, 0.3 * n + 1.3, figsize, grid=True)
        ax = fig.add_subplot()
        ypos = np.arange(n)
        for y, ix, kind in zip(ypos, index, kinds):  # one by one: the bars stay in the order of the rows
            ax.barh(y, ix, height=0.62, **_BAR_STYLE[kind])
        ax.axvline(100, color=GREY_DARK, lw=0.9, ls="--", zorder=3)
        approx = mine["approx"].fillna(False).astype(bool) if "approx" in mine else pd.Series(False, mine.index)
        xmax = max(float(np.nanmax(index)), 100.0)
        for y, code, ix in zip(ypos, mine.index, index):
            unit = cat.frame.at[code, "unit"] if code in cat else ""
            text = _fmt(mine.at[code, "value"]) + ("余" if approx[code] else "") + unit
            ax.text(ix + xmax * 0.015, y, text, va="center", ha="left", fontsize=7.5, color="#222222",
                    zorder=4, bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.8})
        names = [cat.name(c) if c in cat else c for c in mine.index]
        ax.set_yticks(ypos, names)
        ax.invert_yaxis()
        ax.set_xlim(0, xmax * 1.22)
        ax.set_xlabel(_with_unit("指数", "全县中位数＝100"))
        ax.tick_params(axis="y", length=0)
        legend = {"better": "优于全县中位数", "equal": "与全县中位数持平", "worse": "不及全县中位数",
                  "neutral": "中性指标（不比优劣）"}
        handles = [Patch(label=lab, **_BAR_STYLE[k]) for k, lab in legend.items() if k in kinds]
        fig.legend(handles=handles, loc="outside lower center", ncols=len(handles))
        return _finish(fig)


def score_breakdown(scores: pd.DataFrame, town: str, year: int, *, catalog: Catalog | None = None,
                    figsize=None, rank: bool = False) -> Figure:
    """The town's section scores (0–100) as bars, with the county median of each section as a marker.

    ``scores`` is :func:`indicators.composite_score` output (index (town, year); columns s1…s6, score,
    rank). A line at the top of the plot gives the composite score, ``综合得分81.4分`` (no title: the report's
    caption names the town and year), and with ``rank`` its place in the county,
    ``综合得分81.4分，全县第1名（共14个乡镇）``: the score is the analyst's, not an official ranking, so a town's signed
    report states the place only when the county asks for it.
    Each bar is labelled with its score. A score of 0 (the county's lowest) is a dot on the axis labelled
    ``0.0（全县最低）`` (``并列全县最低`` when shared); a section without a score keeps its label and is
    marked 暂无数据 (no bar, no dot), or 不计分 when no town has a score in it (its indicators are no performance
    measures), so the number of bars is the number of sections scored.
    Raises :class:`UnknownNameError` for an unknown town or year.
    """
    cat = catalog_or_default(catalog)
    _check_scores(scores, town=town, year=year)
    sections = [c for c in scores.columns if c in cat.sections]
    yearly = scores.xs(year, level="year")
    row = scores.loc[(town, year)]
    if isinstance(row, pd.DataFrame):  # duplicated index: take the first
        row = row.iloc[0]
    median = yearly[sections].median()
    n_towns = int(yearly["score"].notna().sum()) if "score" in yearly else len(yearly)
    score = row.get("score", np.nan)
    place = row.get("rank", pd.NA)
    if pd.isna(score):
        summary = "综合得分暂无"
    else:
        summary = f"综合得分{float(score):.1f}分"
        if rank and not pd.isna(place):
            summary += f"，全县第{int(place)}名（共{n_towns}个乡镇）"
    xmax = 108
    with chart_style():
        fig = _new_figure(WIDTH, 0.42 * len(sections) + 1.8, figsize, grid=True)
        ax = fig.add_subplot()
        ypos = np.arange(len(sections))
        vals = row[sections].to_numpy(dtype="float64")
        has = ~np.isnan(vals)
        ax.barh(ypos[has], vals[has], color=ACCENT, height=0.55, label=f"{town}得分")
        med = median.to_numpy(dtype="float64")
        ax.plot(med, ypos, ls="none", marker="|", ms=15, mew=2.2, color=GREY_DARK, label="全县中位数",
                zorder=3, clip_on=False)
        zero = has & (vals == 0)
        if zero.any():  # a zero-length bar is invisible: mark the score on the axis
            ax.plot(vals[zero], ypos[zero], ls="none", marker="o", ms=5, color=ACCENT, zorder=4,
                    clip_on=False, label="_zero")
        units_per_inch = xmax / max(fig.get_figwidth() - 1.2, 1.0)
        for y, s, v, m in zip(ypos, sections, vals, med):
            if np.isnan(v):  # no data of the town's, or a section without any scored measure (不计分)
                ax.text(1, y, "不计分" if np.isnan(m) else "暂无数据", va="center", ha="left", fontsize=7.5, color=GREY)
                continue
            text = f"{v:.1f}"
            if v == 0:
                others = yearly[s].drop(town, errors="ignore")
                if not (others < 0).any():
                    text += "（并列全县最低）" if (others == 0).any() else "（全县最低）"
            x = v + 1.5
            width = _text_width_in(text, 7.5) * units_per_inch
            if not np.isnan(m) and v - 0.5 < m < x + width + 1.5:  # the median marker would cross the label
                x = m + 1.5
            ax.text(x, y, text, va="center", ha="left", fontsize=7.5)
        _score_axis(ax, ypos, [section_label(s, cat) for s in sections], xmax,
                    _with_unit("分项得分", "分", "满分100"))
        ax.set_ylim(len(sections) - 0.5, -1.35)  # a row above the first section for the summary
        ax.text(0.6, -0.95, summary, va="center", ha="left", fontsize=8.5, color="#222222", zorder=5,
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.0})
        fig.legend(loc="outside lower center", ncols=2)  # the zero dots ("_zero") are labelled in place
        return _finish(fig)


def _text_width_in(text: str, size: float) -> float:
    """Rough width in inches of ``text`` set at ``size`` points: a CJK character is 1 em, others ~0.56 em."""
    ems = sum(1.0 if ord(ch) > 0x2E7F else 0.56 for ch in text)
    return ems * size / 72.0


def _score_axis(ax, ypos, labels, xmax: float, xlabel: str) -> None:
    """A horizontal 0–100 score axis: labels top-down, vertical grid, room on the right for annotations."""
    ax.set_yticks(ypos, labels)
    ax.invert_yaxis()
    ax.set_xlim(0, xmax)
    ax.set_xticks([0, 20, 40, 60, 80, 100])
    ax.set_xlabel(xlabel)
    ax.tick_params(axis="y", length=0)
    ax.grid(axis="x")
    ax.set_axisbelow(True)


# --------------------------------------------------------------------------------------------- county overview
def score_ranking(scores: pd.DataFrame, year: int, *, highlight: str | None = None, figsize=None) -> Figure:
    """Towns ranked by composite score in ``year``: plain horizontal bars, best at the top, each annotated
    with its score and rank (``81.4分 第1名``). ``highlight`` draws one town in the accent colour (the
    others grey). Towns without a score are left out. No title: the report's caption names the year.
    Raises :class:`UnknownNameError` for an unknown year or highlighted town.
    """
    _check_scores(scores, town=highlight, year=year)
    yearly = scores.xs(year, level="year")
    yearly = yearly[yearly["score"].notna()]
    rank = yearly["rank"] if "rank" in yearly else yearly["score"].rank(method="min", ascending=False)
    order = yearly.assign(_rank=rank.astype("float64")).reset_index()
    order = order.sort_values(["_rank", "score", "town"], ascending=[True, False, True], kind="stable")
    with chart_style():
        if order.empty:
            return _empty(_new_figure(WIDTH, 2.5, figsize))
        n = len(order)
        fig = _new_figure(WIDTH, 0.27 * n + 1.1, figsize, grid=True)
        ax = fig.add_subplot()
        ypos = np.arange(n)
        colours = [ACCENT if t == highlight else (GREY if highlight else "#6E6E6E") for t in order["town"]]
        ax.barh(ypos, order["score"].to_numpy(dtype="float64"), color=colours, height=0.66)
        for y, s, r in zip(ypos, order["score"], order["_rank"]):
            ax.text(s + 1.2, y, f"{s:.1f}分 第{int(r)}名", va="center", ha="left", fontsize=7.5)
        _score_axis(ax, ypos, list(order["town"]), 118, _with_unit("综合得分", "分", "满分100"))
        return _finish(fig)


def heatmap(values: pd.DataFrame, year: int, codes=None, *, profile: pd.DataFrame | None = None,
            catalog: Catalog | None = None, annotate: bool = True, figsize=None) -> Figure:
    """Towns × indicators in ``year``, each column coloured by the town's percentile within the county.

    Normalisation per indicator (column), as in :func:`indicators.composite_score`: the towns that
    reported it are ranked (ties share their average rank) and scored ``(rank − 1) / (n − 1) × 100`` — 0 the
    county's lowest, 100 its highest; a lone reporting town gets 50. For an indicator where less is better
    (polarity −1) the order is reversed so that 100 is still the best; such columns are marked ``*``.
    With ``profile`` the values are first made comparable across towns of different size exactly as in
    :func:`indicators.scaled_values`. Cells show the value actually reported (``annotate``); blank cells
    with ``—`` were not reported. ``codes`` defaults to the key indicators with data that year. No title:
    the notes (size scaling, reversed columns) are the x-axis label, ``注：…``.
    Raises :class:`UnknownNameError` for an unknown year or code.
    """
    cat = catalog_or_default(catalog)
    check_names(values, year=year, codes=codes, catalog=cat)
    rows = values[values["year"] == year]
    towns = list(pd.unique(rows["town"]))
    if profile is not None:
        p = scaled_values(rows, profile, catalog=cat)
        p = p.assign(_x=p["scaled"])
    else:
        p = present_rows(rows)
        p = p.assign(_x=p["value"])
    codes = list(codes) if codes is not None else _key_codes(cat)
    p = p[p["indicator"].isin(codes) & p["_x"].notna()]
    codes = _codes_with_data(p, codes)
    p = p[p["indicator"].isin(codes)]
    pol = p["indicator"].map(lambda c: _pol(c, cat)).replace(0, 1).astype("float64")  # numbers, also when empty
    p = p.assign(_pct=percentile_points(p["_x"] * pol, [p["indicator"]]))
    level = p.pivot_table(index="town", columns="indicator", values="_pct", aggfunc="first")
    level = level.reindex(index=towns, columns=codes)
    raw = p.pivot_table(index="town", columns="indicator", values="value", aggfunc="first")
    raw = raw.reindex(index=towns, columns=codes)
    notes = []
    if profile is not None:
        notes.append("按行政村数、党支部数、党员人数或户籍人口折算后比较")
    reversed_codes = [c for c in codes if _pol(c, cat) < 0]
    if reversed_codes:
        notes.append("标*的指标越小越好，已反向排序")
    with chart_style():
        if not codes or not towns:
            return _empty(_new_figure(WIDTH, 2.5, figsize))
        fig = _new_figure(WIDTH, 0.27 * len(towns) + 2.2, figsize)
        ax = fig.add_subplot()
        data = np.ma.masked_invalid(level.to_numpy(dtype="float64"))
        im = ax.imshow(data, cmap=CMAP, vmin=0, vmax=100, aspect="auto", interpolation="nearest")
        if annotate:
            for i in range(len(towns)):
                for j in range(len(codes)):
                    v = raw.iat[i, j]
                    lv = level.iat[i, j]
                    colour = "white" if (not pd.isna(lv) and lv >= 60) else "#222222"
                    ax.text(j, i, _fmt(v) if not pd.isna(v) else "—", ha="center", va="center",
                            fontsize=6, color=colour if not pd.isna(v) else GREY)
        labels = [_label(c, cat) + ("*" if c in reversed_codes else "") for c in codes]
        ax.set_xticks(np.arange(len(codes)), labels, rotation=45, ha="right", rotation_mode="anchor",
                      fontsize=7)
        ax.set_yticks(np.arange(len(towns)), towns)
        ax.tick_params(length=0)
        for side in ("left", "bottom"):
            ax.spines[side].set_visible(False)
        if notes:
            ax.set_xlabel("注：" + "；".join(notes), fontsize=7.5, color=GREY_DARK, labelpad=6)
        cbar = fig.colorbar(im, ax=ax, shrink=0.85, pad=0.02, aspect=30)
        cbar.set_label(_with_unit("相对水平", "0=全县最低", "100=全县最高"))
        cbar.set_ticks([0, 25, 50, 75, 100])
        cbar.outline.set_visible(False)
        return _finish(fig)


def county_small_multiples(values: pd.DataFrame, codes=None, *, catalog: Catalog | None = None,
                           ncols: int = 4, figsize=None) -> Figure:
    """County totals of the key indicators over the years, one panel per indicator with data.

    The total is the sum over the towns that reported for additive indicators (catalog ``additive``) and
    the towns' mean for the others (rates, averages; titled 乡镇平均); the legend says so. Every year is a
    labelled tick. A year in which some town left the indicator unfilled (status ``missing``) is drawn as a
    hollow point: its sum is understated. No figure title: the report's caption is the title.
    Raises :class:`UnknownNameError` for an unknown code.
    """
    cat = catalog_or_default(catalog)
    check_names(values, codes=codes, catalog=cat)
    present = present_rows(values)
    years = _years(values)
    codes = list(codes) if codes is not None else _key_codes(cat)
    present = present[present["indicator"].isin(codes)]
    codes = _codes_with_data(present, codes)
    additive = {c: bool(cat.frame.at[c, "additive"]) if c in cat else True for c in codes}
    g = present.groupby(["indicator", "year"])["value"]
    sums, means = g.sum().unstack(), g.mean().unstack()
    incomplete = set()
    if "status" in values.columns:
        miss = values[values["status"] == "missing"]
        incomplete = set(zip(miss["indicator"], miss["year"].astype(int)))
    with chart_style():
        if not codes:
            return _empty(_new_figure(WIDTH, 2.5, figsize))
        nrows, ncols = _grid(len(codes), ncols)
        fig = _new_figure(WIDTH, 1.55 * nrows + 0.75, figsize, grid=True)
        any_incomplete = False
        for i, code in enumerate(codes):
            ax = fig.add_subplot(nrows, ncols, i + 1)
            series = (sums if additive[code] else means).loc[code].reindex(years)
            y = series.to_numpy(dtype="float64")
            ax.plot(years, y, color=ACCENT, marker="o", ms=3.5, clip_on=False, zorder=3)
            hollow = [k for k, yr in enumerate(years) if (code, yr) in incomplete and not np.isnan(y[k])]
            if hollow:
                any_incomplete = True
                ax.plot([years[k] for k in hollow], y[hollow], ls="none", marker="o", ms=4.5,
                        mfc="white", mec=ACCENT, mew=1.2, zorder=4, clip_on=False)
            _year_axis(ax, years, fig.get_figwidth() / ncols)
            integer = bool(cat.frame.at[code, "integer"]) if code in cat else False
            _value_axis(ax, _value_limits(y, bool(np.nanmin(y) >= 0)), integer and additive[code])
            _panel_title(ax, _label(code, cat) if additive[code] else _label(code, cat, "乡镇平均"))
        series = ("各乡镇合计" if all(additive.values()) else
                  "各乡镇平均" if not any(additive.values()) else "各乡镇合计（标“乡镇平均”的为各乡镇平均）")
        handles = [Line2D([], [], color=ACCENT, marker="o", ms=3.5, label=series)]
        if any_incomplete:
            handles.append(Line2D([], [], ls="none", marker="o", ms=4.5, mfc="white", mec=ACCENT,
                                  label="空心点：当年有乡镇未填报，合计偏低"))
        fig.legend(handles=handles, loc="outside lower center", ncols=len(handles))
        return _finish(fig)


def movers(yoy_frame: pd.DataFrame, year: int, code: str | None = None, n: int = 5, *,
           by: str = "change", catalog: Catalog | None = None, figsize=None) -> Figure:
    """The towns whose value of one indicator rose and fell most in ``year`` against the previous year.

    ``yoy_frame`` is :func:`indicators.yoy` output. ``code`` defaults to the first key indicator (catalog
    order) with a change that year. ``by="change"`` ranks by the absolute change in the indicator's unit,
    ``by="rate"`` by the growth rate in percent. Up to ``n`` rises (top, largest first) and ``n`` falls
    (bottom, largest at the bottom) are drawn as diverging bars around 0; towns without change or without
    a previous value are left out. Colour by polarity: a change for the better (``improved``) in the accent
    colour, for the worse in grey, a neutral indicator (see :func:`town_vs_county`) as an outlined, hatched bar.
    The axis of a count's change
    has whole-number ticks. No title: the report's caption names
    the indicator and the year; the x-axis label gives the unit. Raises :class:`UnknownNameError` for
    an unknown year or code.
    """
    if by not in ("change", "rate"):
        raise ValueError(f"by must be 'change' or 'rate', not {by!r}")
    missing_cols = {"town", "year", "indicator", "change", "rate"} - set(yoy_frame.columns)
    if missing_cols:
        raise ValueError(f"yoy_frame lacks columns {sorted(missing_cols)}: pass indicators.yoy(values)")
    cat = catalog_or_default(catalog)
    check_names(yoy_frame, year=year, codes=[code] if code is not None else None, catalog=cat)
    this_year = yoy_frame[(yoy_frame["year"] == year) & yoy_frame[by].notna()]
    if code is None:
        with_change = set(this_year["indicator"])
        keys = _key_codes(cat)
        code = next((c for c in keys if c in with_change), keys[0] if keys else None)
    sub = this_year[(this_year["indicator"] == code) & (this_year[by] != 0)]
    sub = sub.assign(_x=sub[by].astype("float64") * (100.0 if by == "rate" else 1.0))
    rises = sub[sub["_x"] > 0].sort_values(["_x", "town"], ascending=[False, True]).head(n)
    falls = sub[sub["_x"] < 0].sort_values(["_x", "town"], ascending=[True, True]).head(n).iloc[::-1]
    shown = pd.concat([rises, falls])
    unit = cat.frame.at[code, "unit"] if code in cat else ""
    suffix = "%" if by == "rate" else unit
    with chart_style():
        if shown.empty:
            return _empty(_new_figure(WIDTH, 2.5, figsize), "与上年相比无变化或无上年数据")
        k = len(shown)
        fig = _new_figure(WIDTH, 0.3 * k + 1.4, figsize, grid=True)
        ax = fig.add_subplot()
        ypos = np.arange(k)
        x = shown["_x"].to_numpy(dtype="float64")
        improved = shown["improved"] if "improved" in shown else pd.Series(pd.NA, index=shown.index)
        kinds = ["neutral" if pd.isna(imp) or not _judged(code, cat) else ("better" if bool(imp) else "worse")
                 for imp in improved]
        for y, v, kind in zip(ypos, x, kinds):  # one by one: the bars stay in the order of the rows
            ax.barh(y, v, height=0.62, **_BAR_STYLE[kind])
        ax.axvline(0, color=GREY_DARK, lw=0.8)
        span = float(np.max(np.abs(x)))
        for y, v in zip(ypos, x):
            off = span * 0.02
            ax.text(v + (off if v > 0 else -off), y, _signed(round(v, 1) if by == "rate" else v, suffix),
                    va="center", ha="left" if v > 0 else "right", fontsize=7.5)
        lo = min(float(x.min()), 0.0)
        hi = max(float(x.max()), 0.0)
        pad = span * 0.22
        ax.set_xlim(lo - (pad if lo < 0 else 0), hi + (pad if hi > 0 else 0))
        ax.set_yticks(ypos, list(shown["town"]))
        ax.invert_yaxis()
        ax.tick_params(axis="y", length=0)
        ax.spines["left"].set_visible(False)
        ax.grid(axis="x")
        ax.set_axisbelow(True)
        if by == "change" and (bool(cat.frame.at[code, "integer"]) if code in cat else False):
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # a count changes by whole numbers: no 2.5次
        ax.set_xlabel(_with_unit("比上年增长率", "%") if by == "rate" else _with_unit("比上年增减", unit))
        legend = {"better": "向好", "worse": "向差", "neutral": "中性指标（不比好坏）"}
        handles = [Patch(label=lab, **_BAR_STYLE[kd]) for kd, lab in legend.items() if kd in kinds]
        fig.legend(handles=handles, loc="outside lower center", ncols=len(handles))
        return _finish(fig)
