"""The interactive explorer (``zhidang_analysis.explorer``, ``notebooks/explorer.ipynb``).

Widgets are driven as a frontend would: a control's ``value`` is set and the outputs (``Output.outputs``, the
notebook output dicts a browser renders) are read back. No frontend is needed for any of it.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
from urllib.parse import quote

import nbformat
from bs4 import BeautifulSoup
import papermill as pm
import pytest

import zhidang_analysis as zd
from zhidang_analysis import explorer
from zhidang_analysis.errors import UnknownNameError
from zhidang_analysis.explorer import Explorer, county_view, explore, itables_html, itables_init_html
from zhidang_analysis.model.dataset import Dataset
from zhidang_analysis.report.narrative import chinese_year
from zhidang_analysis.report.params import ParameterError
from zhidang_analysis.report.params import NOTEBOOKS
from zhidang_analysis.running.runner import ProjectKernelManager

NOTEBOOK = NOTEBOOKS / "explorer.ipynb"
CLASSES = {"zd-county", "zd-town", "zd-year", "zd-indicator", "zd-write", "zd-trend", "zd-compare", "zd-narrative",
           "zd-table", "zd-ranking", "zd-status"}
# a remote script or style sheet: <script src="http…">, <link href="http…">, @import/url(http…) in CSS
REMOTE = re.compile(r"<script[^>]*\bsrc\s*=\s*[\"']?\s*(?:https?:)?//|<link[^>]*\bhref\s*=\s*[\"']?\s*(?:https?:)?//"
                    r"|@import\s+(?:url\()?[\"']?\s*(?:https?:)?//|url\(\s*[\"']?\s*(?:https?:)?//"
                    r"|\bimport\s*(?:\([^)]*|[^;]*from\s*)[\"'](?:https?:)?//", re.I)


@pytest.fixture(scope="module")
def ds() -> Dataset:
    return zd.load_dataset()


@pytest.fixture(scope="module")
def shared(ds) -> Explorer:
    return Explorer(ds, town="青石镇", year=2025)


@pytest.fixture
def ex(shared) -> Explorer:
    """One explorer for the module (its charts are cached), put back to 青石镇 2025 before each test."""
    shared.town_filter.value = ""
    shared.town.value, shared.year.value, shared.indicator.value = "青石镇", 2025, "theme_party_days"
    shared.refresh()
    shared._show_links("")
    return shared


def html_of(out) -> str:
    return "".join(o["data"].get("text/html", "") for o in out.outputs)


def pngs_of(out) -> list[bytes]:
    return [base64.b64decode(o["data"]["image/png"]) for o in out.outputs if "image/png" in o["data"]]


def status_text(ex) -> str:
    return re.sub(r"<[^>]+>", "", ex.status.value)


def all_widgets(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from all_widgets(child)


# --------------------------------------------------------------------------------------------- package
def test_importing_the_package_does_not_import_widgets_but_zd_explorer_works():
    code = ("import sys, zhidang_analysis as zd; heavy = {'ipywidgets', 'itables'} & set(sys.modules); "
            "assert not heavy, heavy; assert zd.explorer.explore is not None; assert 'ipywidgets' in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
    assert "explorer" in zd.__all__


# --------------------------------------------------------------------------------------------- layout
def test_widget_holds_every_control_and_view_with_its_css_class(ex):
    classes = {c for widget in all_widgets(ex.widget) for c in getattr(widget, "_dom_classes", ())}
    assert CLASSES <= classes
    assert ex.write_button.description == "生成报告"
    assert (ex.county.description, ex.town.description, ex.year.description, ex.indicator.description) == (
        "县", "乡镇", "年度", "指标")
    assert ex.state == ("示范县", "青石镇", 2025, ex.indicator.value)
    assert ex._repr_mimebundle_()["application/vnd.jupyter.widget-view+json"]["model_id"] == ex.widget.model_id


def test_defaults_are_the_first_town_the_latest_year_and_a_key_indicator(ds):
    ex = Explorer(ds)
    assert ex.town.value == ds.towns[0] and ex.year.value == ds.years[-1]
    assert bool(ds.catalog.frame.at[ex.indicator.value, "key"])
    assert ex.county.options == (ds.county,)


def test_first_view_shows_every_output_and_charts_as_png(ex):
    for name, out in ex.outputs.items():
        assert out.outputs, name
    for name in ("trend", "compare"):
        pngs = pngs_of(ex.outputs[name])
        assert pngs and all(p.startswith(b"\x89PNG\r\n\x1a\n") for p in pngs), name
    assert "青石镇" in html_of(ex.outputs["narrative"])
    assert "综合得分" in html_of(ex.outputs["ranking"])
    assert "示范县 · 青石镇 · 2025年" in status_text(ex)
    assert ex.messages == {}


# --------------------------------------------------------------------------------------------- controls
def test_changing_the_town_redraws_trend_comparison_flags_and_narrative_in_place(ex):
    trend, compare = ex.outputs["trend"], ex.outputs["compare"]
    before_trend, before_compare = pngs_of(trend), pngs_of(compare)
    table_before = ex.outputs["table"].outputs
    ex.town.value = "河湾镇"
    assert ex.outputs["trend"] is trend  # the same Output, new content
    assert pngs_of(trend)[0] != before_trend[0]
    assert pngs_of(compare)[0] != before_compare[0]
    narrative = html_of(ex.outputs["narrative"])
    assert "中共河湾镇委员会" in narrative and "中共青石镇委员会" not in narrative
    assert "河湾镇2025年" in html_of(ex.outputs["flags"])
    assert ex.outputs["table"].outputs == table_before  # the year's table does not depend on the town
    assert "河湾镇" in status_text(ex)


def test_changing_the_year_redraws_the_year_table_ranking_and_narrative(ex):
    ex.year.value = 2023
    assert "示范县2023年各乡镇指标" in html_of(ex.outputs["table"])
    assert "示范县2023年各乡镇综合得分排名" in html_of(ex.outputs["ranking"])
    assert f"{chinese_year(2023)}年度" in html_of(ex.outputs["narrative"])
    assert "2023年" in status_text(ex)


def test_changing_the_indicator_puts_it_first_in_the_table_and_charts_it(ex, ds):
    before = pngs_of(ex.outputs["compare"])
    ex.indicator.value = "new_members"
    label = ds.catalog.label("new_members")
    table = html_of(ex.outputs["table"])
    headers = re.findall(r"<th>(.*?)</th>", json.loads(f'"{_json_field(table, "table_html")}"'))
    assert headers[:2] == ["乡镇", label]
    assert '"order": [[1, "desc"]]' in table
    after = pngs_of(ex.outputs["compare"])
    assert after[0] == before[0] and after[1] != before[1]  # the county comparison stays, the indicator chart changes
    assert "青石镇发展党员历年变化" in html_of(ex.outputs["compare"])


def _json_field(html: str, key: str) -> str:
    m = re.search(rf'"{key}": "((?:[^"\\]|\\.)*)"', html)
    assert m, key
    return m.group(1)


def test_indicator_can_be_given_by_chinese_name(ds):
    assert Explorer(ds, indicator="发展党员").indicator.value == "new_members"


def test_the_indicator_list_offers_the_years_indicators_only(ds):
    # the epidemic indicators apply in 2020–2022 only (catalog years): 2025 offers none of them, 2021 does
    cat = ds.catalog
    epidemic = {c for c in cat.value_codes if cat.name(c) in {"核酸检测轮次", "消杀轮次", "党员疫情防控突击队"}}
    assert len(epidemic) == 3
    ex = Explorer(ds, town="青石镇", year=2025)
    codes = [value for _, value in ex.indicator.options]
    assert not epidemic & set(codes) and "theme_party_days" in codes
    v = ds.values
    assert set(codes) == {c for c in v.loc[(v["year"] == 2025) & (v["status"] == "present"), "indicator"]
                          if c in cat.value_codes}
    ex.indicator.value = "new_members"
    ex.year.value = 2021
    codes_2021 = [value for _, value in ex.indicator.options]
    assert epidemic <= set(codes_2021) and ex.indicator.value == "new_members"  # the chosen one is kept
    ex.indicator.value = sorted(epidemic)[0]
    ex.year.value = 2025  # its indicator is not in 2025: back to the first key indicator, and the views follow
    assert ex.indicator.value == "theme_party_days"
    assert "青石镇主题党日活动历年变化" in html_of(ex.outputs["compare"])
    with pytest.raises(UnknownNameError, match="核酸检测轮次"):
        Explorer(ds, year=2025, indicator="核酸检测轮次")


def test_town_filter_narrows_the_list_and_says_when_nothing_matches(ex):
    ex.town_filter.value = "石"
    assert set(ex.town.options) == {"青石镇", "石门乡"} and ex.town.value == "青石镇"
    ex.town_filter.value = "门"
    assert ex.town.options == ("石门乡",) and ex.town.value == "石门乡"
    assert "中共石门乡委员会" in html_of(ex.outputs["narrative"])
    ex.town_filter.value = "不存在"
    assert "没有名称含“不存在”的乡镇" in status_text(ex) and ex.town.value == "石门乡"
    ex.town_filter.value = ""
    assert len(ex.town.options) == 14


# --------------------------------------------------------------------------------------------- bad states
def test_a_town_without_data_in_the_year_shows_a_chinese_message(ds):
    gap = ds.copy()
    v = gap.values
    gap.values = v[~((v["town"] == "河湾镇") & (v["year"] == 2024))].reset_index(drop=True)
    ex = Explorer(gap, town="河湾镇", year=2025)
    ex.year.value = 2024
    message = "河湾镇2024年没有填报数据"
    for name in ("compare", "flags", "narrative"):
        assert message in html_of(ex.outputs[name]), name
        assert "Traceback" not in html_of(ex.outputs[name])
    assert message in status_text(ex) and "该乡镇有数据的年度：2020、2021、2022、2023、2025" in status_text(ex)
    assert "2024年各乡镇指标" in html_of(ex.outputs["table"])  # the county views still work
    assert ex.write_report() is None and message in status_text(ex)
    ex.year.value = 2025
    assert ex.messages == {} and "中共河湾镇委员会" in html_of(ex.outputs["narrative"])


def test_an_exception_while_drawing_is_a_chinese_message_in_its_view(ex, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(explorer.charts, "town_trend", broken)
    ex.town.value = "花海乡"
    text = html_of(ex.outputs["trend"])
    assert "“历年趋势（重点指标）”出错：RuntimeError：boom" in text and "zd-message" in text
    assert "出错" in status_text(ex)
    assert "中共花海乡委员会" in html_of(ex.outputs["narrative"])  # the other views are drawn


def test_unknown_names_raise_in_python_and_are_parameter_errors_in_explore(ds):
    with pytest.raises(UnknownNameError, match="未找到乡镇“河湾”，可选的有：河湾镇"):
        Explorer(ds, town="河湾")
    with pytest.raises(UnknownNameError, match="未找到县"):
        Explorer(ds, county="别的县")
    with pytest.raises(ParameterError, match="未找到年度“1999”") as e:
        explore(year=1999)
    assert e.value.name == "year" and e.value._render_traceback_() == [f"参数错误：{e.value}"]
    with pytest.raises(ParameterError, match="参数“data”：找不到数据文件或文件夹"):
        explore("/没有/这个/路径")
    with pytest.raises(ParameterError, match="未找到指标“不存在的指标”"):
        explore(indicator="不存在的指标")


# --------------------------------------------------------------------------------------------- counties
class TwoCounties(Dataset):
    """A dataset as multi-county support will give it: ``counties`` and single-county views."""

    @property
    def counties(self) -> list[str]:
        return ["示范县", "邻县"]

    def for_county(self, name: str) -> Dataset:
        view = Dataset.copy(self)
        if name == "邻县":  # a smaller county: three towns, the last two years
            keep = view.values["town"].isin(["花海乡", "石门乡", "天堂镇"]) & (view.values["year"] >= 2024)
            view.values = view.values[keep].reset_index(drop=True)
        return view


def test_county_view_shim_works_with_and_without_multi_county_support(ds):
    assert county_view(ds) == ([ds.county], ds.county, ds)
    two = TwoCounties(**{f: getattr(ds, f) for f in ("values", "profile", "targets", "catalog")})
    counties, chosen, view = county_view(two, "邻县")
    assert counties == ["示范县", "邻县"] and chosen == "邻县" and view.towns == ["石门乡", "花海乡", "天堂镇"]


def test_changing_the_county_refills_the_towns_and_years_and_passes_county_to_the_report(ds, monkeypatch, tmp_path):
    two = TwoCounties(**{f: getattr(ds, f) for f in ("values", "profile", "targets", "catalog")})
    ex = Explorer(two, town="青石镇", year=2021, out=tmp_path)
    assert ex.county.options == ("示范县", "邻县")
    ex.county.value = "邻县"
    assert ex.town.options == ("石门乡", "花海乡", "天堂镇") and ex.town.value == "石门乡"
    assert [y for _, y in ex.year.options] == [2024, 2025] and ex.year.value == 2025
    assert "邻县2025年各乡镇指标（3个乡镇" in html_of(ex.outputs["table"])
    assert "中共石门乡委员会" in html_of(ex.outputs["narrative"])
    calls = []

    def fake_run(town, year, **kwargs):
        calls.append((town, year, kwargs))
        raise zd.ReportError("第3个单元格出错：示例")

    monkeypatch.setattr("zhidang_analysis.running.runner.run_town_report", fake_run)
    ex.write_button.click()
    assert calls[0][:2] == ("石门乡", 2025) and calls[0][2]["county"] == "邻县"
    assert calls[0][2]["formats"] == ("html", "docx") and calls[0][2]["out"] == tmp_path
    assert "生成报告失败：第3个单元格出错：示例" in status_text(ex) and not ex.write_button.disabled


def test_a_single_county_report_is_written_without_the_county_keyword(ex, monkeypatch):
    calls = []
    monkeypatch.setattr("zhidang_analysis.running.runner.run_town_report", lambda *a, **k: calls.append(k) or 1 / 0)
    ex.write_button.click()
    assert "county" not in calls[0]
    assert "生成报告失败：生成报告出错：ZeroDivisionError" in status_text(ex)


# --------------------------------------------------------------------------------------------- tables
def test_interactive_tables_are_itables_offline_without_any_remote_script_or_style(ex):
    init = itables_init_html()
    table = html_of(ex.outputs["table"]) + html_of(ex.outputs["ranking"])
    assert "injectModule" in init and len(init) > 500_000  # the DataTables code itself is in the page
    # sent only when a table in a browser asks for it (the hidden button its script presses), and taken out of the
    # widget once the browser says it has loaded it: nothing of it stays in the widget state
    assert html_of(ex._itables_init) == ""
    assert table.count("button.zd-itables-need") == 2 and "window._itables_" in table
    ex._tables_need.click()
    sent = html_of(ex._itables_init)
    assert sent.startswith(init) and "button.zd-itables-done" in sent
    ex._tables_done.click()
    assert html_of(ex._itables_init) == ""
    for page in (init, table):
        assert not REMOTE.search(page), REMOTE.search(page).group(0)
    # the embedded library (base64 in the init script) loads nothing remote either
    for blob in re.findall(r'inject(?:CSS|Module)\("([A-Za-z0-9+/=]{1000,})"\)', init):
        assert not REMOTE.search(base64.b64decode(blob).decode("utf-8")), "remote URL in the embedded library"
    assert "window._itables_" in table and "new ITable(" in table
    assert '"topStart": "search"' in table  # searchable even when the table fits on one page
    assert json.dumps("筛选：")[1:-1] in table and json.dumps("共 _TOTAL_ 行")[1:-1] in table  # DataTables speaks Chinese


def test_remote_pattern_catches_what_it_must():
    for bad in ('<script src="https://cdn.example/x.js"></script>', "<script type=module src=//x/y.js>",
                '<link rel="stylesheet" href="https://x/y.css">', "@import url('https://x/y.css');",
                "import { a } from 'https://www.unpkg.com/dt_for_itables/dt_bundle.js';"):
        assert REMOTE.search(bad), bad
    assert not REMOTE.search('<a href="https://itables.org/">帮助</a><img src="data:image/png;base64,AAAA">')


def test_itables_html_of_a_frame_escapes_its_cells():
    import pandas as pd

    html = itables_html(pd.DataFrame({"乡镇": ["<b>镇</b>"], "得分": [1.5]}), caption="表")
    assert "<b>镇</b>" not in html and not REMOTE.search(html)


# --------------------------------------------------------------------------------------------- static view
def test_static_view_has_plain_tables_png_charts_and_the_narrative(ex):
    view = ex.static()
    kinds = [next(iter(o["data"])) for o in view.outputs]
    assert kinds.count("image/png") == 3
    html = "".join(o["data"].get("text/html", "") for o in view.outputs)
    assert "<script" not in html and "示范县 · 青石镇 · 2025年" in html
    assert "示范县2025年各乡镇指标" in html and "中共青石镇委员会" in html and 'class="zd-plain"' in html
    assert view._repr_html_().count("data:image/png;base64,") == 3


# --------------------------------------------------------------------------------------------- the report button
@pytest.mark.slow
def test_write_button_writes_html_and_word_and_shows_relative_links(ds, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the notebook's folder, in JupyterLab
    ex = Explorer(ds, town="河湾镇", year=2025, out="reports")
    ex.write_button.click()
    html, docx = tmp_path / "reports" / "2025" / "河湾镇.html", tmp_path / "reports" / "2025" / "河湾镇.docx"
    assert html.is_file() and docx.is_file(), status_text(ex)
    assert "河湾镇2025年报告已生成" in status_text(ex) and not ex.write_button.disabled
    links = ex.links_html
    assert f'href="{quote("reports/2025/河湾镇.html")}"' in links and f'href="{quote("reports/2025/河湾镇.docx")}"' in links
    assert "HTML：河湾镇.html" in links and "Word：河湾镇.docx" in links
    # the Word file downloads (JupyterLab would open it as text); the HTML report opens in a new browser tab
    soup = BeautifulSoup(links, "html.parser")
    word, page = soup.find("a", class_="zd-file-docx"), soup.find("a", class_="zd-file-html")
    assert word["download"] == "河湾镇.docx" and not word.get("target")
    assert page["target"] == "_blank" and "download" not in page.attrs and "stopImmediatePropagation" in page["onclick"]
    assert ex.last_result.html.resolve() == html.resolve()
    ex.town.value = "青石镇"  # another town: the old links go
    assert ex.links_html == "" and ex.links.outputs == ()


# --------------------------------------------------------------------------------------------- notebook
def test_explorer_notebook_is_committed_clean_with_typed_parameters():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code[0].metadata.get("tags") == ["parameters"]
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    assert nb.metadata.kernelspec.name == "python3" and "widgets" not in nb.metadata
    found = pm.inspect_notebook(str(NOTEBOOK))
    assert {k: (p["inferred_type_name"], p["default"]) for k, p in found.items()} == {
        "data": ("str", '""'), "county": ("str", '""'), "town": ("str", '""'), "year": ("int", "0")}
    sources = "\n".join(c.source for c in code)
    assert "zd.explorer.explore(data or None, county=county, town=town, year=year)" in sources
    assert "ex.widget" in sources and "ex.static()" in sources


def test_explore_notebook_points_to_the_explorer_first():
    first = nbformat.read(NOTEBOOKS / "explore.ipynb", as_version=4).cells[0]
    assert first.cell_type == "markdown" and "(explorer.ipynb)" in first.source


def _run(tmp_path, parameters):
    out = tmp_path / "explorer.ipynb"
    try:
        pm.execute_notebook(str(NOTEBOOK), str(out), parameters=parameters, kernel_name="python3",
                            kernel_manager_class=ProjectKernelManager, progress_bar=False, cwd=str(tmp_path))
        return None, nbformat.read(out, as_version=4)
    except pm.PapermillExecutionError as e:
        return e, nbformat.read(out, as_version=4)


@pytest.mark.slow
def test_notebook_runs_under_papermill_without_a_frontend(tmp_path):
    error, nb = _run(tmp_path, {"town": "河湾镇", "year": 2024})
    assert error is None
    outputs = [o for c in nb.cells for o in c.get("outputs", [])]
    for o in outputs:
        assert o.output_type != "error"
        if o.output_type == "stream":
            assert o.name != "stderr", o.text
    views = [o for o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert len(views) == 1  # the widget is displayed (and its state saved), nothing waited for a frontend
    static = [o for o in nb.cells[-1].outputs]
    assert any("image/png" in o.data for o in static)
    text = json.dumps([o.get("data", {}).get("text/html", "") for o in static], ensure_ascii=False)
    assert "示范县 · 河湾镇 · 2024年" in text and "中共河湾镇委员会" in text
    assert f"{chinese_year(2024)}年度" in text
    state = json.dumps(nb.metadata["widgets"], ensure_ascii=False)
    assert "zd-trend" in state and "中共河湾镇委员会" in state  # the live views were saved with the widget
    # but not the DataTables code (about 1 MB): no browser asked for it
    assert "injectModule" not in state and "injectModule" not in json.dumps(nb.cells[-1].outputs)
    size = (tmp_path / "explorer.ipynb").stat().st_size
    assert size < 700_000, size


@pytest.mark.slow
def test_notebook_with_an_unknown_town_stops_with_a_chinese_message(tmp_path):
    error, nb = _run(tmp_path, {"town": "河湾"})
    assert error is not None and error.ename == "ParameterError"
    failed = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert failed[0].traceback == ["参数错误：未找到乡镇“河湾”，可选的有：河湾镇"]


def test_each_chart_offers_its_data_as_a_csv_download(ex, ds):
    import base64
    import io

    import pandas as pd

    from zhidang_analysis.report import chartdata

    def links(name):
        html = "".join(o["data"].get("text/html", "") for o in ex.outputs[name].outputs)
        return re.findall(r'download="([^"]+)" href="data:text/csv;base64,([^"]+)"', html)

    (file, data), = links("trend")
    assert file == "青石镇重点指标历年变化.csv"
    frame = pd.read_csv(io.BytesIO(base64.b64decode(data)), encoding="utf-8-sig")
    expected = chartdata.town_trend_data(ds.values, "青石镇", ds.catalog)
    assert list(frame.columns) == list(expected.columns) and len(frame) == len(expected)
    pd.testing.assert_frame_equal(frame, expected.reset_index(drop=True), check_dtype=False)
    # the comparison and the chosen indicator's chart: one download each
    assert [f for f, _ in links("compare")] == ["青石镇2025年重点指标与全县中位数比较.csv",
                                                f"青石镇{ds.catalog.name('theme_party_days')}历年变化.csv"]
