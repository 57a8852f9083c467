"""The text of a past report file, paragraph by paragraph: ``.docx`` (python-docx, paragraphs and tables),
``.txt``, ``.html`` (BeautifulSoup), ``.pdf`` (its text layer, pypdf). ``.doc`` / ``.wps`` are converted by
LibreOffice when it is installed, else refused with the way to save them as ``.docx``. What the text says is read by :mod:`.extract`."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import ExtractError

#: the file types :func:`report_paragraphs` reads
SUFFIXES = (".docx", ".txt", ".html", ".htm", ".pdf")
_OLD_WORD = (".doc", ".wps", ".wpt", ".dot")
_SENTENCE_END = "。；！？：”」）)"


def report_files(path: str | Path) -> list[Path]:
    """``path`` itself, or the report files of a folder (sorted; Word's lock files ``~$…`` left out)."""
    p = Path(path)
    if p.is_dir():
        files = sorted(f for f in p.iterdir() if f.suffix.lower() in SUFFIXES + _OLD_WORD
                       and not f.name.startswith(("~$", ".")))
        if not files:
            raise ExtractError(f"文件夹“{p}”中没有可读取的报告（支持 .docx、.txt、.html、.pdf）", path=p)
        return files
    if not p.exists():
        raise ExtractError(f"找不到文件“{p}”", path=p)
    return [p]


def report_paragraphs(path: str | Path) -> list[str]:
    """The paragraphs of one report file, stripped, empty ones left out."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix in _OLD_WORD and shutil.which("soffice"):
        return _converted(p)
    if suffix in _OLD_WORD:
        raise ExtractError(
            f"“{p.name}”是旧版 Word/WPS 格式（{suffix}），无法直接读取：请用 Word 或 WPS 打开，"
            "选择“文件 → 另存为”，保存类型选“Word 文档（*.docx）”，再提取另存后的 .docx 文件", path=p)
    try:
        if suffix == ".docx":
            paras = _docx(p)
        elif suffix == ".txt":
            paras = _txt(p)
        elif suffix in (".html", ".htm"):
            paras = _html(p.read_text(encoding="utf-8", errors="replace"))
        elif suffix == ".pdf":
            paras = _pdf(p)
        else:
            raise ExtractError(f"“{p.name}”的格式无法读取：报告应为 .docx、.txt、.html 或 .pdf 文件", path=p)
    except ExtractError:
        raise
    except Exception as exc:  # a damaged file: say which one
        raise ExtractError(f"无法读取“{p.name}”：文件已损坏或不是有效的{suffix}文件（{exc}）", path=p) from exc
    paras = [re.sub(r"\s+", "", x) if _is_cjk_text(x) else x.strip() for x in paras]
    return [x for x in paras if x]


def _converted(path: Path) -> list[str]:
    """An old Word/WPS file converted to .docx by LibreOffice (installed), then read."""
    with tempfile.TemporaryDirectory() as tmp:
        try:
            subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp}/profile", "--convert-to",
                            "docx", "--outdir", tmp, str(path)], check=True, capture_output=True, timeout=120)
        except (OSError, subprocess.SubprocessError) as exc:
            raise ExtractError(f"“{path.name}”是旧版 Word/WPS 格式，用 LibreOffice 转换失败（{exc}）：请用 Word 或 WPS"
                               "另存为 .docx 后再提取", path=path) from exc
        converted = Path(tmp) / (path.stem + ".docx")
        if not converted.exists():
            raise ExtractError(f"“{path.name}”无法转换为 .docx：请用 Word 或 WPS 另存为 .docx 后再提取", path=path)
        return report_paragraphs(converted)


def _is_cjk_text(text: str) -> bool:
    return bool(re.search(r"[\u4e00-\u9fff]", text))


def _docx(path: Path) -> list[str]:
    import docx  # python-docx

    doc = docx.Document(str(path))
    out = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            out.append("，".join(c.text.strip() for c in row.cells if c.text.strip()))
    return out


def _txt(path: Path) -> list[str]:
    raw = path.read_bytes()
    for enc in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ExtractError(f"“{path.name}”不是 UTF-8 或 GBK 编码的文本文件", path=path)
    return text.splitlines()


def _html(html: str) -> list[str]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "table", "figure", "nav"]):
        tag.decompose()
    blocks = soup.find_all(["h1", "h2", "h3", "h4", "p", "li"])
    if not blocks:
        return soup.get_text("\n").splitlines()
    return [b.get_text("") for b in blocks]


def _pdf(path: Path) -> list[str]:
    from pypdf import PdfReader

    lines: list[str] = []
    for page in PdfReader(str(path)).pages:
        lines += (page.extract_text() or "").splitlines()
    # a PDF breaks paragraphs into lines: join a line to the next unless it ends a sentence or is a heading
    out: list[str] = []
    buf = ""
    for line in (x.strip() for x in lines):
        if not line or re.fullmatch(r"[-—\s\d/]+", line):  # blank or a page number
            continue
        buf += line
        if buf.endswith(tuple(_SENTENCE_END)) or re.match(r"^(?:[一二三四五六七八九十]+、|（[一二三四五六七八九十]+）)", buf) \
                and len(buf) < 40:
            out.append(buf)
            buf = ""
    if buf:
        out.append(buf)
    return out
