"""Parsing one cell or one column of cells into a number (``30余``, full-width digits, thousands separators,
``—`` for not applicable), with the Excel cell name and the Chinese message of a cell that cannot be read."""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import date, datetime, time, timedelta

import numpy as np
import pandas as pd
from openpyxl.utils import get_column_letter

from ..model.catalog import normalize_header
from .workbooks import (
    EXCEL_ERRORS,
    NA_TOKENS,
    Percent,
    Uncomputed,
)

_PLAIN_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_SPACE_GROUPS = re.compile(r"^[+-]?\d{1,3}( \d{3})+(\.\d+)?$")


def county_text(v) -> str:
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else re.sub(r"\s+", "", str(v))


def shown_value(value: object) -> object:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, (Percent, Uncomputed)):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def cell_name(row: int, col: int) -> str:
    """Excel name of a 0-based (row, col): ``cell_name(6, 3) == 'D7'``."""
    return f"{get_column_letter(col + 1)}{row + 1}"


# --------------------------------------------------------------------------------------------- cells
class CellError(ValueError):
    """A cell that cannot be read as the indicator's value: ``message`` and ``expected`` in Chinese."""

    def __init__(self, message: str, expected: str):
        super().__init__(message)
        self.message = message
        self.expected = expected


UNCOMPUTED_MESSAGE = "是公式，但文件中没有保存公式的计算结果（文件由程序生成，或没有在Excel/WPS中计算后保存）"
UNCOMPUTED_EXPECTED = "计算好的数值：请用Excel或WPS打开该文件，保存后再校验"


def expected_text(ind: pd.Series) -> str:
    """What a valid cell of this indicator looks like, in Chinese."""
    kind = "整数" if ind["integer"] else "数值"
    hi = ind["max"]
    rng = f"{shown_value(ind['min'])}～{shown_value(hi)}" if math.isfinite(hi) else f"不小于{shown_value(ind['min'])}"
    return f"{rng}之间的{kind}（单位：{ind['unit']}）" if math.isfinite(hi) else f"{rng}的{kind}（单位：{ind['unit']}）"


def parse_cell(raw: object, ind: pd.Series, *, allow_approx: bool = True) -> tuple[float, bool, str]:
    """Read one cell as ``(value, approx, status)``; status is ``present``, ``missing`` or ``na``.

    Accepted: numbers (float noise such as ``202.99999999999997`` is the number Excel shows, ``203``); text
    with full-width digits, surrounding spaces, thousands grouping (``1,181`` or ``1 181``), the indicator's
    own unit as suffix; ``30余``/``30多`` (30, approximate); ``—``, ``/``, ``不适用`` (not applicable); empty
    (missing). Anything else raises :class:`CellError`: among others ``2 6`` (a space that is not thousands
    grouping), a percent-formatted number in a column whose unit is not ``%``, an Excel error value and a
    formula saved without its result.

    >>> ind = load_catalog()["theme_party_days"]
    >>> parse_cell("１２", ind)
    (12.0, False, 'present')
    >>> parse_cell("30余次", ind)
    (30.0, True, 'present')
    >>> parse_cell("不适用", ind)
    (nan, False, 'na')
    """
    approx = False
    if raw is None or (isinstance(raw, float) and math.isnan(raw)):
        return math.nan, False, "missing"
    if isinstance(raw, bool) or isinstance(raw, (datetime, date, time, timedelta, pd.Timestamp)):
        raise CellError("单元格不是数字（可能被Excel识别成了日期或逻辑值）", expected_text(ind))
    if isinstance(raw, Uncomputed):
        raise CellError(UNCOMPUTED_MESSAGE, UNCOMPUTED_EXPECTED)
    if isinstance(raw, Percent):
        if normalize_header(ind["unit"]) not in {"%", "百分比"}:
            raise CellError(f"单元格设置成了百分比格式（显示为{raw}，实际是{shown_value(float(raw))}），而该指标的单位是“{ind['unit']}”",
                            expected_text(ind) + "：请把单元格格式改为“常规”或“数值”后重新填写")
        raw = float(raw) * 100
    if isinstance(raw, (int, float)):
        value = float(f"{float(raw):.15g}")  # what Excel shows: 202.99999999999997 is 203
    else:
        s = unicodedata.normalize("NFKC", str(raw)).strip()
        compact = re.sub(r"\s+", "", s)
        if compact == "":
            return math.nan, False, "missing"
        if compact in NA_TOKENS:
            return math.nan, False, "na"
        if compact in EXCEL_ERRORS:
            raise CellError("单元格是Excel错误值（公式出错）", expected_text(ind))
        unit = normalize_header(ind["unit"])
        if unit and s.endswith(unit) and len(s) > len(unit):
            s = s[: -len(unit)].rstrip()
        if s.endswith(("余", "多")):
            if not allow_approx:
                raise CellError("此处不接受约数", expected_text(ind))
            s, approx = s[:-1].rstrip(), True
        if re.search(r"\s", s):
            if not _SPACE_GROUPS.match(re.sub(r"\s", " ", s)):
                raise CellError("数字中间有空格，无法确定是一个数还是几个数", expected_text(ind)
                                + "，去掉空格（只有千分位分组可以用空格或逗号，如“1 181”“1,181”）")
            s = re.sub(r"\s", "", s)
        if _THOUSANDS.match(s):
            s = s.replace(",", "")
        if not _PLAIN_NUMBER.match(s):
            raise CellError("无法识别为数字", expected_text(ind) + "，约数写作“30余”，不适用写作“—”")
        value = float(s)
    if not math.isfinite(value):
        raise CellError("无法识别为数字", expected_text(ind))
    if value < 0:
        raise CellError("不能为负数", expected_text(ind))
    if ind["integer"] and not float(value).is_integer():
        raise CellError("该指标是计数，不能有小数", expected_text(ind))
    if not (ind["min"] <= value <= ind["max"]):
        raise CellError("超出有效范围", expected_text(ind))
    return value, approx, "present"


def text_problem(raw: object) -> CellError | None:
    """Why a text cell (a profile field, a practice) cannot be read, or None: a formula without its saved
    result or an Excel error value."""
    if isinstance(raw, Uncomputed):
        return CellError(UNCOMPUTED_MESSAGE, UNCOMPUTED_EXPECTED)
    if isinstance(raw, str) and "#" in raw and re.sub(r"\s+", "", raw) in EXCEL_ERRORS:  # each one starts with #
        return CellError("单元格是Excel错误值（公式出错）", "填写内容")
    return None


class FailedCell(tuple):
    """A cell of :func:`parse_column` that cannot be read: ``(nan, False, "error")`` carrying its
    :class:`CellError`."""

    error: CellError

    def __new__(cls, error: CellError):
        t = super().__new__(cls, (math.nan, False, "error"))
        t.error = error
        return t


def parse_column(raws: list, ind, *, allow_approx: bool = True) -> list[tuple]:
    """:func:`parse_cell` of every cell of a column at once: ``(value, approx, status)`` per cell, or a
    :class:`FailedCell` carrying the :class:`CellError`. Plain numbers are checked as one array (float noise,
    sign, integer, range); only text and the numbers that fail go through :func:`parse_cell` one by one,
    so every message is the one :func:`parse_cell` gives."""
    n = len(raws)
    out: list = [None] * n
    kinds = [type(v) for v in raws]
    num_idx = [k for k, t in enumerate(kinds) if t is float or t is int]
    if num_idx:
        v = np.array([raws[k] for k in num_idx], dtype="float64")
        nan = np.isnan(v)
        whole = np.isfinite(v) & (v == np.floor(v)) & (np.abs(v) < 1e15)
        noisy = ~whole & ~nan & np.isfinite(v)
        if noisy.any():  # what Excel shows: 202.99999999999997 is 203
            v[noisy] = [float(f"{x:.15g}") for x in v[noisy]]
        ok = np.isfinite(v) & (v >= 0) & (v >= ind["min"]) & (v <= ind["max"])
        if ind["integer"]:
            ok &= v == np.floor(v)
        present = (False, "present")
        for k, good, isnan, x in zip(num_idx, ok.tolist(), nan.tolist(), v.tolist()):
            if isnan:
                out[k] = (math.nan, False, "missing")
            elif good:
                out[k] = (x,) + present
    for k in range(n):
        if out[k] is None:
            raw = raws[k]
            if raw is None:
                out[k] = (math.nan, False, "missing")
                continue
            try:
                out[k] = parse_cell(raw, ind, allow_approx=allow_approx)
            except CellError as e:
                out[k] = FailedCell(e)
    return out
