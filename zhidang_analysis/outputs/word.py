"""The report as a Word document in 公文 format (GB/T 9704-2012), built from the exported HTML.

The HTML report is the one source: this module reads its title, headings, paragraphs, figures, tables and the
missing-data list and writes them with python-docx into real Word styles (标题 Title, 标题 1/2 Heading 1/2, 正文
Normal, 题注 Caption), so a town office can re-style the document as it is used to. Layout after
``shared/docs/report-conventions.md``: A4; margins top 37 mm, bottom 35 mm, binding (left) 28 mm, right 26 mm;
22 lines (exact line spacing 28.95 pt) of 28 characters; title 2号 方正小标宋简体; body 3号 仿宋_GB2312 with a
two-character first-line indent; 一、 黑体, （一） 楷体_GB2312; digits and Latin letters Times New Roman; page
numbers "— 1 —" 4号 宋体 at the foot, odd pages right and even pages left.

Fonts: each style names its Chinese font for East Asian text (``w:eastAsia``), and the document's font table
gives every such font the substitute that Windows and WPS machines have (仿宋_GB2312 → 仿宋, 楷体_GB2312 → 楷体,
方正小标宋简体 → 宋体), so a machine without the 方正/GB2312 fonts still renders the document properly.

Provenance: the sources of the numbers (``文件!工作表!单元格``) are not in the document the town signs: they go
to a Word file of their own beside it (``青石镇_数据来源.docx``, :func:`sources_docx`), a plain table with
fitting column widths and no document grid, to check the report line by line against the workbooks. Not Word
comments: comments clutter every page that Word prints "with markup" by default.

Language and properties: the document defaults and styles say zh-CN, runs with quotes or dashes carry
``w:hint="eastAsia"`` (so “” are set full width in the Chinese font), and the core properties carry the title,
the author (the 落款's organ) and the 成文日期 as created/modified date, so two runs give the same file.

Only what python-docx lacks is written as OOXML: the East Asian font attribute, the PAGE field, the repeated
table header row, the document grid and the font table's substitutes.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import re
from pathlib import Path

from bs4 import BeautifulSoup, NavigableString, Tag
from docx import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from lxml import etree

from .files import atomic_write_bytes
from .gongwen import prepare
from .textwidth import display_width

__all__ = ["FONTS", "html_to_docx", "sources_docx", "sources_path", "write_docx"]

LATIN = "Times New Roman"
# Chinese font of each role, and the substitute a Windows / WPS machine has
FONTS = {
    "body": ("仿宋_GB2312", "仿宋"),
    "title": ("方正小标宋简体", "宋体"),
    "heading1": ("黑体", "黑体"),
    "heading2": ("楷体_GB2312", "楷体"),
    "page": ("宋体", "宋体"),
}
SUBSTITUTES = {"仿宋_GB2312": ("仿宋", "FangSong"), "楷体_GB2312": ("楷体", "KaiTi"), "方正小标宋简体": ("宋体", "SimSun"),
               "仿宋": ("FangSong",), "楷体": ("KaiTi",), "宋体": ("SimSun",), "黑体": ("SimHei",)}
SIZE_3 = Pt(16)  # 三号
SIZE_2 = Pt(22)  # 二号
SIZE_4 = Pt(14)  # 四号
LINE = Pt(28.95)  # 22 lines in the 225 mm text block
TEXT_WIDTH = Mm(156)
QUOTES = set("“”‘’「」『』《》—…")
# Schema order (OOXML requires it): the elements that come after w:snapToGrid in w:pPr, after w:sz in w:rPr
_AFTER_SNAP = ("w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents", "w:suppressOverlap", "w:jc",
               "w:textDirection", "w:textAlignment", "w:textboxTightWrap", "w:outlineLvl", "w:divId", "w:cnfStyle",
               "w:rPr", "w:sectPr", "w:pPrChange")
_AFTER_SZ = ("w:szCs", "w:highlight", "w:u", "w:effect", "w:bdr", "w:shd", "w:fitText", "w:vertAlign", "w:rtl",
             "w:cs", "w:em", "w:lang", "w:eastAsianLayout", "w:specVanish", "w:oMath")
_SOURCE_CLASSES = {"num", "chg", "ref", "share", "practice", "profile", "missing"}


# --------------------------------------------------------------------------------------------- styles
def _east_asian(style_or_run, font: str) -> None:
    """Set the East Asian font (``w:eastAsia``) of a style or run; Latin text stays Times New Roman."""
    rpr = style_or_run.element.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = OxmlElement("w:rFonts")
        rpr.insert(0, rfonts)
    for attr in ("w:ascii", "w:hAnsi", "w:cs"):
        rfonts.set(qn(attr), LATIN)
    rfonts.set(qn("w:eastAsia"), font)
    for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        rfonts.attrib.pop(qn(theme), None)


def _language(rpr) -> None:
    """Mark text as Chinese (``w:lang`` zh-CN for Latin and East Asian text): Word then sets 「“”」 full width
    and checks spelling as Chinese."""
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.insert_element_before(lang, "w:eastAsianLayout", "w:specVanish", "w:oMath", "w:rPrChange")
    lang.set(qn("w:val"), "zh-CN")
    lang.set(qn("w:eastAsia"), "zh-CN")
    lang.set(qn("w:bidi"), "ar-SA")


def _document_language(doc) -> None:
    """zh-CN in the document defaults (``w:docDefaults``) and in every style that sets run properties."""
    styles = doc.styles.element
    defaults = styles.find(qn("w:docDefaults"))
    rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    _language(rpr)
    for style in styles.findall(qn("w:style")):
        style_rpr = style.find(qn("w:rPr"))
        if style_rpr is not None and style_rpr.find(qn("w:lang")) is not None:
            _language(style_rpr)


def _default_size(doc) -> None:
    """三号 (16 pt) as the document default size, which the character grid is measured from."""
    rpr = doc.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    for tag in ("w:sz", "w:szCs"):
        el = rpr.find(qn(tag))
        if el is None:
            el = OxmlElement(tag)
            rpr.insert_element_before(el, *_AFTER_SZ[_AFTER_SZ.index(tag) + 1 if tag == "w:szCs" else 0:])
        el.set(qn("w:val"), str(int(SIZE_3.pt * 2)))


def _hint_east_asian(run) -> None:
    """``w:hint="eastAsia"`` on a run whose quotes and dashes are shared by Latin and Chinese fonts, so Word
    sets them in the Chinese font, full width."""
    if set(run.text) & QUOTES:
        rpr = run._r.get_or_add_rPr()
        rfonts = rpr.find(qn("w:rFonts"))
        if rfonts is None:
            rfonts = OxmlElement("w:rFonts")
            rpr.insert(0, rfonts)
        rfonts.set(qn("w:hint"), "eastAsia")


def _hints(doc) -> None:
    paragraphs = list(doc.paragraphs)
    for table in doc.tables:
        paragraphs += [p for row in table.rows for c in row.cells for p in c.paragraphs]
    for p in paragraphs:
        for run in p.runs:
            _hint_east_asian(run)


def _style(doc, name: str, font: str, size, *, bold=False, align=None, indent: bool = True, keep=False):
    style = doc.styles[name]
    style.font.name = LATIN
    style.font.size = size
    style.font.bold = bold
    style.font.italic = False
    style.font.color.rgb = RGBColor(0, 0, 0)
    _east_asian(style, font)
    pf = style.paragraph_format
    pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    pf.line_spacing = LINE if size <= SIZE_3 else Pt(36)
    pf.space_before = Pt(0)
    pf.space_after = Pt(0)
    pf.first_line_indent = Pt(32) if indent else Pt(0)
    pf.keep_with_next = keep
    if align is not None:
        pf.alignment = align
    # the default template's Title has a bottom border and spacing: a 公文 title has neither
    ppr = style.element.get_or_add_pPr()
    for child in ppr.findall(qn("w:pBdr")):
        ppr.remove(child)
    return style


def _setup(doc) -> None:
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    section.footer_distance = Mm(28)
    _grid(section)
    _style(doc, "Normal", FONTS["body"][0], SIZE_3, align=WD_ALIGN_PARAGRAPH.JUSTIFY)
    _style(doc, "Title", FONTS["title"][0], SIZE_2, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False)
    _style(doc, "Heading 1", FONTS["heading1"][0], SIZE_3, keep=True)
    _style(doc, "Heading 2", FONTS["heading2"][0], SIZE_3, keep=True)
    _style(doc, "Caption", FONTS["heading1"][0], Pt(12), align=WD_ALIGN_PARAGRAPH.CENTER, indent=False)
    if "Signoff" not in [s.name for s in doc.styles]:
        sign = doc.styles.add_style("Signoff", WD_STYLE_TYPE.PARAGRAPH)
        sign.base_style = doc.styles["Normal"]
    sign = _style(doc, "Signoff", FONTS["body"][0], SIZE_3, align=WD_ALIGN_PARAGRAPH.RIGHT, indent=False)
    sign.paragraph_format.right_indent = Pt(64)  # 右空四字
    doc.settings.odd_and_even_pages_header_footer = True
    _page_numbers(section)
    _font_table(doc)
    _document_language(doc)
    _default_size(doc)


def _grid(section) -> None:
    """The document grid of 22 lines a page (``w:docGrid``; python-docx has no API for it). Lines only: a
    character grid (``linesAndChars`` with ``w:charSpace`` for 28 characters) is read so differently by Word,
    WPS and LibreOffice (LibreOffice set 20 characters a line) that the line holds what 三号 fits in 156 mm."""
    sect = section._sectPr
    for old in sect.findall(qn("w:docGrid")):
        sect.remove(old)
    grid = OxmlElement("w:docGrid")
    grid.set(qn("w:type"), "lines")
    grid.set(qn("w:linePitch"), str(int(LINE.pt * 20)))
    sect.append(grid)


def _page_field(paragraph) -> None:
    """``— PAGE —`` with the PAGE field (OOXML fldSimple; python-docx has no field API)."""
    font = FONTS["page"][0]

    def run(text: str):
        r = paragraph.add_run(text)
        r.font.size = SIZE_4
        r.font.name = font
        _east_asian(r, font)
        return r

    run("— ")
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), " PAGE ")
    inner = run("1")
    field.append(inner._r)
    paragraph._p.append(field)
    run(" —")


def _page_numbers(section) -> None:
    odd = section.footer.paragraphs[0]
    odd.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    odd.paragraph_format.right_indent = Pt(14)  # 一字距离
    _page_field(odd)
    even = section.even_page_footer.paragraphs[0]
    even.alignment = WD_ALIGN_PARAGRAPH.LEFT
    even.paragraph_format.left_indent = Pt(14)
    _page_field(even)


def _font_table(doc) -> None:
    """Add each Chinese font to the font table with its substitutes (``w:altName``), for machines without it."""
    part = next(r.target_part for r in doc.part.rels.values() if r.reltype.endswith("/fontTable"))
    root = etree.fromstring(part.blob)
    names = {f.get(qn("w:name")) for f in root.findall(qn("w:font"))}
    for name, alts in SUBSTITUTES.items():
        if name in names:
            continue
        font = etree.SubElement(root, qn("w:font"))
        font.set(qn("w:name"), name)
        alt = etree.SubElement(font, qn("w:altName"))
        alt.set(qn("w:val"), ",".join(alts))
        charset = etree.SubElement(font, qn("w:charset"))
        charset.set(qn("w:val"), "86")  # GB2312
        family = etree.SubElement(font, qn("w:family"))
        family.set(qn("w:val"), "modern" if name.startswith(("仿宋", "楷体")) else "roman")
    part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


# --------------------------------------------------------------------------------------------- content
def _text(tag: Tag) -> str:
    return re.sub(r"\s+", "", tag.get_text()) if tag is not None else ""


def _caption(tag: Tag) -> str:
    """A caption keeps one space between its number and its text (``图1 河湾镇……``, ``表1 2025年……``)."""
    return re.sub(r"\s+", " ", tag.get_text()).strip()


def _paragraph(doc, text: str, style: str = "Normal"):
    return doc.add_paragraph(text, style=style)


def _figure(doc, fig: Tag) -> None:
    img = fig.find("img")
    if img is None or not img.get("src", "").startswith("data:image/png;base64,"):
        return
    data = base64.b64decode(img["src"].split(",", 1)[1])
    p = doc.add_paragraph(style="Caption")
    p.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE  # a picture needs its own height
    p.paragraph_format.keep_with_next = True
    p.add_run().add_picture(io.BytesIO(data), width=TEXT_WIDTH)
    caption = fig.find("figcaption")
    if caption is not None:
        doc.add_paragraph(_caption(caption), style="Caption")


def _repeat_header(row) -> None:
    trpr = row._tr.get_or_add_trPr()
    flag = OxmlElement("w:tblHeader")
    flag.set(qn("w:val"), "true")
    trpr.append(flag)


def _table(doc, rows: list[list[str]], header_rows: int = 1, caption: str | None = None,
           widths: list[float] | None = None) -> None:
    if caption:
        doc.add_paragraph(caption, style="Caption")
    if not rows:
        return
    ncols = max(len(r) for r in rows)
    table = doc.add_table(rows=len(rows), cols=ncols)
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for i, values in enumerate(rows):
        for j in range(ncols):
            cell = table.cell(i, j)
            p = cell.paragraphs[0]
            p.paragraph_format.first_line_indent = Pt(0)
            p.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
            run = p.add_run(values[j] if j < len(values) else "")
            run.font.size = Pt(10.5) if ncols <= 8 else Pt(9)
            if i < header_rows:
                run.font.bold = True
                p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        if i < header_rows:
            _repeat_header(table.rows[i])
    if widths:  # millimetres per column (Word reads the cell widths; LibreOffice the grid)
        table.autofit = False
        for j, w in enumerate(widths):
            for cell in table.columns[j].cells:
                cell.width = Mm(w)


def _html_table(doc, table: Tag) -> None:
    rows: list[list[str]] = []
    header = 0
    for tr in table.find_all("tr"):
        cells = tr.find_all(["th", "td"])
        if tr.find_parent("thead") is not None or (cells and all(c.name == "th" for c in cells)):
            header = len(rows) + 1
        rows.append([_text(c) for c in cells])
    caption = table.find("caption")
    _table(doc, rows, header_rows=max(header, 1), caption=_caption(caption) if caption else None,
           widths=_widths(rows, header_rows=max(header, 1)))


def _widths(rows: list[list[str]], header_rows: int, total: float = TEXT_WIDTH.mm) -> list[float]:
    """Column widths (mm) in proportion to the widest body cell of each column (CJK characters count two), so
    a town name is not broken character by character; headers wrap instead."""
    ncols = max(len(r) for r in rows)
    need = []
    for j in range(ncols):
        body = [display_width(r[j]) for r in rows[header_rows:] if j < len(r)] or [4]
        head = [display_width(r[j]) for r in rows[:header_rows] if j < len(r)] or [4]
        need.append(max(max(body), min(max(head), 8), 4))
    scale = total / sum(need)
    return [round(n * scale, 1) for n in need]


def _sources(main: Tag) -> list[list[str]]:
    """Every number and named text of the narrative with its source, in reading order (the appendix)."""
    rows, seen = [], set()
    for span in main.find_all("span", attrs={"data-source": True}):
        if not set(span.get("class", [])) & _SOURCE_CLASSES:
            continue
        source = span["data-source"]
        label = (span.get("title") or "").split(" · 来源")[0]
        key = (_text(span), source, label)
        if key in seen or not source:
            continue
        seen.add(key)
        text = _text(span)
        if "practice" in span.get("class", []) and len(text) > 16:
            text = text[:15] + "……"  # a town's own paragraph: its cell is what matters
        rows.append([str(len(rows) + 1), label, text, source])
    return rows


def _title(doc, h1: Tag) -> None:
    """The title, one paragraph, its lines broken where :func:`..gongwen.prepare` put the ``<br>``."""
    lines, current = [], ""
    for node in h1.children:
        if isinstance(node, Tag) and node.name == "br":
            lines.append(current)
            current = ""
        else:
            current += re.sub(r"\s+", "", node.get_text() if isinstance(node, Tag) else str(node))
    lines.append(current)
    p = doc.add_paragraph(style="Title")
    _no_snap(p)  # 36 pt lines, not two grid lines each
    for i, line in enumerate(lines):
        run = p.add_run(line)
        if i < len(lines) - 1:
            run.add_break()


def _no_snap(paragraph) -> None:
    """Keep a paragraph off the document grid (``w:snapToGrid``; python-docx has no API for it)."""
    snap = OxmlElement("w:snapToGrid")
    snap.set(qn("w:val"), "0")
    paragraph._p.get_or_add_pPr().insert_element_before(snap, *_AFTER_SNAP)


def _attachments(doc, note: Tag) -> None:
    """附件说明: 「附件：1．…」, later items aligned under the first name (GB/T 9704 7.3.5)."""
    items = [s.strip() for s in note.get_text("\n").split("\n") if s.strip()]
    for i, item in enumerate(items):
        p = _paragraph(doc, item)
        p.paragraph_format.keep_with_next = True  # the note stays with the 落款 below it
        if i:  # 左空二字 + 「附件：」 three characters: later names start under the first
            p.paragraph_format.first_line_indent = Pt(16 * 5)


def _signed_by(main: Tag) -> tuple[str, dt.datetime | None]:
    """The 落款: the issuing organ and the date (``2025年12月31日``) of the report, when it has them."""
    signoff = [_text(p) for p in main.find_all("p", class_="signoff")]
    author = next((s for s in signoff if not re.search(r"\d+年\d+月\d+日", s)), "")
    date = next((re.search(r"(\d{4})年(\d{1,2})月(\d{1,2})日", s) for s in signoff
                 if re.search(r"(\d{4})年(\d{1,2})月(\d{1,2})日", s)), None)
    when = dt.datetime(int(date[1]), int(date[2]), int(date[3]), tzinfo=dt.timezone.utc) if date else None
    return author, when


def _properties(doc, soup: BeautifulSoup, main: Tag) -> None:
    """Core properties from the report itself: title, author (the 落款's organ), dates (the 成文日期), so two
    runs on the same data give the same file properties."""
    h1 = main.find("h1")
    author, when = _signed_by(main)
    if when is None:  # a county overview: no 落款; 31 December of the report's year
        year = re.search(r"(\d{4})", soup.title.get_text() if soup.title else "")
        when = dt.datetime(int(year[1]), 12, 31, tzinfo=dt.timezone.utc) if year else dt.datetime(2000, 1, 1)
    props = doc.core_properties
    props.title = _text(h1) if h1 is not None else (soup.title.get_text().strip() if soup.title else "")
    props.author = author or "乡镇党委"
    props.last_modified_by = props.author
    props.created = props.modified = when
    props.revision = 1
    props.language = "zh-CN"
    props.comments = ""
    props.keywords = "全面从严治党主体责任"


def html_to_docx(html: str):
    """A python-docx ``Document`` of an exported report (town report or county overview): the 公文 the town
    signs, without the sources of its numbers (see :func:`sources_docx`)."""
    soup = prepare(html)
    main = soup.find("main") or soup.body or soup
    doc = Document()
    _setup(doc)
    appendix: list[Tag] = []
    for el in main.descendants:
        if not isinstance(el, Tag) or isinstance(el, NavigableString):
            continue
        if el.find_parent(["figure", "table", "section"]) is not None and el.name not in {"section"}:
            continue
        if el.name == "section" and "missing-list" in el.get("class", []):
            appendix.append(el)
        elif el.name == "h1":
            _title(doc, el)
            _paragraph(doc, "")  # 标题与正文空一行
        elif el.name == "h2" and el.find_parent("section") is None:
            _paragraph(doc, _text(el), "Heading 1")
        elif el.name in {"h3", "h4"} and el.find_parent("section") is None:
            _paragraph(doc, _text(el), "Heading 2")
        elif el.name == "p" and "attachments" in el.get("class", []):
            if doc.paragraphs:  # the last lines of the body go with the note and the 落款 (no 落款 page alone)
                doc.paragraphs[-1].paragraph_format.keep_with_next = True
            _paragraph(doc, "").paragraph_format.keep_with_next = True  # 正文下空一行编排附件说明
            _attachments(doc, el)
        elif el.name == "p" and el.find_parent("section") is None:
            style = "Signoff" if "signoff" in el.get("class", []) else "Normal"
            first_signoff = style == "Signoff" and el.find_previous_sibling("p", class_="signoff") is None
            if first_signoff:
                _paragraph(doc, "").paragraph_format.keep_with_next = True
            p = _paragraph(doc, _text(el), style)
            if first_signoff:
                p.paragraph_format.keep_with_next = True  # organ and date on one page
        elif el.name == "figure":
            _figure(doc, el)
        elif el.name == "table":
            _html_table(doc, el)
        elif el.name == "div" and "run-error" in el.get("class", []):
            _paragraph(doc, _text(el))
    n_figures = len(main.find_all("figure"))
    for section in appendix:  # 附件: the missing numbers, on a page of their own
        doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        heading = section.find("h2")
        label = _paragraph(doc, f"附件{n_figures + 1}" if main.find("p", class_="attachments") else "附件", "Heading 1")
        label.paragraph_format.first_line_indent = Pt(0)  # 「附件N」 at the top left, flush
        _paragraph(doc, re.sub(r"^(附：|附件\d*)", "", _text(heading)), "Title")
        for i, li in enumerate(section.find_all("li"), start=1):
            _paragraph(doc, f"{i}. {_text(li)}")
    _properties(doc, soup, main)
    _hints(doc)
    return doc


# --------------------------------------------------------------------------------------------- provenance
SOURCE_COLUMNS = [("序号", 12), ("内容", 62), ("数字或文字", 34), ("来源（文件!工作表!单元格）", 62)]


def _cell(cell, text: str, *, bold: bool = False, width: float) -> None:
    cell.width = Mm(width)
    p = cell.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.LEFT
    _no_snap(p)  # a table is not a 公文 page: no line grid
    run = p.add_run(text)
    run.font.bold = bold
    _hint_east_asian(run)


def sources_docx(html: str):
    """The sources of the report's numbers (``文件!工作表!单元格``) as a Word table of their own, to check the
    report against the workbooks: not part of the signed 公文, so plain layout — A4, 20 mm margins, 五号 text
    on single lines, no document grid, left-aligned cells in columns of fixed, fitting widths. ``None`` when
    the report cites no source."""
    soup = BeautifulSoup(html, "html.parser")
    main = soup.find("main") or soup.body or soup
    rows = _sources(main)
    if not rows:
        return None
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin = section.bottom_margin = section.left_margin = section.right_margin = Mm(20)
    normal = doc.styles["Normal"]
    normal.font.name = LATIN
    normal.font.size = Pt(10.5)
    _east_asian(normal, "宋体")
    normal.paragraph_format.space_after = Pt(0)
    normal.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
    heading = doc.styles["Heading 1"]
    _east_asian(heading, "黑体")
    heading.font.size, heading.font.bold = SIZE_4, False
    heading.font.color.rgb = RGBColor(0, 0, 0)
    _document_language(doc)
    h1 = (soup.find("main") or soup).find("h1")
    title = _text(h1) if h1 is not None else ""
    doc.add_paragraph(f"数据来源：{title}", style="Heading 1")
    doc.add_paragraph("报告中每个数字和文字取自哪个文件、哪个工作表、哪个单元格，供核对，不随报告印发。")
    table = doc.add_table(rows=len(rows) + 1, cols=len(SOURCE_COLUMNS))
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    layout = OxmlElement("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    table._tbl.tblPr.append(layout)
    # the grid's cells in one pass (``table.cell(i, j)`` lists every cell of the table again on each call)
    grid = [row.cells for row in table.rows]
    for j, (name, width) in enumerate(SOURCE_COLUMNS):
        table.columns[j].width = Mm(width)
        _cell(grid[0][j], name, bold=True, width=width)
        for i, row in enumerate(rows, start=1):
            _cell(grid[i][j], row[j], width=width)
    _repeat_header(table.rows[0])
    author, when = _signed_by(main)
    props = doc.core_properties
    props.title, props.author, props.last_modified_by = f"数据来源：{title}", author or "乡镇党委", author or "乡镇党委"
    props.created = props.modified = when or dt.datetime(2000, 1, 1)
    props.revision, props.language, props.comments = 1, "zh-CN", ""
    return doc


def sources_path(path: str | Path) -> Path:
    """The provenance file beside a Word report: ``青石镇.docx`` → ``青石镇_数据来源.docx``."""
    path = Path(path)
    return path.with_name(f"{path.stem}_数据来源{path.suffix}")


def _save(doc, path: Path) -> Path:
    buf = io.BytesIO()
    doc.save(buf)
    return atomic_write_bytes(path, buf.getvalue())


def write_docx(html: str | Path, path: str | Path) -> Path:
    """Write the Word version of an exported report (``html``: its text or its file) to ``path``, atomically,
    and the sources of its numbers beside it (:func:`sources_path`) when it cites any."""
    text = Path(html).read_text(encoding="utf-8") if isinstance(html, Path) else html
    out = _save(html_to_docx(text), Path(path))
    sources = sources_docx(text)
    if sources is not None:
        _save(sources, sources_path(path))
    return out
