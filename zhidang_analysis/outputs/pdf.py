"""The report as PDF: the exported HTML laid out by WeasyPrint with the report's own print CSS.

Why WeasyPrint: it is a maintained HTML/CSS-to-PDF engine installed from PyPI with the project, it reads the
``@page`` rules the HTML report already has (A4, GB/T 9704 margins, "— 1 —" page numbers, odd right / even
left), and it embeds subsets of the fonts it uses, so the text stays selectable Chinese. It needs the system
Pango library (present on Debian, Ubuntu and most Linux desktops; on Windows see WeasyPrint's installation
notes); where Pango is missing, :func:`write_pdf` says so in Chinese instead of failing with an OSError.

Fonts: the CSS font stacks name the fonts of Chinese office PCs first; their last free entries, Noto Serif CJK SC
and Noto Sans CJK SC, are bound here to the font files that the ``mplfonts`` package installs, so the PDF looks
the same on a machine with no CJK font at all. Nothing is fetched from the network: only ``data:`` URIs and
those font files may be loaded.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from ..errors import ZhidangError
from .files import atomic_write_bytes

__all__ = ["PDFUnavailableError", "write_pdf"]

_FONT_FILES = {
    "Noto Serif CJK SC": "NotoSerifCJKsc-Regular.otf",
    "Noto Sans CJK SC": "NotoSansCJKsc-Regular.otf",
    # 楷体 headings: the stack ends with LXGW WenKai, which few machines have; the serif face stands in for it
    "LXGW WenKai": "NotoSerifCJKsc-Regular.otf",
}


class PDFUnavailableError(ZhidangError):
    """WeasyPrint (or the system Pango library it needs) is not available."""


def _fonts_folder() -> Path:
    spec = importlib.util.find_spec("mplfonts")
    if spec is None or not spec.submodule_search_locations:
        raise ZhidangError("未安装 mplfonts，无法找到 PDF 所需的中文字体（请安装 mplfonts）")
    return Path(next(iter(spec.submodule_search_locations))) / "fonts"


def font_css() -> str:
    """``@font-face`` rules binding the free CJK families of the CSS stacks to mplfonts' font files."""
    folder = _fonts_folder()
    rules = []
    for family, name in _FONT_FILES.items():
        path = folder / name
        if path.is_file():
            rules.append(f'@font-face {{ font-family: "{family}"; src: url("{path.as_uri()}"); }}')
    return "\n".join(rules)


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


def _local_only(allowed: Path):
    """A WeasyPrint URL fetcher that loads ``data:`` URIs and files under ``allowed``, and nothing else."""
    from urllib.parse import unquote, urlparse

    import weasyprint

    class LocalOnly(weasyprint.URLFetcher):
        def fetch(self, url, headers=None):
            if url.startswith("file://"):
                path = Path(unquote(urlparse(url).path)).resolve()
                if allowed.resolve() not in path.parents:
                    raise ValueError(f"报告只加载随包字体，不加载其他文件：{url}")
            return super().fetch(url, headers)

    return LocalOnly(allowed_protocols={"data", "file"}, timeout=1)


def write_pdf(html: str | Path, path: str | Path) -> Path:
    """Lay out an exported report (``html``: its text or its file) as an A4 PDF at ``path``, atomically."""
    weasyprint = _weasyprint()
    text = Path(html).read_text(encoding="utf-8") if isinstance(html, Path) else html
    folder = _fonts_folder()
    fetcher = _local_only(folder)
    document = weasyprint.HTML(string=text, url_fetcher=fetcher, base_url=str(folder))
    data = document.write_pdf(stylesheets=[weasyprint.CSS(string=font_css(), url_fetcher=fetcher)])
    return atomic_write_bytes(Path(path), data)
