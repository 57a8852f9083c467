"""The report as PDF: the exported HTML laid out by WeasyPrint with the report's own print CSS.

Why WeasyPrint: it is a maintained HTML/CSS-to-PDF engine installed from PyPI with the project, it reads the
``@page`` rules the HTML report already has (A4, GB/T 9704 margins, "— 1 —" page numbers, odd right / even
left), and it embeds subsets of the fonts it uses, so the text stays selectable Chinese. It needs the system
Pango library (present on Debian, Ubuntu and most Linux desktops; on Windows see WeasyPrint's installation
notes); where Pango is missing, :func:`write_pdf` says so in Chinese instead of failing with an OSError.

Fonts (GB/T 9704): body 仿宋, 一、 headings 黑体, （一） headings 楷体, the title 小标宋. The stacks name the fonts
of Chinese office PCs first (仿宋_GB2312 / FangSong, 楷体_GB2312 / KaiTi, 黑体 / SimHei, 方正小标宋简体): WeasyPrint
finds them through fontconfig when the machine has them. Where it has not, the Fandol fonts shipped with the
package (``zhidang_analysis/fonts``: FandolFang, FandolKai, FandolHei, FandolSong Bold for the title; GPL with the
font exception, subsets of GB 2312, the set of 仿宋_GB2312) stand in, and Noto CJK from the ``mplfonts`` package covers any
rarer character. The fonts a PDF really embeds are read back from it and named in its metadata (``/Fonts``
and the keywords). Nothing is fetched from the network: only ``data:`` URIs and those font files are loaded.
"""

from __future__ import annotations

import functools
import importlib.util
import threading
from pathlib import Path

from ..errors import ZhidangError
from .files import atomic_write_bytes
from .gongwen import prepare

__all__ = ["PACKAGE_FONTS", "PDFUnavailableError", "embedded_fonts", "font_css", "write_pdf"]

_FONT_FILES = {
    "Noto Serif CJK SC": "NotoSerifCJKsc-Regular.otf",
    "Noto Sans CJK SC": "NotoSansCJKsc-Regular.otf",
}
#: The package's own fonts: CSS family → file in ``zhidang_analysis/fonts``.
PACKAGE_FONTS = {
    "Zhidang FangSong": "FandolFang-Regular.woff2",
    "Zhidang KaiTi": "FandolKai-Regular.woff2",
    "Zhidang HeiTi": "FandolHei-Regular.woff2",
    "Zhidang XiaoBiaoSong": "FandolSong-Bold.woff2",
}
#: The 公文 font of each role: the office fonts first (fontconfig), then the package's, then Noto CJK.
STACKS = {
    "--fangsong": '仿宋_GB2312, FangSong_GB2312, FangSong, 仿宋, STFangsong, "Zhidang FangSong", "Noto Serif CJK SC"',
    "--kaiti": '楷体_GB2312, KaiTi_GB2312, KaiTi, 楷体, STKaiti, "Zhidang KaiTi", "Noto Serif CJK SC"',
    "--heiti": 'SimHei, 黑体, STHeiti, "Zhidang HeiTi", "Noto Sans CJK SC"',
    "--xiaobiaosong": '方正小标宋简体, "FZXiaoBiaoSong-B05S", 方正小标宋_GBK, "Zhidang XiaoBiaoSong", "Noto Serif CJK SC"',
}


class PDFUnavailableError(ZhidangError):
    """WeasyPrint (or the system Pango library it needs) is not available."""


def _fonts_folder() -> Path:
    spec = importlib.util.find_spec("mplfonts")
    if spec is None or not spec.submodule_search_locations:
        raise ZhidangError("未安装 mplfonts，无法找到 PDF 所需的中文字体（请安装 mplfonts）")
    return Path(next(iter(spec.submodule_search_locations))) / "fonts"


def package_fonts_folder() -> Path:
    """The folder of the fonts shipped with the package."""
    return Path(__file__).resolve().parent.parent / "fonts"


def font_css() -> str:
    """``@font-face`` rules binding the package's fonts and the free CJK families of the CSS stacks to their
    files, and the 公文 font stacks of the print layout."""
    rules = []
    for folder, files in ((package_fonts_folder(), PACKAGE_FONTS), (_fonts_folder(), _FONT_FILES)):
        for family, name in files.items():
            path = folder / name
            if path.is_file():
                rules.append(f'@font-face {{ font-family: "{family}"; src: url("{path.as_uri()}"); }}')
    return "\n".join(rules)


def _with_stacks(html: str) -> str:
    """The report with the 公文 font stacks in a ``<style>`` of its own, after the report's style (stylesheets
    given to WeasyPrint are user stylesheets, which the report's author styles would override)."""
    soup = prepare(html)
    stacks = "; ".join(f"{var}: {stack}, serif" for var, stack in STACKS.items())
    style = soup.new_tag("style")
    style.string = f":root {{ {stacks}; }}"
    (soup.head or soup.body or soup).append(style)
    return str(soup)


def embedded_fonts(reader) -> list[str]:
    """The names of the fonts embedded in a PDF (a :class:`pypdf.PdfReader`), subset prefixes removed; the
    package's own fonts by their file (``FandolFang-Regular``) rather than their CSS family."""
    package = {family.replace(" ", "-"): Path(name).stem for family, name in PACKAGE_FONTS.items()}
    names = set()
    for page in reader.pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            name = str(font.get_object()["/BaseFont"]).lstrip("/").split("+", 1)[-1]
            base, bold = (name[:-5], "-Bold") if name.endswith("-Bold") else (name, "")
            names.add(package[base] + bold if base in package else name)
    return sorted(names)


def _record_fonts(data: bytes) -> bytes:
    """Name the fonts the PDF embeds in its metadata (``/Fonts``, and the keywords)."""
    import io

    from pypdf import PdfReader, PdfWriter

    reader = PdfReader(io.BytesIO(data))
    fonts = embedded_fonts(reader)
    writer = PdfWriter(clone_from=reader)
    info = dict(reader.metadata or {})
    info["/Fonts"] = "、".join(fonts)
    info["/Keywords"] = "字体：" + "、".join(fonts)
    writer.add_metadata(info)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _weasyprint():
    try:
        import weasyprint
    except ImportError as e:
        raise PDFUnavailableError("生成 PDF 需要 WeasyPrint：请在项目环境中安装（make 会自动安装）") from e
    except OSError as e:  # the Pango/GObject libraries are loaded when weasyprint is imported
        raise PDFUnavailableError(
            "生成 PDF 需要系统的 Pango 库，本机没有找到（Debian/Ubuntu：apt-get install libpango-1.0-0 "
            f"libpangoft2-1.0-0；其他系统见 WeasyPrint 安装说明）。详细信息：{e}") from e
    return weasyprint


_PNG_URI = "data:image/png;base64,"


def _rgb_png(url: str) -> bytes:
    """A chart's PNG (a ``data:`` URI) as WeasyPrint embeds it: RGB, stored with the fastest compression.

    PDF images have no palette, so WeasyPrint turns a palette PNG (the report's 300 dpi charts) into RGB and
    compresses it once on reading it and again on writing the PDF; given RGB as a PNG it keeps that data as it
    is until it writes the PDF, so the pixels are compressed once instead of twice.
    """
    import base64
    import io

    from PIL import Image

    png = base64.b64decode(url[len(_PNG_URI):])
    image = Image.open(io.BytesIO(png))
    if image.mode != "P" or "transparency" in image.info:
        return png
    buf = io.BytesIO()
    image.convert("RGB").save(buf, "PNG", compress_level=1, dpi=image.info.get("dpi", (300, 300)))
    return buf.getvalue()


def _local_only(*allowed: Path):
    """A WeasyPrint URL fetcher that loads ``data:`` URIs and files under the ``allowed`` folders, nothing else."""
    from urllib.parse import unquote, urlparse

    import weasyprint

    class LocalOnly(weasyprint.URLFetcher):
        def fetch(self, url, headers=None):
            if url.startswith(_PNG_URI):
                return weasyprint.urls.URLFetcherResponse(url, _rgb_png(url), {"Content-Type": "image/png"})
            if url.startswith("file://"):
                path = Path(unquote(urlparse(url).path)).resolve()
                if not any(folder.resolve() in path.parents for folder in allowed):
                    raise ValueError(f"报告只加载随包字体，不加载其他文件：{url}")
            return super().fetch(url, headers)

    return LocalOnly(allowed_protocols={"data", "file"}, timeout=1)


@functools.cache
def _print_setup():
    """(fetcher, font configuration, stylesheet) for every PDF of this process, made once: parsing the
    ``@font-face`` rules loads each font (the package's WOFF2 fonts decompressed, Noto CJK read whole), half a
    second that every report would otherwise pay again."""
    weasyprint = _weasyprint()
    from weasyprint.text.fonts import FontConfiguration

    fetcher = _local_only(_fonts_folder(), package_fonts_folder())
    fonts = FontConfiguration()  # without it WeasyPrint ignores @font-face rules
    css = weasyprint.CSS(string=font_css(), url_fetcher=fetcher, font_config=fonts)
    return fetcher, fonts, css


_PRINTING = threading.Lock()  # one font configuration, one document at a time


def write_pdf(html: str | Path, path: str | Path) -> Path:
    """Lay out an exported report (``html``: its text or its file) as an A4 PDF at ``path``, atomically."""
    weasyprint = _weasyprint()
    text = Path(html).read_text(encoding="utf-8") if isinstance(html, Path) else html
    with _PRINTING:
        fetcher, fonts, css = _print_setup()
        document = weasyprint.HTML(string=_with_stacks(text), url_fetcher=fetcher, base_url=str(_fonts_folder()))
        data = document.write_pdf(stylesheets=[css], font_config=fonts)
    return atomic_write_bytes(Path(path), _record_fonts(data))
