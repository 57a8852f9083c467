"""Several counties: a town is (county, town), comparisons run within a county, reruns are exact.

The city used here is the bundled sample twice: ``甲县/`` and ``乙县/``, each a county folder as one county's
data are laid out, the county's name changed in its 乡镇概况. Both have a 城关镇. Hand-made workbooks test the
other layout (one workbook whose tables carry a 县 column).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

import zhidang_analysis as zd
from zhidang_analysis.running import batch
from zhidang_analysis.report import overview
from zhidang_analysis.analysis import indicators as ind
from zhidang_analysis.cli import main
from zhidang_analysis.errors import AmbiguousTownError, UnknownNameError
from zhidang_analysis.report.narrative import county_context

from .conftest import PROFILE_HEADER, write_notebook, write_xlsx

YEAR = 2025
COUNTIES = ["甲县", "乙县"]


def make_city(root: Path) -> Path:
    """Two county folders made from the sample; the county's name is set in each 乡镇概况."""
    for county in COUNTIES:
        folder = root / county
        shutil.copytree(zd.SAMPLE_DATA, folder, ignore=shutil.ignore_patterns("*.md"))
        wb = openpyxl.load_workbook(folder / "乡镇概况.xlsx")
        ws = wb.active
        for r in range(2, ws.max_row + 1):
            if ws.cell(r, 2).value:
                ws.cell(r, 1).value = county
        wb.save(folder / "乡镇概况.xlsx")
    return root


def set_value(root: Path, county: str, town: str, header: str, value) -> None:
    """Overwrite one cell of the 2025 sheet of a county's values workbook (the corrections of the tests)."""
    path = root / county / "示范县指标数据.xlsx"
    wb = openpyxl.load_workbook(path)
    ws = next(ws for ws in wb.worksheets if ws.title.startswith(str(YEAR)))
    head = next(r for r in range(1, 6) if ws.cell(r, 1).value == "乡镇")
    col = next(c for c in range(1, ws.max_column + 1) if str(ws.cell(head, c).value or "").startswith(header))
    row = next(r for r in range(head + 1, ws.max_row + 1) if ws.cell(r, 1).value == town)
    ws.cell(row, col).value = value
    wb.save(path)


@pytest.fixture(scope="module")
def city(tmp_path_factory) -> Path:
    return make_city(tmp_path_factory.mktemp("city"))


@pytest.fixture(scope="module")
def city_ds(city):
    return zd.load_dataset(city)


# ------------------------------------------------------------------------------------------- loading
def test_folder_of_county_folders_loads_both_counties(city_ds):
    ds = city_ds
    assert ds.multi and sorted(ds.counties) == sorted(COUNTIES)
    assert len(ds.town_keys) == 28 and ds.summary()["towns"] == 28
    assert ("甲县", "城关镇") in ds.town_keys and ("乙县", "城关镇") in ds.town_keys
    assert "甲县/城关镇" in ds.towns
    assert ds.profile.index.names == ["county", "town"]
    # every source names its county folder, so a message about 城关镇 says which file
    src = ds.values.loc[(ds.values["county"] == "乙县") & (ds.values["status"] == "present"), "source"].iloc[0]
    assert src.startswith("乙县/示范县指标数据.xlsx!")
    assert set(ds.targets["county"]) == set(COUNTIES) and set(ds.practices["county"]) == set(COUNTIES)


def test_a_county_view_is_a_one_county_dataset(city_ds):
    one = city_ds.for_county("乙县")
    assert not one.multi and one.counties == ["乙县"] and len(one.towns) == 14
    assert one.profile.index.name == "town" and (one.profile["county"] == "乙县").all()
    assert set(one.values["county"]) == {"乙县"}
    assert "county" not in one.targets.columns
    with pytest.raises(UnknownNameError, match="未找到县“丙县”"):
        city_ds.for_county("丙县")


def test_a_bare_name_two_counties_have_is_ambiguous_and_lists_the_choices(city_ds):
    assert city_ds.resolve("甲县/城关镇") == ("甲县", "城关镇")
    assert city_ds.resolve("城关镇", "乙县") == ("乙县", "城关镇")
    with pytest.raises(AmbiguousTownError) as e:
        city_ds.resolve("城关镇")
    assert str(e.value) == "乡镇“城关镇”在2个县都有，请写明是哪一个：乙县/城关镇、甲县/城关镇"


def test_comparisons_run_within_each_county(city, city_ds):
    # 乙县's 城关镇 gets a huge value: 甲县's ranks and medians must not move
    moved = city_ds.copy()
    v = moved.values
    hit = (v["county"] == "乙县") & (v["town"] == "城关镇") & (v["year"] == YEAR) & (v["indicator"] == "new_members")
    v.loc[hit, "value"] = 10_000.0
    before = ind.county_compare(city_ds.values, YEAR)
    after = ind.county_compare(moved.values, YEAR)
    a = before[(before["county"] == "甲县") & (before["indicator"] == "new_members")]
    b = after[(after["county"] == "甲县") & (after["indicator"] == "new_members")]
    assert a["rank"].tolist() == b["rank"].tolist() and a["county_median"].tolist() == b["county_median"].tolist()
    assert (a["n_towns"] == 14).all()  # 14 towns of one county, not 28
    yi = after[(after["county"] == "乙县") & (after["indicator"] == "new_members")]
    assert int(yi.loc[yi["town"] == "城关镇", "rank"].iloc[0]) == 1
    # the composite score of a county in the city equals the score of that county alone
    scores = ind.composite_score(city_ds.values, city_ds.profile)
    alone = city_ds.for_county("甲县")
    assert scores.index.names == ["county", "town", "year"]
    pd_alone = ind.composite_score(alone.values, alone.profile)
    assert scores.loc["甲县"]["score"].round(9).tolist() == pd_alone["score"].round(9).tolist()
    assert scores.loc["甲县"]["rank"].max() == 14
    flags = ind.flags(city_ds.values, targets=city_ds.targets, profile=city_ds.profile)
    assert set(flags["county"]) == set(COUNTIES)


def test_the_city_comparison_has_one_row_per_county(city_ds):
    table = overview.county_comparison(city_ds, YEAR)
    assert table["县"].tolist() == city_ds.counties
    assert table["乡镇（个）"].tolist() == [14, 14]
    one = zd.load_dataset()
    alone = overview.county_comparison(one, YEAR)
    # the same data in both counties: the same totals as the sample alone
    total_col = [c for c in table.columns if c.startswith("发展党员")][0]
    assert table[total_col].tolist() == [alone[total_col].iloc[0]] * 2
    assert 0 <= table["综合得分中位数（分）"].iloc[0] <= 100


def test_one_workbook_with_a_county_column(tmp_path):
    rows = [
        ["甲县", "城关镇", "镇", "甘肃", None, None, 15, 10, 20000, 600, 12],
        ["乙县", "城关镇", "镇", "甘肃", None, None, 15, 8, 15000, 450, 9],
        ["乙县", "河口乡", "乡", "甘肃", None, None, 15, 6, 8000, 240, 8],
    ]
    write_xlsx(tmp_path / "全市.xlsx", {
        "乡镇概况": [PROFILE_HEADER, *rows],
        "2025": [["县", "乡镇", "发展党员（名）"], ["甲县", "城关镇", 7], ["乙县", "城关镇", 5], ["乙县", "河口乡", 3]],
        "2024": [["乡镇", "发展党员（名）"], ["河口乡", 2]],  # no 县 column: 河口乡 is in one county only
    })
    ds = zd.load_dataset(tmp_path, cache=False)
    assert ds.multi and ds.town_keys == [("甲县", "城关镇"), ("乙县", "城关镇"), ("乙县", "河口乡")]
    v = ds.values[(ds.values["indicator"] == "new_members") & (ds.values["status"] == "present")]
    got = {(r.county, r.town, r.year): (r.value, r.source) for r in v.itertuples()}
    assert got[("甲县", "城关镇", 2025)] == (7.0, "全市.xlsx!2025!C2")
    assert got[("乙县", "城关镇", 2025)] == (5.0, "全市.xlsx!2025!C3")
    assert got[("乙县", "河口乡", 2024)] == (2.0, "全市.xlsx!2024!B2")


def test_a_county_column_is_needed_where_a_name_is_in_two_counties(tmp_path):
    rows = [["甲县", "城关镇", "镇", "甘肃", None, None, 15, 10, 20000, 600, 12],
            ["乙县", "城关镇", "镇", "甘肃", None, None, 15, 8, 15000, 450, 9]]
    write_xlsx(tmp_path / "全市.xlsx", {
        "乡镇概况": [PROFILE_HEADER, *rows],
        "2025": [["乡镇", "发展党员（名）"], ["城关镇", 7]],
        "2024": [["县", "乡镇", "发展党员（名）"], ["丙县", "城关镇", 7]],
    })
    result = zd.validate(tmp_path)
    found = {(p.sheet, p.cell): p.message for p in result.errors}
    assert found[("2025", "A2")] == "乡镇“城关镇”在甲县、乙县都有，无法确定此行属于哪个县"
    assert found[("2024", "A2")] == "县不在乡镇概况表中"
    assert len(result.errors) == 2  # each said once, not once per county


@pytest.mark.parametrize("typed", ["甲具", "甲", "甲县县"])
def test_a_county_one_character_off_another_with_one_town_gets_a_warning_naming_its_cell(tmp_path, typed):
    rows = [["甲县", "城关镇", "镇", "甘肃", None, None, 15, 10, 20000, 600, 12],
            ["甲县", "河口乡", "乡", "甘肃", None, None, 15, 6, 8000, 240, 8],
            [typed, "新庄镇", "镇", "甘肃", None, None, 15, 8, 15000, 450, 9],
            ["乙县", "城关镇", "镇", "甘肃", None, None, 15, 8, 15000, 450, 9],
            ["乙县", "石门乡", "乡", "甘肃", None, None, 15, 8, 15000, 450, 9]]
    write_xlsx(tmp_path / "全市.xlsx", {
        "乡镇概况": [PROFILE_HEADER, *rows],
        "2025": [["县", "乡镇", "发展党员（名）"], ["甲县", "城关镇", 7], ["甲县", "河口乡", 3], [typed, "新庄镇", 4],
                 ["乙县", "城关镇", 5], ["乙县", "石门乡", 2]],
    })
    result = zd.validate(tmp_path)
    assert result.errors == []
    slips = [p for p in result.problems if "笔误" in p.message]
    assert len(slips) == 1, [str(p) for p in result.problems]
    slip = slips[0]
    assert (slip.level, slip.file, slip.sheet, slip.cell, slip.value) == ("warning", "全市.xlsx", "乡镇概况", "A4", typed)
    assert "新庄镇" in slip.message and "甲县" in slip.message and slip.town == "新庄镇"
    assert "单元格A4" in str(slip) and "甲县" in slip.expected


def test_a_real_county_of_one_town_far_from_the_others_gets_no_warning(tmp_path):
    rows = [["甲县", "城关镇", "镇", "甘肃", None, None, 15, 10, 20000, 600, 12],
            ["甲县", "河口乡", "乡", "甘肃", None, None, 15, 6, 8000, 240, 8],
            ["丙区", "新庄镇", "镇", "甘肃", None, None, 15, 8, 15000, 450, 9]]
    write_xlsx(tmp_path / "全市.xlsx", {
        "乡镇概况": [PROFILE_HEADER, *rows],
        "2025": [["县", "乡镇", "发展党员（名）"], ["甲县", "城关镇", 7], ["甲县", "河口乡", 3], ["丙区", "新庄镇", 4]],
    })
    result = zd.validate(tmp_path)
    assert result.errors == [] and not [p for p in result.problems if "笔误" in p.message]


def test_spaces_in_a_county_name_do_not_make_another_county(tmp_path):
    rows = [["甲县", "城关镇", "镇", "甘肃", None, None, 15, 10, 20000, 600, 12],
            ["甲\u3000县", "河口乡", "乡", "甘肃", None, None, 15, 6, 8000, 240, 8],
            ["乙县", "石门乡", "乡", "甘肃", None, None, 15, 8, 15000, 450, 9]]
    write_xlsx(tmp_path / "全市.xlsx", {
        "乡镇概况": [PROFILE_HEADER, *rows],
        "2025": [["县", "乡镇", "发展党员（名）"], ["甲县", "城关镇", 7], ["甲 县", "河口乡", 3], ["乙县", "石门乡", 4]],
    })
    ds = zd.load_dataset(tmp_path, cache=False)
    assert sorted(ds.counties) == ["乙县", "甲县"]
    assert ds.town_keys == [("甲县", "城关镇"), ("甲县", "河口乡"), ("乙县", "石门乡")]


def test_the_same_county_in_two_folders_is_an_error(tmp_path):
    make_city(tmp_path)
    shutil.copytree(tmp_path / "甲县", tmp_path / "甲县副本")
    result = zd.validate(tmp_path)
    assert any("县“甲县”在两处都有数据" in p.message for p in result.errors)


# ------------------------------------------------------------------------------------------- command line
def test_cli_names_the_choices_for_an_ambiguous_town(city):
    r = CliRunner().invoke(main, ["batch", "--data", str(city), "--towns", "城关镇", "--out", "unused"])
    assert r.exit_code == 1
    assert "乡镇“城关镇”在2个县都有，请写明是哪一个：乙县/城关镇、甲县/城关镇" in r.output
    r = CliRunner().invoke(main, ["run", "--data", str(city), "--town", "城关镇", "--year", "2025"])
    assert r.exit_code == 1 and "乙县/城关镇、甲县/城关镇" in r.output
    r = CliRunner().invoke(main, ["batch", "--data", str(city), "--county", "丙县", "--out", "unused"])
    assert r.exit_code == 1 and "未找到县“丙县”" in r.output
    r = CliRunner().invoke(main, ["validate", str(city)])
    assert r.exit_code == 0 and "县：2个" in r.output


# ------------------------------------------------------------------------------------------- plans and reruns
def test_plan_lays_out_reports_per_county(city, city_ds, tmp_path):
    jobs = batch.plan(city_ds, [YEAR], data=city, out=tmp_path)
    towns = [j for j in jobs if j.kind == "town"]
    assert len(towns) == 28
    assert {Path(j.html).relative_to(tmp_path).parts[:2] for j in towns} == {("2025", "甲县"), ("2025", "乙县")}
    assert len({j.manifest_key for j in jobs}) == len(jobs)
    cg = [j for j in towns if j.town == "城关镇"]
    assert sorted(j.manifest_key for j in cg) == ["乙县/城关镇", "甲县/城关镇"]
    assert all(j.parameters["county"] == j.county for j in towns)
    kinds = sorted((j.kind, j.folder) for j in jobs if j.kind != "town")
    assert kinds == [("overview", "乙县"), ("overview", "甲县"), ("region", "")]
    region = next(j for j in jobs if j.kind == "region")
    assert Path(region.html) == tmp_path / "2025" / "overview.html"


def _up_to_date(ds, city, out) -> list[batch.Job]:
    """What a successful batch leaves, written directly: reports and a manifest that says they are current."""
    jobs = batch.plan(ds, [YEAR], data=city, out=out)
    for job in jobs:
        Path(job.html).parent.mkdir(parents=True, exist_ok=True)
        Path(job.html).write_text("<p></p>", encoding="utf-8")
        Path(job.ipynb).write_text("{}", encoding="utf-8")
        job.status, job.seconds, job.finished_at = "done", 1.0, "2026-01-01T00:00:00+00:00"
    batch.write_manifest(out, YEAR, jobs, {})
    return jobs


def _rerun(city, out) -> dict[str, str]:
    ds = zd.load_dataset(city)
    return {j.manifest_key: j.status for j in batch.plan(ds, [YEAR], data=city, out=out)}


def test_a_correction_that_moves_a_median_reruns_exactly_that_county(tmp_path):
    city = make_city(tmp_path / "city")
    out = tmp_path / "reports"
    _up_to_date(zd.load_dataset(city), city, out)
    assert set(_rerun(city, out).values()) == {"skipped"}
    before = zd.load_dataset(city).for_county("甲县")
    med_before = ind.county_compare(before.values, YEAR).query("indicator == 'new_members'")["county_median"].iloc[0]
    low = (before.values.query("year == @YEAR and indicator == 'new_members'").sort_values("value")["town"].iloc[0])
    set_value(city, "甲县", low, "发展党员（", 200)  # the lowest town jumps to the top: the median moves
    after = zd.load_dataset(city).for_county("甲县")
    med_after = ind.county_compare(after.values, YEAR).query("indicator == 'new_members'")["county_median"].iloc[0]
    assert med_after != med_before
    status = _rerun(city, out)
    rerun = {k for k, s in status.items() if s == "pending"}
    assert f"甲县/{low}" in rerun
    assert len([k for k in rerun if k.startswith("甲县/") and k != "甲县/overview"]) > 1  # median/rank moved
    assert "甲县/overview" in rerun and "overview" in rerun  # the county overview and the comparison
    assert not any(k.startswith("乙县/") for k in rerun)  # nothing in the other county


def test_a_correction_that_moves_nothing_else_reruns_that_town_alone(tmp_path):
    city = make_city(tmp_path / "city")
    out = tmp_path / "reports"
    ds = zd.load_dataset(city)
    _up_to_date(ds, city, out)
    one = ds.for_county("甲县")
    # the first town by the size-scaled value (what ranks compare) stays first: ranks and medians unchanged
    ctx = county_context(one, YEAR).query("indicator == 'new_members'").sort_values("scaled")
    town, value = ctx["town"].iloc[-1], ctx["value"].iloc[-1]
    set_value(city, "甲县", town, "发展党员（", int(value) + 1)
    rerun = {k for k, s in _rerun(city, out).items() if s == "pending"}
    assert rerun == {f"甲县/{town}", "甲县/overview", "overview"}


# ------------------------------------------------------------------------------------------- a real batch
STUB_CELLS = [
    ("parameters", 'town = "甲镇"\ncounty = ""\nyear = 2025\ndata = ""\nexclude_towns = ""'),
    (None, "import zhidang_analysis as zd\nfrom IPython.display import HTML\n\n"
           "ds = zd.load_dataset(data, exclude_towns=exclude_towns).for_county(county)\n"
           "n = int(ds.values.query('town == @town and year == @year')['value'].notna().sum())\n"
           "HTML(f'<p id=\"who\">{county}/{town}/{year}/{n}</p>')"),
]


def stub_notebook(folder: Path) -> Path:
    """A quick stand-in for the town report: it loads the county and names the town it was given."""
    return write_notebook(folder / "stub_town.ipynb", STUB_CELLS)


@pytest.mark.slow
def test_batch_writes_every_county_and_the_comparison(city, tmp_path):
    out = tmp_path / "reports"
    stub = stub_notebook(tmp_path)
    result = batch.run_batch([YEAR], data=city, out=out, jobs=2, notebook=stub)
    assert result.ok, [j.error for j in result.failed]
    for county in COUNTIES:
        pages = sorted((out / "2025" / county).glob("*.html"))
        assert len(pages) == 15  # 14 towns and the county's overview
        html = (out / "2025" / county / "城关镇.html").read_text(encoding="utf-8")
        assert f"{county}/城关镇/2025/" in html
        ov = (out / "2025" / county / "overview.html").read_text(encoding="utf-8")
        assert f"<title>{county}二〇二五年度" in ov
    region = (out / "2025" / "overview.html").read_text(encoding="utf-8")
    assert "各县主要情况比较" in region and "甲县" in region and "乙县" in region
    manifest = json.loads((out / "2025" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["reports"]["甲县/城关镇"]["html"] == "甲县/城关镇.html"
    assert manifest["reports"]["乙县/城关镇"]["county"] == "乙县"
    assert manifest["reports"]["overview"]["kind"] == "region"
    index = (out / "2025" / "index.html").read_text(encoding="utf-8")
    assert 'href="%E7%94%B2%E5%8E%BF/%E5%9F%8E%E5%85%B3%E9%95%87.html"' in index  # 甲县/城关镇.html
    assert (out / "2025" / "checks.html").is_file()
    again = batch.run_batch([YEAR], data=city, out=out, jobs=2, notebook=stub)
    assert again.count("skipped") == len(again.jobs)


def test_a_template_is_made_per_county(city, tmp_path):
    r = CliRunner().invoke(main, ["template", "--year", "2026", "--profile", str(city), "-o", str(tmp_path / "t.xlsx")])
    assert r.exit_code == 1 and "填报模板按县生成" in r.output and "用 --profile 指向一个县的文件夹或文件" in r.output
    r = CliRunner().invoke(main, ["template", "--year", "2026", "--profile", str(city / "甲县"),
                                  "-o", str(tmp_path / "t.xlsx")])
    assert r.exit_code == 0 and "14个乡镇" in r.output


@pytest.mark.slow
def test_the_real_notebooks_run_for_one_county_of_several(city, tmp_path):
    from bs4 import BeautifulSoup

    from zhidang_analysis.running.runner import run_overview, run_town_report

    r = run_town_report("甲县/城关镇", YEAR, data=city, out=tmp_path)
    assert r.html == tmp_path / "2025" / "甲县" / "城关镇.html"
    assert r.parameters["county"] == "甲县" and r.parameters["town"] == "城关镇"
    soup = BeautifulSoup(r.html.read_text(encoding="utf-8"), "html.parser")
    assert soup.find("h1").get_text().startswith("中共城关镇委员会")
    html = r.html.read_text(encoding="utf-8")  # every number's provenance names 甲县's workbook, none 乙县's
    assert "甲县/示范县指标数据.xlsx" in html and "乙县/" not in html
    ov = run_overview(YEAR, data=city, out=tmp_path, county="乙县")
    assert ov.html == tmp_path / "2025" / "乙县" / "overview.html"
    text = BeautifulSoup(ov.html.read_text(encoding="utf-8"), "html.parser").get_text()
    assert "乙县" in text and "全县14个乡镇" in text
    region = run_overview(YEAR, data=city, out=tmp_path)
    assert region.html == tmp_path / "2025" / "overview.html"
    page = BeautifulSoup(region.html.read_text(encoding="utf-8"), "html.parser")
    assert page.find("h1").get_text() == "二〇二五年度各县乡镇党委履行全面从严治党主体责任情况比较"
    rows = [[td.get_text() for td in tr.find_all("td")] for tr in page.find("table").tbody.find_all("tr")]
    assert [r[0] for r in rows] == ["乙县", "甲县"]
    head = [th.get_text() for th in page.find("table").thead.find_all("th")]
    assert rows[0][head.index("发展党员（名）")] == "201"  # a count is a whole number


# ------------------------------------------------------------------------------------------- found in review
def _set_all(root: Path, county: str, header: str, value) -> None:
    """One cell of every town row of a county's 2025 sheet (a county whose towns all have an error)."""
    path = root / county / "示范县指标数据.xlsx"
    wb = openpyxl.load_workbook(path)
    ws = next(ws for ws in wb.worksheets if ws.title.startswith(str(YEAR)))
    col = next(c for c in range(1, ws.max_column + 1) if str(ws.cell(2, c).value or "").startswith(header))
    for r in range(3, ws.max_row + 1):
        if str(ws.cell(r, 1).value or "").endswith(("镇", "乡")):
            ws.cell(r, col).value = value
    wb.save(path)


def test_a_county_whose_towns_all_have_errors_leaves_the_others_reported(tmp_path):
    city = make_city(tmp_path / "city")
    _set_all(city, "乙县", "主题党日活动", "很多")
    ds, bad = batch.load_for_batch(city)
    assert ds.counties == ["甲县"] and len(ds.towns) == 14
    assert len(bad) == 14 and all(k.startswith("乙县/") for k in bad)


def test_correcting_a_town_of_one_county_reruns_nothing_in_another(tmp_path):
    city = make_city(tmp_path / "city")
    out = tmp_path / "reports"
    set_value(city, "甲县", "青石镇", "主题党日活动", "很多")
    ds, bad = batch.load_for_batch(city)
    jobs = batch.plan(ds, [YEAR], data=city, out=out, bad_towns=bad)
    for job in jobs:
        if job.status == "failed":
            continue
        Path(job.html).parent.mkdir(parents=True, exist_ok=True)
        Path(job.html).write_text("<p></p>", encoding="utf-8")
        Path(job.ipynb).write_text("{}", encoding="utf-8")
        job.status, job.seconds, job.finished_at = "done", 1.0, "2026-01-01T00:00:00+00:00"
    batch.write_manifest(out, YEAR, jobs, {})
    set_value(city, "甲县", "青石镇", "主题党日活动", 150)
    ds, bad = batch.load_for_batch(city)
    assert not bad
    status = {j.manifest_key: j.status for j in batch.plan(ds, [YEAR], data=city, out=out)}
    assert status["甲县/青石镇"] == "pending"
    assert {k: s for k, s in status.items() if k.startswith("乙县/")} == {
        k: "skipped" for k in status if k.startswith("乙县/")}


def test_a_county_without_data_for_a_year_gets_no_overview_that_year(tmp_path):
    city = make_city(tmp_path / "city")
    for name in ("示范县指标数据.xlsx", "目标任务.xlsx"):
        wb = openpyxl.load_workbook(city / "乙县" / name)
        for ws in list(wb.worksheets):
            if ws.title.startswith(("2020", "2021", "2022", "2023")):
                wb.remove(ws)
        wb.save(city / "乙县" / name)
    ds = zd.load_dataset(city)
    jobs = batch.plan(ds, [2021], data=city, out=tmp_path / "out")
    assert sorted(j.manifest_key for j in jobs if j.kind != "town") == ["overview", "甲县/overview"]
    assert not any(j.county == "乙县" for j in jobs)


def test_names_with_a_slash_and_names_of_towns_in_error(tmp_path, city_ds):
    bad = {"甲县/城关镇": ["an error"]}
    with pytest.raises(AmbiguousTownError):  # 乙县 has a 城关镇 too: which one is meant is not guessed
        batch.layout(city_ds, bad, "城关镇", None)
    assert batch.layout(city_ds, bad, "甲县/城关镇", None)[:2] == ("城关镇", "甲县")
    # one county: a town may be named a/b; it is not read as county a
    data = tmp_path / "one"
    shutil.copytree(zd.SAMPLE_DATA, data, ignore=shutil.ignore_patterns("*.md"))
    for name in ("乡镇概况.xlsx", "示范县指标数据.xlsx", "目标任务.xlsx", "特色做法.xlsx"):
        wb = openpyxl.load_workbook(data / name)
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for c in row:
                    if c.value == "河湾镇":
                        c.value = "a/b"
        wb.save(data / name)
    ds = zd.load_dataset(data)
    assert "a/b" in ds.towns and ds.check_town("a/b") == "a/b"
    scores = overview.region_scores(ds, YEAR)
    assert ("示范县", "a/b") in scores.index and scores.index.get_level_values("county").unique().tolist() == ["示范县"]


def test_a_county_view_keeps_its_own_warnings_only(tmp_path):
    city = make_city(tmp_path / "city")
    wb = openpyxl.load_workbook(city / "乙县" / "乡镇概况.xlsx")
    ws = wb.active
    col = next(c for c in range(1, ws.max_column + 1) if ws.cell(1, c).value == "党支部数")
    ws.cell(2, col).value = None  # 乙县's first town leaves 党支部数 blank: a warning
    wb.save(city / "乙县" / "乡镇概况.xlsx")
    ds = zd.load_dataset(city)
    assert any(p.county == "乙县" and "党支部数" in p.message for p in ds.for_county("乙县").problems)
    assert not any("党支部数" in p.message for p in ds.for_county("甲县").problems)


def test_a_check_report_saved_in_the_city_folder_does_not_hide_the_counties(city, tmp_path):
    root = tmp_path / "city"
    shutil.copytree(city, root)
    r = CliRunner().invoke(main, ["validate", str(root), "--report", str(root / "审核结果.xlsx")])
    assert r.exit_code == 0 and (root / "审核结果.xlsx").is_file()
    r = CliRunner().invoke(main, ["validate", str(root)])
    assert r.exit_code == 0 and "县：2个" in r.output and "未读取" not in r.output


def test_plausibility_checks_compare_a_town_with_its_own_county(tmp_path):
    from zhidang_analysis.outputs.checks import review

    city = make_city(tmp_path / "city")
    set_value(city, "乙县", "城关镇", "主题党日活动", 20)  # 乙县/城关镇 only; 甲县's is unchanged
    checks = [p for p in review(city).problems if p.level == "check"]
    assert checks and all(p.town == "乙县/城关镇" for p in checks)


def test_a_batch_records_the_county_whose_towns_all_have_errors(tmp_path):
    city = make_city(tmp_path / "city")
    _set_all(city, "乙县", "主题党日活动", "很多")
    ds, bad = batch.load_for_batch(city)
    jobs = batch.plan(ds, [YEAR], data=city, out=tmp_path / "out", bad_towns=bad)
    yi = [j for j in jobs if j.county == "乙县"]
    assert len(yi) == 14 and all(j.status == "failed" and "数据有误" in j.error["message"] for j in yi)
    assert {Path(j.html).parent.name for j in yi} == {"乙县"}  # the layout of several counties is kept
    assert len([j for j in jobs if j.county == "甲县" and j.kind == "town" and j.status == "pending"]) == 14
