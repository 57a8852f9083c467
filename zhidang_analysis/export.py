"""Export an executed notebook to one self-contained HTML report with our nbconvert template.

The template (``templates/nbconvert/zhidang_report``) shows outputs only: no code, no prompts, no
streams, no injected-parameters cell; our CSS is inlined; images are data URIs; no script, no remote URL.
Files are written atomically.
"""

from __future__ import annotations

import base64
import html as html_lib
import os
import re
import tempfile
import unicodedata
from pathlib import Path

from typing import TYPE_CHECKING

from . import __version__

if TYPE_CHECKING:  # nbconvert/nbformat load on first export: a kernel displaying figures never needs them
    import nbformat
    from nbconvert import HTMLExporter

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates" / "nbconvert"
TEMPLATE_NAME = "zhidang_report"
REMOVE_TAGS = {"injected-parameters", "parameters", "remove-cell"}

_UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}


def safe_filename(name: str, default: str = "未命名") -> str:
    """A town name made safe as a file name on Windows, macOS and Linux (Chinese kept).

    >>> safe_filename('<b>&"\\'镇')
    "_b_&_'镇"
    >>> safe_filename("../青石镇")   # no separator is left, so it cannot climb out of the folder
    '_青石镇'
    >>> safe_filename("CON")
    '_CON'
    """
    s = unicodedata.normalize("NFC", str(name))
    s = _UNSAFE.sub("_", s).strip(" .")
    if not s:
        s = default
    if s.split(".")[0].upper() in _RESERVED:
        s = "_" + s
    return s[:120]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder and ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; a report is an ordinary file
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: Path, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def html_exporter() -> HTMLExporter:
    """Our HTML exporter: the report template, outputs only, parameter cells removed."""
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
    import nbformat

    nb = notebook if isinstance(notebook, nbformat.NotebookNode) else nbformat.read(notebook, as_version=4)
    return atomic_write_text(Path(html_path), notebook_to_html(nb, title=title))


class FigureHTML:
    """A figure embedded as a PNG data URI with a caption; displays as HTML in Jupyter and in the report.

    Building it renders and closes the matplotlib figure, so no pyplot state is left behind.
    """

    def __init__(self, fig, caption: str, *, dpi: int = 110):
        from io import BytesIO

        buf = BytesIO()
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
        try:
            import matplotlib.pyplot as plt

            plt.close(fig)
        except Exception:  # noqa: BLE001 - a Figure() not known to pyplot needs no closing
            pass
        self.png = buf.getvalue()
        self.caption = caption

    def _repr_html_(self) -> str:
        data = base64.b64encode(self.png).decode("ascii")
        cap = html_lib.escape(self.caption)
        return (f'<figure><img src="data:image/png;base64,{data}" alt="{cap}">'
                f"<figcaption>{cap}</figcaption></figure>")
