"""Export an executed notebook to one self-contained HTML report with our nbconvert template.

The template (``templates/nbconvert/zhidang_report``) shows outputs only: no code, no prompts, no
streams, no injected-parameters cell; our CSS is inlined; images are data URIs; no script, no remote URL.
Files are written atomically.
"""

from __future__ import annotations

import base64
import hashlib
import html as html_lib
import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ZhidangError
from ..model.bundled import PACKAGE_DIR, __version__
from ..startup import skip_iri_parsers
from .files import atomic_write_text
from .pdf import write_pdf
from .word import write_docx

if TYPE_CHECKING:  # nbconvert/nbformat load on first export: a kernel displaying figures never needs them
    import nbformat
    from nbconvert import HTMLExporter

TEMPLATE_DIR = PACKAGE_DIR / "templates" / "nbconvert"
TEMPLATE_NAME = "zhidang_report"
REMOVE_TAGS = {"injected-parameters", "parameters", "remove-cell"}

def html_exporter() -> HTMLExporter:
    """Our HTML exporter: the report template, outputs only, parameter cells removed."""
    skip_iri_parsers()
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    exporter = HTMLExporter(
        template_name=TEMPLATE_NAME,
        extra_template_basedirs=[str(TEMPLATE_DIR)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        anchor_link_text="",
    )
    remove = TagRemovePreprocessor(remove_cell_tags=REMOVE_TAGS, enabled=True)
    exporter.register_preprocessor(remove, enabled=True)
    return exporter


def notebook_to_html(nb: nbformat.NotebookNode, *, title: str | None = None) -> str:
    """Render an executed notebook to the report HTML (a string)."""
    if title:
        nb.metadata["title"] = title
    body, _ = html_exporter().from_notebook_node(nb, resources={"zhidang_version": __version__})
    return body


def export_html(notebook: str | Path | nbformat.NotebookNode, html_path: str | Path, *,
                title: str | None = None) -> Path:
    """Export ``notebook`` (path or node) to ``html_path`` atomically and return the path."""
    skip_iri_parsers()
    import nbformat

    nb = notebook if isinstance(notebook, nbformat.NotebookNode) else nbformat.read(notebook, as_version=4)
    return atomic_write_text(Path(html_path), notebook_to_html(nb, title=title))


#: The resolution of charts meant for print (the town report: 300 dpi at the 156 mm text width).
PRINT_DPI = 300


class FigureHTML:
    """A figure embedded as a PNG data URI with a caption; displays as HTML in Jupyter and in the report.

    Building it renders the figure once (:func:`charts.figure_to_png`: laid out once, drawn once, the figure's
    own size in pixels) and closes it, so no pyplot state is left behind.
    """

    def __init__(self, fig, caption: str, *, dpi: int = 110):
        from ..report.charts import figure_to_png  # here: a worker that only exports never imports matplotlib

        # A chart for print: 256 colours keep it a third of the size (charts.palette_png).
        png = figure_to_png(fig, dpi=dpi, colors=256 if dpi >= PRINT_DPI else None)
        try:
            import matplotlib.pyplot as plt

            plt.close(fig)
        except Exception:  # noqa: BLE001 - a Figure() not known to pyplot needs no closing
            pass
        self.png = png
        self.caption = caption

    def _repr_html_(self) -> str:
        """``<figure>`` with the image, its caption and, for a screen, a larger view on a tap with no script: the
        image links to its own figure (``#zd-fig-…``, from the image's bytes), which the report's screen CSS shows
        over the page while it is the target, with a link that closes it (``hidden`` elsewhere: Word, PDF)."""
        data = base64.b64encode(self.png).decode("ascii")
        cap = html_lib.escape(self.caption)
        key = "zd-fig-" + hashlib.sha1(self.png).hexdigest()[:12]
        return (f'<figure id="{key}"><a class="zoom" href="#{key}" title="查看大图">'
                f'<img src="data:image/png;base64,{data}" alt="{cap}"></a>'
                f'<figcaption id="{key}-caption">{cap}</figcaption>'
                f'<a class="zoom-close" href="#{key}-caption" hidden>关闭大图 ×</a></figure>')


# --------------------------------------------------------------------------------------------- formats
#: The formats a report can be written in. HTML is always written: it is the report, and Word and PDF are made
#: from it (so the three say the same thing).
FORMATS = ("html", "docx", "pdf")
_FORMAT_WORDS = {"html": "HTML", "docx": "Word", "pdf": "PDF"}


def parse_formats(text: str | Iterable[str] | None) -> tuple[str, ...]:
    """``"docx,pdf"`` → ``("html", "docx", "pdf")``: the formats asked for, in :data:`FORMATS` order, HTML first.

    >>> parse_formats("pdf, docx"), parse_formats(None)
    (('html', 'docx', 'pdf'), ('html',))
    """
    items = re.split(r"[,，、\s]+", text) if isinstance(text, str) else list(text or [])
    asked = {i.strip().lower().lstrip(".") for i in items if i and i.strip()}
    unknown = sorted(asked - set(FORMATS))
    if unknown:
        raise ZhidangError(f"未知的输出格式“{'、'.join(unknown)}”，可选：{'、'.join(FORMATS)}")
    return tuple(f for f in FORMATS if f == "html" or f in asked)


def format_word(fmt: str) -> str:
    """How a format is named to users: ``docx`` → ``Word``."""
    return _FORMAT_WORDS.get(fmt, fmt)


def format_path(html_path: str | Path, fmt: str) -> Path:
    """The file of ``fmt`` beside an HTML report: ``青石镇.html`` → ``青石镇.docx``."""
    return Path(html_path).with_suffix(f".{fmt}")


def _write_docx(html_path: Path, path: Path) -> Path:
    return write_docx(html_path, path)


def _write_pdf(html_path: Path, path: Path) -> Path:
    return write_pdf(html_path, path)


#: Converters from the HTML report to each other format (a registry: add a format by adding a function).
CONVERTERS = {"docx": _write_docx, "pdf": _write_pdf}


def outdated_formats(html_path: str | Path, formats: Iterable[str]) -> list[str]:
    """The formats (besides HTML) whose file is missing, not a regular file, or older than the HTML report."""
    html_path = Path(html_path)
    try:
        made = html_path.stat().st_mtime_ns
    except OSError:
        return [f for f in formats if f != "html"]
    out = []
    for f in formats:
        if f == "html":
            continue
        p = format_path(html_path, f)
        if not p.is_file() or p.stat().st_mtime_ns < made:
            out.append(f)
    return out


def convert(html_path: str | Path, formats: Iterable[str]) -> dict[str, Path]:
    """Write each of ``formats`` (besides HTML) from the HTML report at ``html_path``, atomically, beside it.
    Returns format → path, HTML included."""
    html_path = Path(html_path)
    made = {"html": html_path}
    for fmt in formats:
        if fmt != "html":
            made[fmt] = CONVERTERS[fmt](html_path, format_path(html_path, fmt))
    return made
