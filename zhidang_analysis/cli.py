"""Command line ``zhidang`` (also ``python -m zhidang_analysis``): a thin click layer over the library."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import click

from .errors import ZhidangError
from .inputs.townnames import parse_towns
from .model.bundled import SAMPLE_DATA, __version__

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _data_paths(paths) -> list[Path]:
    return [Path(p) for p in paths] if paths else [SAMPLE_DATA]


def _refuse_overwriting(outputs, inputs, *, force: bool = False) -> None:
    """Input files are only ever read: refuse an output that is one of them, or (without ``force``) any
    existing file, such as a template a town has already filled in."""
    from .inputs.load import input_files

    sources = {f.resolve() for f in input_files([Path(p) for p in inputs if Path(p).exists()])}
    for out in outputs:
        out = Path(out)
        if out.resolve() in sources:
            raise click.UsageError(f"输出文件“{out}”是输入数据文件之一，不能覆盖输入；请换一个文件名。")
        if out.exists() and not force:
            raise click.UsageError(f"文件“{out}”已存在；确认要覆盖请加 --force。")


class _ChineseHelp:
    """Chinese text for click's own help option (the rest of the help is ours)."""

    def get_help_option(self, ctx):
        option = super().get_help_option(ctx)
        if option is not None:
            option.help = "显示本帮助并退出。"
        return option


class Command(_ChineseHelp, click.Command):
    pass


class Group(_ChineseHelp, click.Group):
    command_class = Command


class _Seconds(click.ParamType):
    """A time limit in whole seconds, at least 1: 0 and negative numbers are refused, not taken as “no limit”."""

    name = "秒"

    def convert(self, value, param, ctx):
        if isinstance(value, int) and not isinstance(value, bool):
            seconds = value
        else:
            try:
                seconds = int(str(value).strip())
            except ValueError:
                self.fail(f"“{value}”不是整数，应为至少1的秒数，如 600。", param, ctx)
        if seconds < 1:
            self.fail(f"{seconds} 不是有效的时限：应为至少1的秒数，如 600（0 或负数并不表示不限时）。", param, ctx)
        return seconds


SECONDS = _Seconds()


class _Formats(click.ParamType):
    """``--format html,docx,pdf``: any subset (HTML is always written; Word and PDF are made from it); with
    ``summary``, also ``xlsx``: the county summary workbook (全县汇总表) beside the overview."""

    name = "格式"

    def __init__(self, summary: bool = False):
        self.summary = summary

    def convert(self, value, param, ctx):
        from .outputs.export import parse_formats

        if isinstance(value, tuple):
            return value
        items = [i for i in re.split(r"[,，、\s]+", str(value)) if i]
        xlsx = self.summary and any(i.strip().lower().lstrip(".") == "xlsx" for i in items)
        try:
            formats = parse_formats([i for i in items if i.strip().lower().lstrip(".") != "xlsx"] if xlsx else value)
        except ZhidangError as e:
            if not self.summary and "xlsx" in str(value).lower():
                self.fail(f"{e}；全县汇总表（xlsx）由 zhidang overview、zhidang batch 或 zhidang export 生成", param, ctx)
            self.fail(str(e), param, ctx)
        return formats + (("xlsx",) if xlsx else ())


FORMATS_OPTION = click.option(
    "--format", "formats", type=_Formats(), default="html", show_default=True,
    help="输出格式，逗号分隔：html、docx（Word，公文格式）、pdf；HTML 总会生成，Word 和 PDF 由它生成并放在旁边。")
SUMMARY_FORMATS_OPTION = click.option(
    "--format", "formats", type=_Formats(summary=True), default="html", show_default=True,
    help="输出格式，逗号分隔：html、docx（Word，公文格式）、pdf、xlsx（全县汇总表，写在概览旁边）；HTML 总会生成。")


def _outputs(result) -> str:
    from .outputs.export import format_word

    return "、".join(f"{format_word(f)} {p}" for f, p in result.outputs.items())


@click.group(cls=Group, context_settings=CONTEXT)
@click.version_option(__version__, "-V", "--version", message="zhidang-analysis %(version)s",
                      help="显示版本并退出。")
def main() -> None:
    """乡镇党委履行全面从严治党主体责任情况：数据校验、分析与年度报告生成。

    默认使用随附的示范数据（data/sample），报告默认输出到 reports/。
    """


@main.command("indicators")
@click.option("--section", default=None, help="只列出某一部分的指标，如 s2、size。")
def indicators_cmd(section: str | None) -> None:
    """列出指标目录：代码、名称、单位、所属部分、适用年度。"""
    import pandas as pd

    from .model.catalog import load_catalog

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
@click.option("--report", "reports", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help="把审核结果另存为 .xlsx 或 .html 文件，发回乡镇更正（可重复给出，有错误时也会生成）。")
@click.option("--jump-factor", type=click.FloatRange(min=1, min_open=True), default=3.0, show_default=True,
              help="与上年相比变化超过此倍数时标为“请核实”（上年数据需一并给出）。")
def validate_cmd(paths, reports, jump_factor) -> None:
    """校验数据文件或文件夹（默认 data/sample），列出全部问题。

    除错误和警告外，还列出有效但不寻常的数据（与上年相比变化很大、明显偏离全县一般水平），标为“请核实”；
    按原意读取但写法与现在的模板不同的（如旧版模板的表头），标为“提示”。
    各乡镇的工作簿放在同一文件夹中即可合并校验；同一乡镇同一年度出现在两个文件中是错误。

    无错误时退出码为0（可以有警告、请核实和提示），有错误时为2。
    """
    from .outputs.checks import REPORT_SUFFIXES, report_towns, review, write_check_report

    for r in reports:
        if r.suffix.lower() not in REPORT_SUFFIXES:
            raise click.BadParameter(f"审核结果只能保存为 .xlsx 或 .html 文件：{r}", param_hint="--report")
    _refuse_overwriting(reports, _data_paths(paths), force=True)  # a check report is rewritten on each run
    result = review(*_data_paths(paths), jump_factor=jump_factor)
    errors = result.errors
    if result.dataset is not None:
        s = result.dataset.summary()
        years = s["years"]
        click.echo(f"县：{s['county']}" if s["counties"] == 1 else f"县：{s['counties']}个（{s['county']}）")
        click.echo(f"乡镇：{s['towns']}个；年度：{years[0]}—{years[-1]}（{len(years)}年）；指标：{s['indicators']}项")
        click.echo(f"已填：{s['present']}项；缺失：{s['missing']}项；不适用：{s['na']}项；约数：{s['approx']}项；目标值：{s['targets']}项")
    warnings = [p for p in result.problems if p.level == "warning"]
    checks = [p for p in result.problems if p.level == "check"]
    notices = [p for p in result.problems if p.level == "notice"]
    for p in errors + warnings + checks + notices:
        click.echo(str(p))
    found = (f"{len(errors)}处错误，{len(warnings)}处警告" + (f"，{len(checks)}处请核实" if checks else "")
             + (f"，{len(notices)}处提示" if notices else ""))
    click.echo(f"校验完成：{found}。")
    for r in reports:
        try:
            write_check_report(result.problems, r, towns=report_towns(result))
        except (OSError, ZhidangError) as e:
            raise click.ClickException(f"无法保存审核结果“{r}”：{e}") from e
        click.echo(f"审核结果已保存：{r}")
    sys.exit(2 if errors else 0)


@main.command("template")
@click.option("--year", type=click.IntRange(1990, 2100), required=True, help="填报年度，如 2026。")
@click.option("--towns", default=None, help="乡镇名称，用逗号或顿号分隔，如“城关镇,青石镇”。")
@click.option("--profile", type=click.Path(exists=True, path_type=Path), default=None,
              help="从这个文件或文件夹中的“乡镇概况”表读取乡镇（不给 --towns 时默认用示范数据）。")
@click.option("--per-town", is_flag=True, help="每个乡镇单独一个工作簿，写入 -o 指定的文件夹。")
@click.option("--with-previous", is_flag=True, help="附上上年数据，作为只读的参考工作表。")
@click.option("--data", "data_paths", multiple=True, type=click.Path(exists=True, path_type=Path),
              help="上年数据所在的文件或文件夹，供 --with-previous 使用（默认示范数据，可重复给出）。")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="输出的 .xlsx 文件（默认“<年度>年指标填报表.xlsx”）；与 --per-town 同用时为文件夹。")
@click.option("--force", is_flag=True, help="覆盖已有的同名模板文件（输入数据文件永远不会被覆盖）。")
def template_cmd(year, towns, profile, per_town, with_previous, data_paths, output, force) -> None:
    """生成Excel数据填报模板：乡镇已填好，只列出当年适用的指标，每个填写单元格有数据验证和填写提示，附填表说明。"""
    from .inputs.load import load_dataset
    from .outputs.template import (county_catalog, profile_towns, town_template_names, write_template,
                                   write_town_templates)

    if towns and profile:
        raise click.UsageError("--towns 与 --profile 只能选用一个。")
    if not per_town and output is not None and output.suffix.lower() != ".xlsx":
        raise click.BadParameter(f"模板应保存为 .xlsx 文件：{output}", param_hint="-o")
    if per_town and output is not None and output.is_file():
        raise click.BadParameter(f"与 --per-town 同用时 -o 应为文件夹：{output}", param_hint="-o")
    inputs = [profile or SAMPLE_DATA, *_data_paths(data_paths)]
    folder = output or Path(f"{year}年指标填报表")
    if not per_town:
        _refuse_overwriting([output or Path(f"{year}年指标填报表.xlsx")], inputs, force=force)
    try:
        county = None
        if towns:
            names = [t for t in re.split(r"[,，、;；\s]+", towns) if t]
        else:
            names, county = profile_towns(profile or SAMPLE_DATA)
        previous = load_dataset(*_data_paths(data_paths)) if with_previous else None
        # the county's own indicators (sheet 本县指标 of its data or profile) get their columns too
        declared = [p for p in (profile,) if p] + list(data_paths)
        catalog = previous.catalog if previous is not None else (county_catalog(*declared) if declared else None)
        if previous is not None:
            absent = [t for t in names if t not in previous.towns]
            if absent:
                click.echo(f"提示：上年数据中没有这些乡镇，参考表中留空：{'、'.join(absent)}")
        if per_town:
            _refuse_overwriting([folder / n for n in town_template_names(names, year).values()], inputs, force=force)
            written = write_town_templates(folder, year, names, previous=previous, county=county, catalog=catalog)
            click.echo(f"已生成{len(written)}个乡镇的填报模板，保存在：{folder}")
        else:
            path = write_template(output or Path(f"{year}年指标填报表.xlsx"), year, names,
                                  previous=previous, county=county, catalog=catalog)
            click.echo(f"已生成填报模板（{len(names)}个乡镇）：{path}")
    except ZhidangError as e:
        raise click.ClickException(str(e)) from e
    except OSError as e:
        raise click.ClickException(f"无法保存模板：{e}") from e


def _check_town_year(data, town: str | None, year: int, county: str | None = None):
    """Fail fast, before any kernel starts, on an unknown town, county or year, or a town name that several
    counties have (the package's own message, listing the choices)."""
    from .inputs.load import load_dataset

    try:
        ds = load_dataset(*_data_paths([data] if data else []))
        if county:
            ds.for_county(county)
        if town is not None and (ds.multi or county or ("/" in town and town not in ds.towns)):
            ds.resolve(town, county)
        elif town is not None:
            ds.check_town(town)
        ds.check_year(year)
    except ZhidangError as e:
        raise click.ClickException(str(e)) from e
    return ds


SCORE_RANK_OPTION = click.option(
    "--score-rank", is_flag=True,
    help="在报告附图“综合得分构成”中写出综合得分的全县名次（全县第N名）。综合得分是县里分析用的，不是正式排名，"
         "默认不写；县里要求时再加此选项。")

COUNTY_OPTION = click.option("--county", default=None,
                             help="县名：数据有多个县（每县一个子文件夹，或表中有“县”列）时指定县。")


@main.command("run")
@click.option("--town", required=True, help="乡镇名称，须与数据中“乡镇”列一致；多个县中重名时写成“县/乡镇”或同时给出 --county。")
@COUNTY_OPTION
@click.option("--year", required=True, type=int, help="报告年度，如 2025。")
@click.option("--data", "data", type=click.Path(exists=True, path_type=Path), default=None,
              help="数据文件或文件夹（默认：随附示范数据 data/sample）。")
@click.option("--out", "out", type=click.Path(path_type=Path), default=Path("reports"), show_default=True,
              help="报告输出文件夹。")
@click.option("--no-yoy", is_flag=True, help="不写与上年的比较。")
@click.option("--general-problems", is_flag=True,
              help="“存在的问题”不足三条时用共性问题补足三条（默认只写乡镇自查问题和数据反映的真实差距，"
                   "乡镇未填自查问题时标出【待补】）。")
@click.option("--no-general-problems", is_flag=True, hidden=True,
              help="旧版选项：现在已是默认做法，可以省略。")
@click.option("--round-approx", is_flag=True, help="把20以上的计数写成“30余”式约数。")
@SCORE_RANK_OPTION
@click.option("--sign-date", default="", help="落款日期，如“2026年1月8日”（默认：报告年度的12月31日）。")
@click.option("--timeout", type=SECONDS, default=600, show_default=True,
              help="单个单元格的最长运行时间（秒，至少1）。")
@FORMATS_OPTION
def run_cmd(town, county, year, data, out, no_yoy, general_problems, no_general_problems, round_approx, score_rank,
            sign_date, timeout, formats) -> None:
    """生成一个乡镇某一年度的报告：运行 notebooks/town_report.ipynb 并导出 HTML。

    输出 <out>/<年度>/<乡镇>.html，旁边是运行后的 <乡镇>.ipynb；数据有多个县时为 <out>/<年度>/<县>/<乡镇>.html。
    """
    from .running.runner import run_town_report

    if general_problems and no_general_problems:
        raise click.UsageError("--general-problems 与 --no-general-problems 不能同时使用。")
    if no_general_problems:
        click.echo("提示：--no-general-problems 现在已是默认做法（不用共性问题补足三条），可以省略此选项。", err=True)
    _check_town_year(data, town, year, county)
    try:
        result = run_town_report(town, year, data=data, out=out, timeout=timeout, county=county, yoy=not no_yoy,
                                 general_problems=general_problems, round_approx=round_approx,
                                 sign_date=sign_date, formats=formats, **({"score_rank": True} if score_rank else {}))
    except ZhidangError as e:
        raise click.ClickException(str(e)) from e
    except OSError as e:  # e.g. an --out folder that cannot be written: one line, no traceback
        raise click.ClickException(f"无法保存报告（输出文件夹“{out}”）：{e.strerror or e}") from e
    click.echo(f"已生成报告：{_outputs(result)}（用时{result.seconds:.1f}秒）")


@main.command("batch")
@click.option("--year", "year", type=int, default=None, help="一个年度，如 2025（默认：数据中最新的年度）。")
@click.option("--years", "years", default=None, help="多个年度：2021-2025 或 2021,2023。")
@click.option("--towns", default=None,
              help="只运行这些乡镇，用逗号或顿号分隔；多个县中重名的写成“县/乡镇”；名称本身含逗号时写成 JSON 列表，"
                   "如 '[\"甲,镇\"]'（默认：全部乡镇）。")
@click.option("--county", "counties", default=None,
              help="只运行这些县（数据有多个县时），用逗号或顿号分隔（默认：全部县）。")
@click.option("--data", "data", type=click.Path(exists=True, path_type=Path), default=None,
              help="数据文件或文件夹（默认：随附示范数据 data/sample）。")
@click.option("--out", "out", type=click.Path(path_type=Path), default=Path("reports"), show_default=True,
              help="报告输出文件夹。")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None, help="并行进程数（默认：本机CPU核数）。")
@click.option("--force", is_flag=True, help="全部重新生成，不跳过未变化的报告。")
@click.option("--timeout", type=SECONDS, default=600, show_default=True,
              help="单个单元格的最长运行时间（秒，至少1）。")
@click.option("--no-overview", is_flag=True, help="不生成全县概览。")
@SCORE_RANK_OPTION
@click.option("--charts", "charts", is_flag=True,
              help="另外写出每张图的数据 charts.xlsx（放在概览旁边），便于按本县样式重新绘图。")
@click.option("--summary", "summary", is_flag=True,
              help="另外写出全县汇总表 <out>/<年度>/<年度>年全县汇总表.xlsx（同 --format 中的 xlsx）。")
@SUMMARY_FORMATS_OPTION
@click.option("--scheduler", default=None, metavar="tcp://HOST:PORT",
              help="Dask 调度器地址，如 tcp://10.0.0.5:8786；不给则在本机并行。")
def batch_cmd(year, years, towns, counties, data, out, jobs, force, timeout, no_overview, score_rank, charts, summary,
              formats,
              scheduler) -> None:
    """批量生成报告：每个乡镇（和/或每个年度）并行运行，跳过未变化的，失败的不影响其他。

    不给年度时，生成数据中最新年度的报告。

    每个年度输出 <out>/<年度>/index.html（索引页）、manifest.json（运行记录）和 checks.html（数据审核结果）。
    数据有多个县时，报告在 <out>/<年度>/<县>/ 中，各县概览为 <out>/<年度>/<县>/overview.html，
    <out>/<年度>/overview.html 为各县比较。
    有报告失败时退出码为1。输出文件夹不可写（只读）时：报告都是最新的则照常结束，不写入任何文件；
    否则在开始前报错。
    """
    from .running.pool import start_local_pool

    if year is not None and years is not None:
        raise click.UsageError("--year 与 --years 只能给出一个。")
    summary, formats = summary or "xlsx" in formats, tuple(f for f in formats if f != "xlsx")

    # the workers start (and warm their kernels up) while the data are loaded and checked; the batch closes them
    pool = None if scheduler else start_local_pool(jobs, data=data, years=[year] if year is not None else None,
                                                   towns=parse_towns(towns) if towns else None)
    try:
        _batch(pool, year, years, towns, counties, data, out, jobs, force, timeout, no_overview, score_rank, charts,
               summary, formats, scheduler)
    finally:
        if pool is not None:
            pool.close()


def _batch(pool, year, years, towns, counties, data, out, jobs, force, timeout, no_overview, score_rank, charts,
           summary, formats, scheduler) -> None:
    from .running.batch import load_for_batch, parse_years, plain_progress, run_batch

    try:
        ds, bad = load_for_batch(data)
    except ZhidangError as e:
        raise click.ClickException(str(e)) from e
    if year is not None:
        year_list = [year]
    elif years is not None:
        try:
            year_list = parse_years(years)
        except ValueError:
            raise click.BadParameter(f"无法识别“{years}”，应为 2021-2025 或 2021,2023", param_hint="--years") from None
    else:
        year_list = [ds.years[-1]]
    town_list = parse_towns(towns) if towns else None  # commas, 、 or a JSON list for names with a comma
    county_list = parse_towns(counties) if counties else None
    try:
        for y in year_list:
            ds.check_year(y)
        for c in county_list or []:
            ds.for_county(c)
        from .running.batch import layout

        for t in town_list or []:
            if t not in bad:
                layout(ds, bad, t, None)  # an unknown town, or a name several counties have, names the choices
    except ZhidangError as e:
        raise click.ClickException(str(e)) from e
    progress = plain_progress() if not sys.stderr.isatty() else _bar_progress()
    try:
        result = run_batch(year_list, data=data, towns=town_list, out=out, jobs=jobs, force=force,
                           timeout=timeout, overview=not no_overview, progress=progress, dataset=ds, bad_towns=bad,
                           formats=formats, scheduler=scheduler, counties=county_list,
                           options={"score_rank": True} if score_rank else None, pool=pool)
    except ZhidangError as e:
        raise click.ClickException(str(e)) from e
    except OSError as e:  # a folder that became unwritable during the run, a full disk: one line, no traceback
        raise click.ClickException(f"无法写入输出文件夹“{out}”：{e.strerror or e}") from e
    finally:
        progress(None, -1, -1)
    click.echo(result.summary())
    if charts or summary:
        from .running.batch import write_analyst_files

        try:
            for p in write_analyst_files(ds, year_list, out, bad_towns=bad, charts=charts, summary=summary):
                click.echo(f"已导出：{p}")
        except ZhidangError as e:
            raise click.ClickException(str(e)) from e
        except OSError as e:
            raise click.ClickException(f"无法写入输出文件夹“{out}”：{e.strerror or e}") from e
    for job in result.failed:
        click.echo(f"  失败：{job.label}：{job.error['message']}")
    for page in result.index_pages:
        click.echo(f"索引页：{page}")
    sys.exit(0 if result.ok else 1)


def _bar_progress():
    """A progress bar on a terminal (click's), closed by a call with n = -1."""
    state = {}

    def report(job, n, total):
        if n == -1:
            if "bar" in state:
                state["bar"].render_finish()
            return
        if "bar" not in state:
            state["bar"] = click.progressbar(length=total, label="生成报告", file=sys.stderr,
                                             show_pos=True, item_show_func=lambda j: j.label if j else "")
            state["n"] = 0
        bar = state["bar"]
        bar.current_item = job
        bar.update(n - state["n"])
        state["n"] = n

    return report


@main.command("overview")
@click.option("--year", required=True, type=int, help="报告年度，如 2025。")
@click.option("--data", "data", type=click.Path(exists=True, path_type=Path), default=None,
              help="数据文件或文件夹（默认：随附示范数据 data/sample）。")
@click.option("--out", "out", type=click.Path(path_type=Path), default=Path("reports"), show_default=True,
              help="报告输出文件夹。")
@click.option("--timeout", type=SECONDS, default=600, show_default=True,
              help="单个单元格的最长运行时间（秒，至少1）。")
@SUMMARY_FORMATS_OPTION
@COUNTY_OPTION
def overview_cmd(year, data, out, timeout, formats, county) -> None:
    """生成某一年度的全县概览：运行 notebooks/county_overview.ipynb 并导出 HTML。

    内容：总体情况、综合得分排名、重点指标横向比较、与上年相比的变化、主要指标历年变化、各乡镇存在的问题、数据完整情况。
    输出 <out>/<年度>/overview.html，旁边是运行后的 overview.ipynb。
    数据有多个县时：给出 --county 生成该县概览（<out>/<年度>/<县>/overview.html），
    不给则生成各县比较（notebooks/region_overview.ipynb，<out>/<年度>/overview.html）。
    """
    from .running.runner import run_overview

    _check_town_year(data, None, year, county)
    xlsx, formats = "xlsx" in formats, tuple(f for f in formats if f != "xlsx")
    try:
        result = run_overview(year, data=data, out=out, timeout=timeout, formats=formats, county=county)
    except ZhidangError as e:
        raise click.ClickException(str(e)) from e
    except OSError as e:
        raise click.ClickException(f"无法保存全县概览（输出文件夹“{out}”）：{e.strerror or e}") from e
    click.echo(f"已生成全县概览：{_outputs(result)}（用时{result.seconds:.1f}秒）")
    if xlsx:  # the county summary workbook beside the overview
        _write_summaries(data, [year], out)


def _write_summaries(data, years, out) -> None:
    """Write the summary workbooks (全县汇总表) of ``years`` into ``<out>/<year>/`` and say where."""
    from .inputs.load import load_dataset
    from .outputs.summary import write_summaries

    try:
        ds = load_dataset(*_data_paths([data] if data else []))
        for y in years:
            for path in write_summaries(ds, [y], Path(out) / str(y)):
                click.echo(f"已导出：{path}")
    except ZhidangError as e:
        raise click.ClickException(str(e)) from e
    except OSError as e:
        raise click.ClickException(f"无法写入输出文件夹“{out}”：{e.strerror or e}") from e


@main.command("export")
@click.option("--year", "year", type=int, default=None, help="一个年度，如 2025（默认：数据中最新的年度）。")
@click.option("--years", "years", default=None, help="多个年度：2021-2025 或 2021,2023。")
@click.option("--data", "data", type=click.Path(exists=True, path_type=Path), default=None,
              help="数据文件或文件夹（默认：随附示范数据 data/sample）。")
@click.option("--out", "out", type=click.Path(path_type=Path), default=Path("reports"), show_default=True,
              help="输出文件夹；汇总表写入 <out>/<年度>/。")
@click.option("--tidy", is_flag=True,
              help="另外导出整洁数据（values、profile、targets、practices、problems 的 CSV 和 Parquet，附数据说明 "
                   "README.txt），写入 <out>/数据/。")
@click.option("--charts", "charts", is_flag=True,
              help="另外导出每张图的数据 <out>/<年度>/charts.xlsx（多个县时在各县文件夹中）。")
def export_cmd(year, years, data, out, tidy, charts) -> None:
    """导出分析人员自己用的数据：全县汇总表（Excel）和供其他工具读取的整洁数据。

    全县汇总表：每个年度一个工作簿 <out>/<年度>/<年度>年全县汇总表.xlsx，每部分（一）至（六）一个工作表，
    另有“综合”（综合得分、存在的问题、数据完整情况）；A4横向打印。数据有多个县时，每县一个工作簿，另有各县比较。
    """
    from .inputs.load import load_dataset
    from .outputs.summary import write_summaries
    from .running.batch import parse_years

    if year is not None and years is not None:
        raise click.UsageError("--year 与 --years 只能给出一个。")
    try:
        ds = load_dataset(*_data_paths([data] if data else []))
        if years is not None:
            try:
                year_list = parse_years(years)
            except ValueError:
                raise click.BadParameter(f"无法识别“{years}”，应为 2021-2025 或 2021,2023", param_hint="--years") from None
        else:
            year_list = [ds.years[-1] if year is None else year]
        for y in year_list:
            ds.check_year(y)
        written = []
        for y in year_list:
            written += write_summaries(ds, [y], Path(out) / str(y))
        if charts:
            from .running.batch import write_analyst_files

            written += write_analyst_files(ds, year_list, out, charts=True)
        if tidy:
            from .outputs.tidy import export_tables

            written += export_tables(ds, Path(out) / "数据")
    except ZhidangError as e:
        raise click.ClickException(str(e)) from e
    except OSError as e:
        raise click.ClickException(f"无法写入输出文件夹“{out}”：{e.strerror or e}") from e
    for p in written:
        click.echo(f"已导出：{p}")


if __name__ == "__main__":  # pragma: no cover
    main()


@main.command("extract")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--town", default=None, help="乡镇名称（报告标题中没有写明时使用，如“城关镇”）。")
@click.option("--year", type=click.IntRange(1990, 2100), default=None, help="报告年度（标题中没有写明时使用，如 2023）。")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="输出的 .xlsx 文件（默认“从报告提取的数据.xlsx”）。")
@click.option("--compare", "compare_paths", multiple=True, type=click.Path(exists=True, path_type=Path),
              help="与这份报送数据（文件或文件夹，可重复给出）逐一核对：列出报告中与报送数字不一致的每个数字。")
@click.option("--force", is_flag=True, help="覆盖已有的同名输出文件。")
def extract_cmd(paths, town, year, output, compare_paths, force) -> None:
    """从往年报告提取数据：读取乡镇年度报告（.docx、.txt、.html、.pdf 或它们所在的文件夹），把报告中的数字填入
    当年的填报模板，每个数字的原句写在单元格批注中，另附“复核”表列出约数、留空和存疑的数字。"""
    from .inputs.extract import extract_report
    from .inputs.load import load_dataset
    from .outputs.extracted import compare, write_extracted

    try:
        extractions = [ex for p in paths for ex in extract_report(p, town=town, year=year)]
        if compare_paths:
            ds = load_dataset(*compare_paths)
            table = compare(extractions, ds)
            if table.empty:
                click.echo(f"核对完成：{len(extractions)}份报告中的数字与报送数据一致。")
            else:
                click.echo(f"核对完成：报告中有{len(table)}个数字与报送数据不一致：")
                for r in table.itertuples(index=False):
                    click.echo(f"  {r.乡镇}{r.年度}年 {r.指标}：报告写作“{r.报告数字}”，报送数据为{r.报送数字}"
                               f"（{r.单元格}）\n    原文：{r.原文}")
            if output is None:
                return
        target = output or Path("从报告提取的数据.xlsx")
        if target.suffix.lower() != ".xlsx":
            raise click.BadParameter(f"提取结果应保存为 .xlsx 文件：{target}", param_hint="-o")
        _refuse_overwriting([target], list(paths), force=force)
        write_extracted(target, extractions)
        filled = sum(len(ex.values) for ex in extractions)
        doubtful = sum(len([r for r in ex.review if r[2]]) for ex in extractions)
        click.echo(f"已从{len(extractions)}份报告提取{filled}个数字（存疑{doubtful}处，见“复核”表）：{target}")
    except ZhidangError as e:
        raise click.ClickException(str(e)) from e
    except OSError as e:
        raise click.ClickException(f"无法保存提取结果：{e}") from e
