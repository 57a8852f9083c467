"""Output names are data (issue 13): reserved and colliding town names, braces in names and paths, mathtext,
commas in exclude_towns, very long names. Each test writes its own input and checks the exact result."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from urllib.parse import unquote

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner
from openpyxl import load_workbook
from papermill.parameterize import add_builtin_parameters, parameterize_path

import zhidang_analysis as zd
from zhidang_analysis.running import batch
from zhidang_analysis.report import charts
from zhidang_analysis.cli import main
from zhidang_analysis.outputs.export import FigureHTML
from zhidang_analysis.outputs.names import cut_utf8, output_stems, safe_filename
from zhidang_analysis.inputs.load import parse_towns as _town_list
from zhidang_analysis.running.runner import _papermill_path, report_paths, report_title
from zhidang_analysis.outputs.template import town_template_names, write_town_templates

LONG_A = "长" * 199 + "镇"  # 200 characters, 600 bytes of UTF-8
LONG_B = "长" * 199 + "乡"  # the same first 199 characters: cut to the same prefix
COMMA = "甲,镇"
# sample town → its new name; the comma town gets a bad cell (so that the batch must exclude it)
RENAMED = {"城关镇": "overview", "青石镇": "index", "河湾镇": "a/b", "柳林镇": "a_b", "金川镇": LONG_A,
           "红崖镇": LONG_B, "松山乡": "{year}镇", "石门乡": "{%raw%}镇", "花海乡": "$x^2$", "马营镇": COMMA}
GOOD = [t for t in RENAMED.values() if t != COMMA]
WORKBOOKS = ("乡镇概况.xlsx", "示范县指标数据.xlsx", "目标任务.xlsx", "特色做法.xlsx")


def h8(name: str) -> str:
    return hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]


# the rule, by hand: own name if safe; safe form; -<hash> when reserved, over 120 bytes or shared
EXPECTED = {
    "overview": f"overview-{h8('overview')}",
    "index": f"index-{h8('index')}",
    "a/b": f"a_b-{h8('a/b')}",
    "a_b": "a_b",
    LONG_A: "长" * 37 + f"-{h8(LONG_A)}",  # 111 bytes of name + 9 of suffix = 120
    LONG_B: "长" * 37 + f"-{h8(LONG_B)}",
    "{year}镇": "{year}镇",
    "{%raw%}镇": "{%raw%}镇",
    "$x^2$": "$x^2$",
}


def rename_towns(src: Path, dst: Path, mapping: dict[str, str]) -> Path:
    """Copy the four workbooks of ``src`` to ``dst`` with the towns renamed in every cell."""
    dst.mkdir(parents=True, exist_ok=True)
    for name in WORKBOOKS:
        wb = load_workbook(src / name)
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for c in row:
                    if isinstance(c.value, str) and c.value in mapping:
                        c.value = mapping[c.value]
        wb.save(dst / name)
    return dst


def spoil(data: Path, town: str, year: int = 2025) -> str:
    """Write text into one number cell of ``town``; return the cell."""
    wb = load_workbook(data / "示范县指标数据.xlsx")
    ws = wb[f"{year}年"]
    header = next(r for r in ws.iter_rows() if r[0].value == "乡镇")
    col = next(c.column - 1 for c in header if c.value == "主题党日活动（次）")
    row = next(r for r in ws.iter_rows() if r[0].value == town)
    row[col].value = "很多"
    wb.save(data / "示范县指标数据.xlsx")
    return row[col].coordinate


@pytest.fixture(scope="module")
def clean_data(tmp_path_factory) -> Path:
    """The sample with ten towns renamed (the loader takes white space out of names: no ``{% raw %}``)."""
    return rename_towns(zd.SAMPLE_DATA, tmp_path_factory.mktemp("clean"), RENAMED)


@pytest.fixture(scope="module")
def data(clean_data, tmp_path_factory) -> Path:
    """The same with one bad cell in the comma town's row."""
    d = tmp_path_factory.mktemp("data")
    for name in WORKBOOKS:
        shutil.copy(clean_data / name, d / name)
    spoil(d, COMMA)
    return d


# --------------------------------------------------------------------------------------------- the rule
def test_output_stems_follow_the_documented_rule():
    names = [*EXPECTED, "青石镇", "Abc", "abc", "CON", "..", "INDEX"]
    stems = output_stems(names)
    assert stems == {**EXPECTED, "青石镇": "青石镇", "Abc": f"Abc-{h8('Abc')}", "abc": f"abc-{h8('abc')}",
                     "CON": "_CON", "..": "未命名", "INDEX": f"INDEX-{h8('INDEX')}"}
    assert len({s.casefold() for s in stems.values()}) == len(names)
    # the county overview, the index page and the manifest are never a town's
    assert not {s.casefold() for s in stems.values()} & {"overview", "index", "manifest"}


def test_a_town_keeps_its_file_name_when_another_is_added():
    before = output_stems(["青石镇", "overview", LONG_A, "a_b", "x:y"])
    after = output_stems(["青石镇", "overview", LONG_A, "a_b", "x:y", "a/b", LONG_B, "Overview", "新镇"])
    assert {t: after[t] for t in before} == before
    # a changed name takes its safe form until another name takes the same one: then it, not the other, moves
    assert output_stems(["a/b"]) == {"a/b": "a_b"}
    assert output_stems(["a/b", "a_b"]) == {"a/b": f"a_b-{h8('a/b')}", "a_b": "a_b"}
    assert output_stems(["a/b", "a\\b"]) == {"a/b": f"a_b-{h8('a/b')}", "a\\b": f"a_b-{h8('a' + chr(92) + 'b')}"}


def test_long_names_are_cut_by_bytes_and_stay_distinct():
    assert cut_utf8("青石镇", 7) == "青石" and cut_utf8("青石镇", 9) == "青石镇"
    assert safe_filename(LONG_A) == "长" * 40  # 120 bytes, never half a character
    stems = output_stems([LONG_A, LONG_B])
    assert stems == {LONG_A: EXPECTED[LONG_A], LONG_B: EXPECTED[LONG_B]}
    for stem in stems.values():
        # the longest name written: the temporary file of an atomic write, ".<stem>.ipynb.<8 random>.tmp"
        assert len(f".{stem}.ipynb.abcdefgh.tmp".encode()) <= 255
        assert len(f".~2026年{stem}指标填报表.abcdefgh.xlsx".encode()) <= 255


def test_zhidang_run_names_a_town_as_the_batch_does(clean_data, tmp_path):
    from zhidang_analysis.running.runner import _layout

    stems = _layout(clean_data, "a/b", None)[2]
    assert {t: stems[t] for t in EXPECTED} == EXPECTED
    assert report_paths(tmp_path, 2025, "a/b", stems=stems)[0].name == f"a_b-{h8('a/b')}.html"


def test_report_paths_keep_the_overview_for_the_county(tmp_path):
    assert report_paths(tmp_path, 2025, None) == (tmp_path / "2025" / "overview.html",
                                                  tmp_path / "2025" / "overview.ipynb")
    assert report_paths(tmp_path, 2025, "overview")[0].name == f"overview-{h8('overview')}.html"
    stems = output_stems(["a/b", "a_b"])
    assert report_paths(tmp_path, 2025, "a/b", stems=stems)[1].name == f"a_b-{h8('a/b')}.ipynb"
    assert report_paths(tmp_path, 2025, "a_b", stems=stems)[0].name == "a_b.html"


# --------------------------------------------------------------------------------------------- papermill paths
def test_papermill_gets_paths_it_does_not_format(tmp_path):
    params = add_builtin_parameters({"town": "{year}镇", "year": 2025})
    for name in ("{year}镇.ipynb", "{%raw%}镇.ipynb", "{}.ipynb", "r{year}/x.ipynb", "-x.ipynb"):
        path = tmp_path / name
        assert parameterize_path(_papermill_path(path), params) == str(path.resolve())


# --------------------------------------------------------------------------------------------- exclude_towns
def test_exclude_towns_takes_a_list_and_the_batch_passes_one():
    assert _town_list("河湾镇,青石镇、柳林镇") == ["河湾镇", "青石镇", "柳林镇"]  # people's form
    assert _town_list('["甲,镇", "乙、镇"]') == ["甲,镇", "乙、镇"]
    assert _town_list(["甲,镇", " 乙镇 "]) == ["甲,镇", "乙镇"]
    assert _town_list("[甲镇]") == ["[甲镇]"]  # not JSON: a name
    assert batch.town_list_param(["河湾镇"]) == "河湾镇"
    assert batch.town_list_param([COMMA, "乙镇"]) == '["甲,镇", "乙镇"]'


def test_a_bad_town_with_a_comma_is_left_out_alone(data):
    ds, bad = batch.load_for_batch(data)
    assert list(bad) == [COMMA] and COMMA not in ds.towns and len(ds.towns) == 13
    # what the notebooks are given loads the same 13 towns
    param = batch.town_list_param(sorted(bad))
    assert param == json.dumps([COMMA], ensure_ascii=False)
    assert zd.load_dataset(data, exclude_towns=param).towns == ds.towns


# --------------------------------------------------------------------------------------------- plan and manifest
def test_plan_gives_every_job_its_own_file_and_manifest_key(data, tmp_path):
    ds, bad = batch.load_for_batch(data)
    jobs = batch.plan(ds, [2025], data=data, out=tmp_path, bad_towns=bad)
    assert len(jobs) == 15  # 13 towns, the bad one, the overview
    names = {j.town: Path(j.html).name for j in jobs}
    assert {t: names[t] for t in EXPECTED} == {t: f"{s}.html" for t, s in EXPECTED.items()}
    assert names[None] == "overview.html" and names[COMMA] == "甲,镇.html"
    assert len({n.casefold() for n in names.values()}) == 15
    assert len({j.manifest_key for j in jobs}) == 15
    assert {j.parameters.get("exclude_towns") for j in jobs if j.status == "pending"} == {'["甲,镇"]'}

    batch.write_manifest(tmp_path, 2025, jobs, {})
    reports = batch.read_manifest(tmp_path, 2025)["reports"]
    assert set(reports) == {j.manifest_key for j in jobs}
    assert reports["overview"]["kind"] == "overview" and reports["overview"]["html"] == "overview.html"
    assert reports[EXPECTED["overview"]]["town"] == "overview" and reports[EXPECTED["overview"]]["kind"] == "town"
    assert reports["a_b"]["town"] == "a_b" and reports[EXPECTED["a/b"]]["town"] == "a/b"


def test_manifest_entry_moves_with_its_town(tmp_path):
    """An entry written under a town's old file name is replaced, not left beside the new one."""
    (tmp_path / "2025").mkdir()
    old = {"reports": {"a/b": {"kind": "town", "status": "done", "html": "a_b.html", "input_key": "k"},
                       "overview": {"kind": "overview", "status": "done", "html": "overview.html"}}}
    batch.manifest_path(tmp_path, 2025).write_text(json.dumps(old), encoding="utf-8")
    html, ipynb = report_paths(tmp_path, 2025, "a/b", stems=output_stems(["a/b", "a_b"]))
    job = batch.Job("town", 2025, "a/b", {}, "nb", str(html), str(ipynb), "k", "h", status="not_run")
    batch.write_manifest(tmp_path, 2025, [job], {})
    reports = batch.read_manifest(tmp_path, 2025)["reports"]
    assert set(reports) == {f"a_b-{h8('a/b')}", "overview"}
    assert reports[f"a_b-{h8('a/b')}"]["previous"]["input_key"] == "k"


# --------------------------------------------------------------------------------------------- charts
@pytest.mark.parametrize("name", ["$x^2$", "$x^$", r"$\foo$镇"])
def test_town_names_with_dollars_are_plain_text_in_charts(name):
    ds = zd.load_dataset()
    values = ds.values.replace({"town": {"青石镇": name}})
    profile = ds.profile.rename(index={"青石镇": name})
    scores = zd.indicators.composite_score(values, profile)
    figs = [charts.score_ranking(scores, 2025), charts.town_trend(values, name),
            charts.heatmap(values, 2025, profile=profile), charts.movers(zd.indicators.yoy(values), 2025, n=14)]
    for fig in figs:
        texts = [t for ax in fig.axes for t in ax.get_yticklabels() + ax.texts]
        texts += [t for legend in fig.legends for t in legend.get_texts()]
        mine = [t for t in texts if t.get_text() == name]
        assert mine and not any(t.get_parse_math() for t in mine)
        FigureHTML(fig, "图")  # drawn outside the chart style, as the report notebook does: no mathtext error


# --------------------------------------------------------------------------------------------- template
def test_per_town_templates_for_reserved_colliding_and_long_names(tmp_path):
    towns = ["overview", "a/b", "a_b", LONG_A, LONG_B, "Abc", "abc"]
    want = {"overview": "overview", "a/b": f"a_b-{h8('a/b')}", "a_b": "a_b", LONG_A: EXPECTED[LONG_A],
            LONG_B: EXPECTED[LONG_B], "Abc": f"Abc-{h8('Abc')}", "abc": f"abc-{h8('abc')}"}
    assert town_template_names(towns, 2026) == {t: f"2026年{s}指标填报表.xlsx" for t, s in want.items()}
    paths = write_town_templates(tmp_path, 2026, towns)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"2026年{s}指标填报表.xlsx" for s in want.values())
    assert {t: p.name for t, p in paths.items()} == town_template_names(towns, 2026)
    assert max(len(p.name.encode()) for p in paths.values()) <= 255
    assert load_workbook(paths[LONG_B])["2026"]["A4"].value == LONG_B


def test_cli_template_per_town_with_a_long_name(tmp_path):
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["template", "--year", "2026", "--towns", f"甲镇,{LONG_A},{LONG_B}",
                                    "--per-town", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in out.iterdir()) == sorted(
        f"2026年{s}指标填报表.xlsx" for s in ("甲镇", EXPECTED[LONG_A], EXPECTED[LONG_B]))
    assert "已生成3个乡镇的填报模板" in res.output


# --------------------------------------------------------------------------------------------- end to end
@pytest.mark.slow
def test_batch_with_colliding_reserved_braced_dollar_long_and_comma_names(data, tmp_path):
    out = tmp_path / "r{year}"  # a brace in the output folder is a folder name too
    towns = [t for t in GOOD if t != LONG_B]  # (LONG_B's file name is checked by the plan test: one report less)
    want = {t: EXPECTED[t] for t in towns}
    result = batch.run_batch([2025], data=data, towns=[*towns, COMMA], out=out, jobs=2)
    failed = {j.town: j.error["message"] for j in result.failed}
    assert set(failed) == {COMMA} and "数据有误" in failed[COMMA], failed
    assert result.count("done") == len(towns) + 1  # and the overview

    assert sorted(p.name for p in tmp_path.iterdir()) == ["r{year}"]  # no "r2025" beside it
    assert sorted(p.name for p in out.iterdir()) == [".zhidang-batch.lock", "2025"]
    folder = out / "2025"
    files = sorted(p.name for p in folder.iterdir())
    assert files == sorted([*(f"{s}.{ext}" for s in want.values() for ext in ("html", "ipynb")),
                            "overview.html", "overview.ipynb", "index.html", "manifest.json", "checks.html"])
    # every report in its own file, and no hidden temporary notebook left behind
    for town, stem in want.items():
        s = BeautifulSoup((folder / f"{stem}.html").read_text(encoding="utf-8"), "html.parser")
        assert s.title.get_text() == report_title(2025, town)
        assert s.find("h1").get_text().startswith(f"中共{town}委员会")
    overview = BeautifulSoup((folder / "overview.html").read_text(encoding="utf-8"), "html.parser")
    assert overview.title.get_text() == report_title(2025)
    assert "全县13个乡镇" in overview.get_text()

    reports = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["reports"]
    assert {k: (e["kind"], e.get("town"), e["status"]) for k, e in reports.items()} == {
        **{s: ("town", t, "done") for t, s in want.items()}, "overview": ("overview", None, "done"),
        COMMA: ("town", COMMA, "failed")}
    assert reports["overview"]["html"] == "overview.html"
    assert reports[EXPECTED["index"]]["parameters"]["exclude_towns"] == '["甲,镇"]'

    index = BeautifulSoup((folder / "index.html").read_text(encoding="utf-8"), "html.parser")
    links = {r.find_all("td")[1].get_text(): r.select_one("a:not(.checks-link)")["href"]
             for r in index.select("#towns tbody tr") if r.select_one("a:not(.checks-link)")}
    # the town whose data failed links to its entry in the check report instead, an anchor that is there
    (failed_row,) = [r for r in index.select("#towns tbody tr") if r.find_all("td")[1].get_text() == COMMA]
    anchor = unquote(failed_row.select_one("a.checks-link")["href"]).split("#")[1]
    assert BeautifulSoup((folder / "checks.html").read_text(encoding="utf-8"), "html.parser").find(id=anchor)
    assert {t: unquote(h) for t, h in links.items()} == {t: f"{s}.html" for t, s in want.items()}
    assert unquote(index.find("a")["href"]) == "overview.html"


@pytest.mark.slow
def test_cli_run_with_a_200_character_name_and_a_braced_out_folder(clean_data, tmp_path):
    out = tmp_path / "r{year}"
    res = CliRunner().invoke(main, ["run", "--town", LONG_A, "--year", "2025", "--data", str(clean_data),
                                    "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "Traceback" not in res.output
    assert sorted(p.name for p in (out / "2025").iterdir()) == [f"{EXPECTED[LONG_A]}.html",
                                                               f"{EXPECTED[LONG_A]}.ipynb"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r{year}"]
