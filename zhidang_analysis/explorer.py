"""Interactive explorer: one widget to look at any county, town, year and indicator without editing cells.

    >>> import zhidang_analysis as zd
    >>> ex = zd.explorer.explore()                 # the bundled sample; or explore("数据文件夹")
    >>> ex.widget                                  # doctest: +SKIP
    >>> ex.town.value = "河湾镇"                    # the outputs below the controls are redrawn in place

:class:`Explorer` holds the controls (县, 乡镇 with a filter box, 年度, 指标) and one ``ipywidgets.Output`` per
view: the town × indicator table of the year and the composite-score ranking (sortable, searchable tables
made with ``itables`` in offline mode: the DataTables code is embedded once, nothing is fetched from the
internet), the town's trend chart, its comparison with the county, its problems (:func:`problems.town_problems`)
and a preview of its report (:func:`narrative.town_report`). The DataTables code (about 1 MB) is sent to the page
only when a table in a browser asks for it, and taken out of the widget again once it has loaded, so an executed
or saved notebook does not carry it in its widget state (:meth:`Explorer._on_tables_need`). A change of a control recomputes only the views
that depend on it and replaces their outputs (``Output.outputs``), so the widget also works where no
frontend listens (papermill, plain Python). The indicator list offers the indicators the chosen year has. The
生成报告 button writes the town's report (:func:`runner.run_town_report`) and shows links to the files: the
Word and PDF files download (JupyterLab would open them as text), the HTML report opens in a new browser tab.
Every failure is shown as a Chinese message in the widget, never as a traceback.

:meth:`Explorer.static` gives the same views as plain HTML tables and PNG images, for an executed notebook
or an HTML export where no widget is live.

CSS classes for browser tests and styling (``.add_class``): ``zd-county``, ``zd-town``, ``zd-town-filter``,
``zd-year``, ``zd-indicator``, ``zd-write`` (the button), ``zd-links``, ``zd-status``, and the outputs
``zd-table``, ``zd-ranking``, ``zd-trend``, ``zd-compare``, ``zd-flags``, ``zd-narrative``. Charts are
``<img>`` elements with PNG data URIs.
"""

from __future__ import annotations

import base64
import functools
import html as html_lib
import os
import re
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import quote

import ipywidgets as w
import pandas as pd

from .analysis import indicators as ind
from .analysis.problems import town_problems
from .errors import UnknownNameError, ZhidangError
from .inputs.load import load_dataset
from .model.bundled import SAMPLE_DATA
from .model.dataset import Dataset
from .outputs.chartbook import CHARTS_NAME, write_chart_workbook
from .outputs.export import format_word, parse_formats
from .outputs.summary import summary_name, write_summary
from .report import chartdata, charts
from .report.narrative import town_report
from .report.overview import FLAG_LABELS, ranking_table
from .report.params import ParameterError

__all__ = ["Explorer", "StaticView", "county_view", "explore", "itables_html", "itables_init_html"]

#: The views, in the order :meth:`Explorer.static` shows them, with their Chinese headings.
VIEWS = {
    "trend": "历年趋势（重点指标）",
    "compare": "与全县比较",
    "flags": "存在问题",
    "ranking": "综合得分排名",
    "table": "各乡镇指标",
    "narrative": "报告正文预览",
}
#: Which views a change of each control redraws.
DEPENDS = {
    "county": tuple(VIEWS),
    "town": ("trend", "compare", "flags", "narrative"),
    "year": ("table", "ranking", "compare", "flags", "narrative"),
    "indicator": ("table", "compare"),
}
#: Views about the chosen town in the chosen year: they need the town to have data that year.
TOWN_YEAR_VIEWS = ("compare", "flags", "narrative")

_STYLE = """<style>
.zd-explorer .zd-message { padding: 6px 10px; border-left: 4px solid #8B1A1A; background: #FBF3F3; color: #5A1010; }
.zd-explorer .zd-message.zd-info { border-left-color: #8C8C8C; background: #F5F5F5; color: #333; }
.zd-explorer .zd-caption { font-size: 0.9em; color: #444; margin: 4px 0 2px; }
.zd-explorer .zd-status-text { color: #333; }
.zd-explorer .zd-status-text.zd-busy { color: #8B1A1A; }
.zd-explorer .zd-status-text.zd-error { color: #8B1A1A; font-weight: bold; }
.zd-explorer .zd-preview { max-height: 36em; overflow: auto; padding: 0 8px; border: 1px solid #E3E3E3;
  font-family: "FangSong", "STFangsong", "仿宋", serif; line-height: 1.7; }
.zd-explorer .zd-preview h1 { font-size: 1.2em; text-align: center; }
.zd-explorer .zd-preview h2, .zd-explorer .zd-preview h3 { font-size: 1.05em; }
.zd-explorer h4.zd-heading { margin: 10px 0 4px; }
.zd-explorer .zd-bar > * { margin-right: 12px; }
.zd-explorer .zd-links a { color: #0B4F8A; text-decoration: underline; white-space: nowrap; }
.zd-explorer .zd-links a:hover { color: #8B1A1A; }
.zd-explorer .zd-links .zd-how { color: #666; font-size: 0.9em; margin: 0 1.5em 0 0.2em; white-space: nowrap; }
.zd-explorer img { max-width: 100%; height: auto; }
.zd-explorer table.zd-plain { border-collapse: collapse; font-size: 0.9em; }
.zd-explorer table.zd-plain th, .zd-explorer table.zd-plain td { border: 1px solid #DDD; padding: 2px 6px; }
.zd-explorer table.zd-plain td.num { text-align: right; }
</style>"""


# --------------------------------------------------------------------------------------------- counties
def county_view(ds: Dataset, county: str | None = None) -> tuple[list[str], str, Dataset]:
    """The counties of ``ds``, the chosen one (the first when ``county`` is empty) and its single-county view.

    The only place that knows how a dataset is split by county: a dataset with ``counties`` and
    ``for_county`` (multi-county data) is asked for them; an older one is a single county, itself.
    Raises :class:`UnknownNameError` for a county that is not in the data.
    """
    counties = list(getattr(ds, "counties", None) or [ds.county])
    if county and county not in counties:
        raise UnknownNameError("县", county, counties)
    chosen = county or counties[0]
    view = ds.for_county(chosen) if hasattr(ds, "for_county") else ds
    return counties, chosen, view


# --------------------------------------------------------------------------------------------- outputs
def _bundle(data: dict) -> dict:
    """One display output, as ``Output.outputs`` and the notebook format hold it."""
    return {"output_type": "display_data", "data": data, "metadata": {}}


def _html(html: str, plain: str = "") -> dict:
    return _bundle({"text/html": html, "text/plain": plain or re.sub(r"<[^>]+>", "", html)[:200]})


def _png(png: bytes, alt: str) -> dict:
    return _bundle({"image/png": base64.b64encode(png).decode("ascii"), "text/plain": f"<图：{alt}>"})


def _caption(text: str) -> dict:
    return _html(f'<div class="zd-caption">{html_lib.escape(text)}</div>', text)


def _message(text: str, *, error: bool = True) -> dict:
    cls = "zd-message" if error else "zd-message zd-info"
    return _html(f'<div class="{cls}">{html_lib.escape(text)}</div>', text)


def _figure(fig, caption: str) -> list[dict]:
    """A caption and the figure as a PNG image (``<img src="data:image/png;base64,…">`` in the browser)."""
    return [_caption(caption), _png(charts.figure_to_png(fig), caption)]


def _error_text(exc: BaseException, what: str) -> str:
    if isinstance(exc, ZhidangError):
        return str(exc)
    return f"{what}出错：{type(exc).__name__}：{exc}"


# --------------------------------------------------------------------------------------------- tables
#: Search box first, also for a table that fits on one page (itables hides the controls of such a table when
#: given its default layout).
_TABLE_LAYOUT = {"topStart": "search", "topEnd": None, "bottomStart": "info", "bottomEnd": "paging"}
#: DataTables' own texts in Chinese (its defaults are English).
_TABLE_LANGUAGE = {
    "search": "筛选：", "searchPlaceholder": "输入乡镇名称或数字", "info": "第 _START_—_END_ 行，共 _TOTAL_ 行",
    "infoEmpty": "没有符合条件的行", "infoFiltered": "（从 _MAX_ 行中筛选）", "zeroRecords": "没有符合条件的行",
    "emptyTable": "没有数据", "lengthMenu": "每页 _MENU_ 行", "loadingRecords": "正在载入……", "processing": "正在处理……",
}


@functools.cache
def itables_init_html() -> str:
    """The DataTables library (JavaScript and CSS) embedded as ``itables`` offline mode does it, once per page.

    Shown once in the widget; every table waits for it, so the order in which the outputs render does not
    matter. No URL is loaded: the code is in the HTML itself.
    """
    from itables.javascript import generate_init_offline_itables_html, opt

    return generate_init_offline_itables_html(opt.dt_bundle)


def _tables_global() -> str:
    """The name of the global promise under which the embedded DataTables code is loaded (``_itables_2_9_1``)."""
    found = re.search(r"window\.(_itables_\w+)", itables_init_html())
    return found.group(1) if found else "_itables"


def _press(button_class: str) -> str:
    """JavaScript that presses the explorer's hidden button ``button_class`` (the explorer around the script)."""
    return (f'var box = me && me.closest ? me.closest(".zd-explorer") : null;'
            f'var b = (box || document).querySelector("button.{button_class}"); if (b) {{ b.click(); }}')


def _tables_need_script() -> str:
    """Placed before each table: when the page has no DataTables code yet, ask the kernel for it."""
    name = _tables_global()
    return f"<script>(function (me) {{ if (window.{name}) {{ return; }} {_press('zd-itables-need')} }})(document.currentScript);</script>"


def _tables_loaded_script() -> str:
    """Placed after the DataTables code: once loaded, tell the kernel, which takes the code out of the widget."""
    name = _tables_global()
    return (f"<script>(function (me) {{ var ready = window.{name}; if (!ready) {{ return; }} "
            f"ready.then(function () {{ {_press('zd-itables-done')} }}); }})(document.currentScript);</script>")


def itables_html(df: pd.DataFrame, *, caption: str = "", order: list | None = None) -> str:
    """``df`` as a sortable, searchable table (``itables``, offline: it uses the library of
    :func:`itables_init_html`, which the table asks the kernel for when the page does not have it yet; a static
    preview is shown until the library is loaded)."""
    from itables import to_html_datatable

    return _tables_need_script() + to_html_datatable(
        df, caption=caption or None, connected=False, display_logo_when_loading=False, showIndex=False,
        order=order or [], scrollX=True, lengthMenu=[15, 30, 60, 100], pageLength=15,
        classes="display nowrap compact", layout=dict(_TABLE_LAYOUT), language=dict(_TABLE_LANGUAGE),
        style="table-layout:auto;width:auto;margin:0",
    )


def plain_table(df: pd.DataFrame, *, caption: str = "") -> str:
    """``df`` as a plain HTML table (every value escaped): the static form of the tables."""
    parts = ['<table class="zd-plain">']
    if caption:
        parts.append(f"<caption>{html_lib.escape(caption)}</caption>")
    parts.append("<thead><tr>" + "".join(f"<th>{html_lib.escape(str(c))}</th>" for c in df.columns) + "</tr></thead>")
    parts.append("<tbody>")
    numeric = [pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c]) for c in df.columns]
    for row in df.itertuples(index=False, name=None):
        cells = []
        for x, num in zip(row, numeric):
            text = "—" if x is None or (not isinstance(x, str) and pd.isna(x)) or x == "-" else str(x)
            cells.append(f'<td class="{"num" if num else "text"}">{html_lib.escape(text)}</td>')
        parts.append("<tr>" + "".join(cells) + "</tr>")
    parts.append("</tbody></table>")
    return "".join(parts)


def _number_text(x: float, integer: bool) -> str:
    """A value as the tables show it: ``17``, ``12.5``; ``-`` when missing (DataTables sorts it as empty)."""
    if x is None or pd.isna(x):
        return "-"
    if integer and float(x).is_integer():
        return str(int(x))
    return f"{float(x):.4g}" if abs(float(x)) < 1e4 else f"{float(x):.0f}"


# --------------------------------------------------------------------------------------------- static view
class StaticView:
    """The views of an :class:`Explorer` as plain outputs (headings, HTML tables, PNG images).

    Displays as those outputs in a notebook (each one its own output, so an executed or exported notebook
    shows them without any widget); ``outputs`` holds them as notebook output dicts.
    """

    def __init__(self, outputs: list[dict]):
        self.outputs = outputs

    def _ipython_display_(self) -> None:
        from IPython.display import publish_display_data

        for o in self.outputs:
            publish_display_data(o["data"], o.get("metadata") or {})

    def _repr_html_(self) -> str:  # where no IPython display hook runs (e.g. a plain HTML conversion)
        parts = []
        for o in self.outputs:
            d = o["data"]
            if "text/html" in d:
                parts.append(d["text/html"])
            elif "image/png" in d:
                parts.append(f'<img src="data:image/png;base64,{d["image/png"]}" alt="{html_lib.escape(d["text/plain"])}">')
        return "".join(parts)


# --------------------------------------------------------------------------------------------- explorer
class Explorer:
    """Controls and views for one dataset; ``widget`` is the layout to display.

    ``ds`` is the dataset shown; ``data`` the file or folder the 生成报告 button passes to
    :func:`runner.run_town_report` (default: the folder ``ds`` was read from when all its files are in one,
    else the bundled sample); ``out`` the report folder; ``formats`` the report formats written. ``county``,
    ``town``, ``year`` and ``indicator`` (code or Chinese name) choose the first view (empty/0: the first
    county, the first town, the latest year, the first key indicator) and raise :class:`UnknownNameError`
    when not in the data.
    """

    def __init__(self, ds: Dataset, *, data: str | Path | None = None, out: str | Path = "reports",
                 county: str | None = None, town: str | None = None, year: int | None = None,
                 indicator: str | None = None, formats: Iterable[str] = ("html", "docx"),
                 timeout: int | None = 600):
        self.ds = ds
        self.data = data if data else _source_folder(ds)
        self.out = Path(out)
        self.formats = parse_formats(formats)
        self.timeout = timeout
        self.counties, chosen, self.view = county_view(ds, county or None)
        self._views: dict[str, Dataset] = {chosen: self.view}
        self._quiet = False
        self._pngs: dict[tuple, list[dict]] = {}
        self.last_result = None
        self.messages: dict[str, str] = {}

        style = {"description_width": "initial"}
        self.county = w.Dropdown(options=self.counties, value=chosen, description="县", style=style,
                                 layout=w.Layout(width="auto"))
        self.town_filter = w.Text(value="", placeholder="输入乡镇名称筛选", description="查找乡镇",
                                  style=style, layout=w.Layout(width="14em"))
        self.town = w.Dropdown(description="乡镇", style=style, layout=w.Layout(width="auto"))
        self.year = w.Dropdown(description="年度", style=style, layout=w.Layout(width="auto"))
        self.indicator = w.Dropdown(description="指标", style=style, layout=w.Layout(width="auto"))
        self.write_button = w.Button(description="生成报告", icon="file-text", button_style="danger",
                                     tooltip=f"生成当前乡镇、年度的报告（{'、'.join(map(format_word, self.formats))}）")
        self.summary_button = w.Button(description="导出汇总表", icon="table",
                                       tooltip="写出所选年度的全县汇总表（Excel）和每张图的数据 charts.xlsx")
        self.status = w.HTML(value="")
        self.links = w.Output()  # through JupyterLab's renderer, which resolves a link against the notebook's folder
        self.outputs = {name: w.Output() for name in VIEWS}
        self._itables_init = w.Output()
        # a table in the browser asks for the DataTables code (need), and says when it has loaded it (done)
        self._tables_need = w.Button(layout=w.Layout(display="none"))
        self._tables_done = w.Button(layout=w.Layout(display="none"))
        for widget, cls in ((self.county, "zd-county"), (self.town_filter, "zd-town-filter"),
                            (self.town, "zd-town"), (self.year, "zd-year"), (self.indicator, "zd-indicator"),
                            (self.write_button, "zd-write"), (self.summary_button, "zd-summary"),
                            (self.status, "zd-status"), (self.links, "zd-links"),
                            (self._itables_init, "zd-itables-init"), (self._tables_need, "zd-itables-need"),
                            (self._tables_done, "zd-itables-done")):
            widget.add_class(cls)
        for name, out in self.outputs.items():
            out.add_class(f"zd-{name}")
        self._tables_need.on_click(self._on_tables_need)
        self._tables_done.on_click(self._on_tables_done)

        self._fill_controls(town=town or None, year=year or None, indicator=indicator or None)
        self.county.observe(self._on_county, "value")
        self.town_filter.observe(self._on_filter, "value")
        self.town.observe(lambda change: self._on_change("town"), "value")
        self.year.observe(lambda change: self._on_change("year"), "value")
        self.indicator.observe(lambda change: self._on_change("indicator"), "value")
        self.write_button.on_click(self._on_write)
        self.summary_button.on_click(lambda button: self.write_summary())
        self.widget = self._layout()
        self.refresh()

    # -- display -----------------------------------------------------------------------------------------
    def _layout(self) -> w.Widget:
        # two columns side by side where there is room for both (26em each), one under the other on a narrow screen
        column = {"flex": "1 1 26em", "min_width": "0", "max_width": "100%"}

        def section(name: str, half: bool = False) -> w.VBox:
            head = w.HTML(f'<h4 class="zd-heading">{html_lib.escape(VIEWS[name])}</h4>')
            return w.VBox([head, self.outputs[name]], layout=w.Layout(**column) if half else w.Layout(width="100%"))

        wrap = w.Layout(flex_flow="row wrap", align_items="center")
        controls = w.HBox([self.county, self.town_filter, self.town, self.year, self.indicator], layout=wrap)
        actions = w.HBox([self.write_button, self.summary_button, self.status, self.links], layout=wrap)
        rows = w.Layout(flex_flow="row wrap", width="100%")
        row1 = w.HBox([section("trend", True), section("compare", True)], layout=rows)
        row2 = w.HBox([w.VBox([section("flags"), section("ranking")], layout=w.Layout(**column)),
                       section("narrative", True)], layout=rows)
        controls.add_class("zd-bar")
        actions.add_class("zd-bar")
        box = w.VBox([w.HTML(_STYLE), self._itables_init, self._tables_need, self._tables_done, controls, actions,
                      row1, row2, section("table")])
        box.add_class("zd-explorer")
        return box

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    # -- state -------------------------------------------------------------------------------------------
    @property
    def state(self) -> tuple[str, str, int, str]:
        """(county, town, year, indicator code) now shown."""
        return self.county.value, self.town.value, self.year.value, self.indicator.value

    def _county_dataset(self, county: str) -> Dataset:
        if county not in self._views:
            self._views[county] = county_view(self.ds, county)[2]
        return self._views[county]

    def _fill_controls(self, *, town=None, year=None, indicator=None) -> None:
        """Options of town, year and indicator for the current county; keep the chosen ones when possible."""
        view = self.view
        towns = view.towns
        if town is not None and town not in towns:
            raise UnknownNameError("乡镇", town, towns)
        years = view.years
        if year is not None:
            year = view.check_year(year)
        keep_town = town or (self.town.value if self.town.value in towns else None)
        keep_year = year or (self.year.value if self.year.value in years else None)
        chosen_year = keep_year or (years[-1] if years else None)
        codes = _indicator_codes(view, chosen_year)
        if indicator is not None:
            indicator = _resolve_indicator(view, indicator, codes)
        self._quiet = True
        try:
            self.town_filter.value = ""
            self.town.options = towns
            self.town.value = keep_town or (towns[0] if towns else None)
            self.year.options = [(f"{y}年", y) for y in years]
            self.year.value = chosen_year
        finally:
            self._quiet = False
        self._fill_indicators(indicator)

    def _fill_indicators(self, indicator: str | None = None) -> None:
        """The indicator list of the chosen year (those with a value that year, in catalog order); keep the chosen
        one when that year has it, else the first key indicator."""
        cat = self.view.catalog
        codes = _indicator_codes(self.view, self.year.value)
        keep = indicator or (self.indicator.value if self.indicator.value in codes else None)
        key = [c for c in codes if bool(cat.frame.at[c, "key"])]
        self._quiet = True
        try:
            self.indicator.options = [(cat.label(c), c) for c in codes]
            self.indicator.value = keep or (key or codes or [None])[0]
        finally:
            self._quiet = False

    # -- events ------------------------------------------------------------------------------------------
    def _on_county(self, change) -> None:
        if self._quiet:
            return
        try:
            self.view = self._county_dataset(change["new"])
            self._fill_controls()
        except Exception as exc:  # noqa: BLE001 - shown in the widget
            self._set_status(_error_text(exc, "切换县"), error=True)
            return
        self._show_links("")
        self.refresh(DEPENDS["county"])

    def _on_filter(self, change) -> None:
        """Narrow the town list to names containing the text (whole list again when it is empty)."""
        if self._quiet:
            return
        text = change["new"].strip()
        towns = self.view.towns
        shown = [t for t in towns if text in t] if text else towns
        if not shown:
            self._set_status(f"没有名称含“{text}”的乡镇", error=True)
            return
        before = self.town.value
        self._quiet = True
        try:
            self.town.options = shown
            self.town.value = before if before in shown else shown[0]
        finally:
            self._quiet = False
        if self.town.value != before:
            self._on_change("town")
        else:
            self._set_status(f"找到{len(shown)}个乡镇：{'、'.join(shown[:10])}{'……' if len(shown) > 10 else ''}")

    def _on_change(self, control: str) -> None:
        if self._quiet:
            return
        if control in ("town", "year"):
            self._show_links("")
        if control == "year":  # the indicators of that year (no 2020–2022 epidemic indicators for 2025)
            self._fill_indicators()
        self.refresh(DEPENDS[control])

    def _on_write(self, button=None) -> None:
        self.write_report()

    # -- views -------------------------------------------------------------------------------------------
    def refresh(self, views: Iterable[str] = tuple(VIEWS)) -> dict[str, str]:
        """Recompute ``views`` and replace their outputs; return the Chinese messages shown (view → message)."""
        views = [v for v in VIEWS if v in set(views)]
        county, town, year, code = self.state
        self._set_status(f"正在更新：{town} {year}年……", busy=True)
        start = time.perf_counter()
        messages = {}
        problem = self._town_year_problem()
        for name in views:
            if problem and name in TOWN_YEAR_VIEWS:
                outs, msg = [_message(problem)], problem
            else:
                outs, msg = self._render(name, interactive=True)
            self.outputs[name].outputs = tuple(outs)
            if msg:
                messages[name] = msg
        self.messages = {**{k: v for k, v in self.messages.items() if k not in views}, **messages}
        if problem:
            self._set_status(problem, error=True)
        elif self.messages:
            self._set_status("；".join(dict.fromkeys(self.messages.values())), error=True)
        else:
            name = self.view.catalog.name(code) if code else ""
            self._set_status(f"{county} · {town} · {year}年 · {name}（用时{time.perf_counter() - start:.1f}秒）")
        return messages

    def _town_year_problem(self) -> str | None:
        _, town, year, _ = self.state
        if town is None or year is None:
            return "数据中没有可查看的乡镇或年度"
        v = self.view.values
        rows = v[(v["town"] == town) & (v["year"] == year)]
        if "status" in rows:
            rows = rows[rows["status"] == "present"]
        if len(rows):
            return None
        have = sorted(int(y) for y in v.loc[(v["town"] == town) & (v.get("status", "present") == "present"),
                                             "year"].unique())
        hint = f"该乡镇有数据的年度：{'、'.join(str(y) for y in have)}" if have else "该乡镇没有任何年度的数据"
        return f"{town}{year}年没有填报数据，无法显示与全县比较、存在问题和报告预览。{hint}"

    def _render(self, name: str, *, interactive: bool) -> tuple[list[dict], str | None]:
        try:
            return getattr(self, f"_view_{name}")(interactive), None
        except Exception as exc:  # noqa: BLE001 - every failure is a message in its view
            msg = _error_text(exc, f"“{VIEWS[name]}”")
            return [_message(msg)], msg

    def _cached(self, key: tuple, make: Callable[[], list[dict]]) -> list[dict]:
        if key not in self._pngs:
            if len(self._pngs) > 64:
                self._pngs.clear()
            self._pngs[key] = make()
        return self._pngs[key]

    def _view_trend(self, interactive: bool) -> list[dict]:
        county, town, _, _ = self.state
        v, cat = self.view.values, self.view.catalog
        caption = f"{town}重点指标历年变化（虚线为全县中位数）"
        outs = self._cached(("trend", county, town), lambda: _figure(charts.town_trend(v, town, catalog=cat), caption))
        if interactive:  # a download of the chart's data (not kept in a saved notebook's static views)
            outs = outs + self._cached(("trend-data", county, town), lambda: [
                _data_link(chartdata.town_trend_data(v, town, cat), f"{town}重点指标历年变化")])
        return outs

    def _view_compare(self, interactive: bool) -> list[dict]:
        county, town, year, code = self.state
        v, cat = self.view.values, self.view.catalog
        outs = self._cached(("compare", county, town, year), lambda: _figure(
            charts.town_vs_county(v, town, year, catalog=cat), f"{town}{year}年重点指标与全县中位数比较（全县中位数＝100）"))
        if interactive:
            outs = outs + self._cached(("compare-data", county, town, year), lambda: [_data_link(
                chartdata.town_vs_county_data(v, town, year, cat), f"{town}{year}年重点指标与全县中位数比较")])
        if code:
            outs = outs + self._cached(("indicator", county, town, code), lambda: _figure(
                charts.town_trend(v, town, [code], catalog=cat, ncols=1, figsize=(3.4, 2.2)),
                f"{town}{cat.name(code)}历年变化与全县中位数"))
            if interactive:
                outs = outs + self._cached(("indicator-data", county, town, code), lambda: [_data_link(
                    chartdata.town_trend_data(v, town, cat, codes=[code]), f"{town}{cat.name(code)}历年变化")])
        return outs

    def _view_flags(self, interactive: bool) -> list[dict]:
        _, town, year, _ = self.state
        f = town_problems(self.view, year, town)  # the problems the town's report lists, and nothing else
        if f.empty:
            return [_message(f"{town}{year}年报告未列出存在的问题（无自查问题，数据也未反映出未完成目标或明显下降）",
                             error=False)]
        table = pd.DataFrame({"类型": f["kind"].map(FLAG_LABELS), "说明": f["text"]})
        return [_html(plain_table(table, caption=f"{town}{year}年存在的问题（{len(table)}项）"))]

    def _view_ranking(self, interactive: bool) -> list[dict]:
        county, town, year, _ = self.state
        df = ranking_table(self.view, year)
        for c in df.columns:
            if pd.api.types.is_float_dtype(df[c]):
                df[c] = df[c].round(1)
        caption = f"{county}{year}年各乡镇综合得分排名（共{len(df)}个乡镇）"
        if interactive:
            return [_caption(caption), _html(itables_html(df, order=[[0, "asc"]]), caption)]
        return [_html(plain_table(df, caption=caption), caption)]

    def _view_table(self, interactive: bool) -> list[dict]:
        county, _, year, code = self.state
        view = self.view
        cat = view.catalog
        wide = ind.town_table(view.values, year, catalog=cat)
        codes = list(wide.columns)
        if code in codes:
            codes.remove(code)
            codes.insert(0, code)
        towns = [t for t in view.towns if t in wide.index]
        wide = wide.reindex(index=towns, columns=codes)
        table = pd.DataFrame({"乡镇": towns})
        for c in codes:
            integer = bool(cat.frame.at[c, "integer"]) if c in cat else False
            label = cat.label(c) if c in cat else c
            table[label] = [_number_text(x, integer) for x in wide[c].to_numpy(dtype="float64")]
        name = cat.name(code) if code in cat else ""
        caption = f"{county}{year}年各乡镇指标（{len(towns)}个乡镇，{len(codes)}项指标；第一列为所选指标“{name}”）"
        if interactive:
            return [_caption(caption), _html(itables_html(table, order=[[1, "desc"]] if code in cat else []), caption)]
        return [_html(plain_table(table, caption=caption), caption)]

    def _view_narrative(self, interactive: bool) -> list[dict]:
        _, town, year, _ = self.state
        report = town_report(self.view, town, year)
        body = str(report.html) + str(report.missing_html())
        return [_html(f'<div class="zd-preview">{body}</div>', report.text[:500])]

    def static(self) -> StaticView:
        """The views of the current choice as plain outputs: headings, HTML tables and PNG charts."""
        county, town, year, code = self.state
        outs = [_html(_STYLE + f'<h3 class="zd-heading">{html_lib.escape(f"{county} · {town} · {year}年")}</h3>',
                      f"{county} {town} {year}年")]
        problem = self._town_year_problem()
        for name, title in VIEWS.items():
            outs.append(_html(f'<h4 class="zd-heading">{html_lib.escape(title)}</h4>', title))
            if problem and name in TOWN_YEAR_VIEWS:
                outs.append(_message(problem))
            else:
                outs += self._render(name, interactive=False)[0]
        return StaticView(outs)

    # -- report ------------------------------------------------------------------------------------------
    def write_report(self):
        """Write the current town's report (``formats``) into ``out`` and show links; return the run's result
        (None when it failed: the reason is shown in the status)."""
        # start-up cost: papermill and nbconvert load only when a report is written
        from .running.runner import run_town_report

        county, town, year, _ = self.state
        self.last_result = None
        problem = self._town_year_problem()
        if problem:
            self._set_status(problem, error=True)
            return None
        self.write_button.disabled = True
        self._show_links("")
        self._set_status(f"正在生成{town}{year}年报告（{'、'.join(map(format_word, self.formats))}），请稍候……", busy=True)
        start = time.perf_counter()
        try:
            options = {"county": county} if len(self.counties) > 1 else {}
            result = run_town_report(town, year, data=self.data, out=self.out, formats=self.formats,
                                     timeout=self.timeout, **options)
        except Exception as exc:  # noqa: BLE001 - shown in the widget
            self._set_status("生成报告失败：" + _error_text(exc, "生成报告"), error=True)
            return None
        finally:
            self.write_button.disabled = False
        self.last_result = result
        files = dict(getattr(result, "outputs", None) or {"html": result.html})
        self._show_links("".join(_link(path, fmt) for fmt, path in files.items()))
        self._set_status(f"{town}{year}年报告已生成（用时{time.perf_counter() - start:.0f}秒）")
        return result

    def _show_links(self, html: str) -> None:
        """Show links to the written files (empty: none)."""
        self.links.outputs = (_html(f'<div class="zd-links-list">{html}</div>', "报告文件"),) if html else ()

    @property
    def links_html(self) -> str:
        """The HTML of the links shown to the written files (empty when none)."""
        return "".join(o["data"].get("text/html", "") for o in self.links.outputs)

    def _on_tables_need(self, button=None) -> None:
        """A table in the browser asks for the DataTables code: send it, with a note back once it has loaded."""
        self._itables_init.outputs = (_html(itables_init_html() + _tables_loaded_script(), "（表格组件）"),)

    def _on_tables_done(self, button=None) -> None:
        """The browser has loaded the DataTables code: take it out of the widget (the page keeps it), so that a
        saved notebook's widget state does not carry it."""
        self._itables_init.outputs = ()

    def write_summary(self) -> list[Path]:
        """Write the summary workbook (全县汇总表) of the selected county and year and its charts.xlsx (the data of
        every chart) into ``<out>/<year>/`` and show links; return the files (empty when it failed: the reason is
        shown in the status)."""
        county, _, year, _ = self.state
        view = self._county_dataset(county)
        folder = self.out / str(int(year))
        try:
            several = len(self.counties) > 1
            files = [write_summary(view, year, folder / summary_name(year, county if several else None)),
                     write_chart_workbook(view, year, folder / (f"{county}_{CHARTS_NAME}" if several else CHARTS_NAME))]
        except (ZhidangError, OSError) as exc:
            self._set_status("导出汇总表失败：" + _error_text(exc, "导出汇总表"), error=True)
            return []
        self._show_links("".join(_link(p, label) for p, label in zip(files, ("汇总表", "图表数据"))))
        self._set_status(f"{county}{year}年汇总表已导出")
        return files

    def _set_status(self, text: str, *, busy: bool = False, error: bool = False) -> None:
        cls = "zd-status-text" + (" zd-busy" if busy else "") + (" zd-error" if error else "")
        self.status.value = f'<span class="{cls}">{html_lib.escape(text)}</span>'


# --------------------------------------------------------------------------------------------- helpers
def _indicator_codes(view: Dataset, year: int | None = None) -> list[str]:
    """Catalog indicators with at least one reported value (in ``year``, when given) that apply that year, in catalog
    order: 2025 offers no 2020–2022 epidemic indicator."""
    v = view.values
    if year is not None:
        v = v[v["year"] == year]
    have = set(v.loc[v["status"] == "present", "indicator"]) if "status" in v else set(v["indicator"])
    cat = view.catalog
    return [c for c in cat.value_codes if c in have and (year is None or cat.applies(c, year))]


def _resolve_indicator(view: Dataset, indicator: str, codes: list[str]) -> str:
    """An indicator given by code or by Chinese name (with or without unit) → its code, among ``codes`` (those of the
    year shown)."""
    cat = view.catalog
    if indicator in codes:
        return indicator
    for c in codes:
        if indicator in (cat.name(c), cat.label(c)):
            return c
    raise UnknownNameError("指标", indicator, [cat.name(c) for c in codes])


def _source_folder(ds: Dataset) -> Path | None:
    """The folder every file of ``ds`` was read from, or None (the runner then uses the bundled sample)."""
    parents = {Path(f).resolve().parent for f in (ds.files or [])}
    if len(parents) != 1:
        return None
    folder = parents.pop()
    return None if folder == SAMPLE_DATA.resolve() else folder


def _data_link(frame: pd.DataFrame, name: str) -> dict:
    """A link that downloads a chart's data as CSV (UTF-8 with BOM, as Excel opens it); the file is inside the link,
    nothing is written."""
    data = base64.b64encode(frame.to_csv(index=False).encode("utf-8-sig")).decode("ascii")
    file = html_lib.escape(f"{name}.csv")
    return _html(f'<a class="zd-file zd-chart-data" download="{file}" href="data:text/csv;base64,{data}">'
                 f'下载图表数据（CSV）</a>', f"{name}（图表数据）")


def _link(path: str | Path, fmt: str) -> str:
    """A link to a written file of format ``fmt`` (``html``, ``docx``, ``pdf``): relative to the working folder (the
    notebook's, in JupyterLab) when the file is below it, else a ``file:`` URL; the path itself in the tooltip.

    JupyterLab opens a relative link in its own viewer, which reads a Word file as text (“File Load Error … not UTF-8
    encoded”): a Word or PDF file is a download (``download``: JupyterLab leaves such a link to the browser), the
    HTML report opens in a new browser tab (its own click handler, the first on the link, keeps the click from
    JupyterLab's handler, which would open the file in JupyterLab).
    """
    path = Path(path).resolve()
    try:
        rel = Path(os.path.relpath(path, Path.cwd()))
        href = quote(rel.as_posix()) if not rel.as_posix().startswith("../") else path.as_uri()
    except ValueError:  # another drive (Windows)
        href = path.as_uri()
    label, name = html_lib.escape(format_word(fmt)), html_lib.escape(path.name)
    common = f'href="{html_lib.escape(href)}" title="{html_lib.escape(str(path))}" class="zd-file zd-file-{fmt}"'
    if fmt == "html":
        return (f'<a {common} target="_blank" rel="noopener" onclick="event.stopImmediatePropagation()">{label}：{name}</a>'
                '<span class="zd-how">（新标签页打开）</span>')
    return f'<a {common} download="{name}">{label}：{name}</a><span class="zd-how">（下载）</span>'



def explore(data: str | Path | None = None, *, county: str = "", town: str = "", year: int = 0,
            indicator: str = "", out: str | Path = "reports", formats: Iterable[str] = ("html", "docx")) -> Explorer:
    """Load ``data`` (default: the bundled sample) and return an :class:`Explorer` on it.

    Empty ``county``/``town``/``indicator`` and ``year=0`` choose the first county, the first town, the latest
    year and the first key indicator. A path that does not exist, data that fail validation or a name that is
    not in the data raise :class:`params.ParameterError` (one Chinese line in a notebook, no traceback).
    """
    if data and not Path(data).exists():
        raise ParameterError(f"参数“data”：找不到数据文件或文件夹“{data}”", name="data")
    try:
        ds = load_dataset(data) if data else load_dataset()
    except ZhidangError as e:
        raise ParameterError(str(e), name="data") from None
    try:
        year = int(year or 0)
    except (TypeError, ValueError):
        raise ParameterError(f"参数“year”应为整数，读到“{year}”", name="year") from None
    try:
        return Explorer(ds, data=data or None, out=out, county=county or None, town=town or None,
                        year=year or None, indicator=indicator or None, formats=formats)
    except UnknownNameError as e:
        name = {"县": "county", "乡镇": "town", "年度": "year", "指标": "indicator"}.get(e.kind, "data")
        raise ParameterError(str(e), name=name) from None

