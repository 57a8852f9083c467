"""Tidy data for other tools: the dataset's tables as CSV (UTF-8 with BOM, so Excel opens it) and Parquet
(pyarrow), with a data dictionary (README.txt), written by one call: :func:`export_tables`.

Tables (one row per …):

- ``values``: county, town, year and indicator — code, name, unit and section of the catalog, value, approx,
  status and the source split into file, sheet and cell;
- ``profile``: town (乡镇概况 and 本县指标);
- ``targets``: town, year and indicator with a target;
- ``practices``: town, year and practice field (特色做法 text);
- ``problems``: every problem of every town and year, as :func:`analysis.problems.town_problems` states it
  (``listed`` marks those a report lists).

Text columns are pandas ``str``; an empty text is missing (NA), so that ``pd.read_csv(path, encoding="utf-8-sig")``
gives the table back as written: numbers ``float64``, years ``int64``, flags ``bool``.
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from ..analysis.problems import KINDS, town_problems
from ..model.dataset import Dataset
from .files import atomic_write_bytes, atomic_write_text

__all__ = ["TABLES", "COLUMNS", "tidy_tables", "export_tables"]

TABLES = ["values", "profile", "targets", "practices", "problems"]

#: The data dictionary: table → column → what it holds (README.txt).
COLUMNS = {
    "values": {
        "county": "县", "town": "乡镇", "year": "年度（整数）",
        "indicator": "指标代码（见 zhidang indicators）", "name": "指标名称", "unit": "计量单位",
        "section": "报告部分：s1…s6 为（一）至（六），size 为乡镇基本情况",
        "value": "数值（浮点数）；未填或不适用时为空",
        "approx": "是否约数（填报为“30余”式，按30计）：True/False",
        "status": "present 已填；missing 未填（【待补】）；na 不适用（填“—”或本年不适用）",
        "source_file": "来源文件", "source_sheet": "来源工作表（名为“2025”的工作表读 CSV 时会被读成数字，可指定 dtype={\"source_sheet\": str}）", "source_cell": "来源单元格（如 B3）",
    },
    "profile": {
        "county": "县", "town": "乡镇",
        "…": "乡镇概况或本县指标的字段；读 CSV 时文字列可指定 dtype=str（如写成“2021”的年份）",
        "source": "来源（文件!工作表!行）",
    },
    "targets": {
        "county": "县", "town": "乡镇", "year": "年度", "indicator": "指标代码", "name": "指标名称",
        "unit": "计量单位", "target": "年度目标（浮点数）", "source": "来源（文件!工作表!单元格）",
    },
    "practices": {
        "county": "县", "town": "乡镇", "year": "年度", "field": "字段代码", "field_name": "字段名称（特色做法表头）",
        "text": "乡镇填写的文字", "source": "来源（文件!工作表!单元格）",
    },
    "problems": {
        "county": "县", "town": "乡镇", "year": "年度",
        "kind": "问题类型代码：" + "、".join(f"{k} {v}" for k, v in KINDS.items()),
        "kind_name": "问题类型", "indicator": "指标代码（自查问题为空）", "name": "指标名称",
        "section": "报告部分（s1…s6；自查问题为 problems）",
        "value": "本年数值（居全县末位时为折算值）", "reference": "比较的基准：上年数值、年度目标、应覆盖的村数或全县中位数",
        "ratio": "比值：下降幅度（负数）、目标完成率、覆盖率或与中位数之比",
        "listed": "报告“二、存在的问题”是否列出：True/False", "text": "问题的文字表述",
        "source": "来源（自查问题：文件!工作表!单元格）",
    },
}


def _text(s: pd.Series) -> pd.Series:
    """A text column as ``str`` with empty texts missing."""
    s = s.astype("str").where(s.notna())
    return s.where(s != "").astype("str")


def _split_source(source: pd.Series) -> pd.DataFrame:
    parts = source.fillna("").astype(str).str.split("!", n=2, expand=True).reindex(columns=[0, 1, 2])
    return pd.DataFrame({"source_file": _text(parts[0]), "source_sheet": _text(parts[1]),
                         "source_cell": _text(parts[2])}, index=source.index)


def _catalog_columns(ds: Dataset, codes: pd.Series) -> pd.DataFrame:
    f = ds.catalog.frame
    return pd.DataFrame({"name": _text(codes.map(f["name"])), "unit": _text(codes.map(f["unit"])),
                         "section": _text(codes.map(f["section"]))}, index=codes.index)


def _with_county(ds: Dataset, frame: pd.DataFrame) -> pd.DataFrame:
    if "county" not in frame:
        frame = frame.assign(county=ds.county)
    return frame[["county", *[c for c in frame.columns if c != "county"]]]


def tidy_tables(ds: Dataset) -> dict[str, pd.DataFrame]:
    """The dataset's tables in tidy form (see the module's docstring), keyed by table name."""
    v = ds.values.reset_index(drop=True)
    values = pd.concat([
        pd.DataFrame({"county": _text(v["county"]), "town": _text(v["town"]), "year": v["year"].astype("int64"),
                      "indicator": _text(v["indicator"])}),
        _catalog_columns(ds, v["indicator"]),
        pd.DataFrame({"value": v["value"].astype("float64"), "approx": v["approx"].astype(bool),
                      "status": _text(v["status"])}),
        _split_source(v["source"]),
    ], axis=1)

    profile = ds.profile.reset_index()
    profile = _with_county(ds, profile)
    for c in profile.columns:
        if not pd.api.types.is_numeric_dtype(profile[c]):
            profile[c] = _text(profile[c])

    t = _with_county(ds, ds.targets.reset_index(drop=True))
    targets = pd.concat([
        pd.DataFrame({"county": _text(t["county"]), "town": _text(t["town"]), "year": t["year"].astype("int64"),
                      "indicator": _text(t["indicator"])}),
        _catalog_columns(ds, t["indicator"])[["name", "unit"]],
        pd.DataFrame({"target": t["target"].astype("float64"), "source": _text(t["source"])}),
    ], axis=1)

    p = _with_county(ds, ds.practices.reset_index(drop=True))
    names = ds.catalog.practice_fields["name"] if "name" in ds.catalog.practice_fields else pd.Series(dtype=str)
    practices = pd.DataFrame({"county": _text(p["county"]), "town": _text(p["town"]), "year": p["year"].astype("int64"),
                              "field": _text(p["field"]), "field_name": _text(p["field"].map(names)),
                              "text": _text(p["text"]), "source": _text(p["source"])})

    return {"values": values, "profile": profile, "targets": targets, "practices": practices,
            "problems": problem_table(ds)}


def problem_table(ds: Dataset) -> pd.DataFrame:
    """Every problem of every town and year (``listed`` marks those a report lists)."""
    parts = []
    for county in ds.counties:
        cv = ds.for_county(county)
        for year in cv.years:
            p = town_problems(cv, year, listed_only=False)
            if len(p):
                parts.append(p.assign(county=county, year=year))
    cols = ["county", "town", "year", "kind", "kind_name", "indicator", "name", "section", "value", "reference",
            "ratio", "listed", "text", "source"]
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype="float64" if c in ("value", "reference", "ratio") else
                                          "int64" if c == "year" else bool if c == "listed" else "str")
                             for c in cols})
    p = pd.concat(parts, ignore_index=True)
    f = ds.catalog.frame
    return pd.DataFrame({
        "county": _text(p["county"]), "town": _text(p["town"]), "year": p["year"].astype("int64"),
        "kind": _text(p["kind"]), "kind_name": _text(p["kind"].map(KINDS)), "indicator": _text(p["indicator"]),
        "name": _text(p["indicator"].map(f["name"])), "section": _text(p["section"]),
        "value": p["value"].astype("float64"), "reference": p["reference"].astype("float64"),
        "ratio": p["ratio"].astype("float64"), "listed": p["listed"].astype(bool), "text": _text(p["text"]),
        "source": _text(p["source"]),
    })[cols]


def readme(tables: dict[str, pd.DataFrame], ds: Dataset | None = None) -> str:
    """The data dictionary: every table's file names, rows and columns (a profile field by its catalog name)."""
    fields = {}
    if ds is not None:
        cat = ds.catalog
        fields = {**dict(cat.profile_fields["name"]), **{c: cat.label(c) for c in cat.codes if c in cat.frame.index
                                                        and cat.frame.at[c, "origin"] != "values"}}
    lines = ["数据说明（zhidang-analysis 导出的整洁数据）", "",
             "每张表各有两种格式：CSV（UTF-8 带 BOM，Excel 可直接打开）和 Parquet（pandas、R arrow、DuckDB、Power BI 可直接读取）。",
             "读取示例：pandas.read_csv(\"values.csv\", encoding=\"utf-8-sig\")；pandas.read_parquet(\"values.parquet\")；",
             "duckdb.sql(\"select town, value from 'values.parquet' where indicator = 'new_members'\")。",
             "空白表示缺失（未填、不适用或没有该项）。", ""]
    for name, frame in tables.items():
        lines.append(f"【{name}】{name}.csv / {name}.parquet，{len(frame)}行")
        doc = COLUMNS.get(name, {})
        for col in frame.columns:
            what = doc.get(col) or (f"乡镇概况：{fields[col]}" if col in fields else doc.get("…", ""))
            lines.append(f"  {col}（{frame[col].dtype}）：{what}")
        lines.append("")
    return "\n".join(lines)


def export_tables(ds: Dataset, folder: str | Path) -> list[Path]:
    """Write ``values``, ``profile``, ``targets``, ``practices`` and ``problems`` as CSV and Parquet into
    ``folder``, with README.txt (the data dictionary). Returns the files written."""
    folder = Path(folder)
    tables = tidy_tables(ds)
    written = []
    for name, frame in tables.items():
        text = frame.to_csv(index=False, lineterminator="\r\n")
        written.append(atomic_write_bytes(folder / f"{name}.csv", text.encode("utf-8-sig")))
        buf = io.BytesIO()
        frame.to_parquet(buf, index=False, engine="pyarrow")
        written.append(atomic_write_bytes(folder / f"{name}.parquet", buf.getvalue()))
    written.append(atomic_write_text(folder / "README.txt", readme(tables, ds)))
    return written
