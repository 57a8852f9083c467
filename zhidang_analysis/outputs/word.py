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

Provenance: the sources of the numbers (``文件!工作表!单元格``) are listed in a last appendix table
“数据来源” rather than as Word comments: a table prints only when wanted (it is on its own page at the end),
survives WPS and LibreOffice, and can be checked line by line against the workbooks; comments clutter every
printed page that Word prints "with markup" by default.

Only what python-docx lacks is written as OOXML: the East Asian font attribute, the PAGE field, the repeated
table header row, the document grid and the font table's substitutes.
"""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

from bs4 import BeautifulSoup, NavigableString, Tag
from docx import Document
from docx.enum.section import WD_SECTION
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from lxml import etree

from .files import atomic_write_bytes
from .template import display_width

__all__ = ["FONTS", "html_to_docx", "write_docx"]

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


def _grid(section) -> None:
    """The document grid of 22 lines a page (``w:docGrid``; python-docx has no API for it)."""
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


def html_to_docx(html: str):
    """A python-docx ``Document`` of an exported report (town report or county overview)."""
    soup = BeautifulSoup(html, "html.parser")
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
            _paragraph(doc, _text(el), "Title")
            _paragraph(doc, "")  # 标题与正文空一行
        elif el.name == "h2" and el.find_parent("section") is None:
            _paragraph(doc, _text(el), "Heading 1")
        elif el.name in {"h3", "h4"} and el.find_parent("section") is None:
            _paragraph(doc, _text(el), "Heading 2")
        elif el.name == "p" and el.find_parent("section") is None:
            style = "Signoff" if "signoff" in el.get("class", []) else "Normal"
            if style == "Signoff" and el.find_previous_sibling("p", class_="signoff") is None:
                _paragraph(doc, "")
            _paragraph(doc, _text(el), style)
        elif el.name == "figure":
            _figure(doc, el)
        elif el.name == "table":
            _html_table(doc, el)
        elif el.name == "div" and "run-error" in el.get("class", []):
            _paragraph(doc, _text(el))
    for section in appendix:  # 附件: the missing numbers, on a page of their own
        doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        heading = section.find("h2")
        _paragraph(doc, "附件", "Heading 1")
        _paragraph(doc, _text(heading).removeprefix("附："), "Title")
        for i, li in enumerate(section.find_all("li"), start=1):
            _paragraph(doc, f"{i}. {_text(li)}")
    sources = _sources(main)
    if sources:
        new = doc.add_section(WD_SECTION.NEW_PAGE)
        _grid(new)
        _paragraph(doc, "数据来源（供核对，可不打印）", "Heading 1")
        _table(doc, [["序号", "内容", "数字或文字", "来源（文件!工作表!单元格）"]] + sources, widths=[12, 58, 32, 54])
    return doc


def write_docx(html: str | Path, path: str | Path) -> Path:
    """Write the Word version of an exported report (``html``: its text or its file) to ``path``, atomically."""
    text = Path(html).read_text(encoding="utf-8") if isinstance(html, Path) else html
    doc = html_to_docx(text)
    buf = io.BytesIO()
    doc.save(buf)
    return atomic_write_bytes(Path(path), buf.getvalue())
