"""The data of every chart as a workbook (``charts.xlsx``): one sheet per figure of the county overview, and one
per figure of the town reports with every town's rows stacked (a 乡镇 column first), each headed by the
figure's caption, so an analyst can redraw a chart in the county's own style."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from ..model.dataset import Dataset
from ..report.chartdata import overview_chart_data, town_chart_data
from .files import atomic_write_bytes
from .textwidth import display_width

__all__ = ["CHARTS_NAME", "chart_tables", "chart_workbook", "write_chart_workbook"]

CHARTS_NAME = "charts.xlsx"
_HEADER = PatternFill("solid", fgColor="F2F2F2")


def chart_tables(ds: Dataset, year: int, towns: list[str] | None = None) -> dict[str, pd.DataFrame]:
    """Caption → table: the overview's figures, then the town reports' figures with every town stacked."""
    year = ds.check_year(year)
    out = dict(overview_chart_data(ds, year))
    towns = [t for t in (towns or ds.towns) if t in set(ds.values.loc[ds.values["year"] == year, "town"])]
    stacked: dict[str, list[pd.DataFrame]] = {}
    for town in towns:
        for k, (caption, frame) in enumerate(town_chart_data(ds, town, year).items()):
            generic = re.sub(r"^图\d+\s+", "", caption).replace(town, "各乡镇", 1)
            stacked.setdefault(f"图{k + 1}（乡镇报告）  {generic}", []).append(frame.assign(乡镇=town))
    for caption, frames in stacked.items():
        frame = pd.concat(frames, ignore_index=True)
        out[caption] = frame[["乡镇", *[c for c in frame.columns if c != "乡镇"]]]
    return out


def chart_workbook(tables: dict[str, pd.DataFrame]) -> Workbook:
    """One sheet per table: the caption in row 1, the header in row 3, the rows below (frozen, filtered)."""
    wb = Workbook()
    wb.remove(wb.active)
    used = set()
    for i, (caption, frame) in enumerate(tables.items(), start=1):
        name = re.sub(r"[\[\]:*?/\\]", "", caption.split("  ", 1)[0])[:28] or f"表{i}"
        while name in used:
            name = f"{name[:26]}_{i}"
        used.add(name)
        ws = wb.create_sheet(name)
        ws.cell(1, 1, caption).font = Font(bold=True, size=12)
        for j, col in enumerate(frame.columns, start=1):
            c = ws.cell(3, j, col)
            c.font, c.fill, c.alignment = Font(bold=True), _HEADER, Alignment(horizontal="center", wrap_text=True)
            width = max([display_width(col)] + [display_width(x) for x in frame[col].head(200)])
            ws.column_dimensions[get_column_letter(j)].width = min(40, max(8, width + 2))
        for r, rec in enumerate(frame.itertuples(index=False), start=4):
            for j, x in enumerate(rec, start=1):
                if x is pd.NA or (isinstance(x, float) and pd.isna(x)):
                    continue
                cell = ws.cell(r, j, x.item() if hasattr(x, "item") else x)
                if isinstance(cell.value, float):
                    cell.number_format = "0.00"
        ws.freeze_panes = "A4"
        if len(frame):
            ws.auto_filter.ref = f"A3:{get_column_letter(len(frame.columns))}{3 + len(frame)}"
    return wb


def write_chart_workbook(ds: Dataset, year: int, path: str | Path, towns: list[str] | None = None) -> Path:
    """Write ``charts.xlsx`` of ``year`` (one county) to ``path`` atomically."""
    buf = io.BytesIO()
    chart_workbook(chart_tables(ds, year, towns)).save(buf)
    return atomic_write_bytes(Path(path), buf.getvalue())
