"""The ``zhidang`` command line (foundation commands: indicators, validate)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from click.testing import CliRunner

import zhidang_analysis as zd
from zhidang_analysis.cli import main

from .conftest import REPO, write_xlsx

HEAD = ["乡镇", "主题党日活动（次）", "发展党员（名）", "警示教育（次）"]


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_indicators_lists_codes_and_chinese_names(runner):
    result = runner.invoke(main, ["indicators"])
    assert result.exit_code == 0, result.output
    out = result.output
    cat = zd.load_catalog()
    for code in ("theme_party_days", "new_members", "epidemic_teams", "livestock_stock", "party_branches"):
        assert code in out
        assert cat.name(code) in out
    assert "主题党日活动" in out and "2020—2022" in out and "全部年度" in out
    assert out.rstrip().endswith(f"共{len(cat)}项指标。")
    # one line per indicator between header and footer
    lines = [line for line in out.splitlines() if line.strip()]
    assert len(lines) == 1 + len(cat) + 1


def test_indicators_section_filter(runner):
    result = runner.invoke(main, ["indicators", "--section", "s3"])
    assert result.exit_code == 0, result.output
    assert "supervised_cadres" in result.output and "纪委督促管理干部" in result.output
    assert "theme_party_days" not in result.output
    assert "共1项指标。" in result.output


def test_indicators_unknown_section_fails_in_chinese(runner):
    result = runner.invoke(main, ["indicators", "--section", "s9"])
    assert result.exit_code == 1
    assert "未找到报告部分“s9”" in result.output


def test_validate_sample_exits_0_and_prints_summary(runner):
    result = runner.invoke(main, ["validate"])
    assert result.exit_code == 0, result.output
    s = zd.load_dataset().summary()
    out = result.output
    assert "县：示范县" in out
    assert "乡镇：14个；年度：2020—2025（6年）" in out
    assert f"指标：{s['indicators']}项" in out
    assert f"缺失：{s['missing']}项" in out and "约数：8项" in out
    # its notices: towns whose 2025 paragraphs are their 2024 ones, one line each
    assert out.rstrip().endswith("校验完成：0处错误，0处警告，13处提示。")
    assert out.count("【提示】") == out.count("与2024年一字不差") == 13


def test_validate_sample_given_explicitly(runner):
    result = runner.invoke(main, ["validate", str(zd.SAMPLE_DATA)])
    assert result.exit_code == 0, result.output
    assert "县：示范县" in result.output


def test_validate_bad_folder_exits_2_and_prints_each_problem(runner, data_dir):
    # header row 2; 甲镇 row 3, 乙乡 row 4, 丙镇 row 5
    rows = [["标题"], HEAD, ["甲镇", "很多", 10, 3], ["乙乡", 8, 5.5, 2], ["丙镇", 20, 7, -1]]
    write_xlsx(data_dir / "指标.xlsx", {"2023": rows})
    result = runner.invoke(main, ["validate", str(data_dir)])
    assert result.exit_code == 2, result.output
    out = result.output
    for cell, value in (("B3", "很多"), ("C4", "5.5"), ("D5", "-1")):
        assert f"【错误】文件“指标.xlsx”，工作表“2023”，单元格{cell}" in out
        assert f"读到“{value}”" in out
    assert "县：" not in out  # no summary without a dataset
    assert out.rstrip().endswith("校验完成：3处错误，0处警告。")


def test_validate_with_warnings_only_exits_0(runner, data_dir):
    rows = [HEAD, ["甲镇", 12, 10, 3], ["乙乡", 8, 5, 2], ["丙镇", 20, 7, 4], ["合计", 41, 22, 9]]
    write_xlsx(data_dir / "指标.xlsx", {"2023": rows})
    result = runner.invoke(main, ["validate", str(data_dir)])
    assert result.exit_code == 0, result.output
    assert "【警告】文件“指标.xlsx”，工作表“2023”，单元格B5" in result.output
    assert "校验完成：0处错误，1处警告。" in result.output


def test_validate_nonexistent_path_is_a_usage_error(runner, tmp_path):
    result = runner.invoke(main, ["validate", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert "nope" in result.output


def test_version(runner):
    result = runner.invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"zhidang-analysis {zd.__version__}"


def test_python_m_help_works():
    proc = subprocess.run([sys.executable, "-m", "zhidang_analysis", "--help"], capture_output=True, text=True,
                          encoding="utf-8", cwd=REPO, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "validate" in proc.stdout and "indicators" in proc.stdout
    assert "全面从严治党" in proc.stdout


def test_short_help_option(runner):
    result = runner.invoke(main, ["validate", "-h"])
    assert result.exit_code == 0
    assert "退出码" in result.output


def test_outputs_never_overwrite_input_files_and_templates_need_force(tmp_path):
    import hashlib
    import shutil

    import zhidang_analysis as zd

    data = tmp_path / "data"
    shutil.copytree(zd.SAMPLE_DATA, data)
    values = data / "示范县指标数据.xlsx"
    before = hashlib.sha256(values.read_bytes()).hexdigest()
    runner = CliRunner()
    res = runner.invoke(main, ["validate", str(data), "--report", str(values)])
    assert res.exit_code == 2 and "不能覆盖输入" in res.output
    res = runner.invoke(main, ["template", "--year", "2026", "--profile", str(data), "-o", str(data / "乡镇概况.xlsx")])
    assert res.exit_code == 2 and "不能覆盖输入" in res.output
    assert hashlib.sha256(values.read_bytes()).hexdigest() == before
    out = tmp_path / "t.xlsx"
    assert runner.invoke(main, ["template", "--year", "2026", "-o", str(out)]).exit_code == 0
    res = runner.invoke(main, ["template", "--year", "2026", "-o", str(out)])
    assert res.exit_code == 2 and "--force" in res.output
    assert runner.invoke(main, ["template", "--year", "2026", "-o", str(out), "--force"]).exit_code == 0
    folder = tmp_path / "towns"
    assert runner.invoke(main, ["template", "--year", "2026", "--per-town", "-o", str(folder)]).exit_code == 0
    res = runner.invoke(main, ["template", "--year", "2026", "--per-town", "-o", str(folder)])
    assert res.exit_code == 2 and "已存在" in res.output


def test_last_versions_no_general_problems_option_still_works_with_a_notice(runner):
    # the old flag is now the default: accepted, with a notice (an unknown town stops the run right after)
    r = runner.invoke(main, ["run", "--town", "不存在镇", "--year", "2025", "--no-general-problems"])
    assert "--no-general-problems 现在已是默认做法" in r.output and "不存在镇" in r.output
    r = runner.invoke(main, ["run", "--town", "青石镇", "--year", "2025", "--general-problems", "--no-general-problems"])
    assert r.exit_code == 2 and "不能同时使用" in r.output
    r = runner.invoke(main, ["run", "--help"])
    assert "--general-problems" in r.output and "--no-general-problems" not in r.output


def test_score_rank_is_an_option_off_by_default_with_chinese_help(runner, monkeypatch, tmp_path):
    # a town's signed report states no unofficial 全县第N名 unless the county asks for it: --score-rank
    from zhidang_analysis.running import batch, runner as report_runner

    for command in ("run", "batch"):
        help_text = runner.invoke(main, [command, "--help"]).output
        assert "--score-rank" in help_text and "全县名次" in help_text and "默认不写" in help_text
    seen = {}

    def fake_run(town, year, **kw):
        seen["run"] = kw
        raise report_runner.ZhidangError("停在这里")

    monkeypatch.setattr(report_runner, "run_town_report", fake_run)
    runner.invoke(main, ["run", "--town", "青石镇", "--year", "2025", "--out", str(tmp_path)])
    assert "score_rank" not in seen["run"]  # the notebook's default: no rank (input keys of old runs unchanged)
    runner.invoke(main, ["run", "--town", "青石镇", "--year", "2025", "--out", str(tmp_path), "--score-rank"])
    assert seen["run"]["score_rank"] is True

    def fake_batch(years, **kw):
        seen["batch"] = kw
        raise report_runner.ZhidangError("停在这里")

    monkeypatch.setattr(batch, "run_batch", fake_batch)
    runner.invoke(main, ["batch", "--year", "2025", "--out", str(tmp_path)])
    assert seen["batch"]["options"] is None
    runner.invoke(main, ["batch", "--year", "2025", "--out", str(tmp_path), "--score-rank"])
    assert seen["batch"]["options"] == {"score_rank": True}


def test_xlsx_is_a_format_of_overview_and_batch_only(runner):
    from zhidang_analysis.cli import _Formats

    assert _Formats(summary=True).convert("docx，xlsx", None, None) == ("html", "docx", "xlsx")
    assert _Formats(summary=True).convert("html", None, None) == ("html",)
    result = runner.invoke(main, ["run", "--town", "青石镇", "--year", "2025", "--format", "xlsx"])
    assert result.exit_code == 2
    assert "未知的输出格式“xlsx”" in result.output and "全县汇总表" in result.output
    assert "xlsx（全县汇总表" in runner.invoke(main, ["overview", "--help"]).output
    assert "xlsx（全县汇总表" in runner.invoke(main, ["batch", "--help"]).output


@pytest.mark.slow
def test_overview_format_xlsx_writes_the_summary_beside_the_overview(runner, tmp_path):
    from openpyxl import load_workbook

    result = runner.invoke(main, ["overview", "--year", "2025", "--out", str(tmp_path), "--format", "html,xlsx"])
    assert result.exit_code == 0, result.output
    folder = tmp_path / "2025"
    assert (folder / "overview.html").is_file()
    book = folder / "2025年全县汇总表.xlsx"
    assert book.is_file() and f"已导出：{book}" in result.output
    assert "综合" in load_workbook(book).sheetnames
