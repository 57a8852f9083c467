"""The look of every chart and how it is drawn fast: the bundled CJK font, the colours and the matplotlib style
(:func:`chart_style`), PNG output (:func:`figure_to_png`), a renderer that measures each text once per process,
and :class:`GridLayoutEngine` for small multiples."""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import functools
import importlib.util
import io
import threading
from pathlib import Path

import matplotlib
import matplotlib.artist as martist
import numpy as np
from cycler import cycler
from matplotlib import font_manager
from matplotlib import image as mimage
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg, get_hinting_flag
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine, LayoutEngine
from matplotlib.transforms import Bbox
from PIL import Image

from ..errors import ZhidangError

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


def figure_to_png(fig: Figure, dpi: int = 110, *, colors: int | None = None) -> bytes:
    """The figure as PNG bytes (white background, no software stamp), for embedding; laid out and drawn once.

    The figure's layout engine (:class:`GridLayoutEngine` for the small multiples and the bar charts, constrained
    layout for the heat map and its colour bar) is run once, at ``dpi``, and switched off for the drawing, which is
    done once, on the same renderer (a :class:`_RendererAgg`: texts measured and shaped once per process): no layout
    pass of ``savefig``'s own, no ``bbox_inches="tight"`` pass. The image is the figure framed in white so
    that :data:`PAD_IN` of white surrounds what the layout placed (``WIDTH`` = 6.3 in → 705 px at 110 dpi, as
    the tight box with ``pad_inches=0.1`` it replaces), and grown on a side where a text the layout gives no
    room to sticks out of the figure (:func:`_margins`), so nothing is clipped. The figure is left as it was
    (canvas, layout engine, dpi, face colour).

    ``colors`` (at most 256) makes it a palette PNG (:func:`palette_png`), quantized from the drawn pixels
    themselves: charts meant for print are large, and a palette keeps them a third of the size.
    """
    buf = io.BytesIO()
    with chart_style(), _laid_out(fig, dpi) as (canvas, margins, inside):
        if inside:  # the usual case: draw the figure as it is and frame it
            canvas.draw()
            left, bottom, right, top = (round(m * dpi) for m in margins)
            rgba = np.pad(np.asarray(canvas.buffer_rgba()), ((top, bottom), (left, right), (0, 0)),
                          constant_values=255)
            if colors:
                return palette_png(rgba, dpi, colors)
            mimage.imsave(buf, rgba, format="png", dpi=dpi, metadata={"Software": None},
                          pil_kwargs={"compress_level": PNG_COMPRESS_LEVEL})
        else:  # a text sticks out: savefig draws the grown box (once too, but measuring the texts again)
            left, bottom, right, top = margins
            w, h = fig.get_size_inches()
            box = Bbox.from_extents(-left, -bottom, w + right, h + top)
            fig.savefig(buf, format="png", dpi=dpi, bbox_inches=box, facecolor="white", metadata={"Software": None},
                        pil_kwargs={"compress_level": PNG_COMPRESS_LEVEL})
    if colors:
        return palette_png(np.asarray(Image.open(buf).convert("RGBA")), dpi, colors)
    return buf.getvalue()


#: zlib level of the palette PNGs: as small as Pillow's ``optimize`` (level 9) within 7%, in half the time.
PALETTE_COMPRESS_LEVEL = 6


def palette_png(rgba: np.ndarray, dpi: float, colors: int = 256) -> bytes:
    """An opaque ``(h, w, 4)`` uint8 image as a PNG of at most ``colors`` colours (no software stamp, ``dpi``
    recorded).

    A chart is a few flat colours (background, lines, bars, text) and the anti-aliased edges between them: a few
    hundred colours at most. The palette is the ``colors`` most frequent colours of the image, kept exactly; a
    rarer colour (an edge pixel where two lines cross) becomes the palette colour nearest to it. Every pixel is
    looked up in a table indexed by its 24 colour bits. A chart of ``colors`` colours or fewer keeps every pixel.
    An image of very many colours, or one whose rare colours are far from every frequent one (more than
    :data:`NEAREST_MAX` in a channel: a small mark of its own colour), is reduced by Pillow's median cut instead.
    (The median cut of the small multiples' 2,000 × 2,000 pixels cost a fifth of a report; this takes a twentieth
    of its time and moves half as many pixels: about one in a thousand, by at most about 30 levels.)
    """
    rgba = np.ascontiguousarray(rgba, dtype=np.uint8)
    found = Image.fromarray(rgba, "RGBA").getcolors(_FEW_COLOURS)  # opaque: (r, g, b, 255), counted in place
    index = _nearest_frequent(found, colors) if found is not None else None
    if index is None:
        quantized = Image.fromarray(rgba[..., :3], "RGB").quantize(colors, method=Image.Quantize.MEDIANCUT)
    else:
        every, nearest, palette = index
        lookup = np.zeros(1 << 24, dtype=np.uint8)
        lookup[_colour_bits(every)] = nearest
        quantized = Image.fromarray(lookup[_colour_bits(rgba)], "P")
        quantized.putpalette(palette[:, :3].tobytes())
    buf = io.BytesIO()
    quantized.save(buf, "PNG", compress_level=PALETTE_COMPRESS_LEVEL, dpi=(dpi, dpi))
    return buf.getvalue()


#: At most this many colours are counted one by one (a chart has a few hundred); an image of more is median-cut.
_FEW_COLOURS = 1 << 16

#: The most a rare colour may differ from its palette colour, in any channel (0–255); else median cut.
NEAREST_MAX = 48


def _nearest_frequent(found: list[tuple[int, tuple]], colors: int):
    """``(every colour, its palette index, palette)`` as ``(n, 4)``, ``(n,)`` and ``(colors, 4)`` uint8 arrays from
    ``Image.getcolors``' ``(count, colour)`` pairs: the palette is the most frequent colours (ties by colour), each
    other colour the nearest of them (squared distance). ``None`` if one is farther than :data:`NEAREST_MAX`."""
    found = sorted(found, key=lambda nc: (-nc[0], nc[1]))
    every = np.array([(*c[:3], 255) for _, c in found], dtype=np.uint8)
    palette = every[:colors]
    nearest = np.zeros(len(every), dtype=np.intp)
    nearest[:len(palette)] = np.arange(len(palette))  # a frequent colour is itself
    frequent = palette[:, :3].astype(np.int32)
    for start in range(colors, len(every), 4096):  # a rare colour by 256 frequent ones at a time: 4 MB
        rare = every[start:start + 4096, :3].astype(np.int32)
        best = ((rare[:, None, :] - frequent[None, :, :]) ** 2).sum(axis=2).argmin(axis=1)
        if np.abs(rare - frequent[best]).max() > NEAREST_MAX:
            return None
        nearest[start:start + 4096] = best
    return every, nearest.astype(np.uint8), palette


def _colour_bits(rgba: np.ndarray) -> np.ndarray:
    """The 24 colour bits of each pixel of a contiguous ``(..., 4)`` uint8 array, as one integer (its four bytes
    read as one 32-bit word, alpha masked off: no copy of the channels)."""
    words = rgba.view(np.uint32)[..., 0]
    return words & np.uint32(0xFFFFFF) if np.little_endian else words >> np.uint32(8)


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


# --------------------------------------------------------------------------------------------- lent figures
@dataclasses.dataclass
class LentTrend:
    """A small-multiples figure kept to be redrawn: its panels' ``(axes, town's line, median line or None)`` and
    the legend's text naming the town."""

    fig: Figure
    lines: list[tuple]
    town_label: object


#: Figures lent by ``town_trend(reuse=True)``, per thread (a figure is never redrawn by two threads at once), by
#: layout; the few most recently used are kept (a batch of one province has one layout).
_LENT = threading.local()
_LENT_MAX = 4


def lent_trends() -> collections.OrderedDict:
    if not hasattr(_LENT, "trends"):
        _LENT.trends = collections.OrderedDict()
    return _LENT.trends


def lend_trend(layout: tuple, lent: LentTrend) -> None:
    trends = lent_trends()
    trends[layout] = lent
    trends.move_to_end(layout)
    while len(trends) > _LENT_MAX:
        trends.popitem(last=False)
