"""The fast .xlsx reader (python-calamine plus the sheet XML) gives the frames openpyxl gives, cell by cell."""

from __future__ import annotations

import datetime

import pandas as pd

from zhidang_analysis.inputs import workbooks
from zhidang_analysis.inputs.workbooks import Percent, Uncomputed

from .conftest import write_xlsx


def _style(ws):
    if ws.title != "2023":
        return
    ws["H1"].number_format = "0%"
    ws["H2"].number_format = '0.0"%"'  # a quoted % is not a percent format
    ws.merge_cells("A5:B6")
    ws["J9"].number_format = "0%"  # a styled empty cell


def test_fast_reader_matches_openpyxl(tmp_path):
    path = write_xlsx(tmp_path / "数据.xlsx", {
        "2023": [[5, 5.0, 5.5, "=1/0", True, datetime.date(2021, 3, 4), "  x ", 0.85],
                 [202.99999999999997, -1, "1,181", "", None, "#DIV/0!", "30余", 12],
                 [None, 1e20, "=SUM(A1:A2)"]],
        "说明": [["注：", None, "第三列"]],
    }, style=_style)
    fast, slow = workbooks._read_xlsx_calamine(path), workbooks._read_xlsx_openpyxl(path)
    assert list(fast) == list(slow)
    for title in fast:
        a, b = fast[title], slow[title]
        assert sorted(a.attrs["merged"]) == sorted(b.attrs["merged"])
        for i in range(max(len(a), len(b))):
            for j in range(max(a.shape[1], b.shape[1])):
                u = a.iat[i, j] if i < len(a) and j < a.shape[1] else None
                v = b.iat[i, j] if i < len(b) and j < b.shape[1] else None
                u, v = (None if x == "" or (isinstance(x, float) and pd.isna(x)) else x for x in (u, v))
                assert type(u) is type(v) and u == v, (title, i, j, u, v)
    sheet = fast["2023"]
    assert isinstance(sheet.iat[0, 7], Percent) and isinstance(sheet.iat[0, 3], Uncomputed)
    assert sheet.iat[0, 0] == 5 and type(sheet.iat[0, 0]) is int
