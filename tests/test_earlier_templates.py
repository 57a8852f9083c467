"""Workbooks filled in on an earlier template keep loading: its headers are the catalog's aliases.

``tests/data/published_headers.txt`` lists every indicator header a published template has written. Each of
them must still be read as its indicator; a header that is not the current one is read with one notice per
sheet (level ``notice``, 提示) that names the cell, the old header and the header it has now.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

import zhidang_analysis as zd
from zhidang_analysis.model.catalog import load_catalog, normalize_header, split_unit
from zhidang_analysis.cli import main

from .conftest import TEST_DATA, write_xlsx

PUBLISHED = TEST_DATA / "published_headers.txt"
VALUES = "示范县指标数据.xlsx"


@pytest.fixture(scope="module")
def cat():
    return load_catalog()


def published() -> list[str]:
    lines = PUBLISHED.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def quoted(text: str) -> str:
    """A header as a message quotes it: its own quotation marks become single ones."""
    return "“" + text.replace("“", "‘").replace("”", "’") + "”"


def earlier_headers(cat) -> dict[str, list[str]]:
    """code → the aliases the catalog keeps for it (headers with their old unit)."""
    return {code: list(aliases) for code, aliases in cat.frame["aliases"].items() if aliases}


# ------------------------------------------------------------------------------------------- the catalog
def test_the_units_changed_last_month_are_aliases(cat):
    assert earlier_headers(cat) == {
        "unity_model_families": ["民族团结进步示范家庭（个）"],
        "good_daughters_in_law": ["“好媳妇”（个）"],
        "good_mothers_in_law": ["“好婆婆”（个）"],
        "model_families": ["“最美家庭”（个）"],
        "homestays": ["藏式民宿（套）", "藏式民宿"],  # one Tibetan town's word, now 新建民宿
    }


def test_every_published_header_is_still_read_as_its_indicator(cat):
    current = {normalize_header(cat.label(c)) for c in cat.codes}
    for header in published():
        found = cat.read_header(header)
        assert found.code is not None and not found.wrong_unit, header
        # a header that is not today's is an alias, so the loader can say what it is called now
        assert (normalize_header(header) in current) == (found.earlier is None), header


def test_every_current_header_is_on_the_published_list(cat):
    """A renamed indicator or a changed unit must leave its old header on the list (and in the aliases)."""
    listed = {normalize_header(h) for h in published()}
    missing = [cat.label(c) for c in cat.codes if normalize_header(cat.label(c)) not in listed]
    assert missing == [], f"add these to {PUBLISHED.name}: {missing}"


def test_a_unit_that_no_template_ever_had_is_still_an_error(cat):
    found = cat.read_header("民族团结进步示范家庭（名）")
    assert found.code == "unity_model_families" and found.wrong_unit and found.earlier is None


def test_an_alias_that_is_another_indicators_header_is_refused(tmp_path):
    text = (Path(zd.__file__).parent / "data" / "catalog.yaml").read_text(encoding="utf-8")
    text = text.replace("aliases: [“好婆婆”（个）]", "aliases: [“好媳妇”（名）]")
    path = tmp_path / "catalog.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match="好媳妇"):
        load_catalog(path)


# ------------------------------------------------------------------------------------------- loading
def rename_headers(folder: Path, renames: dict[str, str]) -> list[str]:
    """Rewrite the headers of every year sheet of the sample's values workbook (current label → earlier
    header); returns the sheets changed."""
    path = folder / VALUES
    wb = openpyxl.load_workbook(path)
    changed = []
    for ws in wb.worksheets:
        head = next((r for r in range(1, 6) if ws.cell(r, 1).value == "乡镇"), None)
        if head is None:
            continue
        for c in range(2, ws.max_column + 1):
            cell = ws.cell(head, c)
            if cell.value in renames:
                cell.value = renames[cell.value]
                if ws.title not in changed:
                    changed.append(ws.title)
    wb.save(path)
    return changed


@pytest.fixture(scope="module")
def last_month(tmp_path_factory, cat):
    """The sample as a county filled it in on last month's template: every header the catalog renamed since is
    written as it was then."""
    folder = tmp_path_factory.mktemp("last-month")
    for f in zd.SAMPLE_DATA.glob("*.xlsx"):
        shutil.copy(f, folder / f.name)
    renames = {cat.label(code): aliases[0] for code, aliases in earlier_headers(cat).items()}
    renames |= {cat.name(code): aliases[-1] for code, aliases in earlier_headers(cat).items()
                if split_unit(aliases[-1])[1] is None}  # the years whose headers carry no unit
    sheets = rename_headers(folder, renames)
    return folder, renames, sheets


def test_a_workbook_of_last_months_template_loads_with_the_same_values(last_month):
    folder, renames, sheets = last_month
    assert sheets == ["2020", "2021年", "2022", "2023年", "2024", "2025年"] and len(renames) == 6
    old = zd.load_dataset(folder, cache=False)
    now = zd.load_dataset(zd.SAMPLE_DATA, cache=False)
    pd.testing.assert_frame_equal(old.values, now.values)  # the same values, read from the same cells
    families = old.values[(old.values["indicator"] == "unity_model_families") & (old.values["status"] == "present")]
    assert len(families) >= 4 * 14 and families["source"].str.startswith(f"{VALUES}!").all()


def test_one_notice_per_sheet_names_each_old_header_and_its_new_name(last_month, cat):
    folder, renames, sheets = last_month
    result = zd.validate(folder)
    assert result.errors == []
    notices = [p for p in result.problems if p.level == "notice" and p.sheet != "特色做法"]  # (the sample's repeats)
    assert sorted(p.sheet for p in notices) == sorted(sheets)  # one per sheet, no more
    pairs = set()
    for p in notices:
        assert p.file == VALUES and p.cell and "旧版" in p.message
        assert str(p).startswith(f"【提示】文件“{VALUES}”，工作表“{p.sheet}”，单元格{p.cell}")
        pairs |= set(re.findall(r"[A-Z]+\d+(“[^”]*(?:‘[^’]*’[^”]*)*”)现为(“[^”]*(?:‘[^’]*’[^”]*)*”)", p.message))
    # every earlier header written is named, with the header it has now
    cat = load_catalog()
    assert pairs == {(quoted(old), quoted(cat.label(cat.read_header(old).code))) for old in renames.values()}
    (first,) = [p for p in notices if p.sheet == "2022"]
    assert first.cell == "T2" and first.message.startswith(
        "表头来自旧版填报模板，已按现在的指标读取（T2“民族团结进步示范家庭（个）”现为“民族团结进步示范家庭（户）”；"
        "U2“‘好媳妇’（个）”现为“‘好媳妇’（名）”；V2“‘好婆婆’（个）”现为“‘好婆婆’（名）”；"
        "W2“‘最美家庭’（个）”现为“‘最美家庭’（户）”；")
    assert first.message.endswith("“藏式民宿（套）”现为“新建民宿（套）”）")


def test_validate_prints_the_notices_and_passes(last_month):
    folder, _, sheets = last_month
    r = CliRunner().invoke(main, ["validate", str(folder)])
    assert r.exit_code == 0, r.output
    repeats = r.output.count("与2024年一字不差")  # the sample's towns that kept their 2024 paragraphs
    assert r.output.count("【提示】") - repeats == len(sheets)
    assert f"{len(sheets) + repeats}处提示" in r.output.splitlines()[-1]


def test_the_check_report_counts_notices_apart_and_still_passes(last_month, tmp_path):
    folder, _, sheets = last_month
    report = tmp_path / "审核结果.xlsx"
    r = CliRunner().invoke(main, ["validate", str(folder), "--report", str(report)])
    assert r.exit_code == 0, r.output
    ws = openpyxl.load_workbook(report)["审核汇总"]
    heads = [c.value for c in ws[4]]
    assert heads == ["乡镇", "错误", "警告", "请核实", "提示", "审核结论"]
    rows = openpyxl.load_workbook(report)["审核结果"]
    labels = [row[1].value for row in rows.iter_rows(min_row=2) if row[3].value != "特色做法"]  # (the sample's repeats)
    assert labels.count("提示") == len(sheets)


def test_a_long_csv_with_an_earlier_name_and_unit_is_read_with_one_notice(tmp_path, cat):
    from .conftest import write_profile

    write_profile(tmp_path)
    rows = ["县,乡镇,年度,指标代码,数值", "测试县,甲镇,2025,“好媳妇”（个）,3", "测试县,乙乡,2025,“好媳妇”（个）,2",
            "测试县,丙镇,2025,good_daughters_in_law,4"]
    (tmp_path / "数据.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = zd.validate(tmp_path)
    assert result.errors == []
    notices = [p for p in result.problems if p.level == "notice"]
    assert len(notices) == 1 and notices[0].cell == "D2"
    assert notices[0].message == "指标名称来自旧版填报模板，已按现在的指标读取（D2“‘好媳妇’（个）”现为“‘好媳妇’（名）”）"
    v = result.dataset.values
    got = v[(v["indicator"] == "good_daughters_in_law") & (v["status"] == "present")].set_index("town")["value"]
    assert got.to_dict() == {"甲镇": 3.0, "乙乡": 2.0, "丙镇": 4.0}


def test_a_hand_made_sheet_mixing_old_and_new_headers(tmp_path):
    from .conftest import write_profile

    write_profile(tmp_path)
    write_xlsx(tmp_path / "数据.xlsx", {
        "2025": [["乡镇", "民族团结进步示范家庭（个）", "“最美家庭”（户）"], ["甲镇", 5, 7], ["乙乡", 1, 2], ["丙镇", 0, 3]],
    })
    result = zd.validate(tmp_path)
    assert result.errors == []
    (notice,) = [p for p in result.problems if p.level == "notice"]
    assert notice.cell == "B1" and "最美家庭" not in notice.message  # today's header needs no notice
    assert "B1“民族团结进步示范家庭（个）”现为“民族团结进步示范家庭（户）”" in notice.message
