"""The width of a text in Excel column units (the Excel template, the summary workbook, the Word tables' columns).

Its own small module: Word's export needs it, and a batch worker that only exports should not import openpyxl.
"""

from __future__ import annotations

import unicodedata


def display_width(text: str) -> int:
    """Width of ``text`` in Excel column units: CJK (wide/full-width) characters count 2.

    >>> display_width("主题党日活动（次）")
    18
    >>> display_width("2026")
    4
    """
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(text))
