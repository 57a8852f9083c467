"""Running the report notebooks with papermill directly is as safe as `zhidang run`.

Fast tests call ``zd.params.check`` with a namespace built by hand; the slow ones execute the notebooks with
papermill's Python API (as an analyst following papermill's documentation would) and read the failing cell.
"""

from __future__ import annotations

import subprocess
import sys

import nbformat
import papermill as pm
import pytest
from click.testing import CliRunner

import zhidang_analysis as zd
from zhidang_analysis.cli import main
from zhidang_analysis.report.params import ParameterError, check, declared
from zhidang_analysis.report.params import NOTEBOOKS
from zhidang_analysis.running.runner import TOWN_NOTEBOOK, ProjectKernelManager

DEFAULTS = {"town": "青石镇", "county": "", "year": 2025, "data": "", "yoy": True, "general_problems": False,
            "round_approx": False, "score_rank": False, "sign_date": "", "exclude_towns": ""}
NOTEBOOK_NAMES = ["town_report", "county_overview", "region_overview", "explore"]


def namespace(**changes) -> dict:
    ns = {**DEFAULTS, **changes}
    return {k: v for k, v in ns.items() if v is not ...}


# ------------------------------------------------------------------------------------ the check itself
def test_declared_parameters_are_read_from_the_parameters_cell():
    spec = declared("town_report")
    assert list(spec) == list(DEFAULTS)
    assert spec["year"]["type"] == "int" and spec["yoy"]["type"] == "bool" and spec["town"]["type"] == "str"
    assert spec["town"]["help"] == "乡镇名称，须与数据中“乡镇”列一致；数据有多个县且重名时写成“县/乡镇”"


def test_defaults_pass():
    check(namespace(), "town_report", hidden=set())


def test_a_typo_in_a_name_names_it_and_suggests_the_declared_one():
    with pytest.raises(ParameterError) as e:
        check(namespace(twon="河湾镇"), "town_report", hidden=set())
    assert (e.value.name, e.value.suggestion) == ("twon", "town")
    assert str(e.value).startswith("笔记本没有参数“twon”，是否为“town”？可用的参数：town、county、year、data")


def test_a_name_like_no_parameter_gets_the_list_without_a_guess():
    with pytest.raises(ParameterError, match="笔记本没有参数“flavour”。可用的参数：town、") as e:
        check(namespace(flavour="red"), "town_report", hidden=set())
    assert e.value.suggestion is None


@pytest.mark.parametrize(("name", "value", "message"), [
    ("year", "2O25", "参数“year”应为整数，读到文本“2O25”"),
    ("year", 2025.0, "参数“year”应为整数，读到数值“2025.0”"),
    ("yoy", "False", "参数“yoy”应为True 或 False，读到文本“False”"),
    ("town", 2025, "参数“town”应为文本，读到整数“2025”"),
])
def test_each_value_is_checked_against_its_declared_type(name, value, message):
    with pytest.raises(ParameterError) as e:
        check(namespace(**{name: value}), "town_report", hidden=set())
    assert str(e.value) == message and e.value.name == name


def test_town_and_year_are_checked_against_the_data_with_the_cli_message():
    with pytest.raises(ParameterError) as e:
        check(namespace(town="河湾"), "town_report", hidden=set())
    cli = CliRunner().invoke(main, ["run", "--town", "河湾", "--year", "2025"])
    assert cli.exit_code != 0
    assert str(e.value) == "未找到乡镇“河湾”，可选的有：河湾镇"
    assert str(e.value) in cli.output
    with pytest.raises(ParameterError, match="未找到年度“2019”"):
        check(namespace(year=2019), "town_report", hidden=set())


def test_a_wrong_data_path_is_named(tmp_path):
    missing = tmp_path / "没有这个文件夹"
    with pytest.raises(ParameterError) as e:
        check(namespace(data=str(missing)), "town_report", hidden=set())
    assert str(e.value) == f"参数“data”：找不到数据文件或文件夹“{missing}”"


def test_kernel_names_and_names_the_notebook_assigns_itself_are_not_parameters():
    # what IPython puts in the namespace, and what a "Run All" in JupyterLab leaves from the run before
    ns = namespace(In=[""], Out={}, _i1="x", exit=None, report=object(), ds=object())
    check(ns, "town_report", hidden={"In", "Out", "exit"})
    check({**namespace(), "scores": "left from a run before"}, "town_report", hidden=set())


@pytest.mark.parametrize("name", NOTEBOOK_NAMES)
def test_every_report_notebook_checks_its_parameters_first(name):
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata["tags"]
    assert f'zd.params.check(globals(), "{name}")' in code[1].source
    spec = declared(name)
    assert {"year", "data"} <= set(spec)
    # the defaults of every notebook pass the check
    defaults = {k: eval(p["default"]) for k, p in spec.items()}  # noqa: S307 - literals of our own notebooks
    check(defaults, name, hidden=set())


def test_the_error_shows_without_a_traceback():
    e = ParameterError("参数“year”应为整数，读到文本“2O25”")
    assert e._render_traceback_() == ["参数错误：参数“year”应为整数，读到文本“2O25”"]
    assert isinstance(e, zd.ZhidangError)


# ------------------------------------------------------------------------------------ papermill, for real
def run(tmp_path, parameters, notebook=TOWN_NOTEBOOK):
    out = tmp_path / "out.ipynb"
    try:
        pm.execute_notebook(str(notebook), str(out), parameters=parameters, kernel_name="python3",
                            kernel_manager_class=ProjectKernelManager, progress_bar=False, cwd=str(notebook.parent))
        return None, nbformat.read(out, as_version=4)
    except pm.PapermillExecutionError as e:
        return e, nbformat.read(out, as_version=4)


@pytest.mark.slow
@pytest.mark.parametrize(("parameters", "message"), [
    ({"twon": "河湾镇", "year": 2025}, "笔记本没有参数“twon”，是否为“town”？"),
    ({"town": "河湾镇", "year": "2O25"}, "参数“year”应为整数，读到文本“2O25”"),
    ({"town": "河湾", "year": 2025}, "未找到乡镇“河湾”，可选的有：河湾镇"),
    ({"town": "河湾镇", "data": "/没有/这个/路径"}, "参数“data”：找不到数据文件或文件夹“/没有/这个/路径”"),
])
def test_papermill_stops_at_the_check_with_a_short_chinese_message(tmp_path, parameters, message):
    error, nb = run(tmp_path, parameters)
    assert error is not None and error.ename == "ParameterError"
    assert error.evalue.startswith(message)
    # (papermill puts an error banner above the cells of the output notebook: find the failing cell by its output)
    [k] = [i for i, c in enumerate(nb.cells) if any(o.output_type == "error" for o in c.get("outputs", []))]
    failing = nb.cells[k]
    assert "zd.params.check" in failing.source
    [output] = [o for o in failing.outputs if o.output_type == "error"]
    assert output.traceback == [f"参数错误：{error.evalue}"]  # no traceback noise
    # nothing after it ran: no report, least of all one for the default town 青石镇
    later = nb.cells[k + 1:]
    assert all(not c.get("outputs") for c in later if c.cell_type == "code")
    assert "中共青石镇委员会" not in nbformat.writes(nb)


@pytest.mark.slow
def test_papermill_with_correct_parameters_writes_the_other_towns_report(tmp_path):
    error, nb = run(tmp_path, {"town": "河湾镇", "year": 2024})
    assert error is None
    html = "".join(o.get("data", {}).get("text/html", "") for c in nb.cells if c.cell_type == "code"
                   for o in c.outputs)
    assert "中共河湾镇委员会关于<br>二〇二四年度" in html and "中共青石镇委员会" not in html  # title lines (titles.title_lines)


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOK_NAMES)
def test_help_notebook_lists_every_parameter_with_its_chinese_description(name):
    res = subprocess.run([sys.executable, "-m", "papermill", "--help-notebook", str(NOTEBOOKS / f"{name}.ipynb")],
                         capture_output=True, text=True, timeout=120, check=True)
    for param, p in declared(name).items():
        assert f"  {param}: {p['type']} (default " in res.stdout
        assert p["help"] and p["help"] in res.stdout


def test_the_explorer_checks_names_and_takes_empty_choices_as_not_given():
    explorer = {"data": "", "county": "", "town": "", "year": 0}
    optional = ("county", "town", "year")
    check(dict(explorer), "explorer", hidden=set(), optional=optional)  # the first town of the latest year
    with pytest.raises(ParameterError, match="笔记本没有参数“twon”，是否为“town”"):
        check({**explorer, "twon": "河湾镇"}, "explorer", hidden=set(), optional=optional)
    with pytest.raises(ParameterError, match="未找到乡镇“河湾”"):
        check({**explorer, "town": "河湾"}, "explorer", hidden=set(), optional=optional)
    with pytest.raises(ParameterError, match="未找到年度“1999”"):
        check({**explorer, "year": 1999}, "explorer", hidden=set(), optional=optional)
