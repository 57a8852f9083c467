"""Export an executed notebook to one self-contained HTML report with our nbconvert template.

The template (``templates/nbconvert/zhidang_report``) shows outputs only: no code, no prompts, no
streams, no injected-parameters cell; our CSS is inlined; images are data URIs; no script, no remote URL.
Files are written atomically.
"""

from __future__ import annotations

import base64
import hashlib
import html as html_lib
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterable
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

#: Longest file-name stem, in UTF-8 bytes (40 Chinese characters). File systems allow 255 bytes per name; the
#: rest is left for the suffix (``.ipynb``), the temporary names of atomic writes (``.<name>.<random>.tmp``) and
#: the template's ``2026年…指标填报表.xlsx``.
STEM_MAX_BYTES = 120
#: Stems the batch writes itself in ``<out>/<year>/``: a town can never take them (compared ignoring case).
RESERVED_STEMS = frozenset({"overview", "index", "manifest", "checks"})
HASH_DIGITS = 8


def cut_utf8(text: str, max_bytes: int) -> str:
    """``text`` cut to at most ``max_bytes`` bytes of UTF-8, never inside a character.

    >>> cut_utf8("青石镇", 7)
    '青石'
    """
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text
    return data[:max(0, max_bytes)].decode("utf-8", errors="ignore")


def safe_filename(name: str, default: str = "未命名", max_bytes: int = STEM_MAX_BYTES) -> str:
    """A town name made safe as a file name on Windows, macOS and Linux (Chinese kept), at most ``max_bytes``
    bytes of UTF-8.

    This is one name on its own: two names can give the same result (``a/b`` and ``a_b``). Files that must
    not collide are named by :func:`output_stems`.

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
    return cut_utf8(s, max_bytes).rstrip(" .") or default


def name_hash(name: str, digits: int = HASH_DIGITS) -> str:
    """The first ``digits`` hex digits of the SHA-256 of ``name`` (UTF-8): the same on every machine and run."""
    return hashlib.sha256(str(name).encode("utf-8")).hexdigest()[:digits]


def _hashed(safe: str, name: str, digits: int, max_bytes: int) -> str:
    suffix = f"-{name_hash(name, digits)}"
    return cut_utf8(safe, max_bytes - len(suffix)).rstrip(" .") + suffix


def output_stems(names: Iterable[str], *, reserved: Iterable[str] = RESERVED_STEMS,
                 max_bytes: int = STEM_MAX_BYTES) -> dict[str, str]:
    """A distinct file-name stem for each of ``names`` (town names): name → stem.

    The rule (README, “输出文件名”):

    1. A name that is a safe file name as it is (``青石镇``) is its own stem.
    2. Any other name is made safe by :func:`safe_filename` (``a/b`` → ``a_b``).
    3. A name whose safe form is one of ``reserved`` (``overview``, ``index``, ``manifest``, ignoring case) or
       longer than ``max_bytes`` bytes of UTF-8 gets ``-`` and the first 8 hex digits of the SHA-256 of the
       name, cut (by bytes, never inside a character) so that the whole stem fits: ``overview-<hash>``.
    4. Stems are compared ignoring case (Windows and macOS file systems). When several names share a stem, a
       name that is its own stem (rule 1) keeps it and every other name of the group gets the hash suffix
       (``a/b`` → ``a_b-<hash>`` beside the town ``a_b``); when two names are each their own stem (``Abc``,
       ``abc``), both get it. A stem still shared after that (identical hash prefixes) gets a longer hash.

    So stems are stable across runs: a stem depends on its own name only, except that a changed name (rule 2)
    gets the hash when another name takes the same stem. Adding a town therefore never renames the file of a
    town whose name is a safe file name (unless the new name differs from it only in case), nor of a reserved
    or cut name; it renames a changed name only when the new town's name is, or changes to, the same stem.
    Raises :class:`ZhidangError` if distinct stems cannot be made (not seen in practice).

    >>> output_stems(["青石镇", "a/b", "a_b", "overview"])  # doctest: +NORMALIZE_WHITESPACE
    {'青石镇': '青石镇', 'a/b': 'a_b-c14cddc0', 'a_b': 'a_b', 'overview': 'overview-bd445c46'}
    """
    from .errors import ZhidangError

    names = list(dict.fromkeys(str(n) for n in names))
    reserved_cf = {r.casefold() for r in reserved}
    safe = {n: safe_filename(n, max_bytes=1 << 30) for n in names}
    stems = {}
    for n in names:
        s = safe[n]
        stems[n] = (_hashed(s, n, HASH_DIGITS, max_bytes)
                    if s.casefold() in reserved_cf or len(s.encode("utf-8")) > max_bytes else s)
    for digits in (HASH_DIGITS, 16, 64):
        groups: dict[str, list[str]] = {}
        for n in names:
            groups.setdefault(stems[n].casefold(), []).append(n)
        clashes = [g for g in groups.values() if len(g) > 1]
        if not clashes:
            return stems
        for group in clashes:
            own = [n for n in group if stems[n] == n]
            for n in group:
                if len(own) != 1 or n != own[0]:
                    stems[n] = _hashed(safe[n], n, digits, max_bytes)
    groups = {}
    for n in names:
        groups.setdefault(stems[n].casefold(), []).append(n)
    clashes = [g for g in groups.values() if len(g) > 1]
    if clashes:
        raise ZhidangError("这些乡镇名称无法生成互不相同的文件名：" + "；".join("、".join(g) for g in clashes))
    return stems


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

    Building it renders the figure once (:func:`charts.figure_to_png`: laid out once, drawn once, the figure's
    own size in pixels) and closes it, so no pyplot state is left behind.
    """

    def __init__(self, fig, caption: str, *, dpi: int = 110):
        from .charts import figure_to_png

        png = figure_to_png(fig, dpi=dpi)
        try:
            import matplotlib.pyplot as plt

            plt.close(fig)
        except Exception:  # noqa: BLE001 - a Figure() not known to pyplot needs no closing
            pass
        self.png = png
        self.caption = caption

    def _repr_html_(self) -> str:
        data = base64.b64encode(self.png).decode("ascii")
        cap = html_lib.escape(self.caption)
        return (f'<figure><img src="data:image/png;base64,{data}" alt="{cap}">'
                f"<figcaption>{cap}</figcaption></figure>")


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
    from .errors import ZhidangError

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
    from .word import write_docx

    return write_docx(html_path, path)


def _write_pdf(html_path: Path, path: Path) -> Path:
    from .pdf import write_pdf

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
