"""Word (GB/T 9704) and PDF versions of the reports, read back with python-docx and pypdf.

The HTML is made in-process exactly as the report notebook makes it (the narrative, three figures, the
missing-data list, exported with the project's nbconvert template), so these tests need no kernel.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import re
import shutil
import subprocess

import nbformat
import numpy as np
import pytest
from bs4 import BeautifulSoup
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Pt
from PIL import Image
from pypdf import PdfReader
from pypdf.generic import ContentStream

import zhidang_analysis as zd
from zhidang_analysis.report import overview as ov
from zhidang_analysis.outputs.export import FigureHTML, notebook_to_html
from zhidang_analysis.outputs.pdf import embedded_fonts, write_pdf
from zhidang_analysis.outputs.word import QUOTES, html_to_docx, sources_path, write_docx
from zhidang_analysis.report.titles import title_lines


def _html_notebook(*html_outputs: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    for html in html_outputs:
        cell = nbformat.v4.new_code_cell("")
        cell.outputs = [nbformat.v4.new_output("display_data", data={"text/html": html})]
        nb.cells.append(cell)
    return nb


@pytest.fixture(scope="module")
def ds():
    return zd.load_dataset()


@pytest.fixture(scope="module")
def town_html(ds):
    """河湾镇 2025 (one number missing): narrative, three figures (300 dpi, as the report notebook makes them), the missing list."""
    town, year = "河湾镇", 2025
    report = zd.narrative.town_report(ds, town, year)
    scores = zd.indicators.composite_score(ds.values, ds.profile)
    figs = [FigureHTML(zd.charts.town_trend(zd.indicators.up_to(ds.values, year), town), f"图1  {town}主要指标历年变化", dpi=300),
            FigureHTML(zd.charts.town_vs_county(ds.values, town, year), f"图2  {town}{year}年主要指标与全县中位数比较", dpi=300),
            FigureHTML(zd.charts.score_breakdown(scores, town, year), f"图3  {town}{year}年综合得分构成", dpi=300)]
    nb = _html_notebook(str(report.html), *(f._repr_html_() for f in figs), str(report.missing_html()))
    return notebook_to_html(nb, title=f"{town}{year}")


@pytest.fixture(scope="module")
def town_docx(town_html, tmp_path_factory):
    path = tmp_path_factory.mktemp("word") / "河湾镇.docx"
    write_docx(town_html, path)
    return Document(path)


def _rfonts(style):
    return style.element.rPr.find(qn("w:rFonts"))


def test_page_is_a4_with_the_gbt9704_margins_and_22_lines(town_docx):
    s = town_docx.sections[0]
    def mm(x):  # Word stores twentieths of a point: A4 is 11906 twips = 210.01 mm; compare to 0.1 mm
        return round(x.mm, 1)

    assert (mm(s.page_width), mm(s.page_height)) == (210, 297)
    assert tuple(map(mm, (s.top_margin, s.bottom_margin, s.left_margin, s.right_margin))) == (37, 35, 28, 26)
    grid = s._sectPr.find(qn("w:docGrid"))
    assert grid.get(qn("w:type")) == "lines" and int(grid.get(qn("w:linePitch"))) == 579  # 28.95 pt
    normal = town_docx.styles["Normal"].paragraph_format
    assert normal.line_spacing == Pt(28.95) and normal.first_line_indent == Pt(32)


@pytest.mark.parametrize(("style", "east_asian", "size"), [
    ("Normal", "仿宋_GB2312", 16), ("Title", "方正小标宋简体", 22), ("Heading 1", "黑体", 16),
    ("Heading 2", "楷体_GB2312", 16)])
def test_styles_name_their_chinese_font_for_east_asian_text(town_docx, style, east_asian, size):
    st = town_docx.styles[style]
    fonts = _rfonts(st)
    assert fonts.get(qn("w:eastAsia")) == east_asian
    assert fonts.get(qn("w:ascii")) == fonts.get(qn("w:hAnsi")) == "Times New Roman"
    assert st.font.size == Pt(size)
    assert st.font.color.rgb is None or str(st.font.color.rgb) == "000000"


def test_the_font_table_gives_every_chinese_font_a_windows_substitute(town_docx):
    part = next(r.target_part for r in town_docx.part.rels.values() if r.reltype.endswith("/fontTable"))
    xml = part.blob.decode("utf-8")
    for font, alt in (("仿宋_GB2312", "仿宋"), ("楷体_GB2312", "楷体"), ("方正小标宋简体", "宋体")):
        assert re.search(rf'w:name="{font}"><w:altName w:val="{alt},', xml), font


def test_headings_paragraphs_sign_off_and_pictures(town_docx, town_html):
    paras = town_docx.paragraphs
    assert paras[0].style.name == "Title" and paras[0].text.startswith("中共河湾镇委员会关于\n二〇二五年度")
    h1 = [p.text for p in paras if p.style.name == "Heading 1"]
    assert h1[:3] == ["一、责任落实情况", "二、存在的问题", "三、下一步工作打算"]
    assert h1[-1] == "附件4" and not any(h.startswith("数据来源") for h in h1)
    h2 = [p.text for p in paras if p.style.name == "Heading 2"]
    assert len(h2) == 6 and h2[0].startswith("（一）提高政治站位")
    signoff = [p.text for p in paras if p.style.name == "Signoff"]
    assert signoff == ["中共河湾镇委员会", "2025年12月31日"]
    assert len(town_docx.inline_shapes) == 3
    widths = {round(s.width / 36000) for s in town_docx.inline_shapes}
    assert widths == {156}  # text width, in mm
    captions = [p.text for p in paras if p.style.name == "Caption" and p.text]
    assert captions == ["图1 河湾镇主要指标历年变化", "图2 河湾镇2025年主要指标与全县中位数比较", "图3 河湾镇2025年综合得分构成"]
    # 附件: the missing number
    i = next(k for k, p in enumerate(paras) if p.text == "附件4")
    assert paras[i + 1].text.startswith("待补数据（1项）") and "双语宣讲" in paras[i + 2].text


def test_the_footer_has_the_page_field_odd_right_even_left(town_docx):
    s = town_docx.sections[0]
    assert town_docx.settings.odd_and_even_pages_header_footer
    for footer, align in ((s.footer, "RIGHT"), (s.even_page_footer, "LEFT")):
        p = footer.paragraphs[0]
        assert p.alignment.name == align
        field = p._p.find(qn("w:fldSimple"))
        assert field is not None and field.get(qn("w:instr")).strip() == "PAGE"
        assert p.text.startswith("— ") and p.text.endswith(" —")
        run = p.runs[0]
        assert run.font.size == Pt(14) and run._r.rPr.rFonts.get(qn("w:eastAsia")) == "宋体"


def test_every_number_of_the_html_text_is_in_the_word_text(town_docx, town_html):
    soup = BeautifulSoup(town_html, "html.parser")
    body = "".join(p.get_text() for p in soup.select("main p"))
    word = "".join(p.text for p in town_docx.paragraphs)
    numbers = re.findall(r"\d+(?:\.\d+)?", body)
    assert len(numbers) >= 40  # a report of the sample states some fifty numbers
    missing = [n for n in set(numbers) if n not in word]
    assert not missing
    for p in soup.select("main > p, main p"):
        if p.get_text().strip():
            assert re.sub(r"\s+", "", p.get_text()) in word


def test_provenance_is_a_table_of_its_own_beside_the_signed_report(town_docx, town_html, ds, tmp_path):
    # not in the document the town signs: no table, no 数据来源 text, no cell reference
    assert not town_docx.tables
    body = "\n".join(p.text for p in town_docx.paragraphs)
    assert "数据来源" not in body and ".xlsx!" not in body.split("附件4")[0]
    path = write_docx(town_html, tmp_path / "河湾镇.docx")
    assert path.name == "河湾镇.docx" and sources_path(path).name == "河湾镇_数据来源.docx"
    sources = Document(sources_path(path))
    table = sources.tables[0]
    header = [c.text for c in table.rows[0].cells]
    assert header == ["序号", "内容", "数字或文字", "来源（文件!工作表!单元格）"]
    assert table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
    rows = {(r.cells[2].text, r.cells[3].text) for r in table.rows[1:]}
    v = ds.values
    theme = v[(v.town == "河湾镇") & (v.year == 2025) & (v.indicator == "theme_party_days")].iloc[0]
    assert (f"{int(theme.value)}次", theme.source) in rows
    # laid out as a table: fixed layout, widths in proportion to the content, no grid, cells left-aligned
    assert table._tbl.tblPr.find(qn("w:tblLayout")).get(qn("w:type")) == "fixed"
    assert [round(c.width.mm) for c in table.rows[1].cells] == [12, 62, 34, 62]
    assert sources.sections[0]._sectPr.find(qn("w:docGrid")) is None or \
        sources.sections[0]._sectPr.find(qn("w:docGrid")).get(qn("w:type")) in (None, "default")
    for row in table.rows[:5]:
        for cell in row.cells:
            p = cell.paragraphs[0]
            assert p.alignment.name == "LEFT"
            assert p._p.pPr.find(qn("w:snapToGrid")).get(qn("w:val")) == "0"
    assert sources.core_properties.author == "中共河湾镇委员会"


def test_word_language_is_chinese_and_quotes_carry_the_east_asian_hint(town_docx):
    styles = town_docx.styles.element
    lang = styles.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr")).find(qn("w:lang"))
    assert lang.get(qn("w:val")) == lang.get(qn("w:eastAsia")) == "zh-CN"
    assert "en-US" not in town_docx.styles.element.xml
    quoted = [r for p in town_docx.paragraphs for r in p.runs if set(r.text) & set("“”")]
    assert quoted, "the sample report quotes something (“三会一课” …)"
    for run in quoted:
        assert run._r.rPr.rFonts.get(qn("w:hint")) == "eastAsia", run.text
    plain = [r for p in town_docx.paragraphs for r in p.runs if r.text and not set(r.text) & QUOTES]
    assert all(r._r.rPr is None or r._r.rPr.rFonts is None or r._r.rPr.rFonts.get(qn("w:hint")) is None
               for r in plain)


def test_word_core_properties_come_from_the_report(town_docx, town_html, tmp_path):
    props = town_docx.core_properties
    assert props.title == "中共河湾镇委员会关于二〇二五年度履行全面从严治党主体责任暨书记第一责任人责任情况的报告"
    assert props.author == props.last_modified_by == "中共河湾镇委员会"
    assert props.created.date() == props.modified.date() == dt.date(2025, 12, 31)
    # deterministic: the same report twice gives the same properties
    again = Document(write_docx(town_html, tmp_path / "again.docx")).core_properties
    assert (again.created, again.modified, again.author) == (props.created, props.modified, props.author)


@pytest.mark.parametrize(("title", "lines"), [
    ("中共河湾镇委员会关于二〇二五年度履行全面从严治党主体责任暨书记第一责任人责任情况的报告",
     ["中共河湾镇委员会关于", "二〇二五年度履行全面从严治党主体责任暨", "书记第一责任人责任情况的报告"]),
    ("青山县二〇二五年度乡镇党委履行全面从严治党主体责任情况综合分析",
     ["青山县二〇二五年度乡镇党委", "履行全面从严治党主体责任情况综合分析"]),
    ("短标题", ["短标题"]),
])
def test_title_lines_break_only_at_word_boundaries_in_a_trapezoid_or_diamond(title, lines):
    got = title_lines(title)
    assert got == lines and "".join(got) == title
    assert all(len(line) <= 20 for line in got)
    for a, b in zip(got, got[1:]):  # never inside a word
        assert not (a.endswith("履行全") or b.startswith(("的报告", "面从严")))


def test_the_title_breaks_the_same_in_html_and_word(town_docx, town_html):
    h1 = BeautifulSoup(town_html, "html.parser").find("h1")
    html_lines = [s for s in h1.get_text("|").split("|") if s.strip()]
    assert html_lines == title_lines("".join(html_lines))
    assert town_docx.paragraphs[0].text.split("\n") == html_lines
    # the break is a line break inside the one Title paragraph
    assert len(town_docx.paragraphs[0]._p.findall(".//" + qn("w:br"))) == len(html_lines) - 1


def test_attachment_note_comes_before_the_signoff(town_docx):
    paras = [p.text for p in town_docx.paragraphs]
    sign = paras.index("中共河湾镇委员会")
    note = next(i for i, t in enumerate(paras) if t.startswith("附件："))
    assert note < sign
    assert paras[note:note + 4] == ["附件：1．河湾镇主要指标历年变化", "2．河湾镇2025年主要指标与全县中位数比较",
                                    "3．河湾镇2025年综合得分构成", "4．待补数据"]
    assert paras.index("图1 河湾镇主要指标历年变化") > sign


def test_overview_tables_are_word_tables_with_repeated_headers(ds):
    nb = _html_notebook(str(ov.overview_narrative(ds, 2025)),
                        str(ov.html_table(ov.ranking_table(ds, 2025), caption="表1  各乡镇综合得分排名")))
    doc = html_to_docx(notebook_to_html(nb, title="概览"))
    ranking = next(t for t in doc.tables if t.rows[0].cells[1].text == "乡镇")
    assert len(ranking.rows) == 1 + len(ds.towns)
    assert ranking.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
    assert {r.cells[1].text for r in ranking.rows[1:]} == set(ds.towns)


def test_pdf_is_a4_with_embedded_cjk_fonts_page_numbers_and_the_same_text(town_html, tmp_path):
    path = write_pdf(town_html, tmp_path / "河湾镇.pdf")
    reader = PdfReader(path)
    assert len(reader.pages) >= 5
    for page in reader.pages:
        assert (round(float(page.mediabox.width) / 72 * 25.4), round(float(page.mediabox.height) / 72 * 25.4)) == (210, 297)
    fonts = {}
    for page in reader.pages:
        for f in (page["/Resources"].get("/Font") or {}).values():
            f = f.get_object()
            desc = f["/DescendantFonts"][0].get_object() if "/DescendantFonts" in f else f
            fd = desc.get("/FontDescriptor")
            fonts[str(f["/BaseFont"])] = fd is not None and any(k in fd.get_object() for k in ("/FontFile", "/FontFile2", "/FontFile3"))
    assert any("CJK" in name for name in fonts) and all(fonts.values()), fonts
    text = re.sub(r"\s+", "", "".join(p.extract_text() for p in reader.pages))
    assert "中共河湾镇委员会关于二〇二五年度" in text
    assert "一、责任落实情况" in text and "2025年12月31日" in text
    assert "—1—" in text and "—2—" in text  # page numbers
    soup = BeautifulSoup(town_html, "html.parser")
    first = re.sub(r"\s+", "", soup.select("main p")[1].get_text())
    assert first[:60] in text


def test_pdf_loads_nothing_from_outside(tmp_path):
    html = ('<html><body><main class="report"><p>外部图片</p><img src="http://127.0.0.1:9/x.png">'
            '<img src="file:///etc/hostname"></main></body></html>')
    path = write_pdf(html, tmp_path / "x.pdf")
    assert PdfReader(path).pages  # rendered without the images, and without fetching them


# --------------------------------------------------------------------------------------------- PDF as a 公文
MM = 72 / 25.4


@pytest.fixture(scope="module")
def town_pdf(town_html, tmp_path_factory):
    return PdfReader(write_pdf(town_html, tmp_path_factory.mktemp("pdf") / "河湾镇.pdf"))


def _font_files(reader) -> dict[str, bool]:
    out = {}
    for page in reader.pages:
        for f in (page["/Resources"].get("/Font") or {}).values():
            f = f.get_object()
            desc = f["/DescendantFonts"][0].get_object() if "/DescendantFonts" in f else f
            fd = desc.get("/FontDescriptor")
            out[str(f["/BaseFont"])] = fd is not None and any(
                k in fd.get_object() for k in ("/FontFile", "/FontFile2", "/FontFile3"))
    return out


def test_pdf_embeds_the_gongwen_font_families_and_names_them(town_pdf):
    files = _font_files(town_pdf)
    assert all(files.values()), files  # every font embedded
    fonts = embedded_fonts(town_pdf)
    families = {"仿宋": ("FangSong", "FandolFang"), "楷体": ("KaiTi", "FandolKai"), "黑体": ("SimHei", "FandolHei"),
                "小标宋": ("XiaoBiaoSong", "FandolSong-Bold")}
    for family, names in families.items():
        assert any(any(n in f for n in names) for f in fonts), (family, fonts)
    assert set(str(town_pdf.metadata["/Fonts"]).split("、")) == set(fonts)


def _fill_colours(reader) -> set[tuple[float, ...]]:
    colours = set()
    for page in reader.pages:
        for args, op in ContentStream(page.get_contents(), reader).operations:
            if op in (b"rg", b"g"):
                colours.add(tuple(round(float(a), 3) for a in args))
    return colours


def test_pdf_prints_no_grey_text(town_pdf):
    colours = _fill_colours(town_pdf)
    grey = {c for c in colours if len(set(c)) == 1 and 0 < c[0] < 1}
    assert not grey, grey  # black text, white paper; the 【待补】 marker may be red


def test_pdf_lines_hold_28_characters(town_pdf):
    lines = [line for page in town_pdf.pages[:3] for line in page.extract_text().split("\n")]
    full = [line for line in lines if re.fullmatch(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef“”]+", line)]
    assert full and max(len(line) for line in full) == 28, full[:5]


def _page_number_positions(reader) -> list[tuple[int, float, float]]:
    out = []
    for i, page in enumerate(reader.pages, start=1):
        found = []

        def visit(text, cm, tm, font, size, found=found):
            if re.fullmatch(r"—\s*\d+\s*—", text.strip() or "x"):
                found.append((tm[4] * cm[0] + cm[4], tm[5] * cm[3] + cm[5]))

        page.extract_text(visitor_text=visit)
        if found:
            out.append((i, *found[0]))
    return out


def test_pdf_page_numbers_sit_7_mm_below_the_text_block_odd_right_even_left(town_pdf):
    positions = _page_number_positions(town_pdf)
    assert len(positions) == len(town_pdf.pages)
    for page, x, y in positions:
        below = 35 - y / MM  # the text block ends 35 mm above the bottom edge; y is the baseline
        assert 7 <= below <= 7 + 6, (page, below)  # the line's top 7 mm below, its baseline under 14 pt of type
        if page % 2:
            assert x / MM > 150, (page, x / MM)  # odd: right
        else:
            assert x / MM < 60, (page, x / MM)  # even: left


def test_pdf_charts_are_at_least_300_dpi(town_pdf):
    seen = 0
    for page in town_pdf.pages:
        xobjects = page["/Resources"].get("/XObject") or {}
        ctm = [1, 0, 0, 1, 0, 0]
        stack = []
        for args, op in ContentStream(page.get_contents(), town_pdf).operations:
            if op == b"q":
                stack.append(ctm)
            elif op == b"Q":
                ctm = stack.pop()
            elif op == b"cm":
                a, b, c, d, e, f = (float(v) for v in args)
                A, B, C, D, E, F = ctm
                ctm = [a * A + b * C, a * B + b * D, c * A + d * C, c * B + d * D, e * A + f * C + E, e * B + f * D + F]
            elif op == b"Do":
                image = xobjects[args[0]].get_object()
                if image.get("/Subtype") == "/Image":
                    width_in = (ctm[0] ** 2 + ctm[1] ** 2) ** 0.5 / 72
                    assert image["/Width"] / width_in >= 300, (image["/Width"], width_in)
                    seen += 1
    assert seen == 3


def test_pdf_charts_are_the_reports_own_pixels(town_html, town_pdf):
    """The PDF's images are the report's charts, pixel for pixel (handed to WeasyPrint as RGB, not re-quantized)."""
    charts = [np.asarray(Image.open(io.BytesIO(base64.b64decode(img["src"].split(",", 1)[1]))).convert("RGB"))
              for img in BeautifulSoup(town_html, "html.parser").select('img[src^="data:image/png;base64,"]')]
    printed = {}  # each page lists every image of the document among its resources: one of each
    for page in town_pdf.pages:
        for image in page.images:
            pixels = np.asarray(image.image.convert("RGB"))
            printed[pixels.shape, pixels.tobytes()] = pixels
    assert len(charts) == len(printed) == 3
    assert all(any(np.array_equal(chart, image) for image in printed.values()) for chart in charts)


@pytest.mark.slow
def test_libreoffice_renders_the_word_file_within_one_page_of_the_pdf(town_html, town_pdf, tmp_path):
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice（soffice）未安装，无法把 Word 文件排成页面：apt-get install libreoffice-writer-nogui")
    path = write_docx(town_html, tmp_path / "hw.docx")
    profile = (tmp_path / "lo-profile").as_uri()
    result = subprocess.run([soffice, f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf",
                             "--outdir", str(tmp_path / "lo"), str(path)], capture_output=True, text=True, timeout=300)
    rendered = tmp_path / "lo" / "hw.pdf"
    if not rendered.is_file() and "could not be loaded" in result.stderr:
        pytest.skip(f"LibreOffice 无法打开 Word 文件（未安装 Writer 组件？）：{result.stderr.strip()}")
    assert rendered.is_file(), result.stderr
    word_pages, pdf_pages = len(PdfReader(rendered).pages), len(town_pdf.pages)
    assert abs(word_pages - pdf_pages) <= 1, (word_pages, pdf_pages)
