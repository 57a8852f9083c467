"""Real-browser tests: the pages as a person opens them, in the system's Chromium driven by Playwright.

Chromium is Debian's ``chromium`` package (``scripts/ensure-browser`` installs it with ``fonts-noto-cjk``);
Playwright's own browsers are never downloaded. The tests skip only when that Chromium cannot be found or
launched, and say why.

- a town report opened from ``file://``: no console error, nothing asked of any other machine, Chinese drawn
  with a Chinese font (not tofu), every number's tooltip naming its source cell;
- the batch index page: search, the problems filter and sorting by a header work; every link leads to a file; a
  town whose data have errors is a row of its own linked to its part of the check report; with several counties,
  a county filter and each county's overview;
- a phone 390 px wide: the town report, the overview, the index and the check report never scroll sideways; the
  report reads at 16 characters a line or more, its 落款 lines stay whole; the overview's tables scroll in their own
  box; a chart opens larger on a tap and closes again; the check report and the overview list the same 请核实;
- printing a report through the browser: A4 pages, numbered as the print CSS says;
- ``notebooks/explorer.ipynb`` in JupyterLab (in Chinese, as ``make lab`` sets it): choosing another town redraws
  its trend chart and narrative, the tables load, and the report it writes opens: the Word file downloads, the
  HTML report opens in a new tab.

Every page records the URLs it asks for and aborts any that is not ``file:`` or ``data:``. When a test fails,
a screenshot of its page is saved as ``failure.png`` in the test's ``tmp_path``. With the environment variable
``ZHIDANG_BROWSER_SHOTS`` set to a folder, the tests also leave screenshots of the pages there, to look at — each
deliverable at 1280 and at 390 px (``docs/img/`` holds them: ``ZHIDANG_BROWSER_SHOTS=docs/img``).
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from pypdf import PdfReader

from zhidang_analysis.running import batch

from .conftest import REPO, chromium

pytestmark = pytest.mark.slow

YEAR = 2025
TOWNS = ["青石镇", "河湾镇", "柳林镇"]
BAD_TOWN = "城关镇"  # a cell that is no number: left out of the reports, listed in the index and the check report
ODD_TOWN = "马营镇"  # a value ten times last year's: valid, to confirm (请核实)
PHONE, DESKTOP = 390, 1280
EXPLORER = REPO / "notebooks" / "explorer.ipynb"
LOCAL = ("file:", "data:")
A4_PT = (595.28, 841.89)
MM = 96 / 25.4  # CSS px per mm
# the source of a number in its tooltip: 来源：文件!工作表!单元格 (a value of the county as a whole, such as the
# congress's ordinal worked out from the profile, names the file and sheet only)
SOURCE = re.compile(r"来源：(?P<file>[^!\s]+\.(?:xlsx|xlsm|xls|ods|csv))!(?P<sheet>[^!]+?)(?:!(?P<cell>\$?[A-Z]{1,3}\$?\d+))?$")


# ------------------------------------------------------------------------------------------------ the browser
@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError as e:
        pytest.fail(f"playwright is not installed ({e}): pip install -e '.[test]'")
    exe = chromium()
    if exe is None:
        pytest.skip("no Chromium (/usr/bin/chromium or chromium on PATH): run scripts/ensure-browser, or "
                    "apt-get install chromium fonts-noto-cjk")
    pw = sync_playwright().start()
    try:
        try:
            b = pw.chromium.launch(executable_path=exe, timeout=60_000)
        except Error as e:
            pytest.skip(f"Chromium ({exe}) cannot be launched: {e}")
        yield b
        b.close()
    finally:
        pw.stop()


class Tab:
    """A page that records its console errors, uncaught exceptions and every URL it asks for; a request to
    anything but ``allowed`` (by default ``file:`` and ``data:``) is recorded and aborted."""

    def __init__(self, page, allowed: tuple[str, ...] = LOCAL):
        self.page, self.allowed = page, allowed
        self.errors: list[str] = []
        self.requests: list[str] = []
        page.on("console", lambda m: self.errors.append(f"console: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        page.on("request", lambda r: self.requests.append(r.url))
        page.route("**/*", self._route)

    def _route(self, route) -> None:
        url = route.request.url
        if url not in self.requests:
            self.requests.append(url)
        if url.startswith(self.allowed):
            route.continue_()
        else:
            route.abort()

    @property
    def remote(self) -> list[str]:
        return [u for u in self.requests if not u.startswith(self.allowed)]

    def shot(self, name: str, **kw) -> None:
        """A screenshot for people to look at, when ``ZHIDANG_BROWSER_SHOTS`` names a folder (in 256 colours: text and
        charts look the same at half the size, which keeps ``docs/img`` small)."""
        folder = os.environ.get("ZHIDANG_BROWSER_SHOTS")
        if folder:
            from PIL import Image

            path = Path(folder) / f"{name}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(path), **kw)
            with Image.open(path) as im:
                picture = im.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT,
                                                     dither=Image.Dither.NONE)
            picture.save(path, optimize=True)


@contextmanager
def _tab(browser, request, tmp_path: Path, allowed: tuple[str, ...] = LOCAL):
    """A fresh page in its own context; when the test fails, its screenshot is saved as ``tmp_path /
    "failure.png"``. (A test's call report is logged before its fixtures are torn down, so a failed test has
    raised the session's count of failures by then.)"""
    context = browser.new_context(locale="zh-CN", viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    failed_before = request.session.testsfailed
    try:
        yield Tab(page, allowed)
    finally:
        if request.session.testsfailed > failed_before:
            path = tmp_path / "failure.png"
            try:
                page.screenshot(path=str(path), full_page=True)
                print(f"screenshot of the failed page: {path}")
            except Exception as e:  # noqa: BLE001 - the page may be gone; the test's own failure is what matters
                print(f"no screenshot of the failed page: {e}")
        context.close()


@pytest.fixture
def tab(browser, request, tmp_path):
    """A page that may load only ``file:`` and ``data:`` URLs (see :class:`Tab`)."""
    with _tab(browser, request, tmp_path) as t:
        yield t


# ------------------------------------------------------------------------------------------------ the pages
def _sample_with_a_bad_cell_and_an_odd_value(folder: Path) -> tuple[Path, str]:
    """A copy of the sample where 城关镇's 主题党日活动 of 2025 is text (an error) and 马营镇's is ten times its value
    (a value to confirm); returns the folder and the bad cell."""
    from openpyxl import load_workbook

    import zhidang_analysis as zd

    folder.mkdir(parents=True, exist_ok=True)
    for f in zd.SAMPLE_DATA.glob("*.xlsx"):
        shutil.copy(f, folder / f.name)
    wb = load_workbook(folder / "示范县指标数据.xlsx")
    ws = wb[f"{YEAR}年"]
    header = next(r for r in ws.iter_rows() if r[0].value == "乡镇")
    col = next(c.column - 1 for c in header if c.value == "主题党日活动（次）")
    bad_cell = ""
    for row in ws.iter_rows():
        if row[0].value == BAD_TOWN:
            row[col].value, bad_cell = "很多", row[col].coordinate
        elif row[0].value == ODD_TOWN:
            row[col].value = int(row[col].value) * 10
    wb.save(folder / "示范县指标数据.xlsx")
    return folder, bad_cell


@pytest.fixture(scope="session")
def reports(tmp_path_factory) -> Path:
    """One batch of 2025 reports (three towns, the county overview, a town whose data have an error) on the sample
    with a bad cell and an odd value, and its index page and check report."""
    out = tmp_path_factory.mktemp("browser-reports")
    data, _ = _sample_with_a_bad_cell_and_an_odd_value(out / "data")
    result = batch.run_batch([YEAR], data=data, out=out, towns=[*TOWNS, BAD_TOWN], formats=("html",), jobs=2)
    assert [j.town for j in result.failed] == [BAD_TOWN], result.summary()
    assert all(j.status == "done" for j in result.jobs if j.town != BAD_TOWN)
    return out / str(YEAR)


def _page_at(page, path: Path, width: int, height: int = 900) -> None:
    page.set_viewport_size({"width": width, "height": height})
    page.goto(path.as_uri())
    page.wait_for_load_state("load")


def _sideways(page) -> int:
    """How far the page scrolls sideways (0: not at all)."""
    return page.evaluate("Math.max(document.documentElement.scrollWidth, document.body.scrollWidth) - window.innerWidth")


# the lines a paragraph is laid out in: the tops of its characters' boxes, one per line
_LINES = """(el) => {
  const range = document.createRange();
  range.selectNodeContents(el);
  const tops = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
  return tops.size;
}"""


def _cjk_families() -> set[str] | None:
    """Font families that fontconfig says cover Chinese (None when fc-list is not there to ask)."""
    fc = shutil.which("fc-list")
    if fc is None:
        return None
    out = subprocess.run([fc, ":lang=zh", "family"], capture_output=True, text=True, timeout=60).stdout
    return {name.strip() for line in out.splitlines() for name in line.split(",") if name.strip()}


# Drawn on a canvas in the page's own font: a missing glyph is drawn as the font's .notdef box ("tofu"), the
# same picture whatever the character. So 党 must have ink and differ from a character no font has (U+FFFF,
# a noncharacter) and from another Chinese character (建).
_GLYPH_PICTURES = """(sel) => {
  const font = getComputedStyle(document.querySelector(sel)).font;
  const picture = (ch) => {
    const c = document.createElement("canvas");
    c.width = c.height = 64;
    const g = c.getContext("2d");
    g.font = font.replace(/\\d+(\\.\\d+)?px/, "40px");
    g.fillStyle = "#000";
    g.textBaseline = "top";
    g.fillText(ch, 4, 4);
    const d = g.getImageData(0, 0, 64, 64).data;
    let ink = 0, bits = "";
    for (let i = 3; i < d.length; i += 4) { bits += d[i] > 127 ? "1" : "0"; ink += d[i] > 127; }
    return {ink, bits};
  };
  const [dang, jian, tofu] = ["党", "建", "\\uFFFF"].map(picture);
  return {font, ink: dang.ink, differs_from_tofu: dang.bits !== tofu.bits, differs_from_jian: dang.bits !== jian.bits};
}"""


def _platform_fonts(browser, url: str, selectors: tuple[str, ...]) -> dict[str, list[dict]]:
    """The fonts Chromium really drew each selector's text with (DevTools CSS.getPlatformFontsForNode).

    Asked in a context of its own, on a second copy of the page: attaching DevTools makes Chromium log
    messages of its own into the page's console (since Chromium 150, "Unsafe attempt to load URL file:…" on
    DOM.enable), which must not be taken for the page's errors. The page under test never has DevTools
    attached."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 1200, "height": 900})
    try:
        page = context.new_page()
        page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(LOCAL) else route.abort())
        page.goto(url)
        page.wait_for_load_state("load")
        cdp = context.new_cdp_session(page)
        cdp.send("DOM.enable")
        cdp.send("CSS.enable")
        root = cdp.send("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
        fonts = {}
        for selector in selectors:
            node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
            assert node, selector
            fonts[selector] = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
        cdp.detach()
        return fonts
    finally:
        context.close()


def _visible_towns(page) -> list[str]:
    return page.eval_on_selector_all("#towns tbody tr[data-town]:not([hidden])",
                                     "rows => rows.map(r => r.dataset.town)")


def _column_values(page, cls: str) -> list[float | None]:
    values = page.eval_on_selector_all(f"#towns tbody tr[data-town]:not([hidden]) td.{cls}",
                                       "cells => cells.map(c => c.dataset.value)")
    return [float(v) if v not in (None, "") else None for v in values]


# ------------------------------------------------------------------------------------------------ the tests
def test_town_report_offline_with_chinese_fonts_and_sourced_tooltips(browser, tab, reports):
    page = tab.page
    page.goto((reports / f"{TOWNS[0]}.html").as_uri())
    page.wait_for_load_state("load")
    assert TOWNS[0] in page.locator("h1.title").inner_text()

    # every chart is an inline picture that has loaded
    images = page.eval_on_selector_all("img", "imgs => imgs.map(i => [i.src.slice(0, 22), i.naturalWidth])")
    assert images and all(src == "data:image/png;base64," and width > 0 for src, width in images), images

    # Chinese drawn with a font that has the glyphs: the fonts Chromium used are Chinese fonts per fontconfig,
    # and a character drawn in the page's font differs from the tofu box
    cjk = _cjk_families()
    selectors = ("h1.title", "main.report p", "main.report h2")
    drawn_with = _platform_fonts(browser, page.url, selectors)
    for selector in selectors:
        fonts = drawn_with[selector]
        assert fonts and sum(f["glyphCount"] for f in fonts) > 0, (selector, fonts)
        if cjk is not None:
            assert all(f["familyName"] in cjk for f in fonts), (selector, fonts, sorted(cjk))
        pictures = page.evaluate(_GLYPH_PICTURES, selector)
        assert pictures["ink"] > 20 and pictures["differs_from_tofu"] and pictures["differs_from_jian"], \
            (selector, pictures)

    # every number carries its source; hovering one finds its tooltip on the element under the mouse
    nums = page.locator("span.num[title]")
    assert nums.count() >= 10
    titles = nums.evaluate_all("spans => spans.map(s => [s.title, s.dataset.source || ''])")
    for title, source in titles:
        m = SOURCE.search(title)
        assert m and source and title.endswith(source), (title, source)
        if re.match(r"\d{4}", m["sheet"]):  # a number from a year's sheet: its own cell
            assert m["cell"], title
    assert sum(bool(SOURCE.search(t)["cell"]) for t, _ in titles) >= 0.9 * len(titles)
    i = next(i for i, (t, _) in enumerate(titles) if SOURCE.search(t)["cell"])
    nums.nth(i).hover()
    hovered = page.evaluate("() => { const h = document.querySelectorAll(':hover'); return h[h.length - 1].title; }")
    assert hovered == titles[i][0]

    assert tab.errors == []
    assert tab.remote == [] and tab.requests, tab.requests


def test_the_error_check_catches_what_a_broken_page_does(tab, reports, tmp_path):
    """The "no console error" check of these tests can fail: a copy of a report with a console.error, a script
    that throws and a script file that is not there gives exactly those three errors."""
    html = (reports / f"{TOWNS[0]}.html").read_text(encoding="utf-8")
    broken = ('<script>console.error("注入的控制台错误");</script>'
              '<script>window.zdNoSuchFunction();</script>'
              '<script src="no-such-script.js"></script>')
    assert html.count("</body>") == 1
    page_file = tmp_path / f"{TOWNS[0]}-broken.html"
    page_file.write_text(html.replace("</body>", broken + "</body>"), encoding="utf-8")
    tab.page.goto(page_file.as_uri())
    tab.page.wait_for_load_state("load")
    assert TOWNS[0] in tab.page.locator("h1.title").inner_text()
    errors = tab.errors
    assert len(errors) == 3, errors
    assert any(e.startswith("console: ") and "注入的控制台错误" in e for e in errors), errors
    assert any(e.startswith("pageerror: ") and "zdNoSuchFunction" in e for e in errors), errors
    assert any(e.startswith("console: ") and "ERR_FILE_NOT_FOUND" in e for e in errors), errors
    assert tab.remote == []


def test_index_page_search_filter_sort_and_links(tab, reports):
    page = tab.page
    index = reports / "index.html"
    page.goto(index.as_uri())
    page.wait_for_load_state("load")
    all_towns = _visible_towns(page)
    total = len(all_towns)
    assert total >= len(TOWNS) and set(TOWNS) <= set(all_towns)
    count = page.locator("#count")
    assert count.inner_text() == f"显示 {total} / {total} 个乡镇"
    assert not page.locator("#county").is_visible()  # one county: no county filter

    # sort by score: ascending, then descending (missing scores last either way); aria-sort follows
    score_head = page.locator("#towns th", has_text="综合得分")
    score_head.locator("button").click()
    assert score_head.get_attribute("aria-sort") == "ascending"
    scores = _column_values(page, "score")
    known = [s for s in scores if s is not None]
    assert known == sorted(known) and scores[:len(known)] == known and len(set(known)) > 1
    score_head.locator("button").click()
    assert score_head.get_attribute("aria-sort") == "descending"
    scores = _column_values(page, "score")
    assert [s for s in scores if s is not None] == sorted(known, reverse=True)
    assert page.locator("#towns th[aria-sort]").count() == 1

    # sort by name: the browser's Chinese collation; then by flags; then by rank back to 1, 2, 3 …
    town_head = page.locator("#towns th", has_text="乡镇")
    town_head.locator("button").click()
    names = _visible_towns(page)
    assert names == page.evaluate("(n) => [...n].sort((a, b) => a.localeCompare(b, 'zh-CN'))", names)
    assert town_head.get_attribute("aria-sort") == "ascending" and score_head.get_attribute("aria-sort") is None
    page.locator("#towns th", has_text="存在问题").locator("button").click()
    flags = _column_values(page, "flags")
    known = [f for f in flags if f is not None]  # a town whose data have errors has no count: last
    assert flags == sorted(known) + [None] * (len(flags) - len(known)) and len(known) < len(flags)
    page.locator("#towns th", has_text="排名").locator("button").click()
    ranks = _column_values(page, "rank")
    assert [r for r in ranks if r is not None] == sorted(r for r in ranks if r is not None)

    # search: a substring of the name
    page.fill("#q", "青石")
    assert _visible_towns(page) == ["青石镇"]
    assert count.inner_text() == f"显示 1 / {total} 个乡镇"
    page.fill("#q", "镇")
    assert sorted(_visible_towns(page)) == sorted(t for t in all_towns if "镇" in t)
    page.fill("#q", "不存在的乡镇")
    assert _visible_towns(page) == [] and page.locator("#empty").is_visible()
    assert count.inner_text() == f"显示 0 / {total} 个乡镇"
    page.fill("#q", "")
    assert len(_visible_towns(page)) == total

    # only the towns with problems: flags above 0 or a failed report
    rows = page.eval_on_selector_all("#towns tbody tr[data-town]", "rows => rows.map(r => "
                                     "[r.dataset.town, +r.querySelector('td.flags').dataset.value, "
                                     "r.classList.contains('failed')])")
    with_problems = sorted(t for t, n, failed in rows if n > 0 or failed)
    page.check("#problems")
    assert sorted(_visible_towns(page)) == with_problems
    assert count.inner_text() == f"显示 {len(with_problems)} / {total} 个乡镇"
    page.fill("#q", "青石")
    assert _visible_towns(page) == [t for t in ["青石镇"] if t in with_problems]
    page.click("#reset")
    assert len(_visible_towns(page)) == total and not page.is_checked("#problems")

    # every link leads to a file beside the index: each town's report and the county overview
    hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.getAttribute('href'))")
    targets = {unquote(urlsplit(h).path) for h in hrefs}
    assert {f"{t}.html" for t in TOWNS} | {"overview.html"} <= targets
    for target in targets:
        assert (reports / target).is_file(), target
    with page.expect_navigation():
        page.locator(f'tr[data-town="{TOWNS[1]}"] a', has_text="HTML").click()
    assert unquote(page.url).endswith(f"/{TOWNS[1]}.html") and TOWNS[1] in page.title()

    # a narrow screen: no sideways scrolling; printed: the controls are left out
    page.go_back()
    page.set_viewport_size({"width": 390, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.emulate_media(media="print")
    assert not page.locator(".controls").is_visible()

    assert tab.errors == []
    assert tab.remote == [], tab.remote


def test_index_page_filters_by_county_with_several_counties(tab, tmp_path):
    """The same page over several counties (rendered from a hand-made context): a county filter, a county
    column, each county's overview linked above the table."""
    rows = []
    for county, towns in {"甲县": ["一镇", "二乡", "三镇"], "乙县": ["四镇", "五乡"]}.items():
        for rank, town in enumerate(towns, start=1):
            failed = town == "五乡"
            rows.append({"county": county, "town": town, "score": math.nan if failed else 90.0 - 10 * rank,
                         "rank": None if failed else rank, "changes": "", "flags": rank - 1,
                         "problems": rank > 1 or failed, "href": "" if failed else f"{county}/{town}.html",
                         "links": [] if failed else [("HTML", f"{county}/{town}.html")],
                         "status": "failed" if failed else "done", "error": "故意出错" if failed else "",
                         "county_links": [("HTML", f"{county}/overview.html")]})
    counties = [{"name": c, "links": [("HTML", f"{c}/overview.html")]} for c in ("甲县", "乙县")]
    html = batch._env().get_template("index.html.j2").render(
        year=YEAR, title="示范市", county="甲县", rows=rows, counties=counties, several=True,
        overview="overview.html", overview_links=[("HTML", "overview.html")], checks="checks.html",
        version="test", updated="")
    page_file = tmp_path / "index.html"
    page_file.write_text(html, encoding="utf-8")
    page = tab.page
    page.goto(page_file.as_uri())
    assert page.locator("h1").inner_text().startswith(f"示范市{YEAR}年度")
    assert page.locator("#towns thead th").all_inner_texts()[-1].startswith("所属县")
    hrefs = page.locator("#county-overviews a").evaluate_all("a => a.map(x => x.getAttribute('href'))")
    assert hrefs == ["甲县/overview.html", "乙县/overview.html"]
    select = page.locator("#county")
    assert select.is_visible()
    select.select_option("乙县")
    assert _visible_towns(page) == ["四镇", "五乡"]
    assert page.locator("#count").inner_text() == "显示 2 / 5 个乡镇"
    page.check("#problems")  # 五乡 failed, 四镇 has no flags
    assert _visible_towns(page) == ["五乡"]
    select.select_option("")
    assert sorted(_visible_towns(page)) == sorted(["二乡", "三镇", "五乡"])
    page.uncheck("#problems")
    # sort by rank within the whole page: the failed town without a rank comes last both ways
    rank_head = page.locator("#towns th", has_text="排名").locator("button")
    rank_head.click()
    assert _visible_towns(page)[-1] == "五乡" and _column_values(page, "rank")[:4] == [1, 1, 2, 3]
    rank_head.click()
    assert _visible_towns(page)[-1] == "五乡" and _column_values(page, "rank")[:4] == [3, 2, 1, 1]
    page.locator("#towns th", has_text="所属县").locator("button").click()
    counties_shown = page.eval_on_selector_all("#towns tbody tr[data-town]", "rs => rs.map(r => r.dataset.county)")
    assert counties_shown == page.evaluate("(c) => [...c].sort((a, b) => a.localeCompare(b, 'zh-CN'))",
                                           counties_shown)
    assert page.locator('tr[data-town="五乡"] a').count() == 0
    assert tab.errors == [] and tab.remote == []


# ------------------------------------------------------------------------------------------------ phones
def test_town_report_on_a_phone_reads_as_a_column_with_whole_signoff_lines(tab, reports):
    page = tab.page
    _page_at(page, reports / f"{TOWNS[0]}.html", DESKTOP)
    tab.shot("town-report-1280", full_page=True)
    _page_at(page, reports / f"{TOWNS[0]}.html", PHONE, 844)
    assert _sideways(page) == 0
    # a body paragraph holds 16 characters a line or more (it held 11): its width over its font size
    width, size = page.eval_on_selector("main.report > p, main.report p:not(.signoff)",
                                        "p => [p.clientWidth, parseFloat(getComputedStyle(p).fontSize)]")
    assert width / size >= 16, (width, size)
    # the 落款: the committee's name and the date, each on one line (not 中共青石镇委员 / 会, 12月31 / 日)
    signoff = page.locator("p.signoff")
    assert signoff.count() == 2
    assert signoff.first.inner_text().startswith(f"中共{TOWNS[0]}委员会") and "年" in signoff.last.inner_text()
    for i in range(2):
        assert signoff.nth(i).evaluate(_LINES) == 1, signoff.nth(i).inner_text()
        box = signoff.nth(i).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE
    # the charts fit the screen; a tap shows one larger, over the page, and 关闭大图 puts it back
    figures = page.locator("figure")
    assert figures.count() == 3
    for i in range(3):
        assert figures.nth(i).locator("img").bounding_box()["width"] <= PHONE
    small = figures.nth(1).locator("img").bounding_box()["width"]
    figures.nth(1).locator("a.zoom").click()
    assert page.evaluate("document.querySelectorAll('figure:target').length") == 1
    large = figures.nth(1).locator("img").bounding_box()["width"]
    assert large >= 1.8 * small and _sideways(page) == 0  # the large chart scrolls in its own layer
    tab.shot("town-report-390-chart")
    close = figures.nth(1).locator(".zoom-close")
    assert close.is_visible() and close.inner_text().startswith("关闭大图")
    close.click()
    assert page.evaluate("document.querySelectorAll('figure:target').length") == 0 and not close.is_visible()
    page.evaluate("window.scrollTo(0, 0)")
    tab.shot("town-report-390", full_page=True)
    assert tab.errors == [] and tab.remote == []


def test_overview_on_a_phone_scrolls_its_tables_in_their_own_box(tab, reports):
    page = tab.page
    _page_at(page, reports / "overview.html", DESKTOP)
    # the column labels break between words only: 综合/得分, not 综合得/分
    head = page.locator("table.zd-table th", has_text="综合").first
    assert [w.inner_text() for w in head.locator(".nw").all()] == ["综合", "得分"]
    tops = head.locator(".nw").evaluate_all("ws => ws.map(w => w.getClientRects().length)")
    assert tops == [1, 1]  # each word whole on its line
    tab.shot("overview-1280", full_page=True)
    _page_at(page, reports / "overview.html", PHONE, 844)
    assert _sideways(page) == 0
    wraps = page.locator(".zd-table-wrap")
    assert wraps.count() >= 3
    ranking = wraps.first
    dims = ranking.evaluate("w => [w.scrollWidth, w.clientWidth, getComputedStyle(w).overflowX]")
    assert dims[0] > dims[1] and dims[2] == "auto", dims  # table 1 is wider than the phone: it scrolls by itself
    ranking.evaluate("w => { w.scrollLeft = w.scrollWidth; }")
    assert ranking.evaluate("w => w.scrollLeft") > 0 and _sideways(page) == 0
    caption = ranking.locator("caption").bounding_box()
    assert caption["x"] >= 0 and caption["x"] + caption["width"] <= PHONE  # the caption stays on the screen
    ranking.evaluate("w => { w.scrollLeft = 0; }")
    for img in page.locator("figure img").all():
        assert img.bounding_box()["width"] <= PHONE
    tab.shot("overview-390", full_page=True)
    assert tab.errors == [] and tab.remote == []


def test_index_and_check_report_on_a_phone_and_the_town_in_error(tab, reports):
    page = tab.page
    index = reports / "index.html"
    _page_at(page, index, DESKTOP)
    tab.shot("index-1280", full_page=True)
    # the town whose data have an error is a row of the table, with its error and a link to its check report
    row = page.locator(f'tr[data-town="{BAD_TOWN}"]')
    assert row.count() == 1 and "failed" in row.get_attribute("class")
    assert "数据有误" in row.inner_text() and "主题党日活动" in row.inner_text()
    link = row.locator("a.checks-link")
    assert unquote(link.get_attribute("href")) == f"checks.html#town-{BAD_TOWN}"
    footer = page.locator("p.note").last.inner_text()
    assert "zhidang_analysis" not in footer and "/" not in footer.split("更新时间：")[0]  # no path of this machine
    assert re.search(r"更新时间：\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}", footer), footer
    with page.expect_navigation():
        link.click()
    assert page.evaluate("location.hash") and page.locator(":target").inner_text() == BAD_TOWN
    target = page.locator(":target")
    assert 0 <= target.bounding_box()["y"] < 900 - 40  # the town's part is on the screen
    assert page.locator(f"h2:text-is('{BAD_TOWN}') + table td.label.error").count() >= 1
    checks = page.url.split("#")[0]
    for path, name in ((index, "index"), (reports / "checks.html", "checks")):
        _page_at(page, path, PHONE, 844)
        assert _sideways(page) == 0, name
        tab.shot(f"{name}-390", full_page=True)
    # the check report lists the same 请核实 as the overview
    page.set_viewport_size({"width": DESKTOP, "height": 900})
    page.goto(checks)
    tab.shot("checks-1280", full_page=True)
    to_confirm = page.locator("table.findings td.label.check").count()
    assert to_confirm >= 1
    page.goto((reports / "overview.html").as_uri())
    listed = page.locator(".zd-table-wrap", has=page.locator("caption", has_text="需要核实的数据")).locator("tbody tr")
    assert listed.count() == to_confirm
    assert ODD_TOWN in listed.first.inner_text()
    assert tab.errors == [] and tab.remote == []


def test_report_prints_to_numbered_a4_pages(tab, reports, tmp_path):
    page = tab.page
    page.goto((reports / f"{TOWNS[0]}.html").as_uri())
    page.wait_for_load_state("load")
    # how many pages the print CSS makes: the report laid out for print at the text width of the page
    # (A4 less the 28 mm and 26 mm side margins) over the text height (297 - 37 - 35 mm) ...
    page.emulate_media(media="print")
    page.set_viewport_size({"width": round(156 * MM), "height": 900})
    height = page.evaluate("document.querySelector('main.report').getBoundingClientRect().height")
    figures = page.locator("figure").count()
    estimate = height / (225 * MM)
    pdf = tmp_path / "report.pdf"
    page.pdf(path=str(pdf), prefer_css_page_size=True, print_background=True)

    pages = PdfReader(pdf).pages
    # ... give or take a page pushed on by each figure kept whole and the last line
    assert max(2, math.ceil(estimate) - 1) <= len(pages) <= math.ceil(estimate) + figures + 1, (len(pages), estimate)
    for number, p in enumerate(pages, start=1):
        size = (float(p.mediabox.width), float(p.mediabox.height))
        assert abs(size[0] - A4_PT[0]) <= 2 and abs(size[1] - A4_PT[1]) <= 2, (number, size)
        # the page number of the print CSS, "— 1 —", at the foot of every page
        assert f"— {number} —" in p.extract_text(), number
    assert tab.errors == []
    assert tab.remote == []


# ------------------------------------------------------------------------------------------------ JupyterLab
LAB_SECONDS = 150  # kernel start, data loading and the first chart, on a 2-core CI machine


@pytest.fixture
def lab_server(tmp_path):
    """JupyterLab on a free loopback port with a random token, its own HOME and settings (as tests/test_lab.py
    starts it), serving a copy of explorer.ipynb so that nothing is saved into the repository."""
    from .test_lab import running_lab

    root = tmp_path / "notebooks"
    root.mkdir()
    shutil.copy(EXPLORER, root / EXPLORER.name)
    settings = tmp_path / "lab-settings"
    for plugin, values in {"docmanager-extension/plugin": {"autosave": False},
                           "notebook-extension/tracker": {"autoStartDefaultKernel": True},
                           "apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False}}.items():
        path = settings / "@jupyterlab" / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values), encoding="utf-8")
    app_settings = tmp_path / "app-settings" / "overrides.d"  # what `make lab` writes into the venv (LAB_SETTINGS)
    app_settings.mkdir(parents=True)
    shutil.copy(REPO / "scripts" / "lab-overrides.json", app_settings / "zhidang-analysis.json")
    with running_lab(root, tmp_path, settings, app_settings=app_settings.parent) as server:
        yield server


@pytest.fixture
def explorer():
    if not EXPLORER.is_file():
        pytest.skip("explorer.ipynb not yet present")
    return EXPLORER


@pytest.fixture
def lab_tab(explorer, browser, lab_server, request, tmp_path):
    """A page of the JupyterLab server: it may load from the server (and blob:/data:), nothing else."""
    base, token, log_path = lab_server
    failed_before = request.session.testsfailed
    with _tab(browser, request, tmp_path, allowed=(*LOCAL, "blob:", f"{base}/")) as t:
        t.base, t.token = base, token
        yield t
    if request.session.testsfailed > failed_before:
        print(f"JupyterLab's log: {log_path}")


# the notebook's kernel has started and is connected: it has a name and is idle
_KERNEL_READY = """() => {
  const panel = document.querySelector(".jp-NotebookPanel");
  const name = panel && panel.querySelector(".jp-Toolbar-kernelName");
  const state = panel && panel.querySelector(".jp-Notebook-ExecutionIndicator");
  return !!(name && state && !/No Kernel|无内核/.test(name.textContent) && state.dataset.status === "idle");
}"""


def _until(page, condition: str, what: str, seconds: float = LAB_SECONDS) -> None:
    """Wait until ``condition`` (a CSS selector, or a JavaScript function) holds in the page, answering any
    dialog of JupyterLab (such as its kernel chooser) with its default button, as a person would."""
    test = condition if condition.startswith("()") else f"() => !!document.querySelector({json.dumps(condition)})"
    deadline = time.monotonic() + seconds
    while not page.evaluate(test):
        dialog = page.locator(".jp-Dialog button.jp-mod-accept")
        if dialog.count():
            dialog.first.click()
        assert time.monotonic() < deadline, f"JupyterLab: waited {seconds} s for {what}"
        page.wait_for_timeout(250)


def test_explorer_notebook_redraws_for_another_town_and_its_report_downloads(lab_tab, tmp_path):
    tab, page = lab_tab, lab_tab.page
    page.set_viewport_size({"width": DESKTOP, "height": 900})
    page.goto(f"{tab.base}/lab/tree/{EXPLORER.name}?token={tab.token}")
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=LAB_SECONDS * 1000)
    # the kernel started and connected; then 运行 → 运行所有单元格 (JupyterLab in Chinese, as `make lab` sets it)
    _until(page, _KERNEL_READY, "the notebook's kernel")
    run_menu = page.locator(".lm-MenuBar-itemLabel").filter(has_text=re.compile(r"^运行$"))
    assert run_menu.count() == 1, page.locator(".lm-MenuBar-itemLabel").all_inner_texts()
    run_menu.click()
    page.get_by_role("menuitem", name="运行所有单元格", exact=True).click()
    _until(page, ".zd-trend img", "the trend chart (.zd-trend img)")
    trend = page.locator(".zd-trend img").first
    before = trend.get_attribute("src")
    _until(page, "() => (document.querySelector('.zd-narrative')?.textContent || '').trim().length > 0",
           "the narrative (.zd-narrative)")
    # JupyterLab renders cells out of view lazily (their innerText is empty until scrolled to): look at it
    page.locator(".zd-narrative").first.scroll_into_view_if_needed()
    _until(page, "() => (document.querySelector('.zd-narrative')?.innerText || '').trim().length > 0",
           "the narrative shown on screen (.zd-narrative)", seconds=30)
    shown = page.locator(".zd-narrative").first.inner_text()
    assert before and shown

    # choose another town in the town widget (a dropdown, or a combobox with a list of names): one that the
    # narrative shown now does not name
    select = page.locator("select.zd-town, .zd-town select").first
    if select.count():
        options = select.locator("option").evaluate_all("os => os.map(o => [o.value, o.textContent, o.selected])")
        value, label, _ = next(o for o in options if not o[2] and o[1].strip() not in shown)
        select.select_option(value=value)
        new_town = label.strip()
        assert select.input_value() == value
    else:
        box = page.locator("input.zd-town, .zd-town input").first
        names = box.evaluate("i => i.list ? [...i.list.options].map(o => o.value) : []")
        new_town = next(n for n in names if n != box.input_value() and n not in shown)
        box.fill(new_town)
        box.press("Enter")
    page.wait_for_function("([sel, src]) => { const i = document.querySelector(sel); return i && i.src !== src; }",
                           arg=[".zd-trend img", before], timeout=LAB_SECONDS * 1000)
    page.wait_for_function("([sel, name]) => (document.querySelector(sel)?.textContent || '').includes(name)",
                           arg=[".zd-narrative", new_town], timeout=60_000)
    after = page.locator(".zd-trend img").first.get_attribute("src")
    assert after and after != before
    page.locator(".zd-narrative").first.scroll_into_view_if_needed()
    assert new_town in page.locator(".zd-narrative").first.inner_text()

    # the sortable tables: the page asked the kernel for the DataTables code and the tables became DataTables
    _until(page, ".zd-ranking table.dataTable", "the ranking as a DataTable")
    # the indicator list holds the year's indicators only (2025: no epidemic indicator of 2020–2022)
    indicators = page.locator(".zd-indicator select option").evaluate_all("os => os.map(o => o.textContent)")
    assert indicators and not [o for o in indicators if "核酸" in o or "疫情" in o or "消杀" in o], indicators

    # 生成报告: the Word file downloads (not JupyterLab's "File Load Error … not UTF-8"), the HTML opens in a new tab
    page.locator("button.zd-write").click()
    _until(page, ".zd-links a.zd-file-docx", "the links to the written report", seconds=LAB_SECONDS + 120)
    word = page.locator(".zd-links a.zd-file-docx")
    assert word.evaluate("a => getComputedStyle(a).textDecorationLine") == "underline"  # it looks like a link
    with page.expect_download(timeout=60_000) as download:
        word.click()
    saved = tmp_path / "download.docx"
    download.value.save_as(saved)
    assert download.value.suggested_filename == f"{new_town}.docx"
    assert saved.read_bytes()[:2] == b"PK"  # a Word file (a zip), not an error page
    assert page.locator(".jp-Dialog", has_text="File Load Error").count() == 0
    with page.context.expect_page(timeout=60_000) as popup:
        page.locator(".zd-links a.zd-file-html").click()
    report = popup.value
    report.wait_for_load_state("load")
    assert unquote(report.url).split("?")[0].endswith(f"/{new_town}.html") and new_town in report.title()
    report.close()

    page.locator(".zd-explorer").first.evaluate("e => e.scrollIntoView()")
    tab.shot("explorer-1280")
    # a phone: the side panel folded away, the views one under the other
    page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current").first.click()
    page.set_viewport_size({"width": PHONE, "height": 844})
    page.wait_for_timeout(500)
    trend, compare = (page.locator(f".zd-{v}").first.bounding_box() for v in ("trend", "compare"))
    assert compare["y"] >= trend["y"] + trend["height"] - 1  # stacked, not squeezed side by side
    page.locator(".zd-explorer").first.evaluate("e => e.scrollIntoView()")
    tab.shot("explorer-390")
    assert tab.remote == [], tab.remote
