"""Command line ``zhidang`` (also ``python -m zhidang_analysis``): a thin click layer over the library."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import pandas as pd

from . import SAMPLE_DATA, __version__
from .catalog import load_catalog
from .errors import ZhidangError
from .loaders import validate as validate_data

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _data_paths(paths) -> list[Path]:
    return [Path(p) for p in paths] if paths else [SAMPLE_DATA]


@click.group(context_settings=CONTEXT)
@click.version_option(__version__, "-V", "--version", message="zhidang-analysis %(version)s")
def main() -> None:
    """乡镇党委履行全面从严治党主体责任情况：数据校验、分析与年度报告生成。

    默认使用随附的示范数据（data/sample），报告默认输出到 reports/。
    """


@main.command("indicators")
@click.option("--section", default=None, help="只列出某一部分的指标，如 s2、size。")
def indicators_cmd(section: str | None) -> None:
    """列出指标目录：代码、名称、单位、所属部分、适用年度。"""
    cat = load_catalog()
    table = cat.table()
    if section:
        try:
            table = table[table["代码"].isin(cat.in_section(section))]
        except ZhidangError as e:
            raise click.ClickException(str(e)) from e
    with pd.option_context("display.max_rows", None, "display.width", 200,
                           "display.unicode.east_asian_width", True):
        click.echo(table.to_string(index=False))
    click.echo(f"\n共{len(table)}项指标。")


@main.command("validate")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
def validate_cmd(paths) -> None:
    """校验数据文件或文件夹（默认 data/sample），列出全部问题。

    无错误时退出码为0（可以有警告），有错误时为2。
    """
    result = validate_data(*_data_paths(paths))
    errors = result.errors
    if result.dataset is not None:
        s = result.dataset.summary()
        years = s["years"]
        click.echo(f"县：{s['county']}")
        click.echo(f"乡镇：{s['towns']}个；年度：{years[0]}—{years[-1]}（{len(years)}年）；指标：{s['indicators']}项")
        click.echo(f"已填：{s['present']}项；缺失：{s['missing']}项；不适用：{s['na']}项；约数：{s['approx']}项；目标值：{s['targets']}项")
    warnings = [p for p in result.problems if p.level != "error"]
    for p in errors + warnings:
        click.echo(str(p))
    click.echo(f"校验完成：{len(errors)}处错误，{len(warnings)}处警告。")
    sys.exit(2 if errors else 0)


if __name__ == "__main__":  # pragma: no cover
    main()
