"""Shared fixtures: small workbooks written by the tests themselves (never the bundled sample).

``write_xlsx(path, {sheet: rows})`` writes rows top-down starting at A1; a row is a list of cell values
(``None`` leaves a cell blank). So ``rows[i][j]`` lands in Excel cell ``<column j+1><row i+1>``:
``rows[6][3]`` is ``D7``. Tests compute expected cell names from that rule by hand.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from openpyxl import Workbook

REPO = Path(__file__).resolve().parent.parent
TEST_DATA = Path(__file__).resolve().parent / "data"


def chromium() -> str | None:
    """The system's Chromium that the browser tests drive: /usr/bin/chromium, else chromium (or
    chromium-browser) on PATH."""
    for candidate in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def pytest_report_header(config) -> list[str]:
    """The browser the browser tests run on, so that a failure names it (its version changes under us)."""
    exe = chromium()
    if exe is None:
        return ["chromium: not found (the browser tests will be skipped)"]
    try:
        out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=60)
        version = (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError) as e:
        version = f"version unknown ({e!r})"
    try:
        from importlib.metadata import version as dist_version

        playwright = dist_version("playwright")
    except Exception:  # noqa: BLE001 - the header must never stop the run
        playwright = "not installed"
    return [f"chromium: {version} ({exe}); playwright {playwright}"]

PROFILE_HEADER = ["县", "乡镇", "乡镇类别", "省份", "分散居住村", "文旅品牌", "县党代会届次",
                  "行政村数", "户籍人口", "党员人数", "党支部数"]
# Three fictional towns (profile rows 2-4); branches >= villages so the profile raises no warning.
PROFILE_ROWS = [
    ["测试县", "甲镇", "镇", "甘肃", "上村", "甲镇花海", 15, 10, 20000, 600, 12],
    ["测试县", "乙乡", "乡", "甘肃", None, None, 15, 6, 8000, 240, 8],
    ["测试县", "丙镇", "镇", "甘肃", "下村、中村", None, 15, 8, 15000, 450, 9],
]


def without_norms(cat):
    """``cat`` without the norms of the Party's rules (主题党日 12 a branch a year): for hand-made counties that use
    主题党日 as any indicator, with a handful of sessions in 12 branches."""
    import dataclasses

    return dataclasses.replace(cat, frame=cat.frame.assign(norm=float("nan")))


def report_items(part: str) -> list[str]:
    """The 一是…二是… items of 二 or 三 of a report's text (a single one reads 主要是…), the 【待补】 item the town
    still has to write among them (二: the last, numbered), then those that follow them unnumbered (a paragraph in
    三)."""
    todo = re.findall(r"(?<!是)【待补：[^】]*】", part)
    part = re.sub(r"(?<!是)【待补：[^】]*】。?", "", part)
    found = [i.strip().rstrip("。") for i in re.split(r"[一二三四五六七八九十]+是", part)[1:]]
    if not found and "主要是" in part and part.split("主要是", 1)[1].strip(" 。\n"):
        found = [part.split("主要是", 1)[1].strip().rstrip("。")]
    return found + todo


def write_xlsx(path: Path, sheets: dict[str, list[list]], style=None) -> Path:
    """Write a workbook with one sheet per key; rows start at A1. ``style(ws)``, if given, is called on each
    sheet before saving (merged cells, number formats …)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for i, row in enumerate(rows, start=1):
            for j, value in enumerate(row, start=1):
                if value is not None:
                    ws.cell(row=i, column=j, value=value)
        if style is not None:
            style(ws)
    wb.save(path)
    return path


def write_profile(folder: Path, rows: list[list] | None = None, name: str = "乡镇概况.xlsx") -> Path:
    """The town profile workbook (sheet 乡镇概况) with ``PROFILE_ROWS`` unless ``rows`` is given."""
    return write_xlsx(Path(folder) / name, {"乡镇概况": [PROFILE_HEADER] + (PROFILE_ROWS if rows is None else rows)})


def write_notebook(path: Path, cells: list[tuple[str | None, str]]) -> Path:
    """A notebook of code ``cells`` (``(tag, source)``; the tag ``parameters`` marks papermill's cell), python3
    kernel: the stand-in town reports of the batch tests."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    for tag, source in cells:
        cell = nbformat.v4.new_code_cell(source)
        if tag:
            cell.metadata["tags"] = [tag]
        nb.cells.append(cell)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return Path(path)


def wait_for(predicate, seconds: float, step: float = 0.1):
    """``predicate()`` once it is truthy, or its last (falsy) value after ``seconds``."""
    import time

    deadline = time.monotonic() + seconds
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(step)


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    """A private copy of the sample's workbooks, so a test can change one town's row."""
    import shutil

    import zhidang_analysis as zd

    d = tmp_path_factory.mktemp("data")
    for f in zd.SAMPLE_DATA.glob("*.xlsx"):
        shutil.copy(f, d / f.name)
    return d


@pytest.fixture(scope="session", autouse=True)
def _dataset_disk_cache(tmp_path_factory):
    """The on-disk dataset cache of the tests lives in a temporary folder, never in the user's ~/.cache."""
    import os

    folder = tmp_path_factory.mktemp("dataset-cache")
    old = os.environ.get("ZHIDANG_CACHE_DIR")
    os.environ["ZHIDANG_CACHE_DIR"] = str(folder)
    yield folder
    if old is None:
        os.environ.pop("ZHIDANG_CACHE_DIR", None)
    else:
        os.environ["ZHIDANG_CACHE_DIR"] = old


@pytest.fixture
def xlsx():
    """The workbook writer, as a fixture for tests that prefer injection."""
    return write_xlsx


@pytest.fixture
def data_dir(tmp_path) -> Path:
    """A fresh input folder that already holds the three-town profile workbook 乡镇概况.xlsx."""
    folder = tmp_path / "input"
    write_profile(folder)
    return folder


@pytest.fixture
def profile_file(data_dir) -> Path:
    return data_dir / "乡镇概况.xlsx"
