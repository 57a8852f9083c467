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

import contextlib
import functools
import importlib.util
import io
import math
import re
from pathlib import Path

import matplotlib
import matplotlib.artist as martist
import numpy as np
import pandas as pd
from cycler import cycler
from matplotlib import font_manager
from matplotlib import image as mimage
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg, get_hinting_flag
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine, LayoutEngine
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import Bbox

from .catalog import Catalog
from .errors import ZhidangError
from .indicators import _cat, _check, _present, county_compare, percentile_points, scaled_values

__all__ = [
    "ACCENT",
    "STYLE",
    "chart_style",
    "county_small_multiples",
    "figure_to_png",
    "heatmap",
    "movers",
    "score_breakdown",
    "score_ranking",
    "section_label",
    "town_trend",
    "town_vs_county",
    "use_cjk_font",
]

# --------------------------------------------------------------------------------------------- style
FONT_FILE = "NotoSansCJKsc-Regular.otf"
CJK_FAMILY = "Noto Sans CJK SC"

ACCENT = "#8B1A1A"        # deep red: the town of the report, favourable bars, the county series
GREY_DARK = "#4D4D4D"     # text, reference lines, the county median
GREY = "#8C8C8C"          # other towns, neutral bars
GREY_LIGHT = "#CFCFCF"    # unfavourable bars
#: Heat map colours: near white (lowest in the county) to the accent (highest).
CMAP = LinearSegmentedColormap.from_list("zhidang", ["#F5F3F3", "#D29A9A", ACCENT]).with_extremes(bad="white")

WIDTH = 6.3  # inches: the 156 mm text block of a GB/T 9704 page, so point sizes print as set
#: Inches of white around the contents of a saved chart (the ``pad_inches`` of the tight box charts used to have).
PAD_IN = 0.1
#: zlib level of the PNGs: on these flat-coloured charts 3 gives smaller files than the default 6, a third faster.
PNG_COMPRESS_LEVEL = 3

STYLE = {
    # One family, no fallback list: with a fallback list matplotlib draws a glyph that no font has as an
    # empty box without the "Glyph … missing from font" warning the tests rely on.
    "font.family": [CJK_FAMILY],
    "font.sans-serif": [CJK_FAMILY, "DejaVu Sans"],
    "axes.unicode_minus": True,  # U+2212 is in Noto Sans CJK SC (checked by the tests)
    # Every text is plain text: a town named "$x^2$" is data, never mathtext (an unbalanced one would raise
    # while drawing). A Text keeps the setting it was made with; :func:`_finish` makes every tick label here.
    "text.parse_math": False,
    "font.size": 8.5,
    "axes.titlesize": 9,
    "axes.labelsize": 8.5,
    "figure.titlesize": 11,
    "xtick.labelsize": 7.5,
    "ytick.labelsize": 8,
    "legend.fontsize": 8,
    "legend.frameon": False,
    "figure.dpi": 110,
    "savefig.dpi": 110,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "axes.facecolor": "white",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": GREY_DARK,
    "axes.linewidth": 0.7,
    "axes.labelcolor": "#222222",
    "axes.titlecolor": "#222222",
    "text.color": "#222222",
    "xtick.color": GREY_DARK,
    "ytick.color": GREY_DARK,
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "axes.grid": False,
    "grid.color": "#E3E3E3",
    "grid.linewidth": 0.6,
    "axes.prop_cycle": cycler(color=[ACCENT, GREY_DARK, GREY]),
    "lines.linewidth": 1.6,
    "lines.markersize": 4,
    "patch.edgecolor": "none",
}

_CN_DIGITS = "〇一二三四五六七八九十"


@functools.cache
def _font_path() -> str:
    """Path of Noto Sans CJK SC inside the installed ``mplfonts`` package (found without importing it)."""
    spec = importlib.util.find_spec("mplfonts")
    if spec is None or not spec.submodule_search_locations:
        raise ZhidangError("未安装 mplfonts，无法找到中文字体 Noto Sans CJK SC（请安装 mplfonts）")
    for folder in spec.submodule_search_locations:
        path = Path(folder) / "fonts" / FONT_FILE
        if path.is_file():
            return str(path)
    raise ZhidangError(f"mplfonts 中未找到字体文件 {FONT_FILE}")


@functools.cache
def _font_family(path: str) -> str:
    """The family name the font file gives itself."""
    return font_manager.FontProperties(fname=path).get_name()


def use_cjk_font() -> str:
    """Register the Noto Sans CJK SC font file of ``mplfonts`` with matplotlib (in this process only;
    idempotent) and return its family name, ``'Noto Sans CJK SC'``.

    Nothing is written to disk: the font is added to the in-memory ``fontManager``. It is looked up
    again on every call, so a font manager rebuilt by someone else gets the font back.

    A machine may have a font of the same family installed (Debian's ``fonts-noto-cjk`` is a ``.ttc`` of
    another version, with other metrics); matplotlib would then pick either, depending on the order its
    cache lists them. Other files of the family are left out of this process's font list, so the charts
    are drawn with the same font file on every machine.
    """
    path = _font_path()
    manager = font_manager.fontManager
    family = _font_family(path)
    ours = any(e.fname == path and e.name == family for e in manager.ttflist)
    others = any(e.name == family and e.fname != path for e in manager.ttflist)
    if ours and not others:
        return family
    # (matplotlib ≥ 3.11 also lists a file under alternative names, such as "… Regular": those go too)
    manager.ttflist = [e for e in manager.ttflist if e.name != family and e.fname != path]
    manager.addfont(path)  # also clears matplotlib's cache of font look-ups
    return family


@contextlib.contextmanager
def chart_style():
    """Register the CJK font and apply :data:`STYLE` (a ``matplotlib.rc_context``) for the block."""
    family = use_cjk_font()
    rc = dict(STYLE)
    if family != CJK_FAMILY:  # a different build of the font; keep it first whatever it calls itself
        rc["font.family"], rc["font.sans-serif"] = [family], [family, "DejaVu Sans"]
    with matplotlib.rc_context(rc):
        yield


def figure_to_png(fig: Figure, dpi: int = 110) -> bytes:
    """The figure as PNG bytes (white background, no software stamp), for embedding; laid out and drawn once.

    The figure's layout engine (:class:`GridLayoutEngine` for the small multiples and the bar charts, constrained
    layout for the heat map and its colour bar) is run once, at ``dpi``, and switched off for the drawing, which is
    done once, on the same renderer (a :class:`_RendererAgg`: texts measured and shaped once per process): no layout
    pass of ``savefig``'s own, no ``bbox_inches="tight"`` pass. The image is the figure framed in white so
    that :data:`PAD_IN` of white surrounds what the layout placed (``WIDTH`` = 6.3 in → 705 px at 110 dpi, as
    the tight box with ``pad_inches=0.1`` it replaces), and grown on a side where a text the layout gives no
    room to sticks out of the figure (:func:`_margins`), so nothing is clipped. The figure is left as it was
    (canvas, layout engine, dpi, face colour).
    """
    buf = io.BytesIO()
    with chart_style(), _laid_out(fig, dpi) as (canvas, margins, inside):
        if inside:  # the usual case: draw the figure as it is and frame it
            canvas.draw()
            left, bottom, right, top = (round(m * dpi) for m in margins)
            rgba = np.pad(np.asarray(canvas.buffer_rgba()), ((top, bottom), (left, right), (0, 0)),
                          constant_values=255)
            mimage.imsave(buf, rgba, format="png", dpi=dpi, metadata={"Software": None},
                          pil_kwargs={"compress_level": PNG_COMPRESS_LEVEL})
        else:  # a text sticks out: savefig draws the grown box (once too, but measuring the texts again)
            left, bottom, right, top = margins
            w, h = fig.get_size_inches()
            box = Bbox.from_extents(-left, -bottom, w + right, h + top)
            fig.savefig(buf, format="png", dpi=dpi, bbox_inches=box, facecolor="white", metadata={"Software": None},
                        pil_kwargs={"compress_level": PNG_COMPRESS_LEVEL})
    return buf.getvalue()


#: Text measured and shaped by :class:`_RendererAgg`, kept across figures: ``key → (w, h, d)`` or glyph positions.
_TEXT_CACHE: dict = {}
_TEXT_CACHE_MAX = 20_000


class _RendererAgg(RendererAgg):
    """Agg's renderer with plain text (no mathtext, no TeX) measured and shaped once per process, not per figure.

    For every text of every figure, matplotlib finds the font file again (``findfont``), reads its height metrics
    from the font's tables (``Text._get_layout``), measures the string (``get_text_width_height_descent``) and
    shapes it into glyphs (``FT2Font._layout``, about 0.3 ms a string with this font), on every new renderer, and
    each figure gets a renderer of its own; yet the texts of these charts (years, tick values, indicator names,
    legends) repeat from panel to panel and from report to report. Here these results are kept, keyed by all
    they depend on (:meth:`_key`: the font properties; the rcParams that resolve them to a font file and set its
    hinting and kerning, as they were when the renderer was made; the font manager; the dpi; the string). The
    glyphs are still rendered at their exact (sub-pixel) positions every time, so the image is the same bit for
    bit (checked by the tests).
    """

    def __init__(self, width, height, dpi):
        super().__init__(width, height, dpi)
        # The settings in force when the renderer is made: a _CanvasAgg lives for one figure_to_png, in one style.
        rc = matplotlib.rcParams
        self._rc_key = (*(tuple(v) if isinstance(v, list) else v for v in (rc[k] for k in _FONT_RC)),
                        id(font_manager.fontManager), dpi)

    def _key(self, prop) -> tuple:
        family = prop.get_family()
        return (tuple(family) if isinstance(family, list) else family, prop.get_style(), prop.get_variant(),
                prop.get_weight(), prop.get_stretch(), prop.get_size_in_points(), prop.get_file(), *self._rc_key)

    def _get_font_height_metrics(self, prop):
        """``(ascent, descent, line gap)`` of the font in pixels, as ``Text._get_layout`` reads them itself."""
        key = ("height", *self._key(prop))
        out = _TEXT_CACHE.get(key)
        if out is None:
            font = font_manager.get_font(font_manager.fontManager._find_fonts_by_props(prop))
            out = (None, None, None)
            for table_name, gap, ascent, descent in (("OS/2", "sTypoLineGap", "sTypoAscender", "sTypoDescender"),
                                                     ("hhea", "lineGap", "ascent", "descent")):
                table = font.get_sfnt_table(table_name)
                if table is not None:
                    scale = prop.get_size_in_points() * self.dpi / 72 / font.get_sfnt_table("head")["unitsPerEm"]
                    out = (table[ascent] * scale, -table[descent] * scale, table[gap] * scale)
                    break
            _remember(key, out)
        return out

    def get_text_width_height_descent(self, s, prop, ismath):
        if ismath is not False:
            return super().get_text_width_height_descent(s, prop, ismath)
        key = ("size", s, *self._key(prop))
        out = _TEXT_CACHE.get(key)
        if out is None:
            out = super().get_text_width_height_descent(s, prop, ismath)
            _remember(key, out)
        return out

    def draw_text(self, gc, x, y, s, prop, angle, ismath=False, mtext=None):
        if ismath:
            return super().draw_text(gc, x, y, s, prop, angle, ismath, mtext)
        features = mtext.get_fontfeatures() if mtext is not None else None
        language = mtext.get_language() if mtext is not None else None
        key = ("glyphs", s, tuple(features) if features is not None else None,
               language if language is None or isinstance(language, str) else repr(language), *self._key(prop))
        glyphs = _TEXT_CACHE.get(key)
        if glyphs is None:
            font = self._prepare_font(prop)
            items = font._layout(s, flags=get_hinting_flag(), features=features, language=language)
            glyphs = tuple((item.ft_object, item.glyph_index, item.x, item.y) for item in items)
            _remember(key, glyphs)
        size = prop.get_size_in_points()
        self._draw_text_glyphs_and_boxes(
            gc, x, y, angle, ((ft, size, index, 0, 1, gx, gy) for ft, index, gx, gy in glyphs), [])
        return None


#: The rcParams a text's font, its hinting and its kerning depend on besides its own font properties.
_FONT_RC = ("font.family", "font.style", "font.variant", "font.weight", "font.stretch", "font.size", "font.serif",
            "font.sans-serif", "font.cursive", "font.fantasy", "font.monospace", "text.hinting",
            "text.hinting_factor", "text.kerning_factor")


def _remember(key, value) -> None:
    if len(_TEXT_CACHE) >= _TEXT_CACHE_MAX:
        _TEXT_CACHE.clear()
    _TEXT_CACHE[key] = value


class _CanvasAgg(FigureCanvasAgg):
    """An Agg canvas drawing with :class:`_RendererAgg` (the same pixels, texts measured and shaped once)."""

    def get_renderer(self):
        w, h = self.get_width_height(physical=True)
        key = w, h, self.figure.dpi
        if self._lastKey != key:
            self.renderer = _RendererAgg(w, h, self.figure.dpi)
            self._lastKey = key
        return self.renderer


@contextlib.contextmanager
def _laid_out(fig: Figure, dpi: float):
    """Lay ``fig`` out once at ``dpi`` on an Agg canvas of its own and keep that layout for the block.

    Yields ``(canvas, margins, inside)``: the canvas, whose one renderer serves the layout, the measuring and the
    drawing, and :func:`_margins`. Afterwards the figure gets its own canvas, layout engine, dpi and face colour
    back (the canvas is switched as ``savefig`` itself does for a format its canvas cannot print).

    Meanwhile an axis label left empty (every one of the small multiples', the y label of the bar charts) is not
    placed: matplotlib places an axis label at every layout pass and every draw by measuring all tick labels of
    its axis again, and an empty label is neither drawn nor counted by the layouts (so the image is the same).
    """
    old_canvas, old_dpi, old_face = fig.canvas, fig.dpi, fig.get_facecolor()
    engine = fig.get_layout_engine()
    canvas = _CanvasAgg(fig)
    unplaced = [axis for ax in fig.axes for axis in (ax.xaxis, ax.yaxis)
                if not axis.label.get_text() and getattr(axis, "_autolabelpos", False)]
    try:
        for axis in unplaced:
            axis._autolabelpos = False
        fig.dpi = dpi
        fig.set_facecolor("white")
        pads = (0.0, 0.0)
        if engine is not None:
            if isinstance(engine, (ConstrainedLayoutEngine, GridLayoutEngine)):
                pads = (engine.get()["w_pad"], engine.get()["h_pad"])
            if fig.axes:  # as Figure.draw: an engine only lays out axes
                engine.execute(fig)
            # No engine at all (not "none", a placeholder engine for which savefig still makes a layout pass):
            # the axes stay where the layout put them.
            with matplotlib.rc_context({"figure.autolayout": False, "figure.constrained_layout.use": False}):
                fig.set_layout_engine(None)
        yield (canvas, *_margins(fig, canvas.get_renderer(), *pads))
    finally:
        for axis in unplaced:
            axis._autolabelpos = True
        if engine is not None:
            fig.set_layout_engine(engine)
        fig.set_facecolor(old_face)
        fig.dpi = old_dpi
        fig.set_canvas(old_canvas)


def _margins(fig: Figure, renderer, w_pad: float = 0.0, h_pad: float = 0.0) -> tuple[tuple, bool]:
    """White to add around the figure, in inches (left, bottom, right, top), and whether everything is inside it.

    The layout leaves ``w_pad``, ``h_pad`` inches between its contents and the figure's edges; the margins make
    that :data:`PAD_IN`. Constrained layout makes room for everything but the width of axes titles and x-axis
    labels and the height of y-axis labels (it ignores them on purpose, as it cannot shrink them): a title wider
    than its panel in the last column, say, would be cut at the figure's edge. Where such a text sticks out of
    the figure, the margin on that side reaches :data:`PAD_IN` beyond it (and ``inside`` is False). Only those
    few texts are measured (their extent in the ignored direction does not depend on the drawing).
    """
    w, h = fig.get_size_inches()
    grow = [max(0.0, PAD_IN - w_pad), max(0.0, PAD_IN - h_pad)] * 2  # left, bottom, right, top
    inside = True
    texts = []
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        titles = [getattr(ax, name, None) for name in ("title", "_left_title", "_right_title")]
        texts += [(t, 0) for t in titles if t is not None]
        if ax.axison:
            texts += [(ax.xaxis.label, 0), (ax.yaxis.label, 1)]
    size = (w * fig.dpi, h * fig.dpi)
    for text, k in texts:  # k: 0 for x, 1 for y
        if not (text.get_visible() and text.get_text()):
            continue
        extents = text.get_window_extent(renderer).extents  # x0, y0, x1, y1 in pixels
        if not np.isfinite(extents).all():
            continue
        for side, out in ((k, -extents[k]), (k + 2, extents[k + 2] - size[k])):  # how far it sticks out
            if out > 0.5:
                grow[side] = max(grow[side], out / fig.dpi + PAD_IN)
                inside = False
    return tuple(grow), inside


class GridLayoutEngine(LayoutEngine):
    """Constrained layout's arithmetic for a grid of panels, each panel's decorations measured once.

    Constrained layout measures every axes' tight box twice (its algorithm runs twice, in case tick labels change
    once the axes are resized) and solves a constraint system; for a grid of single-cell panels whose decorations
    do not depend on the panel's size (fixed year ticks, ``MaxNLocator`` with a fixed ``nbins``, category labels;
    an automatic x locator of a bar chart changes at most the overhang of its end labels) one measurement gives
    the same margins, and the solution is plain arithmetic (the tests check the axes land within a pixel of where
    constrained layout puts them). As constrained layout (default pads): each cell has
    ``w_pad`` / ``h_pad`` of space on each side plus room for its decorations (tick labels, titles; the widest or
    tallest of its column or row), the panels are all the same size, and a figure legend placed ``outside lower
    center`` gets its height and twice ``h_pad`` at the bottom. Titles and x-axis labels count only with their
    height, y-axis labels only with their width, as there (:func:`_margins` frames what sticks out).
    """

    _adjust_compatible = False
    _colorbar_gridspec = False

    def __init__(self, *, w_pad: float = 3 / 72, h_pad: float = 3 / 72):
        super().__init__()
        self._params = {"w_pad": w_pad, "h_pad": h_pad}

    def execute(self, fig) -> None:
        renderer = fig._get_renderer()
        axes = [ax for ax in fig.axes if ax.get_visible() and ax.get_in_layout() and ax.get_subplotspec()]
        if not axes:
            return
        width, height = fig.bbox.width, fig.bbox.height  # pixels
        w_pad, h_pad = self._params["w_pad"] * fig.dpi, self._params["h_pad"] * fig.dpi
        nrows, ncols = axes[0].get_subplotspec().get_gridspec().get_geometry()
        left, right, top, bottom = [0.0] * ncols, [0.0] * ncols, [0.0] * nrows, [0.0] * nrows
        for ax in axes:
            ss = ax.get_subplotspec()
            pos = ax.get_position(original=True).transformed(fig.transFigure)
            box = martist._get_tightbbox_for_layout_only(ax, renderer)
            r0, r1, c0, c1 = ss.rowspan.start, ss.rowspan.stop - 1, ss.colspan.start, ss.colspan.stop - 1
            left[c0] = max(left[c0], pos.x0 - box.x0)
            right[c1] = max(right[c1], box.x1 - pos.x1)
            top[r0] = max(top[r0], box.y1 - pos.y1)
            bottom[r1] = max(bottom[r1], pos.y0 - box.y0)
        floor = 0.0  # the figure legends placed outside, below the panels
        for legend in fig.legends:
            if getattr(legend, "_outside_loc", None) == "lower" and legend._bbox_to_anchor is None:
                floor = max(floor, legend.get_tightbbox(renderer).height + 2 * h_pad)
        left, right = [m + w_pad for m in left], [m + w_pad for m in right]
        top, bottom = [m + h_pad for m in top], [m + h_pad for m in bottom]
        cell_w = (width - sum(left) - sum(right)) / ncols
        cell_h = (height - floor - sum(top) - sum(bottom)) / nrows
        if cell_w <= 0 or cell_h <= 0:
            return  # as constrained layout: no room, the axes stay where they are
        xs = np.cumsum([0.0] + [lm + cell_w + rm for lm, rm in zip(left, right)])
        ys = height - np.cumsum([0.0] + [tm + cell_h + bm for tm, bm in zip(top, bottom)])
        for ax in axes:
            ss = ax.get_subplotspec()
            r0, r1, c0, c1 = ss.rowspan.start, ss.rowspan.stop - 1, ss.colspan.start, ss.colspan.stop - 1
            x0, x1 = xs[c0] + left[c0], xs[c1 + 1] - right[c1]
            y1, y0 = ys[r0] - top[r0], ys[r1 + 1] + bottom[r1]
            ax._set_position(Bbox.from_extents(x0 / width, y0 / height, x1 / width, y1 / height))


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


def _value_axis(ax, shown, integer: bool, nonneg: bool) -> None:
    """Y axis of a trend panel with room above the highest and below the lowest point, so that no marker
    touches the frame; a non-negative series starts at 0 (a point at 0 sits a little above the x axis)."""
    ax.yaxis.set_major_locator(MaxNLocator(nbins=4, integer=integer, min_n_ticks=3))
    shown = np.asarray(shown, dtype="float64")
    shown = shown[~np.isnan(shown)]
    if shown.size:
        lo, hi = float(shown.min()), float(shown.max())
        base = 0.0 if nonneg else lo
        span = hi - base
        if span <= 0:
            span = abs(hi) if hi != 0 else 1.0
        pad = 0.08 * span
        bottom = base if (nonneg and lo > 0) else base - pad
        ax.set_ylim(bottom, hi + pad)
    ax.grid(axis="y")
    ax.set_axisbelow(True)


def _panel_title(ax, text: str) -> None:
    """Title a panel of small multiples, once its y limits are set.

    The y axis never shows an offset (``+7.5e4``), so the title can be fixed at the top of the axes, where
    matplotlib's automatic placement puts it anyway; that placement measures the whole y axis again at every
    layout pass and every draw (about a fifth of the drawing time of a 13-panel figure) just to dodge such an
    offset text. With values a scientific-notation multiplier would be shown for (``1e6``, by the style's
    ``axes.formatter.limits``), the placement stays automatic.
    """
    formatter = ax.yaxis.get_major_formatter()
    if hasattr(formatter, "set_useOffset"):
        formatter.set_useOffset(False)
    low, high = matplotlib.rcParams["axes.formatter.limits"]
    top = max(abs(v) for v in ax.get_ylim())
    if 10.0 ** (low + 1) <= top < 10.0 ** high:
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
    cat = _cat(catalog)
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
    _check(scores.index.to_frame(index=False), town=town, year=year)


# --------------------------------------------------------------------------------------------- town report
def town_trend(values: pd.DataFrame, town: str, codes=None, *, catalog: Catalog | None = None,
               ncols: int = 4, show_median: bool = True, figsize=None) -> Figure:
    """Small multiples of one town's indicators over the years: one panel per indicator with data.

    ``codes`` defaults to the catalog's key indicators; indicators the town never reported are left out,
    so the number of panels is the number of indicators with data. The town's line is the accent colour,
    missing years are gaps; ``show_median`` adds the county median of each year as a grey dashed line.
    Every year of ``values`` is a labelled tick; each panel is titled with the indicator and its unit, the
    legend names the town. No figure title: the report's caption is the title.
    Raises :class:`UnknownNameError` for an unknown town or indicator code.
    """
    cat = _cat(catalog)
    _check(values, town=town, codes=codes, catalog=cat)
    present = _present(values)
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
        nrows, ncols = _grid(len(codes), ncols)
        fig = _new_figure(WIDTH, 1.55 * nrows + 0.75, figsize, grid=True)
        for i, code in enumerate(codes):
            ax = fig.add_subplot(nrows, ncols, i + 1)
            y = wide[code].to_numpy(dtype="float64")
            if show_median:
                ax.plot(years, median[code].to_numpy(dtype="float64"), color=GREY, lw=1.0, ls="--",
                        label="全县中位数")
            ax.plot(years, y, color=ACCENT, marker="o", ms=3.5, label=town, clip_on=False, zorder=3)
            _year_axis(ax, years, fig.get_figwidth() / ncols)
            shown = np.r_[y, median[code].to_numpy(dtype="float64")] if show_median else y
            integer = bool(cat.frame.at[code, "integer"]) if code in cat else False
            _value_axis(ax, shown, integer, bool(np.nanmin(shown) >= 0))
            _panel_title(ax, _label(code, cat))
        handles = [Line2D([], [], color=ACCENT, marker="o", ms=3.5, label=town)]
        if show_median:
            handles.append(Line2D([], [], color=GREY, lw=1.0, ls="--", label="全县中位数"))
        fig.legend(handles=handles, loc="outside lower center", ncols=len(handles))
        return _finish(fig)


def town_vs_county(values: pd.DataFrame, town: str, year: int, codes=None, *,
                   catalog: Catalog | None = None, figsize=None) -> Figure:
    """The town's value of each indicator in ``year`` as an index against the county median (= 100).

    Horizontal bars in catalog order with a reference line at 100; each bar is annotated with the value
    actually reported and its unit (``30余次`` when reported as approximate). Colour by polarity: better
    than the median in the accent colour, worse in light grey, equal (or a neutral indicator) in grey.
    Indicators the town did not report, and those whose county median is zero, negative or missing, are
    left out, so the number of bars is the number of indicators compared. ``codes`` defaults to the key
    indicators. No title: the report's caption names the town and the year. Raises
    :class:`UnknownNameError` for an unknown town, year or code.
    """
    cat = _cat(catalog)
    _check(values, town=town, year=year, codes=codes, catalog=cat)
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
        colours, kinds = [], []
        for code, ix in zip(mine.index, index):
            side = np.sign(round(ix - 100.0, 9)) * _pol(code, cat)
            kind = "better" if side > 0 else ("worse" if side < 0 else "equal")
            kinds.append(kind)
            colours.append({"better": ACCENT, "worse": GREY_LIGHT, "equal": GREY}[kind])
        n = len(mine)
        fig = _new_figure(WIDTH, 0.3 * n + 1.3, figsize, grid=True)
        ax = fig.add_subplot()
        ypos = np.arange(n)
        ax.barh(ypos, index, color=colours, height=0.62)
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
        legend = {"better": (ACCENT, "优于全县中位数"), "equal": (GREY, "与全县中位数持平"),
                  "worse": (GREY_LIGHT, "不及全县中位数")}
        handles = [Patch(color=c, label=lab) for k, (c, lab) in legend.items() if k in kinds]
        fig.legend(handles=handles, loc="outside lower center", ncols=len(handles))
        return _finish(fig)


def score_breakdown(scores: pd.DataFrame, town: str, year: int, *, catalog: Catalog | None = None,
                    figsize=None) -> Figure:
    """The town's section scores (0–100) as bars, with the county median of each section as a marker.

    ``scores`` is :func:`indicators.composite_score` output (index (town, year); columns s1…s6, score,
    rank). A line at the top of the plot gives the composite score and rank:
    ``综合得分81.4分，全县第1名（共14个乡镇）`` (no title: the report's caption names the town and year).
    Each bar is labelled with its score. A score of 0 (the county's lowest) is a dot on the axis labelled
    ``0.0（全县最低）`` (``并列全县最低`` when shared); a section without a score keeps its label and is
    marked 暂无数据 (no bar, no dot), or 不计分 when no town has a score in it (its indicators are no performance
    measures), so the number of bars is the number of sections scored.
    Raises :class:`UnknownNameError` for an unknown town or year.
    """
    cat = _cat(catalog)
    _check_scores(scores, town=town, year=year)
    sections = [c for c in scores.columns if c in cat.sections]
    yearly = scores.xs(year, level="year")
    row = scores.loc[(town, year)]
    if isinstance(row, pd.DataFrame):  # duplicated index: take the first
        row = row.iloc[0]
    median = yearly[sections].median()
    n_towns = int(yearly["score"].notna().sum()) if "score" in yearly else len(yearly)
    score = row.get("score", np.nan)
    rank = row.get("rank", pd.NA)
    if pd.isna(score):
        summary = "综合得分暂无"
    else:
        summary = f"综合得分{float(score):.1f}分"
        if not pd.isna(rank):
            summary += f"，全县第{int(rank)}名（共{n_towns}个乡镇）"
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
    cat = _cat(catalog)
    _check(values, year=year, codes=codes, catalog=cat)
    rows = values[values["year"] == year]
    towns = list(pd.unique(rows["town"]))
    if profile is not None:
        p = scaled_values(rows, profile, catalog=cat)
        p = p.assign(_x=p["scaled"])
    else:
        p = _present(rows)
        p = p.assign(_x=p["value"])
    codes = list(codes) if codes is not None else _key_codes(cat)
    p = p[p["indicator"].isin(codes) & p["_x"].notna()]
    codes = _codes_with_data(p, codes)
    p = p[p["indicator"].isin(codes)]
    pol = p["indicator"].map(lambda c: _pol(c, cat)).replace(0, 1)
    p = p.assign(_pct=percentile_points(p["_x"] * pol, [p["indicator"]]))
    level = p.pivot_table(index="town", columns="indicator", values="_pct", aggfunc="first")
    level = level.reindex(index=towns, columns=codes)
    raw = p.pivot_table(index="town", columns="indicator", values="value", aggfunc="first")
    raw = raw.reindex(index=towns, columns=codes)
    notes = []
    if profile is not None:
        notes.append("按行政村数、党员人数或户籍人口折算后比较")
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
    cat = _cat(catalog)
    _check(values, codes=codes, catalog=cat)
    present = _present(values)
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
            _value_axis(ax, y, integer and additive[code], bool(np.nanmin(y) >= 0))
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
    colour, for the worse in grey, a neutral indicator in light grey. No title: the report's caption names
    the indicator and the year; the x-axis label gives the unit. Raises :class:`UnknownNameError` for
    an unknown year or code.
    """
    if by not in ("change", "rate"):
        raise ValueError(f"by must be 'change' or 'rate', not {by!r}")
    missing_cols = {"town", "year", "indicator", "change", "rate"} - set(yoy_frame.columns)
    if missing_cols:
        raise ValueError(f"yoy_frame lacks columns {sorted(missing_cols)}: pass indicators.yoy(values)")
    cat = _cat(catalog)
    _check(yoy_frame, year=year, codes=[code] if code is not None else None, catalog=cat)
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
        colours, kinds = [], []
        for imp in improved:
            kind = "na" if pd.isna(imp) else ("better" if bool(imp) else "worse")
            kinds.append(kind)
            colours.append({"better": ACCENT, "worse": GREY, "na": GREY_LIGHT}[kind])
        ax.barh(ypos, x, color=colours, height=0.62)
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
        ax.set_xlabel(_with_unit("比上年增长率", "%") if by == "rate" else _with_unit("比上年增减", unit))
        legend = {"better": (ACCENT, "向好"), "worse": (GREY, "向差"), "na": (GREY_LIGHT, "中性指标")}
        handles = [Patch(color=c, label=lab) for kd, (c, lab) in legend.items() if kd in kinds]
        fig.legend(handles=handles, loc="outside lower center", ncols=len(handles))
        return _finish(fig)
