"""pyproject.toml and environment.yml stay in step; the console script and .gitignore are right."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from importlib import metadata

import pytest
import yaml

from .conftest import REPO

_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(.*)$")


def _split(requirement: str) -> tuple[str, str]:
    """``'Jinja2>=3.1'`` → ``('jinja2', '>=3.1')``: PEP 503-ish name, then the version part."""
    m = _NAME.match(re.sub(r"\[.*?\]", "", requirement.split(";")[0]))  # drop markers and extras
    assert m, requirement
    name = re.sub(r"[-_.]+", "-", m.group(1)).lower()
    return name, m.group(2).replace(" ", "")


def test_split_normalises_names():
    assert _split("Jinja2>=3.1") == ("jinja2", ">=3.1")
    assert _split("python_calamine >= 0.2") == ("python-calamine", ">=0.2")
    assert _split("PyYAML") == ("pyyaml", "")
    assert _split("papermill[all]>=2.5; python_version>'3.9'") == ("papermill", ">=2.5")
    assert _split("python=3.11") == ("python", "=3.11")


@pytest.fixture(scope="module")
def pyproject() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def env() -> dict:
    return yaml.safe_load((REPO / "environment.yml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def runtime(pyproject) -> dict[str, str]:
    return dict(_split(r) for r in pyproject["project"]["dependencies"])


@pytest.fixture(scope="module")
def test_extra(pyproject) -> dict[str, str]:
    return dict(_split(r) for r in pyproject["project"]["optional-dependencies"]["test"])


@pytest.fixture(scope="module")
def conda_and_pip(env) -> tuple[dict[str, str], list[str]]:
    conda: dict[str, str] = {}
    pip: list[str] = []
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            pip += dep["pip"]
        else:
            name, version = _split(dep)
            conda[name] = version
    return conda, pip


@pytest.fixture(scope="module")
def env_deps(conda_and_pip) -> dict[str, str]:
    conda, pip = conda_and_pip
    deps = {k: v for k, v in conda.items() if k not in {"python", "pip"}}
    for req in pip:
        if req.startswith("-e") or req.startswith("."):
            continue
        name, version = _split(req)
        deps[name] = version
    return deps


def test_environment_yml_has_same_runtime_dependencies_as_pyproject(runtime, test_extra, env_deps):
    assert set(env_deps) - set(test_extra) == set(runtime)


def test_environment_yml_has_every_test_extra(test_extra, env_deps):
    assert set(test_extra) == {"pytest", "beautifulsoup4", "ruff", "xlwt", "psutil", "playwright",
                               "import-linter"}  # xlwt: .xls inputs in tests; import-linter: the layers contract
    assert set(test_extra) <= set(env_deps)


def test_minimum_versions_agree(runtime, test_extra, env_deps):
    for name, version in {**runtime, **test_extra}.items():
        assert env_deps[name] == version, name


def test_mplfonts_comes_from_pip_and_package_is_installed_editable(conda_and_pip):
    conda, pip = conda_and_pip
    assert "mplfonts" not in conda
    assert [_split(r)[0] for r in pip if not r.startswith("-")] == ["mplfonts"]
    assert "-e ." in pip


def test_environment_python_satisfies_requires_python(conda_and_pip, pyproject):
    conda, _ = conda_and_pip
    assert pyproject["project"]["requires-python"] == ">=3.10"
    major, minor = (int(x) for x in conda["python"].lstrip("=").split(".")[:2])
    assert (major, minor) >= (3, 10)


def test_runtime_dependencies_include_the_readers(runtime):
    # the loaders read xlsx with calamine and write templates with openpyxl
    assert {"pandas", "openpyxl", "python-calamine", "pyyaml", "click"} <= set(runtime)


def test_console_script_points_at_cli_main(pyproject):
    assert pyproject["project"]["scripts"] == {"zhidang": "zhidang_analysis.cli:main"}


def test_installed_console_script_points_at_cli_main():
    eps = metadata.entry_points(group="console_scripts", name="zhidang")
    assert [ep.value for ep in eps] == ["zhidang_analysis.cli:main"]


def test_package_data_ships_catalog_and_year_phrases(pyproject):
    patterns = pyproject["tool"]["setuptools"]["package-data"]["zhidang_analysis"]
    assert "data/*.yaml" in patterns
    data = REPO / "zhidang_analysis" / "data"
    assert (data / "catalog.yaml").is_file() and (data / "year_phrases.yaml").is_file()


def test_pytest_turns_warnings_into_errors(pyproject):
    assert pyproject["tool"]["pytest"]["ini_options"]["filterwarnings"][0] == "error"


def test_gitignore_ignores_reports_output():
    lines = [line.strip() for line in (REPO / ".gitignore").read_text(encoding="utf-8").splitlines()]
    assert "reports/*" in lines
    assert "!reports/.gitkeep" in lines


@pytest.mark.skipif(shutil.which("git") is None or not (REPO / ".git").exists(), reason="needs a git checkout")
def test_git_ignores_generated_reports_but_keeps_the_folder():
    def ignored(path: str) -> bool:
        proc = subprocess.run(["git", "check-ignore", "--no-index", "-q", path], cwd=REPO, timeout=30)
        assert proc.returncode in (0, 1)
        return proc.returncode == 0

    assert ignored("reports/2023/甲镇.html")
    assert ignored("reports/2023/manifest.json")
    assert not ignored("reports/.gitkeep")
    assert not ignored("data/sample/乡镇概况.xlsx")
