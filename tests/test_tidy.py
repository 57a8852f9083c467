"""Tidy data (``outputs/tidy.py``): CSV (UTF-8 with BOM) and Parquet round trips, dtype-checked, DuckDB reading
the Parquet files, the data dictionary and ``zhidang export --tidy``. The small county of ``test_summary``."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

from tests.test_summary import folder  # noqa: F401 - the module fixture of the small county
from zhidang_analysis import load_dataset
from zhidang_analysis.analysis.problems import town_problems
from zhidang_analysis.cli import main
from zhidang_analysis.outputs.tidy import TABLES, export_tables, tidy_tables


@pytest.fixture(scope="module")
def ds(folder):  # noqa: F811
    # (主题党日 a handful in each town's branches: the norm of one a month is not what these tests are about)
    from zhidang_analysis.model.catalog import load_catalog

    from .conftest import without_norms

    return load_dataset(folder, catalog=without_norms(load_catalog()), cache=False)


@pytest.fixture(scope="module")
def out(ds, tmp_path_factory):
    d = tmp_path_factory.mktemp("tidy")
    export_tables(ds, d)
    return d


def test_one_call_writes_every_table_in_both_formats(out):
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted([f"{t}.{x}" for t in TABLES for x in ("csv", "parquet")] + ["README.txt"])
    assert (out / "values.csv").read_bytes().startswith(b"\xef\xbb\xbf")  # BOM: Excel reads it as UTF-8


def test_values_round_trip_exactly(ds, out):
    v = ds.values.reset_index(drop=True)
    for back in (pd.read_parquet(out / "values.parquet"), pd.read_csv(out / "values.csv", encoding="utf-8-sig")):
        assert back["year"].dtype == "int64" and back["value"].dtype == "float64" and back["approx"].dtype == bool
        assert pd.api.types.is_string_dtype(back["town"])
        pd.testing.assert_series_equal(back["value"], v["value"], check_names=False)
        assert back["approx"].tolist() == v["approx"].tolist()
        assert back["status"].tolist() == v["status"].tolist()
        assert back["town"].tolist() == v["town"].tolist()
        assert back["indicator"].tolist() == v["indicator"].tolist()
        # the source, split: file, sheet and cell
        jia = back[(back["town"] == "甲镇") & (back["year"] == 2025) & (back["indicator"] == "theme_party_days")]
        # (a sheet named 2025 reads back as a number from CSV unless dtype=str is given: README.txt says so)
        where = jia[["source_file", "source_sheet", "source_cell"]].iloc[0]
        assert [str(x) for x in where] == ["指标数据.xlsx", "2025", "B2"]
        assert jia["value"].iloc[0] == 50.0
        approx = back[(back["town"] == "甲镇") & (back["year"] == 2025) & (back["indicator"] == "new_members")]
        assert approx["approx"].iloc[0] and approx["value"].iloc[0] == 30.0


@pytest.mark.parametrize("table", TABLES)
def test_every_table_round_trips_with_its_dtypes(ds, out, table):
    written = tidy_tables(ds)[table]
    pd.testing.assert_frame_equal(pd.read_parquet(out / f"{table}.parquet"), written)
    text = {c: "str" for c in written.columns if pd.api.types.is_string_dtype(written[c])}
    if written.empty:  # (no rows to infer from: a CSV reader needs every column's type; Parquet keeps them)
        text = written.dtypes.to_dict()
    pd.testing.assert_frame_equal(pd.read_csv(out / f"{table}.csv", encoding="utf-8-sig", dtype=text), written)


def test_targets_and_problems(ds, out):
    t = pd.read_parquet(out / "targets.parquet")
    assert t[["town", "year", "indicator", "target"]].values.tolist() == [["甲镇", 2025, "theme_party_days", 40.0]]
    p = pd.read_csv(out / "problems.csv", encoding="utf-8-sig")
    want = town_problems(ds, 2025, listed_only=False)
    assert len(p[p["year"] == 2025]) == len(want)
    fall = p[(p["town"] == "丙镇") & (p["indicator"] == "theme_party_days")].iloc[0]
    assert fall["kind"] == "decline" and fall["kind_name"] == "较上年下降"
    assert fall["value"] == 32 and fall["reference"] == 45


def test_duckdb_reads_the_parquet(out):
    duckdb = pytest.importorskip("duckdb", reason="duckdb 未安装（pip install -e '.[test]'）")
    path = (out / "values.parquet").as_posix()
    rows = duckdb.sql(f"select town, value from '{path}' where year = 2025 and indicator = 'theme_party_days' "
                      "order by value desc").fetchall()
    assert rows == [("甲镇", 50.0), ("丙镇", 32.0), ("乙乡", 30.0)]
    n = duckdb.sql(f"select count(*) from read_csv_auto('{(out / 'values.csv').as_posix()}')").fetchall()[0][0]
    assert n == len(pd.read_parquet(out / "values.parquet"))


def test_readme_describes_every_column(out):
    text = (out / "README.txt").read_text(encoding="utf-8")
    for table in TABLES:
        frame = pd.read_parquet(out / f"{table}.parquet")
        assert f"【{table}】" in text
        for col in frame.columns:
            assert f"  {col}（" in text, (table, col)
    assert "villages（float64）：乡镇概况：行政村数（个）" in text


def test_cli_export_tidy(folder, tmp_path):  # noqa: F811
    r = CliRunner().invoke(main, ["export", "--year", "2025", "--data", str(folder), "--out", str(tmp_path), "--tidy"])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "数据" / "values.parquet").exists() and (tmp_path / "2025" / "2025年全县汇总表.xlsx").exists()
