"""Reading workbooks: every sheet of an Excel/ODS file as a raw frame aligned to A1, and nothing guessed.

``.xlsx``/``.xlsm`` are read with python-calamine (values) plus a scan of the sheet XML for what calamine does not
show (Excel error values, percent styles, merged ranges, formulas without a saved result), openpyxl only for a
package that reader cannot read: the same frames, about ten times faster than openpyxl cell by cell.
``.xls`` and ``.ods`` with python-calamine, plus a scan of the file itself for what calamine does not show
(Excel error values, percent formats, merged cells). What a cell holds
that is not a plain value comes back typed, for :mod:`~zhidang_analysis.inputs` to report with its cell: a
formula saved without its result is an :class:`Uncomputed`, a percent-formatted number a :class:`Percent`.
Workbooks that are password-protected, not what their suffix says, or beyond :data:`MAX_UNCOMPRESSED_BYTES` /
:data:`MAX_ROWS` (a zip bomb) raise :class:`ReadRefused` before they are parsed. Files are only ever read.
"""

from __future__ import annotations

import functools
import re
import struct
import zipfile
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".ods"}
# Files that look like spreadsheet data but are not read: each one in a folder is named in an error.
# (.xlsb is among them: its Excel error values and merged cells cannot be seen by the reader in use.)
UNREAD_SUFFIXES = {
    ".et": "WPS表格文件", ".ett": "WPS表格模板", ".wps": "WPS文字文件", ".numbers": "Numbers表格",
    ".xlsb": "Excel二进制工作簿", ".xlt": "Excel模板", ".xltx": "Excel模板", ".xltm": "Excel模板",
    ".fods": "OpenDocument平面表格", ".sxc": "OpenOffice表格", ".tsv": "制表符分隔文本", ".dbf": "dBase表",
}
# Resource limits, far above any real county workbook (a few hundred rows, well under 10 MB): a workbook
# beyond them is refused before it is parsed, so a crafted file (a zip bomb) cannot exhaust the machine.
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
MAX_ROWS = 100_000
#: How a cell says "not applicable" (不适用): a dash, a slash or the words. Number cells read them as ``na``; the
#: town's text fields (towntext) read them as nothing written.
NA_TOKENS = frozenset({"—", "——", "-", "--", "－", "/", "／", "不适用", "无此项"})
EXCEL_ERRORS = {"#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!", "#GETTING_DATA", "#SPILL!", "#CALC!"}


class Percent(float):
    """A number from a cell formatted as a percentage: ``Percent(0.85)`` is what Excel shows as ``85%``."""

    def __str__(self) -> str:
        return f"{float(self) * 100:.15g}%"

    __repr__ = __str__


class Uncomputed(str):
    """A formula cell saved without its result (written by a program, or never calculated by Excel/WPS);
    the text is the formula, ``=SUM(B5:B7)``."""


def expand(paths: Iterable[str | Path]) -> list[Path]:
    """The files under ``paths``: every workbook and CSV of a folder, and the files of a folder in a format
    that is not read (:data:`UNREAD_SUFFIXES`), so that :func:`validate` names them."""
    files: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            files += sorted(
                f for f in p.iterdir()
                if f.is_file() and f.suffix.lower() in EXCEL_SUFFIXES | {".csv"} | set(UNREAD_SUFFIXES)
                and not f.name.startswith(("~$", "."))
            )
        else:
            files.append(p)
    return files


class ReadRefused(Exception):
    """A workbook that is not parsed: ``message`` and ``expected`` in Chinese (and the sheet, if one)."""

    def __init__(self, message: str, expected: str, sheet: str | None = None):
        super().__init__(message)
        self.message, self.expected, self.sheet = message, expected, sheet


_CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an OLE compound file: .xls, or an encrypted .xlsx
_ZIP_MAGIC = b"PK\x03\x04"
_PASSWORD_HELP = ("没有打开密码的文件：在Excel中点“文件→信息→保护工作簿→用密码进行加密”，清空密码后保存"
                  "（WPS：“文件→文档加密→密码加密”，清空打开密码后保存），再重新校验")
MEGABYTE = 1024 * 1024


def read_workbook(path: Path) -> dict[str, pd.DataFrame]:
    """All sheets as raw object frames aligned to A1 (row i, col j is cell_name(i, j)).

    ``.xlsx``/``.xlsm`` are read with python-calamine and the sheet XML (:func:`_read_openpyxl`; cached results
    of formulas; Excel error cells keep their text, ``#DIV/0!``); ``.xls`` and ``.ods`` with python-calamine, plus a scan of the file itself for what
    calamine does not show (error values, percent formats, and for ``.ods`` merged cells). In the frames, a
    formula saved without its result is an :class:`Uncomputed` and a percent-formatted number a
    :class:`Percent`; ``df.attrs["merged"]`` lists the sheet's merged ranges as 0-based inclusive
    ``(row0, col0, row1, col1)``. Raises :class:`ReadRefused` for a password-protected workbook, a file
    whose content is not what its suffix says, and one beyond :data:`MAX_UNCOMPRESSED_BYTES` or
    :data:`MAX_ROWS`.
    """
    suffix = path.suffix.lower()
    size = path.stat().st_size
    if size > MAX_UNCOMPRESSED_BYTES:
        raise ReadRefused(f"文件太大（{size / MEGABYTE:.0f} MB），超过上限{MAX_UNCOMPRESSED_BYTES / MEGABYTE:.0f} MB，未读取",
                          f"不超过{MAX_UNCOMPRESSED_BYTES / MEGABYTE:.0f} MB的工作簿")
    with path.open("rb") as fh:
        magic = fh.read(8)
    if magic == _CFB_MAGIC and suffix != ".xls":
        if "EncryptedPackage".encode("utf-16-le") in path.read_bytes():
            raise ReadRefused("工作簿设置了打开密码（已加密），无法读取", _PASSWORD_HELP)
        raise ReadRefused(f"文件内容是旧版Excel（.xls）格式，扩展名却是“{path.suffix}”",
                          "扩展名改为 .xls，或在Excel中另存为 .xlsx")
    if suffix in {".xlsx", ".xlsm", ".ods"}:
        if magic[:4] != _ZIP_MAGIC:
            raise ReadRefused(f"无法读取Excel文件：不是有效的{suffix}工作簿（可能已损坏，或是其他格式的文件改了扩展名）",
                              f"可以用Excel或WPS打开的{suffix}文件")
        _check_zip(path)
    if suffix in {".xlsx", ".xlsm"}:
        sheets = _read_openpyxl(path)
    else:
        sheets = _read_calamine(path)
    for name, df in sheets.items():
        if len(df) > MAX_ROWS:
            raise ReadRefused(f"工作表有{len(df)}行，超过上限{MAX_ROWS}行，未读取（如果是带格式的空白行，请删除多余的行）",
                              f"不超过{MAX_ROWS}行的工作表", name)
    return sheets


def _check_zip(path: Path) -> None:
    """Refuse a zipped workbook whose declared content or a sheet's declared dimension is beyond the limits,
    before anything is inflated (a zip bomb: a few KB that inflate to gigabytes)."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            total = sum(i.file_size for i in infos)
            if total > MAX_UNCOMPRESSED_BYTES:
                raise ReadRefused(f"工作簿解压后有{total / MEGABYTE:.0f} MB，超过上限{MAX_UNCOMPRESSED_BYTES / MEGABYTE:.0f} MB，"
                                  "未读取（文件可能已损坏或是恶意构造的）",
                                  f"解压后不超过{MAX_UNCOMPRESSED_BYTES / MEGABYTE:.0f} MB的工作簿")
            for info in infos:
                if not (info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml")):
                    continue
                with zf.open(info) as fh:
                    head = fh.read(4096)
                m = re.search(rb'<(?:\w+:)?dimension\s+ref="[A-Z]{1,3}\d+:[A-Z]{1,3}(\d+)"', head)
                if m and int(m.group(1)) > MAX_ROWS:
                    raise ReadRefused(f"工作表声明有{int(m.group(1))}行，超过上限{MAX_ROWS}行，未读取"
                                      "（如果是带格式的空白行，请删除多余的行）", f"不超过{MAX_ROWS}行的工作表")
    except zipfile.BadZipFile as e:
        raise ReadRefused(f"无法读取Excel文件：不是有效的{path.suffix}工作簿（{e}）", "可以用Excel或WPS打开的工作簿") from None


@functools.lru_cache(maxsize=256)
def _is_percent_format(fmt: str) -> bool:
    """An Excel number format that shows a number as a percentage (``0%``, ``0.00%``; not ``"%"`` quoted)."""
    return "%" in re.sub(r'"[^"]*"|\\.|\[[^\]]*\]', "", fmt or "")


def _read_openpyxl(path: Path) -> dict[str, pd.DataFrame]:
    """The reader of ``.xlsx``/``.xlsm``: :func:`_read_xlsx_calamine` (values by python-calamine, the rest
    from the sheet XML), and openpyxl (:func:`_read_xlsx_openpyxl`) for a package the fast reader cannot read.
    Both give the same frames, cell by cell (types included), merged ranges and all."""
    try:
        sheets = _read_xlsx_calamine(path)
    except ReadRefused:
        raise
    except Exception:  # noqa: BLE001 - anything the fast reader cannot read is read by openpyxl
        return _read_xlsx_openpyxl(path)
    return sheets


def _read_xlsx_openpyxl(path: Path) -> dict[str, pd.DataFrame]:
    """Every sheet read cell by cell with openpyxl (number formats, merged ranges), formulas without a
    result from :func:`_uncomputed_formulas`: slow (about ten times python-calamine), the fallback."""
    from openpyxl import load_workbook

    wb = load_workbook(path, data_only=True)
    try:
        sheets: dict[str, pd.DataFrame] = {}
        for ws in wb.worksheets:
            rows = []
            for row in ws.iter_rows(min_row=1, min_col=1):
                values = []
                for c in row:
                    v = c.value
                    if type(v) in (int, float) and _is_percent_format(c.number_format):
                        v = Percent(v)
                    values.append(v)
                rows.append(values)
            df = pd.DataFrame(rows, dtype=object)
            df.attrs["merged"] = [(r.min_row - 1, r.min_col - 1, r.max_row - 1, r.max_col - 1)
                                  for r in ws.merged_cells.ranges]
            sheets[ws.title] = df
    finally:
        wb.close()
    for title, cells in _uncomputed_formulas(path).items():
        df = sheets.get(title)
        for (i, j), formula in cells.items():
            if df is not None and i < df.shape[0] and j < df.shape[1] and df.iat[i, j] in (None, ""):
                df.iat[i, j] = Uncomputed(formula)
    return sheets


_CELL_REF = re.compile(rb'\br="([A-Z]{1,3})(\d+)"')
_MERGE_REF = re.compile(rb'<(?:\w+:)?mergeCell\s[^>]*?\bref="([A-Z]{1,3})(\d+)(?::([A-Z]{1,3})(\d+))?"')
_ERROR_CELL = re.compile(rb'<(?:\w+:)?c\s([^>]*?\bt="e"[^>]*)>(.*?)</(?:\w+:)?c>', re.S)
_VALUE = re.compile(rb"<(?:\w+:)?v>([^<]*)</(?:\w+:)?v>")


def _col_index(letters: bytes | str) -> int:
    col = 0
    for ch in letters if isinstance(letters, str) else letters.decode():
        col = col * 26 + ord(ch) - 64
    return col - 1


def _percent_styles(zf: zipfile.ZipFile) -> set[int]:
    """Indices of the cell styles (``s="…"`` of a cell) whose number format shows a percentage."""
    import xml.etree.ElementTree as ET

    try:
        root = ET.fromstring(zf.read("xl/styles.xml"))
    except KeyError:
        return set()
    formats = {9: "0%", 10: "0.00%"}
    for el in root.iter(f"{_NS_MAIN}numFmt"):
        try:
            formats[int(el.get("numFmtId"))] = el.get("formatCode", "")
        except (TypeError, ValueError):
            continue
    xfs = root.find(f"{_NS_MAIN}cellXfs")
    if xfs is None:
        return set()
    return {k for k, xf in enumerate(xfs.findall(f"{_NS_MAIN}xf"))
            if _is_percent_format(formats.get(int(xf.get("numFmtId", "0") or 0), ""))}


def _sheet_titles(zf: zipfile.ZipFile) -> dict[str, str]:
    """Path of each worksheet's XML in the package → the sheet's title."""
    import posixpath
    import xml.etree.ElementTree as ET

    rels = ET.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    target = {r.get("Id"): r.get("Target", "") for r in rels}
    titles: dict[str, str] = {}
    for sh in ET.fromstring(zf.read("xl/workbook.xml")).iter(f"{_NS_MAIN}sheet"):
        t = target.get(sh.get(f"{_NS_REL}id"), "")
        t = t.lstrip("/") if t.startswith("/") else posixpath.normpath(posixpath.join("xl", t))
        titles[t] = sh.get("name")
    return titles


def _read_xlsx_calamine(path: Path) -> dict[str, pd.DataFrame]:
    """The same frames as :func:`_read_openpyxl`, ten times faster: values from python-calamine, and what
    calamine does not tell from the sheet XML itself (C-speed regular expressions that touch only the cells
    concerned): merged ranges, Excel error values (``t="e"``), numbers in a percent style, formulas saved
    without a result (:func:`_uncomputed_formulas`). Numbers come back as openpyxl gives them (a whole number
    as ``int``, a date as ``datetime``)."""
    from datetime import date, datetime

    from python_calamine import CalamineWorkbook

    extras: dict[str, dict] = {}
    formulas = False
    with zipfile.ZipFile(path) as zf:
        titles = _sheet_titles(zf)
        percent = _percent_styles(zf)
        style = (re.compile(rb'<(?:\w+:)?c\s([^>]*?\bs="(?:' + "|".join(map(str, sorted(percent))).encode()
                            + rb')"[^>]*)>') if percent else None)
        for name, title in titles.items():
            if not name.startswith("xl/worksheets/"):
                continue  # a chart sheet: openpyxl has no worksheet for it either
            try:
                xml = zf.read(name)
            except KeyError:
                continue
            formulas = formulas or _has_formula(xml)
            cells: dict[tuple[int, int], object] = {}
            for m in _ERROR_CELL.finditer(xml) if b't="e"' in xml else ():
                ref, v = _CELL_REF.search(m.group(1)), _VALUE.search(m.group(2))
                if ref and v:
                    cells[(int(ref.group(2)) - 1, _col_index(ref.group(1)))] = v.group(1).decode()
            pct: set[tuple[int, int]] = set()
            if style is not None:
                for m in style.finditer(xml):
                    ref = _CELL_REF.search(m.group(1))
                    if ref:
                        pct.add((int(ref.group(2)) - 1, _col_index(ref.group(1))))
            merged = []
            for a, r0, b, r1 in _MERGE_REF.findall(xml) if b"mergeCell" in xml else ():
                c0, c1 = _col_index(a), _col_index(b or a)
                merged.append((int(r0) - 1, c0, int(r1 or r0) - 1, c1))
            extras[title] = {"cells": cells, "percent": pct, "merged": merged}
    uncomputed = _uncomputed_formulas(path) if formulas else {}

    wb = CalamineWorkbook.from_path(str(path))
    try:
        sheets: dict[str, pd.DataFrame] = {}
        for title in wb.sheet_names:
            if title not in extras:
                continue  # a chart sheet: openpyxl has no worksheet for it either
            rows = wb.get_sheet_by_name(title).to_python(skip_empty_area=False)
            rows = [[None if v == "" else int(v) if type(v) is float and v.is_integer() and abs(v) < 2**53
                     else datetime(v.year, v.month, v.day) if type(v) is date else v for v in row]
                    for row in rows]
            extra = extras[title]
            marks = dict(extra["cells"])
            marks.update({k: Uncomputed(f) for k, f in uncomputed.get(title, {}).items()})
            for (i, j), mark in marks.items():
                while len(rows) <= i:
                    rows.append([])
                if len(rows[i]) <= j:
                    rows[i].extend([None] * (j + 1 - len(rows[i])))
                if rows[i][j] in (None, ""):
                    rows[i][j] = mark
            for i, j in extra["percent"]:
                if i < len(rows) and j < len(rows[i]) and type(rows[i][j]) in (int, float):
                    rows[i][j] = Percent(rows[i][j])
            width = max((len(r) for r in rows), default=0)
            df = pd.DataFrame([r + [None] * (width - len(r)) for r in rows], dtype=object)
            df.attrs["merged"] = extra["merged"]
            sheets[title] = df
    finally:
        wb.close()
    return sheets


_NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[\s>/]")


def _has_formula(xml: bytes) -> bool:
    """Whether a sheet's XML has a formula element (``<f>``, ``<x:f …>``); plain substring tests first."""
    return (b"<f" in xml or b":f" in xml) and _FORMULA_TAG.search(xml) is not None


def _uncomputed_formulas(path: Path) -> dict[str, dict[tuple[int, int], str]]:
    """Per sheet title, the formula cells saved without a result: a ``<f>`` with no ``<v>``, or an empty
    ``<v>`` in a cell that is not text (openpyxl writes ``<f>SUM(B5:B7)</f><v></v>``). A cheap byte scan
    first: only a sheet with a formula at all is parsed again."""
    import posixpath
    import xml.etree.ElementTree as ET

    out: dict[str, dict[tuple[int, int], str]] = {}
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        sheet_xml = [n for n in names if n.startswith("xl/worksheets/") and n.endswith(".xml")]
        with_formulas = [n for n in sheet_xml if _has_formula(zf.read(n))]
        if not with_formulas:
            return out
        titles: dict[str, str] = {}
        try:
            rels = ET.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
            target = {r.get("Id"): r.get("Target", "") for r in rels}
            for sh in ET.fromstring(zf.read("xl/workbook.xml")).iter(f"{_NS_MAIN}sheet"):
                t = target.get(sh.get(f"{_NS_REL}id"), "")
                t = t.lstrip("/") if t.startswith("/") else posixpath.normpath(posixpath.join("xl", t))
                titles[t] = sh.get("name")
        except (KeyError, ET.ParseError):
            return out
        for name in with_formulas:
            title = titles.get(name)
            if title is None:
                continue
            cells: dict[tuple[int, int], str] = {}
            with zf.open(name) as fh:
                for _, el in ET.iterparse(fh):
                    if el.tag == f"{_NS_MAIN}row":
                        el.clear()
                    if el.tag != f"{_NS_MAIN}c":
                        continue
                    f, v = el.find(f"{_NS_MAIN}f"), el.find(f"{_NS_MAIN}v")
                    ref = el.get("r")
                    if f is not None and (v is None or (not (v.text or "") and el.get("t") not in {"str", "s", "inlineStr"})):
                        m = re.match(r"([A-Z]+)(\d+)$", ref or "")
                        if m:
                            col = 0
                            for ch in m.group(1):
                                col = col * 26 + ord(ch) - 64
                            cells[(int(m.group(2)) - 1, col - 1)] = "=" + f.text if f.text else "=（共享公式）"
            if cells:
                out[title] = cells
    return out


def _read_calamine(path: Path) -> dict[str, pd.DataFrame]:
    from python_calamine import CalamineWorkbook, PasswordError

    suffix = path.suffix.lower()
    extras: dict[str, dict] = {}
    if suffix == ".xls":
        extras = _xls_extras(path)
    elif suffix == ".ods":
        extras = _ods_extras(path)
    try:
        wb = CalamineWorkbook.from_path(str(path))
    except PasswordError:
        raise ReadRefused("工作簿设置了打开密码（已加密），无法读取", _PASSWORD_HELP) from None
    try:
        sheets: dict[str, pd.DataFrame] = {}
        for name in wb.sheet_names:
            sh = wb.get_sheet_by_name(name)
            rows = [[None if isinstance(v, str) and v == "" else v for v in row]
                    for row in sh.to_python(skip_empty_area=False)]
            extra = extras.get(name, {})
            for (i, j), mark in extra.get("cells", {}).items():
                if mark is not Percent:  # an Excel error value, which calamine reads as empty
                    while len(rows) <= i:
                        rows.append([])
                    rows[i].extend([None] * (j + 1 - len(rows[i])))
                    if rows[i][j] is None:
                        rows[i][j] = mark
                elif i < len(rows) and j < len(rows[i]) and type(rows[i][j]) in (int, float):
                    rows[i][j] = Percent(rows[i][j])
            width = max((len(r) for r in rows), default=0)
            df = pd.DataFrame([r + [None] * (width - len(r)) for r in rows], dtype=object)
            merged = [(a, b, c, d) for (a, b), (c, d) in (sh.merged_cell_ranges or [])]
            df.attrs["merged"] = sorted(set(merged) | set(extra.get("merged", [])))
            sheets[name] = df
    finally:
        wb.close()
    return sheets


# BIFF8 (.xls): error codes of BOOLERR/FORMULA records, built-in percent formats (0%, 0.00%).
_BIFF_ERRORS = {0x00: "#NULL!", 0x07: "#DIV/0!", 0x0F: "#VALUE!", 0x17: "#REF!", 0x1D: "#NAME?", 0x24: "#NUM!",
                0x2A: "#N/A", 0x2B: "#GETTING_DATA"}


def _cfb_stream(data: bytes, wanted: tuple[str, ...]) -> bytes | None:
    """The first stream named in ``wanted`` from an OLE compound file (the container of an .xls)."""
    def u16(o: int) -> int:
        return struct.unpack_from("<H", data, o)[0]

    def u32(o: int) -> int:
        return struct.unpack_from("<I", data, o)[0]

    ss, mss = 1 << u16(0x1E), 1 << u16(0x20)
    n_fat, dir_start, cutoff, minifat_start = u32(0x2C), u32(0x30), u32(0x38), u32(0x3C)
    difat_next, n_difat = u32(0x44), u32(0x48)
    per = ss // 4

    def sector(sid: int) -> bytes:
        return data[(sid + 1) * ss:(sid + 2) * ss].ljust(ss, b"\0")

    difat = list(struct.unpack_from("<109I", data, 0x4C))
    for _ in range(n_difat):
        if difat_next >= 0xFFFFFFFA:
            break
        ids = struct.unpack(f"<{per}I", sector(difat_next))
        difat += ids[:-1]
        difat_next = ids[-1]
    fat: list[int] = []
    for sid in difat[:n_fat]:
        fat.extend(struct.unpack(f"<{per}I", sector(sid)))

    def chain(start: int, table: list[int]) -> list[int]:
        out = []
        while start < 0xFFFFFFFA:
            if start >= len(table) or len(out) > len(table):
                raise ValueError("broken sector chain")
            out.append(start)
            start = table[start]
        return out

    directory = b"".join(sector(sid) for sid in chain(dir_start, fat))
    entries = []
    for k in range(len(directory) // 128):
        e = directory[k * 128:(k + 1) * 128]
        n = struct.unpack_from("<H", e, 64)[0]
        entries.append((e[:max(0, n - 2)].decode("utf-16-le", "replace"), e[66],
                        struct.unpack_from("<I", e, 116)[0], struct.unpack_from("<I", e, 120)[0]))
    if not entries:
        return None
    by_name = {name: (start, size) for name, kind, start, size in entries[1:] if kind == 2}
    for name in wanted:
        if name not in by_name:
            continue
        start, size = by_name[name]
        if size < cutoff:
            root_start, root_size = entries[0][2], entries[0][3]
            mini = b"".join(sector(sid) for sid in chain(root_start, fat))[:root_size]
            minifat: list[int] = []
            for sid in chain(minifat_start, fat):
                minifat.extend(struct.unpack(f"<{per}I", sector(sid)))
            blob = b"".join(mini[m * mss:(m + 1) * mss] for m in chain(start, minifat))
        else:
            blob = b"".join(sector(sid) for sid in chain(start, fat))
        return blob[:size]
    return None


def _biff_text(body: bytes, offset: int, count_size: int) -> str:
    """An XLUnicodeString (``count_size`` 2) or ShortXLUnicodeString (1) of a BIFF8 record."""
    n = body[offset] if count_size == 1 else struct.unpack_from("<H", body, offset)[0]
    flags = body[offset + count_size]
    start = offset + count_size + 1
    if flags & 1:
        return body[start:start + 2 * n].decode("utf-16-le", "replace")
    return body[start:start + n].decode("latin-1")


def _xls_extras(path: Path) -> dict[str, dict]:
    """What calamine does not show of an .xls, per sheet name: ``cells`` maps (row, col) to an Excel error
    text (``#DIV/0!``, from BOOLERR and FORMULA records) or to :class:`Percent` (a number whose format is a
    percentage). A password-protected workbook (FILEPASS record) raises :class:`ReadRefused`. Anything this
    small reader does not understand leaves the file to calamine alone."""
    try:
        stream = _cfb_stream(path.read_bytes(), ("Workbook",))
    except (ValueError, struct.error, IndexError):
        return {}
    if not stream:
        return {}
    formats = {9: "0%", 10: "0.00%"}
    xf_format: list[int] = []
    sheets: list[tuple[int, str]] = []
    pos = 0
    try:
        while pos + 4 <= len(stream):
            rtype, rlen = struct.unpack_from("<HH", stream, pos)
            body = stream[pos + 4:pos + 4 + rlen]
            pos += 4 + rlen
            if rtype == 0x002F:  # FILEPASS
                raise ReadRefused("工作簿设置了打开密码（已加密），无法读取", _PASSWORD_HELP)
            if rtype == 0x041E:  # FORMAT
                formats[struct.unpack_from("<H", body, 0)[0]] = _biff_text(body, 2, 2)
            elif rtype == 0x00E0:  # XF
                xf_format.append(struct.unpack_from("<H", body, 2)[0])
            elif rtype == 0x0085:  # BOUNDSHEET
                sheets.append((struct.unpack_from("<I", body, 0)[0], _biff_text(body, 6, 1)))
            elif rtype == 0x000A:  # EOF of the workbook globals
                break
        percent_xf = {k for k, f in enumerate(xf_format) if _is_percent_format(formats.get(f, ""))}
        out: dict[str, dict] = {}
        for offset, name in sheets:
            cells: dict[tuple[int, int], object] = {}
            pos = offset
            while pos + 4 <= len(stream):
                rtype, rlen = struct.unpack_from("<HH", stream, pos)
                body = stream[pos + 4:pos + 4 + rlen]
                pos += 4 + rlen
                if rtype == 0x000A:
                    break
                if rtype in (0x0203, 0x027E, 0x0006, 0x0205) and rlen >= 8:  # NUMBER, RK, FORMULA, BOOLERR
                    row, col, xf = struct.unpack_from("<HHH", body, 0)
                    if rtype == 0x0205:
                        if body[7]:
                            cells[(row, col)] = _BIFF_ERRORS.get(body[6], "#N/A")
                        continue
                    if rtype == 0x0006 and body[12:14] == b"\xff\xff":
                        if body[6] == 2:
                            cells[(row, col)] = _BIFF_ERRORS.get(body[8], "#N/A")
                        continue
                    if xf in percent_xf:
                        cells[(row, col)] = Percent
                elif rtype == 0x00BD and rlen >= 6:  # MULRK
                    row, col = struct.unpack_from("<HH", body, 0)
                    for k in range((rlen - 6) // 6):
                        if struct.unpack_from("<H", body, 4 + 6 * k)[0] in percent_xf:
                            cells[(row, col + k)] = Percent
            out[name] = {"cells": cells}
        return out
    except (struct.error, IndexError):
        return {}


def _ods_extras(path: Path) -> dict[str, dict]:
    """What calamine does not show of an .ods, per sheet name: ``cells`` (error values, percentages) and
    ``merged`` (cells spanning rows or columns), from a streaming pass over content.xml."""
    import xml.etree.ElementTree as ET

    t = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
    o = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
    c = "{urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0}"
    out: dict[str, dict] = {}
    try:
        with zipfile.ZipFile(path) as zf, zf.open("content.xml") as fh:
            sheet = None
            row = col = 0
            for event, el in ET.iterparse(fh, events=("start", "end")):
                if event == "start":
                    if el.tag == f"{t}table":
                        sheet = out.setdefault(el.get(f"{t}name"), {"cells": {}, "merged": []})
                        row = 0
                    elif el.tag == f"{t}table-row":
                        col = 0
                    continue
                if el.tag == f"{t}table-row":
                    row += int(el.get(f"{t}number-rows-repeated", "1"))
                    el.clear()
                elif el.tag in (f"{t}table-cell", f"{t}covered-table-cell") and sheet is not None:
                    repeat = int(el.get(f"{t}number-columns-repeated", "1"))
                    rows_spanned = int(el.get(f"{t}number-rows-spanned", "1"))
                    cols_spanned = int(el.get(f"{t}number-columns-spanned", "1"))
                    if rows_spanned > 1 or cols_spanned > 1:
                        sheet["merged"].append((row, col, row + rows_spanned - 1, col + cols_spanned - 1))
                    text = "".join(el.itertext()).strip()
                    if el.get(f"{c}value-type") == "error" or (el.get(f"{t}formula") and text in EXCEL_ERRORS):
                        mark: object = text if text in EXCEL_ERRORS else "#VALUE!"
                    elif el.get(f"{o}value-type") == "percentage":
                        mark = Percent
                    else:
                        mark = None
                    if mark is not None:
                        for k in range(min(repeat, 1000)):
                            sheet["cells"][(row, col + k)] = mark
                    col += repeat
    except (KeyError, zipfile.BadZipFile, ET.ParseError, ValueError):
        return {}
    return out

